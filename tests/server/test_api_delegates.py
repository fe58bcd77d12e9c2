"""Delegates over HTTP: validation, scoping by site, audit and log, CSV and XLSX import."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func
from sqlmodel import col, select

from attendance.importing import XLSX_MEDIA_TYPE
from attendance.models import Delegate
from conference.models import AuditEntry, LiveEvent
from runtime.config import Config
from server.keys import db_key
from tests.conftest import Api, api_token, assert_refused, bearer
from tests.server.test_ws import connect
from tests.workbooks import xlsx as workbook

Client = TestClient[Any, Any]
SITES = (("HNI", "Hà Nội"), ("LCI", "Lào Cai"))
UPLOAD_LIMIT = 200_000
PAO = {
    "name": "Lò Văn Páo",
    "title": "Chánh Văn phòng",
    "unit": "Tỉnh ủy Lào Cai",
    "site": "LCI",
    "phone": "0912 345 678",
    "email": "pao@laocai.example.vn",
}


@pytest.fixture
def config(config: Config) -> Config:
    # A small upload limit, to test it without sending megabytes.
    return replace(config, max_upload_bytes=UPLOAD_LIMIT)


def url(conference: dict[str, Any], rest: str = "") -> str:
    return f"/api/v1/conferences/{conference['id']}/delegates{rest}"


@pytest.fixture
async def sites(organizer: Api, conference: dict[str, Any]) -> None:
    for code, name in SITES:
        status, body = await organizer.post(
            f"/api/v1/conferences/{conference['id']}/sites", {"code": code, "name": name}
        )
        assert status == 201, body


async def add(organizer: Api, conference: dict[str, Any], **fields: Any) -> dict[str, Any]:
    status, body = await organizer.post(url(conference), {**PAO, **fields})
    assert status == 201, body
    created: dict[str, Any] = body
    return created


async def state(app: web.Application) -> tuple[Any, ...]:
    """Every delegate, and the audit and event counts: a refused request changes none."""
    async with app[db_key].read() as session:
        rows = (await session.exec(select(Delegate).order_by(col(Delegate.id)))).all()
        audits = (await session.exec(select(func.count()).select_from(AuditEntry))).one()
        events = (await session.exec(select(func.count()).select_from(LiveEvent))).one()
    return [r.model_dump() for r in rows], audits, events


# --- adding, reading, changing, removing ---------------------------------------------------


async def test_create_read_update_delete(
    organizer: Api, conference: dict[str, Any], sites: None, app: web.Application
) -> None:
    created = await add(organizer, conference, site="lci")
    assert created["site"] == "LCI" and created["category"] == "official"
    assert created["phone"] == PAO["phone"]
    one = url(conference, f"/{created['id']}")
    status, body = await organizer.get(one)
    assert status == 200 and body == created
    status, body = await organizer.patch(one, {"site": "hni", "category": "guest", "phone": ""})
    assert status == 200, body
    assert (body["site"], body["category"], body["phone"], body["name"]) == (
        "HNI",
        "guest",
        "",
        PAO["name"],
    )
    status, _ = await organizer.delete(one)
    assert status == 204
    for method in ("GET", "PATCH", "DELETE"):
        status, body = await organizer.call(
            method, one, {"title": "x"} if method == "PATCH" else None
        )
        assert_refused(status, body, 404, "not_found", "delegate")
    async with app[db_key].read() as session:
        actions = (
            await session.exec(
                select(AuditEntry.action)
                .where(col(AuditEntry.target_type) == "delegate")
                .order_by(col(AuditEntry.id))
            )
        ).all()
        events = (await session.exec(select(LiveEvent).order_by(col(LiveEvent.seq)))).all()
    assert actions == ["delegate.create", "delegate.update", "delegate.delete"]
    assert [e.type for e in events][-3:] == [
        "delegate/created",
        "delegate/updated",
        "delegate/removed",
    ]
    assert events[-1].data == {"id": created["id"], "site": "HNI"}


CREATE_CASES: list[tuple[str, Any, int, str, str]] = [
    ("missing name", {"site": "LCI"}, 422, "invalid_format", "name"),
    ("blank name", {**PAO, "name": "  "}, 422, "invalid_format", "name"),
    ("missing site", {"name": "A"}, 422, "invalid_format", "site"),
    ("site with a space", {**PAO, "site": "LA CAI"}, 422, "invalid_format", "site"),
    ("unknown site", {**PAO, "site": "XYZ"}, 422, "invalid_format", "site"),
    ("bad phone", {**PAO, "phone": "gọi anh Páo"}, 422, "invalid_format", "phone"),
    ("bad email", {**PAO, "email": "pao@"}, 422, "invalid_format", "email"),
    ("unknown category", {**PAO, "category": "vip"}, 422, "invalid_format", "category"),
    ("NUL in the name", {**PAO, "name": "Lò\x00Páo"}, 422, "invalid_format", "name"),
    ("unknown field", {**PAO, "age": 40}, 422, "invalid_format", "age"),
    ("same person", {**PAO, "name": "LO VAN PAO"}, 409, "conflict", "name"),
]


async def test_create_refuses_bad_input(
    organizer: Api, conference: dict[str, Any], sites: None, app: web.Application
) -> None:
    await add(organizer, conference)
    before = await state(app)
    for label, body, want, code, field in CREATE_CASES:
        status, answer = await organizer.post(url(conference), body)
        assert status == want, (label, answer)
        assert_refused(status, answer, want, code, field)
    assert await state(app) == before


async def test_update_refuses_bad_input(
    organizer: Api, conference: dict[str, Any], sites: None, app: web.Application
) -> None:
    await add(organizer, conference, name="Nguyễn Văn A", site="HNI")
    pao = await add(organizer, conference)
    one = url(conference, f"/{pao['id']}")
    cases: list[tuple[Any, int, str, str]] = [
        ({"name": None}, 422, "invalid_format", "name"),
        ({"site": None}, 422, "invalid_format", "site"),
        ({"name": ""}, 422, "invalid_format", "name"),
        ({"email": "a@b"}, 422, "invalid_format", "email"),
        ({"phone": "x"}, 422, "invalid_format", "phone"),
        ({"category": "vip"}, 422, "invalid_format", "category"),
        ({"nmae": "typo"}, 422, "invalid_format", "nmae"),
        ({"id": "abc"}, 422, "invalid_format", "id"),
        ({"site": "XYZ"}, 422, "invalid_format", "site"),
        ({"site": "HNI", "name": "nguyen van a"}, 409, "conflict", "name"),
    ]
    before = await state(app)
    for body, want, code, field in cases:
        status, answer = await organizer.patch(one, body)
        assert status == want, (body, answer)
        assert_refused(status, answer, want, code, field)
    status, answer = await organizer.call(
        "PATCH", one, data=b"name=x", headers={"Content-Type": "text/plain"}
    )
    assert_refused(status, answer, 415, "unsupported_media_type", None)
    assert await state(app) == before


# --- listing -----------------------------------------------------------------------------


async def test_list_answers_a_page_and_reads_its_query(
    organizer: Api, conference: dict[str, Any], sites: None
) -> None:
    """The order, search and filters are the service's (tests/attendance/test_delegates.py);
    here, the page's shape and the query string read into them."""
    for name, site, category in (
        ("Nguyễn Văn A", "HNI", "official"),
        ("NGUYỄN VĂN ANH", "LCI", "guest"),
        ("Trần Thị Bích", "HNI", "staff"),
        ("Lò Văn Páo", "LCI", "guest"),
    ):
        await add(organizer, conference, name=name, site=site, category=category, email="")
    status, body = await organizer.get(url(conference))
    assert status == 200
    assert (body["total"], body["limit"], body["offset"], len(body["items"])) == (4, 100, 0, 4)
    assert body["items"][0]["name"] == "Nguyễn Văn A" and body["items"][0]["phone"] == PAO["phone"]
    status, body = await organizer.get(
        url(conference, "?q=NGUY%E1%BB%84N%20v&site=lci&category=guest&limit=1&offset=0")
    )
    assert status == 200
    assert [d["name"] for d in body["items"]] == ["NGUYỄN VĂN ANH"]
    assert (body["total"], body["limit"], body["offset"]) == (1, 1, 0)


