"""Awards over HTTP: decisions and recipients, corrections that keep the code, revocation,
and public verification by the short code (valid, revoked, unknown)."""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from pypdf import PdfReader
from sqlmodel import col, select

from awards.codes import ALPHABET, normalise_code
from conference.models import AuditEntry
from runtime.config import Config
from server.keys import db_key
from tests.conference.test_documents import pdf_text, scan_qr_codes
from tests.conftest import Public
from tests.server.stage import Stage, events
from tests.server.test_api_documents import finished
from tests.server.test_minutes_final import fetch

Client = TestClient[Any, Any]
CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")
DECISION = {
    "number": "1268-QĐ/VPTW",
    "issued_on": "2026-12-01",
    "issuing_body": "Văn phòng Trung ương Đảng",
    "signer_name": "Nguyễn Văn Thắng",
    "signer_title": "Chánh Văn phòng Trung ương Đảng",
    "award_kind": "certificate_of_merit",
}


async def _decision(stage: Stage, **extra: Any) -> dict[str, Any]:
    status, decision = await stage.organizer.post(stage.url("/awards/decisions"), DECISION | extra)
    assert status == 201, decision
    for body in (
        {
            "recipient_kind": "unit",
            "name": "Văn phòng Tỉnh ủy Lào Cai",
            "site": "LCI",
            "citation": "Đã có thành tích xuất sắc trong công tác văn phòng cấp ủy năm 2026",
        },
        {
            "recipient_kind": "person",
            "name": "Đặng Thị Hồng Nhung",
            "title": "Phó Chánh Văn phòng",
            "unit": "Thành ủy Hải Phòng",
            "citation": "Hoàn thành xuất sắc nhiệm vụ",
        },
    ):
        status, award = await stage.organizer.post(
            stage.url(f"/awards/decisions/{decision['id']}/awards"), body
        )
        assert status == 201, award
    return dict(decision)


async def test_decisions_and_awards_are_recorded_and_listed(stage: Stage) -> None:
    decision = await _decision(stage)
    status, listed = await stage.secretary.get(stage.url("/awards"))
    assert status == 200, listed
    [entry] = listed["decisions"]
    assert entry["number"] == "1268-QĐ/VPTW"
    assert [(a["name"], a["site"], a["position"]) for a in entry["awards"]] == [
        ("Văn phòng Tỉnh ủy Lào Cai", "LCI", 1),
        ("Đặng Thị Hồng Nhung", None, 2),
    ]
    codes = [a["code"] for a in entry["awards"]]
    assert all(CODE.match(c) for c in codes) and len(set(codes)) == 2
    status, one = await stage.chair.get(stage.url(f"/awards/decisions/{decision['id']}"))
    assert status == 200 and len(one["awards"]) == 2
    # The same number from the same body is refused, also in another conference.
    status, err = await stage.organizer.post(stage.url("/awards/decisions"), DECISION)
    assert status == 409 and err["error"]["field"] == "number"
    status, err = await stage.organizer.post(
        stage.url("/awards/decisions"), DECISION | {"award_kind": "medal"}
    )
    assert status == 422 and err["error"]["field"] == "award_kind"


async def test_a_correction_keeps_the_code_and_a_revoked_award_verifies_as_revoked(
    stage: Stage, public: Public
) -> None:
    decision = await _decision(stage)
    status, one = await stage.organizer.get(stage.url(f"/awards/decisions/{decision['id']}"))
    award = one["awards"][1]
    status, fixed = await stage.organizer.patch(
        stage.url(f"/awards/{award['id']}"), {"name": "Đặng Thị Hồng Nhung (Hải Phòng)"}
    )
    assert status == 200, fixed
    assert fixed["code"] == award["code"] and fixed["name"] == "Đặng Thị Hồng Nhung (Hải Phòng)"
    status, found = await public.get(f"/api/v1/verify/{award['code']}")
    assert status == 200, found
    assert (found["status"], found["valid"], found["kind_label"]) == ("valid", True, "Bằng khen")
    assert found["recipient"]["name"] == "Đặng Thị Hồng Nhung (Hải Phòng)"
    assert found["decision"]["number"] == "1268-QĐ/VPTW"
    assert found["decision"]["issuing_body"] == "Văn phòng Trung ương Đảng"
    # Revoked with a reason: verification says so at once.
    status, revoked = await stage.organizer.post(
        stage.url(f"/awards/{award['id']}/revoke"), {"reason": "Quyết định bị thu hồi do sai sót"}
    )
    assert status == 200 and revoked["revoked"] is True, revoked
    status, found = await public.get(f"/api/v1/verify/{award['code']}")
    assert (found["status"], found["valid"]) == ("revoked", False)
    assert found["revoked_reason"] == "Quyết định bị thu hồi do sai sót" and found["revoked_at"]
    # Revoking twice is a 409 (what else a revocation stops: tests/awards/test_services.py).
    status, err = await stage.organizer.post(
        stage.url(f"/awards/{award['id']}/revoke"), {"reason": "lần nữa"}
    )
    assert status == 409 and err["error"]["field"] == "award"


