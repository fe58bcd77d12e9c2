"""One record of a conference: read by the columns that name it, or written in a savepoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

from conference.errors import PlenaryError

R = TypeVar("R", bound=SQLModel)


async def conference_row(
    session: AsyncSession, model: type[R], conference_id: int | None, **named: Any
) -> R | None:
    """The row of model in the conference whose columns hold the named values, if any."""
    query = select(model).filter_by(conference_id=conference_id, **named)
    return (await session.exec(query)).first()


async def conference_record(
    session: AsyncSession, model: type[R], conference_id: int, *, create: bool
) -> R:
    """The conference's one row of model, read afresh; a default one, stored when create."""
    row = await session.get(model, conference_id, populate_existing=True)
    if row is None:
        row = model(conference_id=conference_id)
        if create:
            session.add(row)
            await session.flush()
    return row


@asynccontextmanager
async def flushed_or(session: AsyncSession, refused: PlenaryError) -> AsyncIterator[None]:
    """Flush what the block changes in a savepoint; a broken constraint raises refused."""
    # A unique or foreign key another transaction took or added meanwhile: the checks before
    # could not see it, and the savepoint keeps the transaction usable on PostgreSQL.
    try:
        async with session.begin_nested():
            yield
            await session.flush()
    except IntegrityError:
        raise refused from None