BAD_QUERIES = [
    ("limit=0", 422, "invalid_format", "limit"),
    ("limit=1001", 422, "invalid_format", "limit"),
    ("limit=ten", 422, "invalid_format", "limit"),
    ("offset=-1", 422, "invalid_format", "offset"),
    ("category=vip", 422, "invalid_format", "category"),
    ("site=a%20b", 422, "invalid_format", "site"),
    ("q=" + "x" * 201, 422, "invalid_format", "q"),
    ("q=a%00b", 422, "invalid_format", "q"),
    ("sort=name", 422, "invalid_format", "sort"),
    ("site=XYZ", 404, "not_found", "site"),
]


async def test_list_refuses_bad_queries(
    organizer: Api, conference: dict[str, Any], sites: None
) -> None:
    for query, want, code, field in BAD_QUERIES:
        status, body = await organizer.get(url(conference, "?" + query))
        assert status == want, (query, body)
        assert_refused(status, body, want, code, field)


# --- who sees what -------------------------------------------------------------------------


async def test_operator_sees_only_their_site(
    organizer: Api, conference: dict[str, Any], sites: None, other: Client, app: web.Application
) -> None:
    mine = await add(organizer, conference, name="Nguyễn Văn A", site="HNI")
    theirs = await add(organizer, conference)
    operator = bearer(other, await api_token(organizer, conference, "site_operator", "HNI"))
    status, body = await operator.get(url(conference))
    assert status == 200 and [d["id"] for d in body["items"]] == [mine["id"]]
    assert body["total"] == 1 and body["items"][0]["phone"] == PAO["phone"]
    status, body = await operator.get(url(conference, "?q=pao"))
    assert body["items"] == [] and body["total"] == 0
    status, body = await operator.get(url(conference, "?site=LCI"))
    assert_refused(status, body, 404, "not_found", "site")
    status, body = await operator.get(url(conference, f"/{mine['id']}"))
    assert status == 200 and body == mine
    before = await state(app)
    there = url(conference, f"/{theirs['id']}")
    for method, payload in (("GET", None), ("PATCH", {"title": "x"}), ("DELETE", None)):
        status, body = await operator.call(method, there, payload)
        assert_refused(status, body, 404, "not_found", "delegate")
    # Their own site's delegate: they may read, not change.
    here = url(conference, f"/{mine['id']}")
    status, body = await operator.patch(here, {"title": "x"})
    assert_refused(status, body, 403, "forbidden", None)
    status, body = await operator.delete(here)
    assert_refused(status, body, 403, "forbidden", None)
    status, body = await operator.post(url(conference), {**PAO, "name": "B", "site": "HNI"})
    assert_refused(status, body, 403, "forbidden", None)
    status, body = await operator.post(
        url(conference, "/import"), data=b"name,site\nB,HNI\n", headers={"Content-Type": "text/csv"}
    )
    assert_refused(status, body, 403, "forbidden", None)
    assert await state(app) == before


