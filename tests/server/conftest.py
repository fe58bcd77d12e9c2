"""Fixtures of the HTTP and WebSocket tests: a second client, a staged conference."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import Api
from tests.server.stage import Stage, make_stage

Client = TestClient[Any, Any]


@pytest.fixture
async def other(client: Client) -> AsyncIterator[Client]:
    """A second client on the same server, with its own (empty) cookie jar."""
    second: Client = TestClient(client.server)
    yield second
    await second.session.close()


@pytest.fixture
async def stage(client: Client, organizer: Api) -> Stage:
    """A conference with sites, people, delegates and an agenda (tests.server.stage)."""
    return await make_stage(client, organizer)
