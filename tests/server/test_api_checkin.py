"""Check-in over HTTP: the answers of the routes, racing requests through the group commit,
restarts, rate limits, self check-in. The decisions are tests/attendance/test_checkin.py's."""

from __future__ import annotations

import asyncio
import base64
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlmodel import col, func, select

from attendance import credentials
from attendance.models import CheckIn
from attendance.schemas import DelegateCreate
from attendance.services import create_delegate
from conference.actors import CLI, Actor
from conference.models import Conference
from server.keys import config_key, db_key, keyring_key
from tests.conftest import Api

Client = TestClient[Any, Any]


def nonce() -> str:
    return secrets.token_urlsafe(12)


@dataclass
class Hall:
    """A conference with three sites, two delegates per site and an operator token each."""

    cid: str
    organizer: Api
    operators: dict[str, Api]
    delegates: dict[str, dict[str, Any]]  # name -> {"id", "site", "credential"}
    app: web.Application

    def url(self, tail: str) -> str:
        return f"/api/v1/conferences/{self.cid}{tail}"

    def badge(self, name: str) -> str:
        return str(self.delegates[name]["credential"])


async def make_hall(client: Client, organizer: Api, *, cross_site: bool = False) -> Hall:
    today = date.today()
    status, conf = await organizer.post(
        "/api/v1/conferences",
        {
            "title": "Hội nghị toàn quốc",
            "starts_on": (today + timedelta(days=3)).isoformat(),
            "ends_on": (today + timedelta(days=4)).isoformat(),
            "cross_site_checkin": cross_site,
        },
    )
    assert status == 201, conf
    cid = conf["id"]
    hall = Hall(cid, organizer, {}, {}, client.app)
    for code, name in (("HNI", "Hà Nội"), ("LCI", "Lào Cai"), ("HPG", "Hải Phòng")):
        status, body = await organizer.post(hall.url("/sites"), {"code": code, "name": name})
        assert status == 201, body
        status, token = await organizer.post(
            hall.url("/tokens"), {"name": f"scanner {code}", "role": "site_operator", "site": code}
        )
        assert status == 201, token
        operator = Api(client)
        operator.bearer = token["token"]
        hall.operators[code] = operator
    db = client.app[db_key]
    ring = client.app[keyring_key]
    async with db.transaction() as session:
        conference = (
            await session.exec(select(Conference).where(Conference.public_id == cid))
        ).one()
        actor = Actor(CLI, conference.id, frozenset({"organizer"}))
        for name, site in (
            ("Nguyễn Văn An", "HNI"),
            ("Trần Thị Bình", "HNI"),
            ("Lê Văn Cường", "LCI"),
            ("Phạm Thị Dung", "LCI"),
            ("Hoàng Văn Em", "HPG"),
        ):
            delegate = await create_delegate(
                session,
                conference,
                DelegateCreate(name=name, site=site, title="Chánh Văn phòng"),
                actor=actor,
            )
            hall.delegates[name] = {
                "id": delegate.public_id,
                "site": site,
                "credential": credentials.credential_for(
                    ring, cid, conference.ends_on, delegate.public_id, 1, 7
                ),
                "link": delegate.link_secret,
            }
    return hall


@pytest.fixture
async def hall(client: Client, organizer: Api) -> Hall:
    return await make_hall(client, organizer)


async def ledger_rows(app: web.Application, nonce_: str | None = None) -> int:
    async with app[db_key].read() as session:
        query = select(func.count()).select_from(CheckIn)
        if nonce_ is not None:
            query = query.where(col(CheckIn.nonce) == nonce_)
        return int((await session.exec(query)).one())


async def test_a_badge_checks_in_once_and_the_same_nonce_answers_the_same(hall: Hall) -> None:
    op = hall.operators["HNI"]
    sent = {"nonce": nonce(), "credential": hall.badge("Nguyễn Văn An")}
    status, first = await op.post(hall.url("/checkins"), sent)
    assert status == 200, first
    assert first["outcome"] == "ok"
    assert first["checkin"]["delegate"]["name"] == "Nguyễn Văn An"
    assert first["checkin"]["site"] == "HNI"
    assert first["present"] == {"site": "HNI", "checked_in": 1, "expected": 2}
    status, again = await op.post(hall.url("/checkins"), sent)
    assert status == 200 and again["checkin"] == first["checkin"]
    assert await ledger_rows(hall.app, sent["nonce"]) == 1
    # A new scan of the same badge: already in, with where and when.
    status, body = await op.post(hall.url("/checkins"), {**sent, "nonce": nonce()})
    assert status == 409
    assert body["error"]["code"] == "already_checked_in"
    assert body["error"]["details"]["site"] == "HNI"
    assert body["error"]["details"]["at"] == first["checkin"]["at"]
    assert body["error"]["details"]["delegate"]["name"] == "Nguyễn Văn An"
    # A refused code answers 422 with the refusal's name (the names: test_checkin.py).
    status, body = await op.post(hall.url("/checkins"), {"nonce": nonce(), "credential": "x y"})
    assert (status, body["error"]["code"]) == (422, "credential_malformed")