async def test_chair_reads_all_viewers_and_strangers_nothing(
    organizer: Api, conference: dict[str, Any], sites: None, other: Client
) -> None:
    pao = await add(organizer, conference)
    chair = bearer(other, await api_token(organizer, conference, "chair"))
    status, body = await chair.get(url(conference))
    assert status == 200 and body["items"][0]["email"] == PAO["email"]
    status, body = await chair.patch(url(conference, f"/{pao['id']}"), {"title": "x"})
    assert_refused(status, body, 403, "forbidden", None)
    anonymous = Api(other)
    status, body = await anonymous.get(url(conference))
    assert_refused(status, body, 404, "not_found", "conference")
    status, _ = await organizer.patch(f"/api/v1/conferences/{conference['id']}", {"public": True})
    assert status == 200
    for path in (url(conference), url(conference, f"/{pao['id']}")):
        status, body = await anonymous.get(path)
        assert_refused(status, body, 403, "forbidden", None)
        assert PAO["phone"] not in str(body) and PAO["name"] not in str(body)


async def test_delegate_events_reach_staff_and_the_right_operator(
    client: Client, organizer: Api, conference: dict[str, Any], sites: None
) -> None:
    cid = conference["id"]
    staff = await connect(client)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as bare:
        # Without the organizer's cookie, the sockets authenticate by their tokens.
        hni, lci = [
            await connect(
                client,
                session=bare,
                token=await api_token(organizer, conference, "site_operator", code),
            )
            for code in ("HNI", "LCI")
        ]
        for socket in (staff, hni, lci):
            await socket.subscribe(cid)
        pao = await add(organizer, conference)
        status, _ = await organizer.patch(url(conference, f"/{pao['id']}"), {"title": "Phó"})
        assert status == 200
        status, body = await organizer.post(
            url(conference, "/import"),
            data="name,site\nNguyễn Văn A,HNI\n".encode(),
            headers={"Content-Type": "text/csv"},
        )
        assert status == 200 and body["imported"] == 1, body
        types = [e["event"]["type"] for e in await staff.events(3)]
        assert types == ["delegate/created", "delegate/updated", "delegates/imported"]
        got = [e["event"] for e in await lci.events(3)]
        assert [e["type"] for e in got] == types
        assert "phone" not in got[0]["data"] and "email" not in got[0]["data"]
        # Páo is at LCI: the operator of HNI hears only of the import.
        (imported,) = await hni.events(1)
        assert imported["event"]["data"] == {"count": 1, "sites": ["HNI"]}
        await hni.close_quiet()
        await lci.ws.close()
    await staff.ws.close()


