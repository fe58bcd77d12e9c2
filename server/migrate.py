"""Alembic migrations, driven from Python on the async engine."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from conference.db import create_engine
from conference.errors import StaleSchema


def alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return cfg


@functools.cache
def head_revision() -> str | None:
    """The newest migration of this code (read from the scripts once a process)."""
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _run(connection: Connection, fn: Any, *args: Any) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    fn(cfg, *args)


def _check_foreign_keys(connection: Connection) -> None:
    """SQLite migrates with its foreign keys off; make sure the rebuilt tables still agree."""
    if connection.dialect.name != "sqlite":
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")


async def _migrate(url: str, fn: Any, revision: str) -> None:
    engine = create_engine(url, foreign_keys=False)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(_run, fn, revision)
            await conn.run_sync(_check_foreign_keys)
    finally:
        await engine.dispose()


async def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to revision."""
    await _migrate(url, command.upgrade, revision)


async def downgrade(url: str, revision: str) -> None:
    await _migrate(url, command.downgrade, revision)


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def current_revision(url: str, engine: AsyncEngine | None = None) -> str | None:
    """The database's migration; on engine when one is given (the server's own)."""
    own = engine is None
    engine = create_engine(url) if engine is None else engine
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(_current)
    finally:
        if own:
            await engine.dispose()


async def ensure_current(url: str, engine: AsyncEngine | None = None) -> None:
    """Raise StaleSchema unless the database is at the newest migration."""
    current = await current_revision(url, engine)
    head = head_revision()
    if current != head:
        raise StaleSchema(
            f"the database schema is at {current or 'nothing'}, the code needs {head}: "
            "run `plenary migrate` first"
        )