async def test_the_same_nonce_after_a_restart_is_still_one_row(
    client: Client, organizer: Api, aiohttp_client: Any, app: web.Application
) -> None:
    from server.app import create_app

    hall = await make_hall(client, organizer)
    sent = {"nonce": nonce(), "credential": hall.badge("Lê Văn Cường")}
    status, first = await hall.operators["LCI"].post(hall.url("/checkins"), sent)
    assert status == 200, first
    await client.close()
    restarted = await aiohttp_client(create_app(app[config_key]))
    operator = Api(restarted)
    operator.bearer = hall.operators["LCI"].bearer
    status, again = await operator.post(hall.url("/checkins"), sent)
    assert status == 200, again
    assert again["checkin"]["id"] == first["checkin"]["id"]
    assert await ledger_rows(restarted.app, sent["nonce"]) == 1


async def test_fifty_racing_scans_at_two_sites_admit_once(client: Client, organizer: Api) -> None:
    hall = await make_hall(client, organizer, cross_site=True)
    badge = hall.badge("Nguyễn Văn An")

    async def scan(code: str) -> tuple[int, Any]:
        return await hall.operators[code].post(
            hall.url("/checkins"), {"nonce": nonce(), "credential": badge}
        )

    answers = await asyncio.gather(*(scan("HNI" if n % 2 else "LCI") for n in range(50)))
    oks = [body for status, body in answers if status == 200]
    already = [body for status, body in answers if status == 409]
    assert len(oks) == 1, answers
    assert len(already) == 49
    winner = oks[0]["checkin"]
    for body in already:
        assert body["error"]["code"] == "already_checked_in"
        assert body["error"]["details"]["site"] == winner["site"]
        assert body["error"]["details"]["at"] == winner["at"]
    async with hall.app[db_key].read() as session:
        rows = list(await session.exec(select(CheckIn.outcome)))
    assert sorted(rows).count("ok") == 1 and len(rows) == 50


async def test_a_reissue_answers_the_new_version_and_kills_the_old_link(
    client: Client, hall: Hall
) -> None:
    """What the old badge is called then is tests/attendance/test_checkin.py's."""
    delegate = hall.delegates["Nguyễn Văn An"]
    status, body = await hall.organizer.post(hall.url(f"/delegates/{delegate['id']}/reissue"))
    assert status == 200, body
    assert body["credential_version"] == 2
    status, body = await hall.operators["HNI"].post(
        hall.url("/checkins"), {"nonce": nonce(), "credential": hall.badge("Nguyễn Văn An")}
    )
    assert (status, body["error"]["code"]) == (422, "credential_revoked")
    status, page = await Api(client).get(f"/api/v1/delegate/{delegate['link']}")
    assert status == 404, page  # the old personal link is dead too
    assert await ledger_rows(hall.app) == 0


async def test_an_operator_cannot_touch_another_sites_delegates(hall: Hall) -> None:
    lci = hall.delegates["Lê Văn Cường"]
    op = hall.operators["HNI"]
    # By badge: a clear refusal naming the delegate's site (the person is standing there).
    status, body = await op.post(
        hall.url("/checkins"), {"nonce": nonce(), "credential": hall.badge("Lê Văn Cường")}
    )
    assert (status, body["error"]["code"]) == (422, "delegate_other_site")
    # By id, at another site, undo, list: not found.
    status, body = await op.post(hall.url("/checkins"), {"nonce": nonce(), "delegate": lci["id"]})
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body = await op.post(
        hall.url("/checkins"), {"nonce": nonce(), "delegate": lci["id"], "site": "LCI"}
    )
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, _ = await hall.operators["LCI"].post(
        hall.url("/checkins"), {"nonce": nonce(), "delegate": lci["id"]}
    )
    assert status == 200
    status, body = await op.post(hall.url(f"/delegates/{lci['id']}/checkin/undo"), {})
    assert (status, body["error"]["code"]) == (404, "not_found")
    status, body = await op.get(hall.url("/checkins"))
    assert status == 200 and body["items"] == []
    status, body = await op.get(hall.url("/checkins?site=LCI"))
    assert status == 404
    status, body = await op.get(hall.url("/attendance"))
    assert [s["code"] for s in body["sites"]] == ["HNI"]
    assert await ledger_rows(hall.app) == 1