# --- importing -----------------------------------------------------------------------------

GOOD_CSV = (
    "\ufeffHọ và tên;Điểm cầu;Chức vụ;Ghi chú\n"
    "Đinh Văn Mới;HNI;Chuyên viên;\n"
    "Lê Thị Hai;lào cai;;\n"
)
MIXED_CSV = GOOD_CSV + "Lò Văn Páo;LCI;;\n;HNI;;\nBa;XYZ;;\n"


async def upload(
    api: Api,
    conference: dict[str, Any],
    raw: bytes,
    content_type: str = "text/csv",
    query: str = "",
) -> tuple[int, Any]:
    return await api.post(
        url(conference, "/import" + query), data=raw, headers={"Content-Type": content_type}
    )


async def test_import_csv_dry_run_then_for_real(
    organizer: Api, conference: dict[str, Any], sites: None, app: web.Application
) -> None:
    await add(organizer, conference)
    before = await state(app)
    status, report = await upload(organizer, conference, MIXED_CSV.encode(), query="?dry_run=1")
    assert status == 200, report
    assert report["dry_run"] is True and report["imported"] == 0
    assert (report["rows"], report["valid"], report["invalid"]) == (5, 2, 3)
    assert report["ignored_columns"] == ["Ghi chú"] and report["format"] == "csv"
    assert [(p["row"], p["column"], p["field"]) for p in report["problems"]] == [
        (4, "Họ và tên", "name"),
        (5, "Họ và tên", "name"),
        (6, "Điểm cầu", "site"),
    ]
    assert report["problems"][0]["message"] == "Lò Văn Páo is already a delegate at LCI"
    assert await state(app) == before

    status, body = await upload(organizer, conference, MIXED_CSV.encode())
    assert_refused(status, body, 422, "invalid_format", "file")
    assert body["error"]["details"]["invalid"] == 3
    assert [p["row"] for p in body["error"]["details"]["problems"]] == [4, 5, 6]
    assert await state(app) == before

    status, report = await upload(
        organizer, conference, MIXED_CSV.encode(), query="?skip_invalid=1"
    )
    assert status == 200 and report["imported"] == 2 and report["dry_run"] is False
    status, listing = await organizer.get(url(conference, "?q=le%20thi%20hai"))
    assert [(d["name"], d["site"]) for d in listing["items"]] == [("Lê Thị Hai", "LCI")]
    status, listing = await organizer.get(url(conference))
    assert listing["total"] == 3


async def test_import_xlsx_raw_and_multipart(
    organizer: Api, conference: dict[str, Any], sites: None
) -> None:
    raw = workbook(
        [
            ["DANH SÁCH ĐẠI BIỂU"],
            ["STT", "Họ và tên", "Chức danh", "Cơ quan", "Mã điểm cầu", "Thành phần", "SĐT"],
            [1, "Nguyễn Văn A", "Bí thư", "Tỉnh ủy", "LCI", "Chính thức", 912345678],
            [2, "Trần Thị B", None, None, "Hà Nội", "Khách mời", None],
        ]
    )
    status, report = await upload(organizer, conference, raw, XLSX_MEDIA_TYPE, "?dry_run=1")
    assert status == 200, report
    assert (report["format"], report["header_row"], report["valid"]) == ("xlsx", 2, 2)
    # The type is read from the content: a workbook sent as octet-stream is still one.
    status, report = await upload(organizer, conference, raw, "application/octet-stream")
    assert status == 200 and report["imported"] == 2, report
    status, listing = await organizer.get(url(conference, "?q=nguyen"))
    (a,) = listing["items"]
    assert (a["site"], a["category"], a["phone"], a["title"]) == (
        "LCI",
        "official",
        "0912345678",
        "Bí thư",
    )

    form = aiohttp.FormData()
    second = workbook([["Họ và tên", "Điểm cầu"], ["Phạm Văn C", "HNI"]])
    form.add_field("file", second, filename="danh-sach.xlsx", content_type=XLSX_MEDIA_TYPE)
    status, report = await organizer.post(url(conference, "/import"), data=form)
    assert status == 200 and report["imported"] == 1, report
    form = aiohttp.FormData()
    form.add_field(
        "file", "name,site\nĐỗ Thị D,LCI\n".encode(), filename="x.csv", content_type="text/csv"
    )
    status, report = await organizer.post(url(conference, "/import"), data=form)
    assert status == 200 and report["imported"] == 1, report


