"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlmodel import SQLModel

import server.schema  # noqa: F401
from conference.db import create_engine
from server.migrate import current_revision, downgrade, head_revision, upgrade


def _diff(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, SQLModel.metadata))


async def test_migrated_schema_matches_the_models(db_url: str) -> None:
    assert await current_revision(db_url) == head_revision()
    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            differences = await conn.run_sync(_diff)
    finally:
        await engine.dispose()
    assert differences == []


async def test_downgrade_to_nothing_and_up_again(db_url: str) -> None:
    await downgrade(db_url, "base")
    assert await current_revision(db_url) is None
    await upgrade(db_url)
    assert await current_revision(db_url) == head_revision()


async def test_0002_gives_existing_delegates_their_own_link_secrets(db_url: str) -> None:
    await downgrade(db_url, "0001")
    engine = create_engine(db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO conference (public_id, title, starts_on, ends_on, timezone, venue,"
                    " description, organizing_body, public, last_seq, epoch, created_at,"
                    " updated_at) VALUES ('c1', 'T', '2026-12-01', '2026-12-01', 'UTC', '', '',"
                    " '', false, 0, 'e1', '2026-11-01 00:00:00', '2026-11-01 00:00:00')"
                )
            )
            await conn.execute(
                text(
                    "INSERT INTO site (public_id, conference_id, code, name, region, kind,"
                    " expected_attendance, contact_name, contact_phone, contact_email, position,"
                    " created_at, updated_at) SELECT 's1', id, 'HN', 'Hà Nội', '', 'remote', 0,"
                    " '', '', '', 0, '2026-11-01 00:00:00', '2026-11-01 00:00:00' FROM conference"
                )
            )
            for n in range(3):
                await conn.execute(
                    text(
                        "INSERT INTO delegate (public_id, conference_id, site_id, full_name,"
                        " name_folded, title, unit, category, phone, email, created_at,"
                        " updated_at) SELECT :pid, conference_id, id, :name, :name, '', '',"
                        " 'official', '', '', '2026-11-01 00:00:00', '2026-11-01 00:00:00'"
                        " FROM site"
                    ),
                    {"pid": f"d{n}", "name": f"person {n}"},
                )
        await upgrade(db_url)
        async with engine.connect() as conn:
            rows = (
                await conn.execute(text("SELECT link_secret, credential_version FROM delegate"))
            ).all()
    finally:
        await engine.dispose()
    secrets = {row[0] for row in rows}
    assert len(rows) == 3 and len(secrets) == 3
    assert all(len(secret) >= 32 for secret in secrets)
    assert {row[1] for row in rows} == {1}
