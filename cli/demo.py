"""`plenary demo`: the reference conference of SCENARIO.md, created once, then served."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.minutes.book import update_book
from cli import demo_data
from conference.accounts import (
    create_account,
    get_account_by_username,
    grant_role,
    principal_for_account,
)
from conference.actors import CLI, Actor
from conference.db import Database
from conference.models import Account, Conference
from conference.services import get_site_by_code
from conference_file.importing import import_conference, read_conference_file
from runtime.config import Config
from server.migrate import upgrade


@dataclass(frozen=True)
class DemoAccount:
    username: str
    password: str
    display_name: str
    role: str
    site: str | None = None


# Known passwords: this is a demonstration database, never a real one.
ACCOUNTS = (
    DemoAccount("organizer", "demo-organizer-2026", "Ban tổ chức (demo)", "organizer"),
    DemoAccount("chair", "demo-chair-2026", "Chủ trì hội nghị (demo)", "chair"),
    DemoAccount("secretary", "demo-secretary-2026", "Thư ký hội nghị (demo)", "secretary"),
    DemoAccount("operator", "demo-operator-2026", "Điểm cầu Hà Nội (demo)", "site_operator", "HNI"),
)


async def find_demo(session: AsyncSession) -> Conference | None:
    """The reference conference, if this database already has it."""
    query = select(Conference).where(
        col(Conference.title) == demo_data.TITLE,
        col(Conference.starts_on) == date.fromisoformat(demo_data.DAY),
    )
    return (await session.exec(query.order_by(col(Conference.id)))).first()


async def _account(session: AsyncSession, spec: DemoAccount) -> Account:
    existing = await get_account_by_username(session, spec.username)
    if existing is not None:
        return existing
    return await create_account(
        session,
        spec.username,
        spec.password,
        display_name=spec.display_name,
        can_create_conferences=spec.role == "organizer",
        actor=Actor(CLI),
    )


async def ensure_demo(database_url: str) -> tuple[str, bool]:
    """Create the reference conference and the demo accounts unless there; (public id, created)."""
    db = Database(database_url)
    try:
        async with db.transaction() as session:
            accounts = {spec.username: await _account(session, spec) for spec in ACCOUNTS}
            conference = await find_demo(session)
            created = conference is None
            if conference is None:
                # The same path as any import: the organizer account imports the file.
                raw = json.dumps(demo_data.reference_document(), ensure_ascii=False).encode()
                account = accounts["organizer"]
                importer = Actor(
                    principal_for_account(account) if account.can_create_conferences else CLI
                )
                file = read_conference_file(raw, "json")
                conference = await import_conference(session, file, actor=importer)
            assert conference.id is not None
            organizer = Actor(CLI, conference.id, frozenset({"organizer"}))
            if created:
                await update_book(session, conference, demo_data.MINUTES_BOOK, actor=organizer)
            for spec in ACCOUNTS:
                site = (
                    await get_site_by_code(session, conference.id, spec.site) if spec.site else None
                )
                await grant_role(
                    session,
                    accounts[spec.username],
                    conference,
                    spec.role,
                    site=site,
                    actor=organizer,
                )
            return conference.public_id, created
    finally:
        await db.dispose()


def run_demo(config: Config, *, serve: bool = True) -> None:
    """Migrate, create the reference conference once, print how to use it, then serve."""
    asyncio.run(upgrade(config.database_url))
    conference_id, created = asyncio.run(ensure_demo(config.database_url))
    base = f"http://{config.host}:{config.port}/"
    state = "created" if created else "already there"
    print(f"plenary demo: {demo_data.TITLE} ({state})")
    print(f"  open        {base}")
    print(f"  conference  {base}conferences/{conference_id}")
    print(f"  chair room  {base}c/{conference_id}/chair       (as chair or organizer)")
    print(f"  minutes     {base}c/{conference_id}/minutes     (as secretary or organizer)")
    print(f"  awards      {base}c/{conference_id}/awards      (as organizer)")
    print(f"  check-in    {base}c/{conference_id}/checkin     (as operator)")
    print(f"  screen      {base}c/{conference_id}/screen?token=...  (docs/screen.md)")
    for spec in ACCOUNTS:
        where = f" of site {spec.site}" if spec.site else ""
        print(f"  {spec.role + where:27} user {spec.username:10} password {spec.password}")
    if serve:
        from cli import serve as cli_serve

        cli_serve.serve(config)