async def test_import_refuses_unusable_files(
    organizer: Api, conference: dict[str, Any], sites: None, app: web.Application
) -> None:
    before = await state(app)
    cases: list[tuple[bytes, str, str, int, str, str | None, str]] = [
        (b"", "text/csv", "", 422, "invalid_format", "file", "empty"),
        (b"\xef\xbb\xbf\r\n", "text/csv", "", 422, "invalid_format", "file", "empty"),
        (b"Ten,Chuc vu\nA,B\n", "text/csv", "", 422, "invalid_format", "file", "no site column"),
        (b"a,b\n1,2\n", "text/csv", "", 422, "invalid_format", "file", "no header row"),
        (b"PK\x03\x04garbage", XLSX_MEDIA_TYPE, "", 422, "invalid_format", "file", "readable"),
        (b"name,site\nA,HNI\n", XLSX_MEDIA_TYPE, "", 422, "invalid_format", "file", "sent as XLSX"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00", "application/octet-stream", "", 422,
         "invalid_format", "file", "neither"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "application/vnd.ms-excel", "", 422,
         "invalid_format", "file", ".xls"),
        (b'{"name": "A"}', "application/json", "", 415, "unsupported_media_type", None, "text/csv"),
        (b"name,site\n", "text/csv", "?dry_run=maybe", 422, "invalid_format", "dry_run", "dry_run"),
        (b"name,site\n", "text/csv", "?skip_invalid=2", 422, "invalid_format", "skip_invalid", ""),
        (b"name,site\n" + b"A,HNI\n" * (UPLOAD_LIMIT // 6), "text/csv", "", 413, "too_large", None,
         "larger than"),
    ]  # fmt: skip
    for raw, content_type, query, want, code, field, words in cases:
        status, body = await upload(organizer, conference, raw, content_type, query)
        assert status == want, (raw[:20], body)
        assert_refused(status, body, want, code, field)
        assert words in body["error"]["message"], body
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("note", "no file here")
    status, body = await organizer.post(url(conference, "/import"), data=form)
    assert_refused(status, body, 422, "invalid_format", "file")
    form = aiohttp.FormData()
    form.add_field("file", b"name,site\n" + b"A,HNI\n" * (UPLOAD_LIMIT // 6), filename="big.csv")
    status, body = await organizer.post(url(conference, "/import"), data=form)
    assert_refused(status, body, 413, "too_large", None)
    assert await state(app) == before


async def test_import_of_an_unknown_conference_is_404(organizer: Api) -> None:
    status, body = await organizer.post(
        "/api/v1/conferences/nope/delegates/import",
        data=b"name,site\nA,HNI\n",
        headers={"Content-Type": "text/csv"},
    )
    assert_refused(status, body, 404, "not_found", "conference")


async def test_openapi_documents_the_delegate_routes(client: Client) -> None:
    resp = await client.get("/api/v1/openapi.json")
    doc = await resp.json()
    paths = doc["paths"]
    assert set(paths["/api/v1/conferences/{cid}/delegates"]) == {"get", "post"}
    assert set(paths["/api/v1/conferences/{cid}/delegates/{did}"]) == {"get", "patch", "delete"}
    assert "post" in paths["/api/v1/conferences/{cid}/delegates/import"]
    schemas = doc["components"]["schemas"]
    assert schemas["DelegateUpdate"]["additionalProperties"] is False
    assert "problems" in schemas["ImportReport"]["properties"]
    params = {p["name"] for p in paths["/api/v1/conferences/{cid}/delegates"]["get"]["parameters"]}
    assert params == {"cid", "q", "site", "category", "limit", "offset"}
