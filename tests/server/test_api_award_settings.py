"""How a conference's award documents look: kinds of award it defines, the place and
heading printed, the uploaded emblem, and template files an organizer replaces (each
tried on samples before it is kept; a broken one is refused and changes nothing)."""

from __future__ import annotations

import asyncio
import io
import re
import resource
import time
import unicodedata
import zlib
from dataclasses import replace
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from PIL import Image
from pypdf import PdfReader
from sqlmodel import col, func, select

from awards.models import Award, AwardTemplate, Decision
from awards.render import record_rendered
from awards.schemas import AwardChange
from awards.services import update_award
from conference.actors import CLI, Actor
from conference.models import AuditEntry, Conference
from runtime.config import Config
from runtime.documents import DocumentRunner
from server.keys import db_key
from tests.conference.test_documents import pdf_text, scan_qr_codes
from tests.conftest import Api, Public
from tests.server.stage import Stage
from tests.server.test_api_awards import DECISION, _decision
from tests.server.test_api_documents import finished
from tests.server.test_minutes_final import fetch

Client = TestClient[Any, Any]


@pytest.fixture
def config(config: Config) -> Config:
    # An organizer's template that loops is stopped after 10 s here (60 by default): time
    # enough for an honest one on a loaded machine.
    return replace(config, template_seconds=10.0)


@pytest.fixture
def app(rendering_app: web.Application) -> web.Application:
    return rendering_app


def words(pdf: bytes) -> str:
    text = unicodedata.normalize("NFC", pdf_text(pdf)).replace("\u2068", "").replace("\u2069", "")
    return " ".join(text.split())


async def count(client: Client, table: Any) -> int:
    async with client.app[db_key].read() as session:
        return int((await session.exec(select(func.count()).select_from(table))).one())


async def put(api: Api, path: str, body: bytes, content_type: str) -> tuple[int, Any]:
    return await api.call("PUT", path, data=body, headers={"Content-Type": content_type})


async def first_award(stage: Stage, decision: dict[str, Any]) -> dict[str, Any]:
    status, one = await stage.organizer.get(stage.url(f"/awards/decisions/{decision['id']}"))
    assert status == 200
    return dict(one["awards"][0])


# --- kinds -------------------------------------------------------------------------------------


