"""A conference ready for check-in: sites, delegates with badges, and the people who scan."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from aiohttp import web
from sqlalchemy import insert
from sqlmodel.ext.asyncio.session import AsyncSession

from attendance import credentials
from attendance.schemas import DelegateCreate
from attendance.services import create_delegate
from conference.accounts import grant_role
from conference.actors import CLI, Actor
from conference.models import Site
from conference.schemas import ConferenceCreate, SiteCreate
from conference.services import create_conference, create_site
from server.keys import config_key, db_key, keyring_key
from tests.conftest import add_account

TITLE = "Hội nghị toàn quốc Văn phòng cấp ủy"
SITES = (("HNI", "Hà Nội", 3), ("LCI", "Lào Cai", 2), ("DTP", "Đồng Tháp", 0))
DELEGATES = (
    ("Nguyễn Văn An", "HNI", "Chánh Văn phòng", "Văn phòng Thành ủy Hà Nội"),
    ("Trần Thị Bình", "HNI", "Phó Chánh Văn phòng", "Văn phòng Thành ủy Hà Nội"),
    ("Lê Văn Cường", "LCI", "Chánh Văn phòng", "Văn phòng Tỉnh ủy Lào Cai"),
    ("Phạm Thị Dung", "LCI", "Phó Chánh Văn phòng", "Văn phòng Tỉnh ủy Lào Cai"),
    ("Đặng Văn Giang", "DTP", "Chánh Văn phòng", "Văn phòng Tỉnh ủy Đồng Tháp"),
)
# Accounts: (username, role, site code or None).
PEOPLE = (
    ("organizer", "organizer", None),
    ("chair", "chair", None),
    ("op_lci", "site_operator", "LCI"),
    ("op_hni", "site_operator", "HNI"),
)


@dataclass
class Hall:
    cid: str
    sites: dict[str, str] = field(default_factory=dict)  # code -> public id
    delegates: dict[str, str] = field(default_factory=dict)  # name -> public id
    badges: dict[str, str] = field(default_factory=dict)  # name -> credential text
    links: dict[str, str] = field(default_factory=dict)  # name -> personal link secret

    def api(self, tail: str) -> str:
        return f"/api/v1/conferences/{self.cid}{tail}"


async def make_hall(app: web.Application) -> Hall:
    """The conference runs today and tomorrow, so its badges are valid now."""
    db = app[db_key]
    today = date.today()
    accounts = {name: await add_account(db, name) for name, _, _ in PEOPLE}
    async with db.transaction() as session:
        conference = await create_conference(
            session,
            ConferenceCreate(
                title=TITLE,
                starts_on=today,
                ends_on=today + timedelta(days=1),
                venue="Hội trường Trung ương, Hà Nội",
            ),
            actor=Actor(CLI),
        )
        actor = Actor(CLI, conference.id, frozenset({"organizer"}))
        hall = Hall(conference.public_id)
        sites = {}
        for code, name, expected in SITES:
            site = await create_site(
                session,
                conference,
                SiteCreate(code=code, name=name, expected_attendance=expected),
                actor=actor,
            )
            sites[code] = site
            hall.sites[code] = site.public_id
        for username, role, bound in PEOPLE:
            await grant_role(
                session,
                accounts[username],
                conference,
                role,
                site=sites[bound] if bound else None,
                actor=actor,
            )
        ring = app[keyring_key]
        days = app[config_key].credential_valid_days
        for name, code, title, unit in DELEGATES:
            delegate = await create_delegate(
                session,
                conference,
                DelegateCreate(name=name, site=code, title=title, unit=unit),
                actor=actor,
            )
            hall.delegates[name] = delegate.public_id
            hall.links[name] = delegate.link_secret
            hall.badges[name] = credentials.credential_for(
                ring,
                conference.public_id,
                conference.ends_on,
                delegate.public_id,
                delegate.credential_version,
                days,
            )
    return hall


def forged(badge: str) -> str:
    """The badge with one character of its signature changed."""
    index = len(badge) - 10
    return badge[:index] + ("A" if badge[index] != "A" else "B") + badge[index + 1 :]


async def insert_sites(
    session: AsyncSession, conference_id: int, rows: Iterable[dict[str, Any]]
) -> None:
    """Sites (code, name and any other columns) in one INSERT of many rows.

    Thousands of sites added as ORM objects take seconds of a test (1.5 s for 3,300 on a
    busy machine, against 0.1 s); the size of the board is the point of the tests that
    make them, not how the rows are written. The columns' defaults fill in the rest.
    """
    params = [{"conference_id": conference_id, **row} for row in rows]
    await session.exec(insert(Site), params=params)
