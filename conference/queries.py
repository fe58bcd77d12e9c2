"""Reading one record of a conference by the columns that name it."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlmodel import SQLModel, select
from sqlmodel.ext.asyncio.session import AsyncSession

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
