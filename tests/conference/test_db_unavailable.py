"""What counts as a database outage (a 503 that invites a retry) and what stays a bug."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from conference.db import Database, is_unavailable, unavailable_error


async def test_a_bad_query_is_not_an_outage(db: Database) -> None:
    with pytest.raises(SQLAlchemyError) as caught:
        async with db.read() as session:
            await (await session.connection()).execute(
                text("SELECT no_such_column FROM no_such_table")
            )
    assert not is_unavailable(caught.value)
    assert unavailable_error(caught.value) is None


def test_an_oserror_outside_the_driver_is_not_an_outage() -> None:
    with pytest.raises(OSError) as caught:
        open("/nonexistent/plenary")  # noqa: SIM115
    assert not is_unavailable(caught.value)


async def refused_connection() -> Exception:
    """What reading raises when the database server refuses the connection (nobody
    listens on port 9)."""
    db = Database("postgresql+asyncpg://postgres@127.0.0.1:9/plenary")
    try:
        with pytest.raises(Exception) as caught:
            async with db.read() as session:
                await (await session.connection()).execute(text("SELECT 1"))
    finally:
        await db.dispose()
    return caught.value


async def test_a_server_that_refuses_connections_is_an_outage() -> None:
    error = unavailable_error(await refused_connection())
    assert error is not None and error.code == "database_unavailable"
    assert error.retry_after >= 1