async def test_a_conference_defines_its_own_kinds_of_award(stage: Stage, public: Public) -> None:
    status, listed = await stage.chair.get(stage.url("/awards/kinds"))
    assert status == 200
    assert [k["key"] for k in listed["kinds"]] == [
        "emulation_flag",
        "certificate_of_merit",
        "certificate_of_recognition",
        "other",
    ]
    # A decision may not name a kind the conference does not have.
    status, err = await stage.organizer.post(
        stage.url("/awards/decisions"), DECISION | {"award_kind": "ky_niem_chuong"}
    )
    assert status == 422 and err["error"]["field"] == "award_kind"
    assert "ky_niem_chuong" in err["error"]["message"]
    assert await count(stage.organizer.client, Decision) == 0
    status, kind = await stage.organizer.post(
        stage.url("/awards/kinds"), {"key": "ky_niem_chuong", "name": "Kỷ niệm chương"}
    )
    assert status == 201 and kind == {
        "key": "ky_niem_chuong",
        "name": "Kỷ niệm chương",
        "label": "KỶ NIỆM CHƯƠNG",
        "layout": "certificate",
        "builtin": False,
    }
    for body, code, field in (
        ({"key": "ky_niem_chuong", "name": "Lần nữa"}, 409, "key"),
        ({"key": "certificate_of_merit", "name": "Bằng khen"}, 409, "key"),
        ({"key": "Kỷ niệm", "name": "x"}, 422, "key"),
        ({"key": "co_chinh_phu", "name": "Cờ", "layout": "banner"}, 422, "layout"),
        ({"key": "co_chinh_phu", "name": ""}, 422, "name"),
    ):
        status, err = await stage.organizer.post(stage.url("/awards/kinds"), body)
        assert status == code and err["error"]["field"] == field, (body, err)
    for body in ({"name": None}, {"label": None}, {"layout": None}, {"label": ""}):
        status, err = await stage.organizer.patch(stage.url("/awards/kinds/ky_niem_chuong"), body)
        assert status == 422 and err["error"]["field"] == next(iter(body)), (body, err)
    status, _ = await stage.chair.post(stage.url("/awards/kinds"), {"key": "abc", "name": "x"})
    assert status == 403
    status, listed = await stage.organizer.get(stage.url("/awards/kinds"))
    assert [k["key"] for k in listed["kinds"]][4:] == ["ky_niem_chuong"]

    decision = await _decision(stage, award_kind="ky_niem_chuong", number="7-QĐ/VPTW")
    award = await first_award(stage, decision)
    status, pdf = await fetch(stage.organizer, stage.url(f"/awards/{award['id']}/document.pdf"))
    assert status == 200 and "KỶ NIỆM CHƯƠNG" in words(pdf)
    status, checked = await public.get(f"/api/v1/verify/{award['code']}")
    assert checked["kind"] == "ky_niem_chuong" and checked["kind_label"] == "Kỷ niệm chương"
    # Its heading changes; a kind in use stays; a built-in one is not changed.
    status, changed = await stage.organizer.patch(
        stage.url("/awards/kinds/ky_niem_chuong"), {"label": "KỶ NIỆM CHƯƠNG VÌ SỰ NGHIỆP"}
    )
    assert status == 200 and changed["label"] == "KỶ NIỆM CHƯƠNG VÌ SỰ NGHIỆP"
    status, pdf = await fetch(stage.organizer, stage.url(f"/awards/{award['id']}/document.pdf"))
    assert "KỶ NIỆM CHƯƠNG VÌ SỰ NGHIỆP" in words(pdf)
    status, err = await stage.organizer.delete(stage.url("/awards/kinds/ky_niem_chuong"))
    assert status == 409 and "1 decision" in err["error"]["message"]
    status, err = await stage.organizer.patch(
        stage.url("/awards/kinds/emulation_flag"), {"name": "Cờ"}
    )
    assert status == 409
    status, err = await stage.organizer.patch(stage.url("/awards/kinds/nothing"), {"name": "x"})
    assert status == 404
    # A kind of flag of its own has the flag's print proof; an unused kind goes.
    status, _ = await stage.organizer.post(
        stage.url("/awards/kinds"),
        {"key": "co_thi_dua_cum", "name": "Cờ thi đua cụm", "layout": "flag_award"},
    )
    flag = await _decision(stage, award_kind="co_thi_dua_cum", number="8-QĐ/VPTW")
    unit = await first_award(stage, flag)
    # Its document is the flag's award document (the unit's name in capitals).
    status, pdf = await fetch(stage.organizer, stage.url(f"/awards/{unit['id']}/document.pdf"))
    assert "CỜ THI ĐUA CỤM" in words(pdf) and "VĂN PHÒNG TỈNH ỦY LÀO CAI" in words(pdf)
    status, proof = await fetch(stage.organizer, stage.url(f"/awards/{unit['id']}/flag.pdf"))
    assert status == 200 and "VĂN PHÒNG TỈNH ỦY LÀO CAI" in words(proof)
    status, _ = await stage.organizer.post(
        stage.url("/awards/kinds"), {"key": "tam_thoi", "name": "Tạm thời"}
    )
    status, _ = await stage.organizer.delete(stage.url("/awards/kinds/tam_thoi"))
    assert status == 204
    async with stage.organizer.client.app[db_key].read() as session:
        actions = (
            await session.exec(
                select(AuditEntry.action).where(col(AuditEntry.action).like("award_kind.%"))
            )
        ).all()
    assert sorted(actions) == [
        "award_kind.create",
        "award_kind.create",
        "award_kind.create",
        "award_kind.delete",
        "award_kind.update",
    ]


