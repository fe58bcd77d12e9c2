"""Column types and helpers shared by every package's models."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator
from sqlmodel import Field


def utcnow() -> datetime:
    """The current time, timezone-aware in UTC."""
    return datetime.now(UTC)


def new_public_id() -> str:
    """A random, URL-safe public identifier (96 bits): nothing in it can be guessed.

    Never starting with "-": given on a command line (`plenary follow URL --conference ID`)
    such an id would be read as an option.
    """
    while True:
        value = secrets.token_urlsafe(12)
        if not value.startswith("-"):
            return value


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC instants; always returns timezone-aware datetimes (SQLite has no zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def timestamp(nullable: bool = False, **kw: Any) -> Any:
    """A column of aware UTC datetimes (UTCDateTime), for a model's field."""
    return Field(sa_type=UTCDateTime(), nullable=nullable, **kw)
