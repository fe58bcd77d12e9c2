"""Importing a decision's recipients over HTTP (CSV and XLSX, raw or multipart): the dry
run, refusals that change nothing, skip_invalid, who may, which decision."""

from __future__ import annotations

import codecs
from dataclasses import replace
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import func
from sqlmodel import col, select

from awards.models import Award
from conference.models import AuditEntry, LiveEvent
from conference.tables import XLSX_MEDIA_TYPE
from runtime.config import Config
from server.keys import db_key
from tests.conftest import Api, Public, assert_refused
from tests.server.stage import Stage, make_stage
from tests.server.test_api_awards import CODE, DECISION
from tests.workbooks import xlsx as workbook

Client = TestClient[Any, Any]
UPLOAD_LIMIT = 200_000
GOOD_CSV = (
    "\ufeffSTT;Tên tập thể, cá nhân;Chức vụ;Điểm cầu;Thành tích;Ghi chú\n"
    "1;Văn phòng Thành ủy Hải Phòng;;HPG;Xuất sắc;\n"
    "2;Nguyễn Thị Hường;Chuyên viên;;Tận tụy, trách nhiệm;\n"
)
# Row 4 is already a recipient, row 5 names no site of the conference, row 6 has no name.
MIXED_CSV = (
    GOOD_CSV + "3;lò văn páo;Chánh Văn phòng;;;\n4;Văn phòng Tỉnh ủy Yên Bái;;YBI;;\n5;;;;x;\n"
)


@pytest.fixture
def config(config: Config) -> Config:
    # A small upload limit, to test it without sending megabytes.
    return replace(config, max_upload_bytes=UPLOAD_LIMIT)


async def new_decision(stage: Stage, **extra: Any) -> str:
    """A decision already naming a unit and a person; its id."""
    status, decision = await stage.organizer.post(stage.url("/awards/decisions"), DECISION | extra)
    assert status == 201, decision
    for body in (
        {"recipient_kind": "unit", "name": "Văn phòng Tỉnh ủy Lào Cai", "site": "LCI"},
        {"recipient_kind": "person", "name": "Lò Văn Páo", "title": "Phó Chánh Văn phòng"},
    ):
        status, award = await stage.organizer.post(
            stage.url(f"/awards/decisions/{decision['id']}/awards"), body
        )
        assert status == 201, award
    did: str = decision["id"]
    return did


def import_url(stage: Stage, did: str, query: str = "") -> str:
    return stage.url(f"/awards/decisions/{did}/import{query}")


async def upload(api: Api, url: str, raw: bytes, content_type: str = "text/csv") -> tuple[int, Any]:
    return await api.post(url, data=raw, headers={"Content-Type": content_type})


async def state(client: Client) -> tuple[Any, ...]:
    """Every award, and the audit and event counts: a refused request changes none."""
    async with client.app[db_key].read() as session:
        rows = (await session.exec(select(Award).order_by(col(Award.id)))).all()
        audits = (await session.exec(select(func.count()).select_from(AuditEntry))).one()
        events = (await session.exec(select(func.count()).select_from(LiveEvent))).one()
    return [r.model_dump() for r in rows], audits, events


async def recipients(stage: Stage, did: str) -> list[dict[str, Any]]:
    status, decision = await stage.organizer.get(stage.url(f"/awards/decisions/{did}"))
    assert status == 200, decision
    awards: list[dict[str, Any]] = decision["awards"]
    return awards