@pytest.mark.parametrize(
    "item, field",
    [
        ({"nonce": "short"}, "nonce"),
        ({"nonce": "x" * 65}, "nonce"),
        ({"nonce": "has space here"}, "nonce"),
        ({"credential": "PL1AAAA", "delegate": "abc"}, "credential"),
        ({}, "credential"),
        ({"happened_at": "2026-01-01T00:00:00"}, "happened_at"),
    ],
)
async def test_bad_batch_items_are_refused_whole(
    hall: Hall, item: dict[str, Any], field: str
) -> None:
    good = {
        "nonce": nonce(),
        "credential": hall.badge("Nguyễn Văn An"),
        "happened_at": datetime.now(UTC).isoformat(),
    }
    bad = {**good, "nonce": nonce(), **item}
    if not item.get("credential") and "credential" not in item and field == "credential":
        bad.pop("credential")
    status, body = await hall.operators["HNI"].post(
        hall.url("/checkins/batch"), {"items": [good, bad]}
    )
    assert status == 422, body
    assert field in str(body["error"].get("field", "")) + str(body["error"].get("details", ""))
    assert await ledger_rows(hall.app) == 0


async def test_a_wrong_clock_refuses_only_its_own_scans(hall: Hall) -> None:
    now = datetime.now(UTC)
    items = [
        {"nonce": nonce(), "credential": hall.badge("Nguyễn Văn An"), "happened_at": when}
        for when in ((now + timedelta(hours=2)).isoformat(), "2020-01-01T00:00:00+00:00")
    ]
    items.append(
        {
            "nonce": nonce(),
            "credential": hall.badge("Trần Thị Bình"),
            "happened_at": now.isoformat(),
        }
    )
    status, body = await hall.operators["HNI"].post(hall.url("/checkins/batch"), {"items": items})
    assert status == 200, body
    assert [(r["outcome"], r["code"]) for r in body["results"]] == [
        ("refused", "scan_time_invalid"),
        ("refused", "scan_time_invalid"),
        ("ok", None),
    ]
    assert await ledger_rows(hall.app) == 1


async def test_self_checkin_with_the_site_screen_code(client: Client, hall: Hall) -> None:
    an = hall.delegates["Nguyễn Văn An"]
    sites = (await hall.organizer.get(hall.url("/sites")))[1]["items"]
    site_ids = {s["code"]: s["id"] for s in sites}
    status, code = await hall.operators["HNI"].get(
        hall.url(f"/sites/{site_ids['HNI']}/checkin-code")
    )
    assert status == 200, code
    assert code["period"] == 30
    status, _ = await hall.operators["HNI"].get(hall.url(f"/sites/{site_ids['LCI']}/checkin-code"))
    assert status == 404
    phone = Api(client)
    link = f"/api/v1/delegate/{an['link']}"
    status, page = await phone.get(link)
    assert status == 200 and page["checkin"] is None and page["site"]["code"] == "HNI"
    assert (
        credentials.verify(
            hall.app[keyring_key], page["credential"], hall.cid, now=datetime.now(UTC)
        ).delegate_id
        == an["id"]
    )
    lci_code = (await hall.organizer.get(hall.url(f"/sites/{site_ids['LCI']}/checkin-code")))[1]
    status, body = await phone.post(link + "/checkin", {"code": lci_code["code"], "nonce": nonce()})
    assert (status, body["error"]["code"]) == (422, "delegate_other_site")
    for bad in ("PLS1AAAA", code["code"][:-2] + ("AA" if code["code"][-2:] != "AA" else "BB")):
        status, body = await phone.post(link + "/checkin", {"code": bad, "nonce": nonce()})
        assert (status, body["error"]["code"]) == (422, "site_code_invalid")
    status, body = await phone.post(link + "/checkin", {"code": code["code"], "nonce": nonce()})
    assert status == 200, body
    assert body["checkin"]["method"] == "self"
    status, page = await phone.get(link)
    assert page["checkin"]["site"] == "HNI"
    status, svg = await phone.get(link + "/qr.svg")
    assert status == 200 and svg.startswith("<?xml") and "<path" in svg


async def test_an_old_site_code_is_refused(hall: Hall) -> None:
    from attendance import selfcheckin

    ring = hall.app[keyring_key]
    sites = (await hall.organizer.get(hall.url("/sites")))[1]["items"]
    hni = next(s for s in sites if s["code"] == "HNI")
    old, _ = selfcheckin.site_code(
        ring, hall.cid, hni["id"], now=datetime.now(UTC) - timedelta(seconds=75), period=30
    )
    link = f"/api/v1/delegate/{hall.delegates['Nguyễn Văn An']['link']}"
    status, body = await hall.organizer.post(link + "/checkin", {"code": old, "nonce": nonce()})
    assert (status, body["error"]["code"]) == (422, "site_code_expired")


