"""A conference staged by the domain services, as tests/server/stage.py stages one over
HTTP: sites, two delegates a site, the actors of each role and an agenda of five items
(an opening, a session holding two discussions, a closing)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.schemas import AgendaItemCreate
from agenda.services import create_agenda_item
from attendance.links import delegate_actor
from attendance.models import Delegate
from attendance.schemas import DelegateCreate
from attendance.services import create_delegate
from conference.actors import CLI, Actor, Principal
from conference.db import Database
from conference.models import AuditEntry, Conference, LiveEvent, Site
from conference.schemas import ConferenceCreate, SiteCreate
from conference.services import create_conference, create_site

SITES = (("HNI", "Hội trường Trung ương, Hà Nội"), ("LCI", "Lào Cai"), ("HPG", "Hải Phòng"))
NAMES = ("Nguyễn Văn An", "Trần Thị Bình")
T = TypeVar("T")


@dataclass
class Floor:
    db: Database
    conference: Conference
    organizer: Actor
    sites: dict[str, Site]
    delegates: dict[str, Delegate]  # "LCI0", "LCI1", ... by site code and number
    items: dict[str, str] = field(default_factory=dict)  # key -> public id

    def role(self, role: str, site: str | None = None) -> Actor:
        """An actor holding role (at the site of that code), as a device token of it is."""
        assert self.conference.id is not None
        where = self.sites[site] if site is not None else None
        return Actor(
            Principal(kind="token", name=f"{role} {site or ''}".strip()),
            self.conference.id,
            frozenset({role}),
            where.id if where is not None else None,
            where.code if where is not None else "",
        )

    @property
    def chair(self) -> Actor:
        return self.role("chair")

    def operator(self, site: str) -> Actor:
        return self.role("site_operator", site)

    def delegate(self, key: str) -> Actor:
        """The delegate's personal link."""
        found = self.delegates[key]
        return delegate_actor(found, self.sites[key[:-1]])

    async def run(self, step: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """step in one transaction of its own, as a request runs it."""
        async with self.db.transaction() as session:
            return await step(session)

    async def events(self, after: int = 0) -> list[tuple[int, str, dict[str, Any]]]:
        """The conference's live events after seq, oldest first."""
        async with self.db.read() as session:
            rows = await session.exec(
                select(LiveEvent)
                .where(
                    col(LiveEvent.conference_id) == self.conference.id,
                    col(LiveEvent.seq) > after,
                )
                .order_by(col(LiveEvent.seq))
            )
            return [(row.seq, row.type, row.data) for row in rows]

    async def last_seq(self) -> int:
        found = await self.events()
        return found[-1][0] if found else 0

    async def audited(self) -> list[str]:
        """The actions of the audit log, oldest first."""
        async with self.db.read() as session:
            return list(await session.exec(select(AuditEntry.action).order_by(col(AuditEntry.id))))


async def make_floor(db: Database, sites: tuple[tuple[str, str], ...] = SITES) -> Floor:
    today = date.today()
    async with db.transaction() as session:
        conference = await create_conference(
            session,
            ConferenceCreate(
                title="Hội nghị toàn quốc", starts_on=today, ends_on=today + timedelta(days=1)
            ),
            actor=Actor(CLI),
        )
        organizer = Actor(CLI, conference.id, frozenset({"organizer"}))
        made = {
            code: await create_site(
                session, conference, SiteCreate(code=code, name=name), actor=organizer
            )
            for code, name in sites
        }
        floor = Floor(db, conference, organizer, made, {})
        for code, _ in sites:
            for k, name in enumerate(NAMES):
                floor.delegates[f"{code}{k}"] = await create_delegate(
                    session,
                    conference,
                    DelegateCreate(name=f"{name} {code}", site=code, title="Chánh Văn phòng"),
                    actor=organizer,
                )

        async def add(key: str, title: str, kind: str, **more: Any) -> None:
            item = await create_agenda_item(
                session,
                conference,
                AgendaItemCreate.model_validate({"title": title, "kind": kind, **more}),
                actor=organizer,
            )
            floor.items[key] = item.public_id

        await add("opening", "Khai mạc", "opening", duration_minutes=10)
        await add("session", "Thảo luận", "session")
        await add("closing", "Bế mạc", "closing")
        for key, title in (
            ("talk1", "Tham luận của các điểm cầu"),
            ("talk2", "Ý kiến của đại biểu"),
        ):
            await add(key, title, "discussion", parent=floor.items["session"])
    return floor