async def test_dry_run_then_refused_then_skip_invalid(client: Client, stage: Stage) -> None:
    did = await new_decision(stage)
    url = import_url(stage, did)
    before = await state(client)
    status, report = await upload(stage.organizer, url + "?dry_run=1", MIXED_CSV.encode())
    assert status == 200, report
    assert report["dry_run"] is True and report["imported"] == 0
    assert (report["format"], report["header_row"]) == ("csv", 1)
    assert (report["rows"], report["valid"], report["invalid"]) == (5, 2, 3)
    assert report["ignored_columns"] == ["Ghi chú"]
    assert [(p["row"], p["column"], p["field"]) for p in report["problems"]] == [
        (4, "Tên tập thể, cá nhân", "name"),
        (5, "Điểm cầu", "site"),
        (6, "Tên tập thể, cá nhân", "name"),
    ]
    assert report["problems"][0]["message"] == (
        "lò văn páo is already a recipient of this decision, as a person"
    )
    assert report["problems"][2]["message"] == "missing: the name"
    assert await state(client) == before

    status, body = await upload(stage.organizer, url, MIXED_CSV.encode())
    assert_refused(status, body, 422, "invalid_format", "file")
    assert body["error"]["details"]["invalid"] == 3
    assert [p["row"] for p in body["error"]["details"]["problems"]] == [4, 5, 6]
    assert await state(client) == before

    status, report = await upload(stage.organizer, url + "?skip_invalid=1", MIXED_CSV.encode())
    assert status == 200, report
    assert (report["imported"], report["invalid"], report["dry_run"]) == (2, 3, False)
    awards = await recipients(stage, did)
    assert [(a["position"], a["recipient_kind"], a["name"], a["site"]) for a in awards] == [
        (1, "unit", "Văn phòng Tỉnh ủy Lào Cai", "LCI"),
        (2, "person", "Lò Văn Páo", None),
        (3, "unit", "Văn phòng Thành ủy Hải Phòng", "HPG"),
        (4, "person", "Nguyễn Thị Hường", None),
    ]
    assert awards[3]["citation"] == "Tận tụy, trách nhiệm" and awards[3]["title"] == "Chuyên viên"
    codes = [a["code"] for a in awards]
    assert all(CODE.match(c) for c in codes) and len(set(codes)) == 4
    # One audit entry and one event, which only the staff receive (award/...).
    rows, audits, events = await state(client)
    assert (len(rows), audits, events) == (len(before[0]) + 2, before[1] + 1, before[2] + 1)
    async with client.app[db_key].read() as session:
        entry = (await session.exec(select(AuditEntry).order_by(col(AuditEntry.id).desc()))).first()
        event = (await session.exec(select(LiveEvent).order_by(col(LiveEvent.id).desc()))).first()
    assert entry is not None and event is not None
    assert (entry.action, entry.target_id, entry.changes["imported"]) == ("award.import", did, 2)
    assert (event.type, event.data) == (
        "award/imported",
        {"decision": did, "count": 2, "positions": [3, 4]},
    )

    # The same file again: everyone in it is a recipient already.
    status, body = await upload(stage.organizer, url, GOOD_CSV.encode())
    assert_refused(status, body, 422, "invalid_format", "file")
    assert [p["row"] for p in body["error"]["details"]["problems"]] == [2, 3]


async def test_xlsx_raw_and_multipart_append_in_order(stage: Stage) -> None:
    did = await new_decision(stage)
    raw = workbook(
        [
            ["DANH SÁCH TẬP THỂ, CÁ NHÂN ĐƯỢC TẶNG BẰNG KHEN"],
            ["STT", "Loại", "Ten tap the / ca nhan", "Chuc vu", "Don vi cong tac", "Ma diem cau",
             "Ly do khen thuong"],
            [1, "Tập thể", "Văn phòng Thành ủy Hà Nội", None, None, "hni", "Xuất sắc"],
            [2, "Cá nhân", "Trần Văn Dũng", "Chánh Văn phòng", "Tỉnh ủy Lào Cai", "Lào Cai",
             "Hoàn thành xuất sắc nhiệm vụ"],
        ]
    )  # fmt: skip
    url = import_url(stage, did)
    status, report = await upload(stage.organizer, url + "?dry_run=1", raw, XLSX_MEDIA_TYPE)
    assert status == 200, report
    assert (report["format"], report["header_row"], report["valid"]) == ("xlsx", 2, 2)
    # The content decides the format: a workbook sent as octet-stream is still one.
    status, report = await upload(stage.organizer, url, raw, "application/octet-stream")
    assert status == 200 and report["imported"] == 2, report

    form = aiohttp.FormData()
    second = workbook([["Họ và tên", "Chức vụ"], ["Phạm Thị Lan", "Chuyên viên"]])
    form.add_field("file", second, filename="khen-thuong.xlsx", content_type=XLSX_MEDIA_TYPE)
    status, report = await stage.organizer.post(url, data=form)
    assert status == 200 and report["imported"] == 1, report
    form = aiohttp.FormData()
    form.add_field(
        "file", "name,kind\nChi bộ 1,unit\n".encode(), filename="x.csv", content_type="text/csv"
    )
    status, report = await stage.organizer.post(url, data=form)
    assert status == 200 and report["imported"] == 1, report
    awards = await recipients(stage, did)
    assert [(a["position"], a["recipient_kind"], a["name"], a["site"]) for a in awards] == [
        (1, "unit", "Văn phòng Tỉnh ủy Lào Cai", "LCI"),
        (2, "person", "Lò Văn Páo", None),
        (3, "unit", "Văn phòng Thành ủy Hà Nội", "HNI"),
        (4, "person", "Trần Văn Dũng", "LCI"),
        (5, "person", "Phạm Thị Lan", None),
        (6, "unit", "Chi bộ 1", None),
    ]
    assert awards[3]["unit"] == "Tỉnh ủy Lào Cai"