# --- place, heading, emblem --------------------------------------------------------------------


def picture(fmt: str = "PNG", size: tuple[int, int] = (1200, 900)) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


def bomb(side: int = 15_000) -> bytes:
    """A PNG of side x side black-and-white pixels in a few kilobytes (225 M pixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")

    header = side.to_bytes(4, "big") * 2 + bytes([1, 0, 0, 0, 0])
    rows = zlib.compress(bytes(1 + (side + 7) // 8) * side, 9)
    signature = b"\x89PNG\r\n\x1a\n"
    return signature + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


def page_images(pdf: bytes) -> list[tuple[int, int]]:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    return [(image.image.width, image.image.height) for image in page.images if image.image]


async def test_place_heading_and_emblem_print_on_every_document(stage: Stage) -> None:
    decision = await _decision(stage)
    award = await first_award(stage, decision)
    doc = stage.url(f"/awards/{award['id']}/document.pdf")
    status, before = await fetch(stage.organizer, doc)
    assert "Ngày 01 tháng 12 năm 2026" in words(before)
    plain = page_images(before)

    status, out = await stage.organizer.call(
        "PUT",
        stage.url("/awards/settings"),
        {"place": "Hà Nội", "heading": "Đảng Cộng sản Việt Nam\n\nVăn phòng Trung ương"},
    )
    assert status == 200 and out["heading"] == "Đảng Cộng sản Việt Nam\nVăn phòng Trung ương"
    status, pdf = await fetch(stage.organizer, doc)
    text = words(pdf)
    assert "Hà Nội, ngày 01 tháng 12 năm 2026" in text
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in text and "VĂN PHÒNG TRUNG ƯƠNG" in text
    for body, field in (
        ({"heading": "1\n2\n3\n4\n5"}, "heading"),
        ({"place": "Hà\x00Nội"}, "place"),
        ({"place": "x" * 101}, "place"),
        ({"colour": "red"}, "colour"),
    ):
        status, err = await stage.organizer.call("PUT", stage.url("/awards/settings"), body)
        assert status == 422 and err["error"]["field"] == field, (body, err)
    status, out = await stage.secretary.get(stage.url("/awards/settings"))
    assert out["place"] == "Hà Nội" and out["emblem"] is False
    # No PLENARY_PUBLIC_URL in the tests: the codes point to the address in the settings.
    assert out["public_url_set"] is False
    assert scan_qr_codes(pdf)[0] == f"{out['verify_base']}/{award['code']}"
    status, _ = await stage.chair.call("PUT", stage.url("/awards/settings"), {"place": "Huế"})
    assert status == 403

    # The emblem: a picture is kept as a PNG of at most 500 px; anything else is refused.
    cut = (picture()[:200], picture("JPEG")[:-300])
    for bad in (b"", b"not a picture at all", *cut, b"<svg xmlns='x'/>", bomb()):
        status, err = await put(stage.organizer, stage.url("/awards/emblem"), bad, "image/png")
        assert status == 422 and err["error"]["field"] == "emblem", err
    status, out = await put(
        stage.organizer, stage.url("/awards/emblem"), picture("JPEG"), "image/jpeg"
    )
    assert status == 200 and out["emblem"] is True and out["emblem_type"] == "image/png"
    status, png = await fetch(stage.organizer, stage.url("/awards/emblem"))
    assert status == 200 and Image.open(io.BytesIO(png)).size == (500, 375)
    status, pdf = await fetch(stage.organizer, doc)
    assert (500, 375) in page_images(pdf) and (500, 375) not in plain
    assert scan_qr_codes(pdf)[0].endswith(f"/verify/{award['code']}")
    status, out = await stage.organizer.delete(stage.url("/awards/emblem"))
    assert status == 200 and out["emblem"] is False
    status, _ = await fetch(stage.organizer, stage.url("/awards/emblem"))
    assert status == 404


# --- templates ---------------------------------------------------------------------------------


async def test_an_organizer_replaces_a_template_and_a_broken_one_is_refused(
    stage: Stage,
) -> None:
    decision = await _decision(stage)
    award = await first_award(stage, decision)
    doc = stage.url(f"/awards/{award['id']}/document.pdf")
    status, listed = await stage.organizer.get(stage.url("/awards/templates"))
    names = [t["name"] for t in listed["templates"]]
    assert "certificate.html" in names and "flag_award.html" in names
    assert not any(t["replaced"] for t in listed["templates"])
    status, source = await stage.organizer.get(stage.url("/awards/templates/certificate.html"))
    anchor = re.compile(r'id="award-\{\{[^}]*\}\}"')
    assert status == 200 and anchor.search(source)
    status, _ = await stage.chair.get(stage.url("/awards/templates/certificate.html"))
    assert status == 403

    url = stage.url("/awards/templates/certificate.html")
    for broken, hint in (
        (source.replace("{% endfor %}", ""), "line"),  # Jinja syntax
        (source.replace("layout.main(n, award,", "layout.main(n, award.no_such_thing,"), "render"),
        (
            source.replace("{{ layout.foot(award, drawing) }}", "{{ ''.__class__.__mro__ }}"),
            "render",
        ),
        (anchor.sub("", source), "render"),  # no page anchor
    ):
        status, err = await put(stage.organizer, url, broken.encode(), "text/plain")
        assert status == 422 and err["error"]["field"] == "source", err
        assert hint in err["error"]["message"], err
    status, err = await put(stage.organizer, url, b"\xff\xfe{{", "text/plain")
    assert status == 422
    status, err = await put(
        stage.organizer, stage.url("/awards/templates/evil.html"), b"x", "text/plain"
    )
    assert status == 404
    assert await count(stage.organizer.client, AwardTemplate) == 0

    # The kind and TẶNG are in the layout that the certificate and the flag's award share.
    url = stage.url("/awards/templates/layout.html")
    status, source = await stage.organizer.get(url)
    mine = source.replace('<p class="to">TẶNG</p>', '<p class="to">TRAO TẶNG</p>')
    assert mine != source
    status, out = await put(stage.organizer, url, mine.encode(), "text/plain")
    assert status == 200 and out["replaced"] is True, out
    status, pdf = await fetch(stage.organizer, doc)
    assert "TRAO TẶNG" in words(pdf)
    assert scan_qr_codes(pdf)[0].endswith(f"/verify/{award['code']}")
    status, now = await stage.organizer.get(url)
    assert now == mine
    status, shipped = await stage.organizer.get(url + "?default=1")
    assert shipped == source
    status, sample = await fetch(stage.organizer, stage.url("/awards/sample.pdf"))
    assert status == 200 and "TRAO TẶNG" in words(sample)
    status, _ = await stage.organizer.delete(url)
    assert status == 204
    status, pdf = await fetch(stage.organizer, doc)
    assert "TRAO TẶNG" not in words(pdf) and "TẶNG" in words(pdf)
    status, _ = await stage.organizer.delete(url)
    assert status == 404


# --- a correction made while a rendering runs ----------------------------------------------------


async def test_a_correction_during_a_rendering_keeps_the_older_record(stage: Stage) -> None:
    decision = await _decision(stage)
    db = stage.organizer.client.app[db_key]
    async with db.read() as session:
        conference = (
            await session.exec(select(Conference).where(col(Conference.public_id) == stage.cid))
        ).one()
        read = list(await session.exec(select(Award).order_by(col(Award.position), col(Award.id))))
    assert len(read) == 2
    actor = Actor(CLI, conference.id, frozenset({"organizer"}))
    async with db.transaction() as session:
        await update_award(
            session, conference, read[0].public_id, AwardChange(name="Tên mới"), actor=actor
        )
    async with db.transaction() as session:
        noted = await record_rendered(session, read, [b"%PDF first", b"%PDF second"])
    assert noted == 1
    _status, one = await stage.organizer.get(stage.url(f"/awards/decisions/{decision['id']}"))
    corrected, other = one["awards"]
    assert corrected["document_sha256"] == "" and corrected["name"] == "Tên mới"
    assert other["document_sha256"] != ""


async def test_organizers_changing_the_settings_at_once_all_succeed(stage: Stage) -> None:
    """The settings row is made by the first writer: others wait for it (PostgreSQL too)."""
    places = ["Hà Nội", "Huế", "Đà Nẵng", "Cần Thơ"]
    answers = await asyncio.gather(
        *(
            stage.organizer.call("PUT", stage.url("/awards/settings"), {"place": place})
            for place in places
        ),
        *(
            put(stage.organizer, stage.url("/awards/emblem"), picture(size=(60, 40)), "image/png")
            for _ in range(3)
        ),
    )
    assert [status for status, _ in answers] == [200] * 7, answers
    _status, out = await stage.organizer.get(stage.url("/awards/settings"))
    assert out["place"] in places and out["emblem"] is True


# The sandbox and the pool do not touch the database: one backend is enough (each run
# waits out the deadline twice).
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_template_that_loops_or_grows_is_stopped(stage: Stage) -> None:
    """Refused by the sandbox where it can tell, else stopped by the pool's limits
    (template_limits): in bounded time, with the server's memory untouched, and the next
    document renders."""
    url = stage.url("/awards/templates/certificate.html")
    status, source = await stage.organizer.get(url)
    loops = "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}"
    for body, code, hint in (
        (loops, "template_limits", "took longer than"),
        ("{{ 'x' | center(10**9) }}", "template_limits", "MB a document may use"),
        ("{% set ns = namespace(s='x') %}{% for i in range(60) %}{% set ns.s = ns.s ~ ns.s %}"
         "{% endfor %}{{ ns.s | length }}", "template_limits", "MB a document may use"),
        ("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", "template_limits",
         "recurse too deeply"),
        ("{{ 'x' * 300000000 }}", "invalid_format", "over 1,000,000 items"),
        ("{{ 2 ** 100000000 }}", "invalid_format", "exponents"),
        ("{{ lipsum(n=100000) }}", "invalid_format", "lipsum"),
    ):  # fmt: skip
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        started = time.monotonic()
        loop = source.replace("<body>", "<body>" + body, 1)
        status, err = await put(stage.organizer, url, loop.encode(), "text/plain")
        assert status == 422 and err["error"]["field"] == "source", err
        assert err["error"]["code"] == code and hint in err["error"]["message"], err
        assert time.monotonic() - started < 40
        grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - before
        assert grown < 100 * 1024 * 1024, body
    assert await count(stage.organizer.client, AwardTemplate) == 0
    # While a template loops in a worker, the server answers others at once.
    looping = source.replace("<body>", "<body>" + loops, 1).encode()
    stuck = asyncio.create_task(put(stage.organizer, url, looping, "text/plain"))
    status, _ = await stage.organizer.get(stage.url(""))
    assert status == 200 and not stuck.done()
    status, err = await stuck
    assert status == 422 and err["error"]["code"] == "template_limits", err
    # The pool recovered: the conference's documents render.
    status, sample = await fetch(stage.organizer, stage.url("/awards/sample.pdf"))
    assert status == 200 and sample.startswith(b"%PDF")


async def test_a_template_nested_too_deeply_to_parse_is_refused_by_name(stage: Stage) -> None:
    """Jinja's parser recurses per bracket: in the server's process, a RecursionError that
    was a 500; now a named refusal, and nothing kept."""
    url = stage.url("/awards/templates/certificate.html")
    for body in ("{{ " + "(" * 5000 + "1" + ")" * 5000 + " }}", "{% if 1 %}" * 3000):
        status, err = await put(stage.organizer, url, body.encode(), "text/plain")
        assert status == 422, err
        assert err["error"]["code"] == "template_limits" and err["error"]["field"] == "source"
    assert await count(stage.organizer.client, AwardTemplate) == 0


# Drawn on the real certificate of Lào Cai only, not on the samples (a person's certificate
# and a flag) that a replaced template is tried on.
ONLY_LAO_CAI = (
    "{%% if 'Lào Cai' in award.recipient.name and award.kind != 'emulation_flag' %%}%s{%% endif %%}"
)


async def failed_render(stage: Stage) -> str:
    """A job rendering every award, which fails: its error."""
    status, job = await stage.organizer.post(stage.url("/awards/render"), {})
    assert status == 202
    done = await finished(stage.organizer, {"id": stage.cid}, job["id"])
    assert done["status"] == "failed", done
    error: str = done["error"]
    return error


async def renders_again(stage: Stage, url: str, award: dict[str, Any]) -> None:
    """With the organizer's template at url removed, the award prints again."""
    await stage.organizer.delete(url)
    status, pdf = await fetch(stage.organizer, stage.url(f"/awards/{award['id']}/document.pdf"))
    assert status == 200 and pdf.startswith(b"%PDF")