async def test_check_in_is_rate_limited(
    aiohttp_client: Any, config: Any, organizer: Api, client: Client
) -> None:
    hall = await make_hall(client, organizer)
    op = hall.operators["HNI"]
    # 60 refused codes a minute are allowed per caller, then 429.
    statuses = []
    for _ in range(65):
        status, _body = await op.post(
            hall.url("/checkins"), {"nonce": nonce(), "credential": "PL1" + "A" * 141}
        )
        statuses.append(status)
    assert statuses[:60] == [422] * 60
    assert statuses[-1] == 429
    status, body = await op.post(
        hall.url("/checkins"), {"nonce": nonce(), "credential": hall.badge("Nguyễn Văn An")}
    )
    assert status == 429 and body["error"]["code"] == "rate_limited"


async def test_keys_endpoint_verifies_offline(hall: Hall) -> None:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    status, body = await hall.operators["HNI"].get(hall.url("/credentials/keys"))
    assert status == 200
    head, signature = credentials.decode(hall.badge("Nguyễn Văn An"))
    kid = str(head[1])
    Ed25519PublicKey.from_public_bytes(base64.b64decode(body["keys"][kid])).verify(signature, head)


async def test_guessing_site_codes_or_links_is_rate_limited(client: Client, hall: Hall) -> None:
    phone = Api(client)
    phone.client = client
    link = f"/api/v1/delegate/{hall.delegates['Nguyễn Văn An']['link']}/checkin"
    statuses = [
        (await phone.post(link, {"code": "PLS1" + "A" * 42, "nonce": nonce()}))[0]
        for _ in range(62)
    ]
    assert statuses[:60] == [422] * 60 and statuses[-1] == 429
    guesses = [
        (
            await phone.post(
                f"/api/v1/delegate/{'x' * 32}/checkin", {"code": "PLS1", "nonce": nonce()}
            )
        )[0]
        for _ in range(62)
    ]
    assert guesses[:60] == [404] * 60 and guesses[-1] == 429


async def test_the_same_upload_twice_at_once_and_crossing_uploads(
    client: Client, organizer: Api
) -> None:
    """Both answer 200, one row per nonce, no deadlock (two sites back online at once)."""
    hall = await make_hall(client, organizer, cross_site=True)
    now = datetime.now(UTC)
    names = list(hall.delegates)
    items = [
        {
            "nonce": nonce(),
            "credential": hall.badge(name),
            "happened_at": (now - timedelta(seconds=n)).isoformat(),
        }
        for n, name in enumerate(names)
    ]
    reverse = [
        {**item, "nonce": nonce(), "happened_at": (now - timedelta(seconds=30 + n)).isoformat()}
        for n, item in enumerate(reversed(items))
    ]
    answers = await asyncio.gather(
        hall.operators["HNI"].post(hall.url("/checkins/batch"), {"items": items}),
        hall.operators["HNI"].post(hall.url("/checkins/batch"), {"items": items}),
        hall.operators["LCI"].post(hall.url("/checkins/batch"), {"items": reverse}),
        hall.operators["HNI"].post(
            hall.url("/checkins"),
            {"nonce": items[0]["nonce"], "credential": items[0]["credential"]},
        ),
    )
    assert [status for status, _ in answers] in ([200, 200, 200, 200], [200, 200, 200, 409])
    assert answers[0][1] == answers[1][1]
    assert await ledger_rows(hall.app) == 2 * len(names)
    _status, board = await hall.organizer.get(hall.url("/attendance"))
    assert board["total"]["checked_in"] == len(names)


async def test_uploads_count_against_the_limits(hall: Hall) -> None:
    now = datetime.now(UTC).isoformat()
    forged = [
        {"nonce": nonce(), "credential": "PL1" + "A" * 141, "happened_at": now} for _ in range(61)
    ]
    status, body = await hall.operators["HNI"].post(hall.url("/checkins/batch"), {"items": forged})
    assert status == 200 and {r["code"] for r in body["results"]} == {"credential_malformed"}
    status, body = await hall.operators["HNI"].post(
        hall.url("/checkins"), {"nonce": nonce(), "credential": hall.badge("Nguyễn Văn An")}
    )
    assert (status, body["error"]["code"]) == (429, "rate_limited")


async def test_the_delegate_api_tells_who_is_checked_in(hall: Hall) -> None:
    binh = hall.delegates["Trần Thị Bình"]
    status, before = await hall.organizer.get(hall.url(f"/delegates/{binh['id']}"))
    assert status == 200 and before["checked_in_at"] is None
    status, done = await hall.operators["HNI"].post(
        hall.url("/checkins"), {"nonce": nonce(), "delegate": binh["id"]}
    )
    assert status == 200
    status, after = await hall.operators["HNI"].get(hall.url(f"/delegates/{binh['id']}"))
    assert datetime.fromisoformat(after["checked_in_at"]) == datetime.fromisoformat(
        done["checkin"]["at"]
    )