async def test_unknown_and_malformed_codes_reveal_nothing(public: Public) -> None:
    for code in ("ABCD-EFGH-JKMN", "abc", "Z" * 40, "%00"):
        status, err = await public.get(f"/api/v1/verify/{code}")
        assert status == 404, code
        assert set(err) == {"error"} and err["error"]["code"] == "not_found"


async def test_codes_cannot_be_tried_in_bulk(public: Public, config: Config) -> None:
    """Verification is rate-limited per address: the next try after the limit is 429,
    whether the code exists or not, on the API and on the page."""
    for n in range(config.verifications_per_minute):
        status, _ = await public.get(f"/api/v1/verify/ABCD-EFGH-{n:04d}")
        assert status == 404
    status, err = await public.get("/api/v1/verify/ABCD-EFGH-JKMN")
    assert status == 429 and err["error"]["code"] == "rate_limited", err
    status, page = await public.get("/verify/ABCD-EFGH-JKMN")
    assert status == 429 and page.startswith("<!doctype html>")


def test_codes_are_random_and_forgive_typing() -> None:
    from awards.codes import new_award_code

    codes = {new_award_code() for _ in range(2000)}
    assert len(codes) == 2000 and all(CODE.match(c) for c in codes)
    assert set("".join(codes).replace("-", "")) <= set(ALPHABET)
    assert normalise_code(" 7kq4 m2xd-9f3b ") == "7KQ4-M2XD-9F3B"
    assert normalise_code("7KQ4-M2XD-9F3") is None and normalise_code("7KQ4-M2XD-9F3U") is None


async def test_only_organizers_write_and_the_staff_read(stage: Stage) -> None:
    decision = await _decision(stage)
    status, one = await stage.organizer.get(stage.url(f"/awards/decisions/{decision['id']}"))
    award = one["awards"][0]
    for api in (stage.chair, stage.secretary, stage.operators["LCI"]):
        status, _err = await api.post(stage.url("/awards/decisions"), DECISION | {"number": "9"})
        assert status == 403
        status, _err = await api.post(stage.url(f"/awards/{award['id']}/revoke"), {"reason": "x"})
        assert status == 403
    status, _err = await stage.operators["LCI"].get(stage.url("/awards"))
    assert status == 403
    for body in ({}, {"reason": ""}, {"reason": "x" * 1001}):
        status, _err = await stage.organizer.post(stage.url(f"/awards/{award['id']}/revoke"), body)
        assert status == 422, body
    status, _err = await stage.organizer.post(
        stage.url("/awards/nosuchaward/revoke"), {"reason": "x"}
    )
    assert status == 404


async def test_the_public_verification_page(stage: Stage, public: Public) -> None:
    decision = await _decision(stage)
    status, one = await stage.organizer.get(stage.url(f"/awards/decisions/{decision['id']}"))
    award = one["awards"][0]
    status, html = await public.get(f"/verify/{award['code'].lower()}")
    assert status == 200
    assert 'data-status="valid"' in html and "còn hiệu lực" in html
    for text in (
        "Văn phòng Tỉnh ủy Lào Cai",
        "1268-QĐ/VPTW",
        "Văn phòng Trung ương Đảng",
        "01/12/2026",
    ):
        assert text in html, text
    status, html = await public.get(f"/verify/{award['code']}?lang=en")
    assert "genuine and valid" in html
    status, _ = await stage.organizer.post(
        stage.url(f"/awards/{award['id']}/revoke"), {"reason": "Trùng lặp với quyết định khác"}
    )
    status, html = await public.get(f"/verify/{award['code']}")
    assert status == 200 and 'data-status="revoked"' in html
    assert "ĐÃ BỊ THU HỒI" in html and "Trùng lặp với quyết định khác" in html
    status, html = await public.get("/verify/ABCD-EFGH-JKMN")
    assert status == 404 and 'data-status="unknown"' in html
    assert "Văn phòng" not in html.split("<main", 1)[-1].split("</main>")[0]
    async with public.session.get(
        public.client.make_url("/verify?code=7kq4 m2xd"), allow_redirects=False
    ) as resp:
        assert resp.status == 303 and resp.headers["Location"] == "/verify/7kq4%20m2xd"
    status, html = await public.get("/verify")
    assert status == 200 and 'name="code"' in html


