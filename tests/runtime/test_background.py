"""Background tasks stop for sure, also when a cancellation is swallowed on its way (a
test run hung for ever in an app's cleanup: the scheduler's retry loop had caught the
cancellation as a database error and gone back to sleep)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from conference.db import Database
from runtime.background import Outage, stop_task
from runtime.config import Config
from runtime.scheduler import SchedulerRunner


async def test_stop_task_ends_a_task_that_swallows_its_cancellation() -> None:
    swallowed = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            swallowed.set()  # a library that turns it into something else
        await asyncio.Event().wait()

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)  # let it start waiting
    async with asyncio.timeout(60):  # ends a wait that has already failed
        await stop_task(task)
    assert swallowed.is_set() and task.cancelled()


async def test_stop_task_reports_a_task_that_failed(caplog: object) -> None:
    async def failing() -> None:
        raise RuntimeError("boom")

    task = asyncio.create_task(failing(), name="failing-task")
    await asyncio.wait({task})
    await stop_task(task)  # retrieves the exception: no "never retrieved" warning
    assert task.done() and isinstance(task.exception(), RuntimeError)


async def test_the_scheduler_stops_when_the_driver_turns_its_cancellation_into_an_error(
    db_url: str,
) -> None:
    db = Database(db_url)
    runner = SchedulerRunner(Config(database_url=db_url, scheduler_poll_seconds=0.05), db)
    campaigning = asyncio.Event()

    async def campaign() -> bool:
        campaigning.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            # What asyncpg under SQLAlchemy may raise when cancelled mid-operation.
            raise ConnectionError("connection was closed in the middle of operation") from None
        return False

    runner._campaign = campaign  # type: ignore[method-assign]
    try:
        runner.start()
        async with asyncio.timeout(60):
            await campaigning.wait()
            await runner.close()
        assert runner._task is None
    finally:
        await db.dispose()


def test_an_outage_is_logged_once_when_lost_and_once_when_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    outage = Outage(logging.getLogger("plenary.test"), "lost it", "back again")
    with caplog.at_level(logging.INFO, logger="plenary.test"):
        outage.succeeded()
        for _ in range(3):
            outage.failed()
        outage.succeeded()
        outage.succeeded()
    assert [r.getMessage() for r in caplog.records] == ["lost it", "back again"]
