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