async def test_the_ceremony_calls_each_recipient_and_the_minutes_list_them(
    client: Client, stage: Stage
) -> None:
    decision = await _decision(stage)
    status, item = await stage.organizer.post(
        stage.url("/agenda"), {"title": "Trao tặng Cờ thi đua, Bằng khen", "kind": "awards"}
    )
    assert status == 201, item
    status, err = await stage.chair.post(stage.url("/awards/announce"), {})
    assert status == 409 and err["error"]["field"] == "item"
    status, _ = await stage.chair.post(
        stage.url("/agenda/live"), {"action": "start", "item": item["id"]}
    )
    assert status == 200
    status, err = await stage.secretary.post(stage.url("/awards/announce"), {})
    assert status == 403
    status, first = await stage.chair.post(stage.url("/awards/announce"), {})
    assert status == 200, first
    assert (first["name"], first["kind_label"], first["decision"], first["site_name"]) == (
        "Văn phòng Tỉnh ủy Lào Cai",
        "Bằng khen",
        "1268-QĐ/VPTW",
        "Lào Cai",
    )
    status, live = await stage.chair.get(stage.url("/live"))
    assert live["ceremony"]["current"]["id"] == first["id"]
    assert live["ceremony"]["remaining"] == 1
    status, second = await stage.chair.post(stage.url("/awards/announce"), {})
    assert second["name"] == "Đặng Thị Hồng Nhung"
    status, err = await stage.chair.post(stage.url("/awards/announce"), {})
    assert status == 409 and err["error"]["field"] == "award"
    # Called again by name (a recipient who was not in the hall at first).
    status, again = await stage.chair.post(stage.url("/awards/announce"), {"award": first["id"]})
    assert status == 200 and again["id"] == first["id"]
    logged = [d for _s, t, d in await events(client, stage.cid) if t == "awards/announced"]
    assert [d["award"]["id"] for d in logged] == [first["id"], second["id"], first["id"]]
    assert all(d["item"] == item["id"] for d in logged)
    status, facts = await stage.secretary.get(stage.url("/minutes/facts"))
    assert [a["name"] for a in facts["awards"]] == [
        "Đặng Thị Hồng Nhung",
        "Văn phòng Tỉnh ủy Lào Cai",
    ]
    # A revoked award is not presented.
    status, _ = await stage.organizer.post(
        stage.url(f"/awards/{second['id']}/revoke"), {"reason": "Sai tên"}
    )
    status, err = await stage.chair.post(stage.url("/awards/announce"), {"award": second["id"]})
    assert status == 409
    status, facts = await stage.secretary.get(stage.url("/minutes/facts"))
    assert [a["name"] for a in facts["awards"]] == ["Văn phòng Tỉnh ủy Lào Cai"]
    # Revoking the award on the screens takes it off them (the snapshot too).
    status, _ = await stage.organizer.post(
        stage.url(f"/awards/{first['id']}/revoke"), {"reason": "Sai quyết định"}
    )
    status, live = await stage.chair.get(stage.url("/live"))
    assert live["ceremony"]["current"] is None
    del decision


@pytest.fixture
def app(rendering_app: web.Application) -> web.Application:
    return rendering_app


async def test_documents_rendered_in_bulk_carry_their_own_qr_and_keep_codes(
    client: Client, stage: Stage, public: Public
) -> None:
    decision = await _decision(stage)
    status, job = await stage.organizer.post(
        stage.url("/awards/render"), {"decision": decision["id"]}
    )
    assert status == 202 and job["total"] == 2, job
    done = await finished(stage.organizer, {"id": stage.cid}, job["id"])
    assert done["status"] == "done", done
    resp = await stage.organizer.client.get(done["download"], headers=stage.organizer._headers())
    assert resp.status == 200 and resp.content_type == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(await resp.read()))
    names = archive.namelist()
    assert names == [
        "001-van-phong-tinh-uy-lao-cai.pdf",
        "002-dang-thi-hong-nhung.pdf",
        "tat-ca-de-in.pdf",
    ]
    status, listed = await stage.organizer.get(stage.url(f"/awards/decisions/{decision['id']}"))
    for name, award in zip(names, listed["awards"], strict=False):
        pdf = archive.read(name)
        assert hashlib.sha256(pdf).hexdigest() == award["document_sha256"]
        text = " ".join(unicodedata.normalize("NFC", pdf_text(pdf)).split())
        for expected in (award["name"], award["citation"], "1268-QĐ/VPTW"):
            assert expected in text.replace("\u2068", "").replace("\u2069", ""), expected
        [url] = scan_qr_codes(pdf)
        assert url.endswith(f"/verify/{award['code']}")
        status, page = await public.get(url[url.index("/verify/") :])
        assert status == 200 and award["name"] in page
    assert len(PdfReader(io.BytesIO(archive.read("tat-ca-de-in.pdf"))).pages) == 2
    # A correction, rendered again: the same code, the new name.
    first = listed["awards"][0]
    status, _ = await stage.organizer.patch(
        stage.url(f"/awards/{first['id']}"), {"name": "Văn phòng Tỉnh ủy Lào Cai (mới)"}
    )
    status, job = await stage.organizer.post(stage.url("/awards/render"), {})
    done = await finished(stage.organizer, {"id": stage.cid}, job["id"])
    status, data = await fetch(stage.organizer, done["download"])
    again = zipfile.ZipFile(io.BytesIO(data))
    pdf = again.read(again.namelist()[0])
    assert scan_qr_codes(pdf) == [url.replace(listed["awards"][1]["code"], first["code"])]
    assert "(mới)" in pdf_text(pdf)
    # Revoked awards are not rendered; nothing to render is refused.
    for award in listed["awards"]:
        await stage.organizer.post(stage.url(f"/awards/{award['id']}/revoke"), {"reason": "x"})
    status, err = await stage.organizer.post(stage.url("/awards/render"), {})
    assert status == 422 and err["error"]["field"] == "decision"
    status, err = await stage.chair.post(stage.url("/awards/render"), {})
    assert status == 403