async def test_a_template_past_the_limits_on_real_data_fails_its_document_and_its_job(
    stage: Stage,
) -> None:
    """Passing the samples, it grows on one real award only: that document is a 422
    template_limits, the bulk job fails saying why, and the pool renders on."""
    decision = await _decision(stage)
    award = await first_award(stage, decision)
    url = stage.url("/awards/templates/layout.html")
    status, source = await stage.organizer.get(url)
    own = "{{ parts.citation(award.citation) }}"
    hostile = source.replace(own, own + ONLY_LAO_CAI % "{{ 'x' | center(10**9) }}", 1)
    status, out = await put(stage.organizer, url, hostile.encode(), "text/plain")
    assert status == 200, out
    status, err = await stage.organizer.get(stage.url(f"/awards/{award['id']}/document.pdf"))
    assert status == 422 and err["error"]["code"] == "template_limits", err
    assert "MB a document may use" in await failed_render(stage)
    await renders_again(stage, url, award)


def test_the_servers_document_workers_take_the_configured_limits(config: Config) -> None:
    runner = DocumentRunner(None, None, replace(config, document_memory_mb=640))  # type: ignore[arg-type]
    pool = runner.pool()
    try:
        limits = pool.submit(resource.getrlimit, resource.RLIMIT_AS).result()
    finally:
        pool.shutdown()
    assert limits == (640 * 1024 * 1024, 640 * 1024 * 1024)


async def test_a_template_that_fails_on_real_data_is_the_organizers_to_fix(
    stage: Stage, client: Client
) -> None:
    """A template that passes the samples (or came in a conference file, only compiled)
    and fails on a real award: 422 naming the templates, and a job that fails saying so."""
    decision = await _decision(stage)
    award = await first_award(stage, decision)
    url = stage.url("/awards/templates/layout.html")
    status, source = await stage.organizer.get(url)
    own = "{{ parts.citation(award.citation) }}"
    assert own in source
    broken = source.replace(own, own + ONLY_LAO_CAI % "{{ nope }}", 1)
    status, out = await put(stage.organizer, url, broken.encode(), "text/plain")
    assert status == 200, out
    status, err = await stage.organizer.get(stage.url(f"/awards/{award['id']}/document.pdf"))
    assert status == 422 and err["error"]["field"] == "templates", err
    assert "do not render" in err["error"]["message"] and "nope" in err["error"]["message"]
    assert "templates do not render" in await failed_render(stage)
    # The pool is still fine for everyone else.
    await renders_again(stage, url, award)
