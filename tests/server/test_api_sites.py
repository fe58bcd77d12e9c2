"""Sites (connection points) over HTTP: validation, refusals as answers, what another
conference's or an unknown site gives. The rules of sites are tests/conference/test_sites.py."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from sqlalchemy import func
from sqlmodel import col, select

from conference.models import AuditEntry, LiveEvent
from server.keys import db_key
from tests.conftest import CONFERENCE, Api, assert_refused, audit_entries

HNI = {"code": "HNI", "name": "Hà Nội", "kind": "remote", "expected_attendance": 40}


def sites_url(conference: dict[str, Any]) -> str:
    return f"/api/v1/conferences/{conference['id']}/sites"


async def counts(app: web.Application) -> tuple[int, int]:
    async with app[db_key].transaction() as session:
        audits = (await session.exec(select(func.count()).select_from(AuditEntry))).one()
        events = (await session.exec(select(func.count()).select_from(LiveEvent))).one()
    return audits, events


async def state(api: Api, conference: dict[str, Any], app: web.Application) -> Any:
    """The sites, the conference's seq, the audit and event counts."""
    status, listing = await api.get(sites_url(conference))
    assert status == 200, listing
    status, conf = await api.get(f"/api/v1/conferences/{conference['id']}")
    return listing["items"], conf["seq"], await counts(app)


async def add_site(api: Api, conference: dict[str, Any], **fields: Any) -> dict[str, Any]:
    status, body = await api.post(sites_url(conference), {**HNI, **fields})
    assert status == 201, body
    created: dict[str, Any] = body
    return created


CREATE_CASES: list[tuple[str, Any, str]] = [
    ("missing code", {"name": "Hà Nội"}, "code"),
    ("missing name", {"code": "HNI"}, "name"),
    ("code with a space", {**HNI, "code": "HA NOI"}, "code"),
    ("code empty", {**HNI, "code": ""}, "code"),
    ("code too long", {**HNI, "code": "X" * 33}, "code"),
    ("code with a slash", {**HNI, "code": "HN/1"}, "code"),
    ("code a number", {**HNI, "code": 12}, "code"),
    ("name empty", {**HNI, "name": ""}, "name"),
    ("name blank", {**HNI, "name": "  "}, "name"),
    ("attendance a string", {**HNI, "expected_attendance": "40"}, "expected_attendance"),
    ("attendance negative", {**HNI, "expected_attendance": -1}, "expected_attendance"),
    ("attendance a float", {**HNI, "expected_attendance": 40.5}, "expected_attendance"),
    ("attendance a bool", {**HNI, "expected_attendance": True}, "expected_attendance"),
    ("bad email", {**HNI, "contact_email": "vanphong.hanoi"}, "contact_email"),
    ("bad phone", {**HNI, "contact_phone": "gọi anh Nam"}, "contact_phone"),
    ("unknown kind", {**HNI, "kind": "satellite"}, "kind"),
    ("negative position", {**HNI, "position": -3}, "position"),
    ("unknown field", {**HNI, "capacity": 50}, "capacity"),
    ("read-only id", {**HNI, "id": "abc"}, "id"),
    ("not an object", ["HNI"], "body"),
]