async def test_one_awards_document_and_the_flags_print_proof(stage: Stage) -> None:
    decision = await _decision(stage, award_kind="emulation_flag", number="20-QĐ/VPTW")
    status, one = await stage.organizer.get(stage.url(f"/awards/decisions/{decision['id']}"))
    unit, person = one["awards"]
    status, pdf = await fetch(stage.organizer, stage.url(f"/awards/{unit['id']}/document.pdf"))
    assert status == 200 and pdf.startswith(b"%PDF")
    text = " ".join(unicodedata.normalize("NFC", pdf_text(pdf)).split())
    assert "CỜ THI ĐUA" in text and "20-QĐ/VPTW" in text
    assert scan_qr_codes(pdf)[0].endswith(f"/verify/{unit['code']}")
    status, flag = await fetch(stage.organizer, stage.url(f"/awards/{unit['id']}/flag.pdf"))
    assert status == 200
    box = PdfReader(io.BytesIO(flag)).pages[0].mediabox
    mm = 72 / 25.4
    assert abs(float(box.width) - 850 * mm) < 1 and abs(float(box.height) - 650 * mm) < 1
    words = " ".join(unicodedata.normalize("NFC", pdf_text(flag)).split())
    assert "TẶNG VĂN PHÒNG TỈNH ỦY LÀO CAI NĂM 2026" in words
    status, svg = await fetch(stage.organizer, stage.url(f"/awards/{unit['id']}/flag.svg"))
    assert status == 200 and b"viewBox" in svg
    status, _err = await stage.chair.get(stage.url(f"/awards/{unit['id']}/flag.pdf"))
    assert status == 403
    other = await _decision(stage, number="21-QĐ/VPTW")
    status, two = await stage.organizer.get(stage.url(f"/awards/decisions/{other['id']}"))
    status, err = await stage.organizer.get(stage.url(f"/awards/{two['awards'][0]['id']}/flag.svg"))
    assert status == 422 and err["error"]["field"] == "award"
    del person


async def test_a_bad_correction_is_refused_and_changes_nothing(stage: Stage) -> None:
    decision = await _decision(stage)
    status, before = await stage.organizer.get(stage.url(f"/awards/decisions/{decision['id']}"))
    unit = before["awards"][0]
    url = stage.url(f"/awards/{unit['id']}")
    db = stage.organizer.client.app[db_key]

    async def audited() -> int:
        async with db.read() as session:
            found = await session.exec(
                select(AuditEntry.id).where(col(AuditEntry.action) == "award.update")
            )
            return len(found.all())

    for body, field in (
        ({"site": "XYZ"}, "site"),
        ({"site": "not a code!"}, "site"),
        ({"name": ""}, "name"),
        ({"citation": "x" * 2001}, "citation"),
        ({"name": "A\x00B"}, "name"),
        ({"colour": "gold"}, "colour"),
        ({"recipient_kind": "team"}, "recipient_kind"),
    ):
        status, err = await stage.organizer.patch(url, body)
        assert status == 422 and err["error"]["field"] == field, (body, err)
    status, err = await stage.organizer.patch(stage.url("/awards/nope"), {"name": "X"})
    assert status == 404
    status, err = await stage.chair.patch(url, {"name": "X"})
    assert status == 403
    status, after = await stage.organizer.get(stage.url(f"/awards/decisions/{decision['id']}"))
    assert after == before and await audited() == 0
