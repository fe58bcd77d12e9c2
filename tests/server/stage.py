"""A conference staged over the API: sites, people with tokens (chair, secretary, an
operator a site), two delegates a site and an agenda of five items."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from sqlmodel import col, select

from attendance.schemas import DelegateCreate
from attendance.services import create_delegate
from conference.actors import CLI, Actor
from conference.models import Conference, LiveEvent
from server.keys import db_key
from tests.conftest import Api

Client = TestClient[Any, Any]
SITES = (("HNI", "Hội trường Trung ương, Hà Nội"), ("LCI", "Lào Cai"), ("HPG", "Hải Phòng"))


@dataclass
class Stage:
    cid: str
    organizer: Api
    chair: Api
    secretary: Api
    operators: dict[str, Api]
    delegates: dict[str, dict[str, str]]
    items: dict[str, str] = field(default_factory=dict)

    def url(self, rest: str = "") -> str:
        return f"/api/v1/conferences/{self.cid}{rest}"


async def events(client: Client, cid: str, after: int = 0) -> list[tuple[int, str, dict[str, Any]]]:
    """The live events of the conference whose public id is cid, after seq, oldest first."""
    async with client.app[db_key].read() as session:
        conference = (
            await session.exec(select(Conference).where(Conference.public_id == cid))
        ).one()
        rows = await session.exec(
            select(LiveEvent)
            .where(col(LiveEvent.conference_id) == conference.id, col(LiveEvent.seq) > after)
            .order_by(col(LiveEvent.seq))
        )
        return [(row.seq, row.type, row.data) for row in rows]


async def last_seq(client: Client, cid: str) -> int:
    found = await events(client, cid)
    return found[-1][0] if found else 0


async def token_api(organizer: Api, client: Client, url: str, role: str, site: str = "") -> Api:
    """A client with a bearer token for role (at site) in the conference at url."""
    body: dict[str, Any] = {"name": f"{role} {site}".strip(), "role": role}
    if site:
        body["site"] = site
    status, token = await organizer.post(url + "/tokens", body)
    assert status == 201, token
    api = Api(client)
    api.bearer = token["token"]
    return api


async def make_stage(
    client: Client, organizer: Api, sites: tuple[tuple[str, str], ...] = SITES
) -> Stage:
    today = date.today()
    status, conf = await organizer.post(
        "/api/v1/conferences",
        {
            "title": "Hội nghị toàn quốc",
            "starts_on": today.isoformat(),
            "ends_on": (today + timedelta(days=1)).isoformat(),
        },
    )
    assert status == 201, conf
    url = f"/api/v1/conferences/{conf['id']}"
    for code, name in sites:
        status, body = await organizer.post(url + "/sites", {"code": code, "name": name})
        assert status == 201, body
    stage = Stage(
        conf["id"],
        organizer,
        await token_api(organizer, client, url, "chair"),
        await token_api(organizer, client, url, "secretary"),
        {code: await token_api(organizer, client, url, "site_operator", code) for code, _ in sites},
        {},
    )
    db = client.app[db_key]
    async with db.transaction() as session:
        conference = (
            await session.exec(select(Conference).where(Conference.public_id == conf["id"]))
        ).one()
        actor = Actor(CLI, conference.id, frozenset({"organizer"}))
        for n, (code, _) in enumerate(sites):
            for k, name in enumerate(("Nguyễn Văn An", "Trần Thị Bình")):
                delegate = await create_delegate(
                    session,
                    conference,
                    DelegateCreate(name=f"{name} {code}", site=code, title="Chánh Văn phòng"),
                    actor=actor,
                )
                stage.delegates[f"{code}{k}"] = {
                    "id": delegate.public_id,
                    "link": delegate.link_secret,
                    "name": delegate.full_name,
                }
            del n
    # Opening; a discussion session with two items; closing.
    for key, body in (
        ("opening", {"title": "Khai mạc", "kind": "opening", "duration_minutes": 10}),
        ("session", {"title": "Thảo luận", "kind": "session"}),
        ("closing", {"title": "Bế mạc", "kind": "closing"}),
    ):
        status, item = await organizer.post(url + "/agenda", body)
        assert status == 201, item
        stage.items[key] = item["id"]
    for key, title in (("talk1", "Tham luận của các điểm cầu"), ("talk2", "Ý kiến của đại biểu")):
        status, item = await organizer.post(
            url + "/agenda",
            {"title": title, "kind": "discussion", "parent": stage.items["session"]},
        )
        assert status == 201, item
        stage.items[key] = item["id"]
    return stage