async def test_unusable_files_and_parameters_are_refused(client: Client, stage: Stage) -> None:
    did = await new_decision(stage)
    url = import_url(stage, did)
    before = await state(client)
    cp1258 = "name\nJos\xe9\n".encode("cp1258")
    big = b"name\n" + b"Chi bo\n" * (UPLOAD_LIMIT // 7 + 1)
    cases: list[tuple[bytes, str, str, int, str, str | None, str]] = [
        (b"", "text/csv", "", 422, "invalid_format", "file", "empty"),
        (codecs.BOM_UTF8 + b"\r\n", "text/csv", "", 422, "invalid_format", "file", "empty"),
        (b"Chuc vu,Thanh tich\nA,B\n", "text/csv", "", 422, "invalid_format", "file",
         "no name column"),
        (b"a,b\n1,2\n", "text/csv", "", 422, "invalid_format", "file", "no header row"),
        (cp1258, "text/csv", "", 422, "invalid_format", "file", "UTF-8"),
        (b"PK\x03\x04garbage", XLSX_MEDIA_TYPE, "", 422, "invalid_format", "file", "readable"),
        (b"name\nA\n", XLSX_MEDIA_TYPE, "", 422, "invalid_format", "file", "sent as XLSX"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "application/vnd.ms-excel", "", 422,
         "invalid_format", "file", ".xls"),
        (b'{"name": "A"}', "application/json", "", 415, "unsupported_media_type", None, "text/csv"),
        (b"name\nA\n", "text/csv", "?dry_run=maybe", 422, "invalid_format", "dry_run", "dry_run"),
        (b"name\nA\n", "text/csv", "?skip_invalid=2", 422, "invalid_format", "skip_invalid", ""),
        (big, "text/csv", "", 413, "too_large", None, "larger than"),
    ]  # fmt: skip
    for raw, content_type, query, want, code, field, words in cases:
        status, body = await upload(stage.organizer, url + query, raw, content_type)
        assert_refused(status, body, want, code, field)
        assert words in body["error"]["message"], body
    form = aiohttp.FormData(default_to_multipart=True)
    form.add_field("note", "no file here")
    status, body = await stage.organizer.post(url, data=form)
    assert_refused(status, body, 422, "invalid_format", "file")
    # Each bad row, alone in a file: refused with its row, field and code; nothing imported.
    rows = {
        "name": "Tên,Thành tích\n,Xuất sắc\n",
        "kind": "Loại,Tên\nvip,Chi bộ 2\n",
        "site": "Tên,Điểm cầu\nChi bộ 2,YBI\n",
        "title": f"Họ và tên,Chức vụ\nLê Văn H,{'x' * 201}\n",
        "unit": f"Họ và tên,Đơn vị công tác\nLê Văn H,{'x' * 301}\n",
        "citation": f"Tên,Thành tích\nChi bộ 2,{'x' * 2001}\n",
    }
    for field, text in rows.items():
        status, body = await upload(stage.organizer, url, text.encode())
        assert_refused(status, body, 422, "invalid_format", "file")
        problems = body["error"]["details"]["problems"]
        assert [(p["row"], p["field"]) for p in problems] == [(2, field)], body
    # Twice in one file.
    status, body = await upload(stage.organizer, url, "Tên\nChi bộ 2\nCHI BO 2\n".encode())
    assert_refused(status, body, 422, "invalid_format", "file")
    [problem] = body["error"]["details"]["problems"]
    assert (problem["row"], problem["field"]) == (3, "name")
    assert "also row 2" in problem["message"]
    assert await state(client) == before


async def test_only_organizers_import(client: Client, stage: Stage, public: Public) -> None:
    did = await new_decision(stage)
    url = import_url(stage, did)
    before = await state(client)
    for api in (stage.chair, stage.secretary, stage.operators["LCI"]):
        for query in ("", "?dry_run=1"):
            status, body = await upload(api, url + query, b"name\nChi bo 9\n")
            assert_refused(status, body, 403, "forbidden", None)
    # Someone signed out learns nothing of a conference that is not public.
    status, body = await upload(public, url, b"name\nChi bo 9\n")
    assert_refused(status, body, 404, "not_found", "conference")
    assert await state(client) == before


async def test_a_decision_of_another_conference_is_404(
    client: Client, stage: Stage, organizer: Api
) -> None:
    did = await new_decision(stage)
    other = await make_stage(client, organizer)
    before = await state(client)
    status, body = await upload(
        stage.organizer, import_url(other, did, "?dry_run=1"), b"name\nChi bo 9\n"
    )
    assert_refused(status, body, 404, "not_found", "decision")
    status, body = await upload(stage.organizer, import_url(other, did), b"name\nChi bo 9\n")
    assert_refused(status, body, 404, "not_found", "decision")
    status, body = await upload(stage.organizer, import_url(stage, "nosuchdecision"), b"name\n")
    assert_refused(status, body, 404, "not_found", "decision")
    status, body = await upload(
        stage.organizer, f"/api/v1/conferences/nope/awards/decisions/{did}/import", b"name\n"
    )
    assert_refused(status, body, 404, "not_found", "conference")
    assert await state(client) == before


async def test_openapi_documents_the_import(client: Client) -> None:
    resp = await client.get("/api/v1/openapi.json")
    doc = await resp.json()
    route = doc["paths"]["/api/v1/conferences/{cid}/awards/decisions/{did}/import"]["post"]
    assert route["tags"] == ["awards"]
    assert {p["name"] for p in route["parameters"]} == {"cid", "did", "dry_run", "skip_invalid"}
    ref = route["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
    assert ref.endswith("/TableReport")
    assert "problems" in doc["components"]["schemas"]["TableReport"]["properties"]