async def test_create_refuses_bad_input(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    await add_site(organizer, conference, code="HCM", name="TP. Hồ Chí Minh")
    before = await state(organizer, conference, app)
    for label, body, field in CREATE_CASES:
        status, answer = await organizer.post(sites_url(conference), body)
        assert status == 422, (label, answer)
        assert answer["error"]["code"] == "invalid_format", (label, answer)
        assert answer["error"]["field"] == field, (label, answer)
    assert await state(organizer, conference, app) == before


async def test_update_refuses_bad_input(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    await add_site(organizer, conference, code="HCM", name="TP. Hồ Chí Minh")
    hni = await add_site(organizer, conference)
    url = f"{sites_url(conference)}/{hni['id']}"
    cases: list[tuple[Any, int, str, str]] = [
        ({"name": None}, 422, "invalid_format", "name"),
        ({"position": None}, 422, "invalid_format", "position"),
        ({"code": None}, 422, "invalid_format", "code"),
        ({"expected_attendance": "40"}, 422, "invalid_format", "expected_attendance"),
        ({"expected_attendance": -5}, 422, "invalid_format", "expected_attendance"),
        ({"contact_email": "a@b"}, 422, "invalid_format", "contact_email"),
        ({"contact_phone": "x"}, 422, "invalid_format", "contact_phone"),
        ({"kind": "hub"}, 422, "invalid_format", "kind"),
        ({"nmae": "typo"}, 422, "invalid_format", "nmae"),
        ({"code": "hcm"}, 409, "conflict", "code"),
    ]
    before = await state(organizer, conference, app)
    for body, want_status, code, field in cases:
        status, answer = await organizer.patch(url, body)
        assert status == want_status, (body, answer)
        assert answer["error"]["code"] == code, (body, answer)
        assert answer["error"]["field"] == field, (body, answer)
    assert await state(organizer, conference, app) == before


async def test_site_of_another_conference_is_404(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    status, other = await organizer.post("/api/v1/conferences", {**CONFERENCE, "title": "B"})
    assert status == 201
    theirs = await add_site(organizer, other, code="B1", name="Site B")
    await add_site(organizer, conference)
    before_b = await state(organizer, other, app)
    wrong = f"{sites_url(conference)}/{theirs['id']}"
    status, body = await organizer.get(wrong)
    assert_refused(status, body, 404, "not_found", "site")
    status, body = await organizer.patch(wrong, {"name": "stolen"})
    assert_refused(status, body, 404, "not_found", "site")
    status, body = await organizer.delete(wrong)
    assert_refused(status, body, 404, "not_found", "site")
    status, listing = await organizer.get(sites_url(conference))
    assert [s["code"] for s in listing["items"]] == ["HNI"]
    assert await state(organizer, other, app) == before_b
    status, body = await organizer.get(f"{sites_url(other)}/{theirs['id']}")
    assert status == 200 and body["name"] == "Site B"


async def test_unknown_site_is_404(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    site = await add_site(organizer, conference)
    before = await state(organizer, conference, app)
    for sid in ("nope", "A" * 16, site["id"][:-1], "1"):
        url = f"{sites_url(conference)}/{sid}"
        for method, body in (("GET", None), ("PATCH", {"name": "x"}), ("DELETE", None)):
            status, answer = await organizer.call(method, url, body)
            assert_refused(status, answer, 404, "not_found", "site")
    # A real site under a conference that does not exist.
    status, answer = await organizer.get(f"/api/v1/conferences/nope/sites/{site['id']}")
    assert_refused(status, answer, 404, "not_found", "conference")
    assert await state(organizer, conference, app) == before


async def test_delete_then_get_is_404(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    site = await add_site(organizer, conference)
    url = f"{sites_url(conference)}/{site['id']}"
    status, _ = await organizer.delete(url)
    assert status == 204
    status, body = await organizer.get(url)
    assert_refused(status, body, 404, "not_found", "site")
    status, body = await organizer.delete(url)
    assert_refused(status, body, 404, "not_found", "site")
    status, listing = await organizer.get(sites_url(conference))
    assert listing["items"] == []
    status, snap = await organizer.get(f"/api/v1/conferences/{conference['id']}/live")
    assert snap["sites"] == [] and snap["seq"] == 3
    # The audit log names the account that asked, in its role.
    entries = await audit_entries(app[db_key], col(AuditEntry.target_type) == "site")
    assert [(e.action, e.actor_name, e.actor_role) for e in entries] == [
        ("site.create", "Organizer", "organizer"),
        ("site.delete", "Organizer", "organizer"),
    ]
