"""Badges: what each says (in Vietnamese, exactly), a QR that scans and verifies, layouts,
long texts that wrap inside the badge, and who may print which site's badges."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime
from typing import Any

import pytest

from attendance import badges
from attendance.credentials import verify
from attendance.models import Delegate
from attendance.schemas import DelegateCreate
from attendance.services import create_delegate
from conference import documents
from conference.actors import CLI, Actor
from conference.db import Database
from conference.errors import Forbidden, InvalidInput, NotFound
from conference.models import Conference, Site
from conference.signing import Keyring, new_key_row
from tests.conference.test_documents import pdf_pages, pdf_text, scan_qr_codes
from tests.conftest import new_conference

TITLE = "Hội nghị toàn quốc Văn phòng cấp ủy"
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
VALID_DAYS = 7
MM = 72 / 25.4


@pytest.fixture(scope="module")
def keyring() -> Keyring:
    return Keyring.of([new_key_row(1)])


async def setup(db: Database) -> tuple[Conference, Actor, list[Site]]:
    return await new_conference(
        db, title=TITLE, sites=(("LCI", "Lào Cai"), ("HN", "Hội trường Trung ương, Hà Nội"))
    )


async def add(db: Database, conference: Conference, actor: Actor, **fields: Any) -> Delegate:
    async with db.transaction() as session:
        return await create_delegate(session, conference, DelegateCreate(**fields), actor=actor)


async def render(
    db: Database,
    keyring: Keyring,
    conference: Conference,
    layout: str = "single",
    site_id: int | None = None,
) -> documents.Rendered:
    """In this process, failing on any character no font has."""
    async with db.read() as session:
        rows = await badges.badge_rows(session, conference, site_id=site_id)
    items = await badges.badge_items(keyring, conference, rows, VALID_DAYS)
    context = badges.badge_context(conference, layout, items)
    return documents.render_template(badges.TEMPLATE, context, strict=True)


def words(text: str) -> str:
    return " ".join(text.split())


async def test_a_badge_says_who_and_where_and_its_qr_admits_that_delegate(
    db: Database, keyring: Keyring
) -> None:
    conference, actor, _ = await setup(db)
    delegate = await add(
        db,
        conference,
        actor,
        name="Nguyễn Thị Hằng",
        title="Phó Chánh Văn phòng",
        unit="Văn phòng Tỉnh ủy Lào Cai",
        site="LCI",
    )
    rendered = await render(db, keyring, conference)
    assert rendered.pages == 1 and rendered.missing == ()
    lines = pdf_text(rendered.pdf).splitlines()
    for expected in ("Nguyễn Thị Hằng", "Phó Chánh Văn phòng", "Văn phòng Tỉnh ủy Lào Cai"):
        assert expected in lines, lines
    assert "Điểm cầu: Lào Cai (LCI)" in lines
    assert "ĐẠI BIỂU" in lines
    assert TITLE.upper() in words(pdf_text(rendered.pdf))
    (code,) = scan_qr_codes(rendered.pdf)
    claims = verify(keyring, code, conference.public_id, now=NOW)
    assert claims.delegate_id == delegate.public_id
    assert claims.version == delegate.credential_version


async def test_stacked_diacritics_come_out_exactly(db: Database, keyring: Keyring) -> None:
    conference, actor, _ = await setup(db)
    names = ["Đặng Quốc Việt", "Lê Thị Ngọc Ẩn", "Trịnh Thị Ưng Ỷ", "Hoàng Ngọc Quý"]
    for name in names:
        await add(db, conference, actor, name=name, unit="Ban Tổ chức Tỉnh ủy Đắk Lắk", site="HN")
    rendered = await render(db, keyring, conference, "sheet")
    text = pdf_text(rendered.pdf)
    for name in names:
        assert name in text.splitlines(), name
    assert "Điểm cầu: Hội trường Trung ương, Hà Nội (HN)" in text
    assert sorted(scan_qr_codes(rendered.pdf)) and len(scan_qr_codes(rendered.pdf)) == 4


async def test_sheets_hold_eight_and_singles_one(db: Database, keyring: Keyring) -> None:
    conference, actor, sites = await setup(db)
    for n in range(10):
        await add(db, conference, actor, name=f"Đại biểu {n}", site="LCI")
    await add(db, conference, actor, name="Người Hà Nội", site="HN")
    sheet = await render(db, keyring, conference, "sheet")
    assert sheet.pages == 2 == pdf_pages(sheet.pdf)
    assert len(scan_qr_codes(sheet.pdf, page=1)) == 8
    assert len(scan_qr_codes(sheet.pdf, page=2)) == 3
    single = await render(db, keyring, conference, "single", site_id=sites[0].id)
    assert single.pages == 10 == pdf_pages(single.pdf)
    assert "Người Hà Nội" not in pdf_text(single.pdf)


def word_boxes(pdf: bytes) -> list[tuple[str, float, float, float, float]]:
    """(word, x0, y0, x1, y1) in points for every word of page 1."""
    done = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", "-", "-"],
        input=pdf,
        capture_output=True,
        check=True,
    )
    found = re.findall(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>',
        done.stdout.decode(),
    )
    return [(w, float(a), float(b), float(c), float(d)) for a, b, c, d, w in found]


async def test_long_names_and_units_wrap_inside_the_badge(db: Database, keyring: Keyring) -> None:
    conference, actor, _ = await setup(db)
    name = "Tôn Nữ Thị Hoàng Yến Phương Thảo Nguyễn Ngọc Bảo Châu"
    unit = (
        "Ban Tuyên giáo và Dân vận Tỉnh ủy Thừa Thiên Huế, Văn phòng Đảng ủy các cơ quan "
        "Đảng tỉnh, phụ trách công tác tổng hợp và theo dõi các địa phương"
    )
    title = "Phó Trưởng Ban Thường trực, Ủy viên Ban Chấp hành Đảng bộ tỉnh"
    await add(db, conference, actor, name=name, title=title, unit=unit, site="LCI")
    rendered = await render(db, keyring, conference)
    text = words(pdf_text(rendered.pdf))
    for expected in (name, title, unit):
        assert expected in text, (expected, text)
    qr_left = (105 - 5 - 29) * MM
    for word, x0, y0, x1, y1 in word_boxes(rendered.pdf):
        assert x0 >= 0 and x1 <= 105 * MM and y0 >= 0 and y1 <= 74 * MM, word
        if word in name.split() + unit.split():
            assert x1 <= qr_left, f"{word} runs into the QR code"


def test_text_sizes_and_filenames() -> None:
    assert badges.text_size("Lò Văn Páo", 34, 48) == "l"
    assert badges.text_size("x" * 40, 34, 48) == "m"
    assert badges.text_size("x" * 60, 34, 48) == "s"
    assert badges.text_size("x" * 61, 60) == "s"
    assert badges.badge_filename("HN", "sheet") == "badges-HN.pdf"
    assert badges.badge_filename(None, "sheet") == "badges-all.pdf"
    assert badges.badge_filename("LCI", "single") == "badges-LCI-single.pdf"
    assert (
        badges.badge_filename(None, "single", "Đặng Quốc Việt") == "badge-dang-quoc-viet-single.pdf"
    )
    assert badges.badge_filename(None, "sheet", "???") == "badge-x.pdf"


@pytest.mark.missing_glyphs
async def test_a_name_no_font_can_show_fails_the_check(db: Database, keyring: Keyring) -> None:
    conference, actor, _ = await setup(db)
    await add(db, conference, actor, name="Nguyễn \U0001f9ff Hằng", site="LCI")
    with pytest.raises(documents.MissingGlyphs):
        await render(db, keyring, conference)


# --- who may print what --------------------------------------------------------------------


def operator_of(conference: Conference, site: Site) -> Actor:
    return Actor(CLI, conference.id, frozenset({"site_operator"}), site.id, site.code)


async def test_an_operator_prints_only_their_own_site(db: Database) -> None:
    conference, organizer, (lci, hn) = await setup(db)
    await add(db, conference, organizer, name="Lò Văn Páo", site="LCI")
    other = await add(db, conference, organizer, name="Trần Văn Nam", site="HN")
    await add(db, conference, organizer, name="Hà Văn Tư", site="HN")
    operator = operator_of(conference, lci)
    async with db.read() as session:
        scope = await badges.badge_scope(session, conference, None, actor=operator)
        assert scope.site is not None and scope.site.code == "LCI" and scope.count == 1
        scope = await badges.badge_scope(session, conference, "lci", actor=operator)
        assert scope.count == 1
        with pytest.raises(NotFound) as excinfo:
            await badges.badge_scope(session, conference, "HN", actor=operator)
        assert excinfo.value.field == "site"
        with pytest.raises(NotFound):
            await badges.delegate_badge_row(session, conference, other.public_id, actor=operator)
        everyone = await badges.badge_scope(session, conference, None, actor=organizer)
        assert everyone.site is None and everyone.count == 3
        hn_only = await badges.badge_scope(session, conference, "HN", actor=organizer)
        assert hn_only.site is not None and hn_only.site.id == hn.id and hn_only.count == 2
        row = await badges.delegate_badge_row(session, conference, other.public_id, actor=organizer)
        assert row[0].id == other.id
        chair = Actor(CLI, conference.id, frozenset({"chair"}))
        with pytest.raises(Forbidden):
            await badges.badge_scope(session, conference, None, actor=chair)
        with pytest.raises(Forbidden):
            await badges.delegate_badge_row(session, conference, other.public_id, actor=chair)


async def test_nothing_to_print_and_unknown_sites_are_refused(db: Database) -> None:
    conference, organizer, _ = await setup(db)
    async with db.read() as session:
        with pytest.raises(InvalidInput) as excinfo:
            await badges.badge_scope(session, conference, None, actor=organizer)
        assert excinfo.value.field == "site"
        with pytest.raises(InvalidInput):
            await badges.badge_scope(session, conference, "LCI", actor=organizer)
        with pytest.raises(NotFound):
            await badges.badge_scope(session, conference, "XYZ", actor=organizer)
