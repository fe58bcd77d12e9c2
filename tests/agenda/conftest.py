"""Fixtures of the agenda's domain tests: a conference staged by the services."""

from __future__ import annotations

import pytest

from conference.db import Database
from tests.agenda.stage import Floor, make_floor


@pytest.fixture
async def floor(db: Database) -> Floor:
    """Three sites, two delegates a site and an agenda of five items (tests.agenda.stage)."""
    return await make_floor(db)
