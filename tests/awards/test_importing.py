"""Importing a decision's recipients: reading and checking the rows (pure), then the use
case on SQLite and PostgreSQL (order after the existing awards, one audit entry and one
event, dry runs and refusals that change nothing)."""

from __future__ import annotations

import unicodedata
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import col, select

from awards.import_service import import_awards
from awards.importing import (
    HEADERS,
    KIND_WORDS,
    NAME_HEADER_KINDS,
    Checked,
    check_recipients,
    read_recipients,
)
from awards.models import Award, Decision
from awards.schemas import AwardCreate, DecisionCreate
from awards.services import add_award, create_decision, revoke_award
from conference.actors import CLI, Actor
from conference.db import Database
from conference.errors import Forbidden, InvalidInput, NotFound
from conference.models import AuditEntry, Conference, LiveEvent
from conference.tables import ROW_NUMBER_HEADERS, Table
from tests import workbooks
from tests.awards.test_services import DECISION as SERVICES_DECISION
from tests.conftest import new_conference
from tests.workbooks import csv_bytes, problems

# A Vietnamese sheet name, as the offices' workbooks have.
xlsx = partial(workbooks.xlsx, title="Danh sách khen thưởng")

SITES = [("HNI", "Hà Nội"), ("LCI", "Lào Cai"), ("HPG", "Hải Phòng")]
DECISION = SERVICES_DECISION | {"award_kind": "certificate_of_merit"}
VN_HEADER = ["STT", "Loại", "Tên tập thể, cá nhân", "Chức vụ", "Đơn vị công tác", "Điểm cầu",
             "Thành tích"]  # fmt: skip


TONES = "\u0300\u0301\u0303\u0309\u0323"


def cp1258(text: str) -> bytes:
    """text as Excel's plain "CSV" saves it on a Vietnamese Windows: a base letter, then
    its tone as a combining mark."""
    out = b""
    for ch in text:
        marks = unicodedata.normalize("NFD", ch)
        tone = "".join(m for m in marks if m in TONES)
        base = unicodedata.normalize("NFC", "".join(m for m in marks if m not in TONES))
        out += (base + tone).encode("cp1258")
    return out


def check(table: Table, known: set[tuple[str, str]] | None = None) -> Checked:
    return check_recipients(table, SITES, known or set())


def recipients(checked: Checked) -> list[tuple[str, str, str, str, str | None, str]]:
    return [(a.recipient_kind, a.name, a.title, a.unit, a.site, a.citation) for a in checked.awards]


refused = partial(workbooks.refused, read_recipients)


# --- headers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [
        ["Tên tập thể, cá nhân", "Chức vụ", "Đơn vị công tác", "Mã điểm cầu", "Thành tích"],
        ["TÊN TẬP THỂ / CÁ NHÂN", "CHỨC VỤ", "ĐƠN VỊ CÔNG TÁC", "ĐIỂM CẦU", "THÀNH TÍCH"],
        ["Ten tap the / ca nhan", "Chuc vu", "Don vi cong tac", "Diem cau", "Thanh tich"],
        ["Tên", "Chức danh", "Cơ quan", "Điểm cầu", "Lý do khen thưởng"],
        ["ten", "chuc danh", "co quan cong tac", "ma diem cau", "ly do khen thuong"],
        ["Name", "Title", "Unit", "Site code", "Citation"],
        ["recipient", "position", "organisation", "site", "reason"],
    ],
)
def test_header_variants(header: list[str]) -> None:
    raw = csv_bytes(
        [header, ["Lò Văn Páo", "Chánh Văn phòng", "Tỉnh ủy Lào Cai", "lci", "Xuất sắc"]]
    )
    table = read_recipients(raw)
    assert table.columns == {"name": 0, "title": 1, "unit": 2, "site": 3, "citation": 4}
    checked = check(table)
    assert problems(checked) == []
    assert recipients(checked) == [
        ("person", "Lò Văn Páo", "Chánh Văn phòng", "Tỉnh ủy Lào Cai", "LCI", "Xuất sắc")
    ]


@pytest.mark.parametrize(
    ("word", "kind"),
    [
        ("Tập thể", "unit"),
        ("TAP THE", "unit"),
        ("đơn vị", "unit"),
        ("Unit", "unit"),
        ("Cá nhân", "person"),
        ("ca nhan", "person"),
        ("PERSON", "person"),
        ("individual", "person"),
    ],
)
def test_kind_words(word: str, kind: str) -> None:
    checked = check(read_recipients(csv_bytes([["Loại", "Tên"], [word, "Văn phòng Tỉnh ủy"]])))
    assert [a.recipient_kind for a in checked.awards] == [kind]


def test_the_kind_of_an_unmarked_row() -> None:
    # An empty kind: a title or a unit of work makes a person, else a unit.
    raw = csv_bytes(
        [
            ["Loại", "Tên tập thể, cá nhân", "Chức vụ", "Đơn vị công tác"],
            ["", "Văn phòng Tỉnh ủy Lào Cai", "", ""],
            ["", "Lò Văn Páo", "Chánh Văn phòng", ""],
            ["", "Đặng Thị Hồng Nhung", "", "Thành ủy Hải Phòng"],
            ["Cá nhân", "Trần Văn Dũng", "", ""],
            ["tập thể", "Phòng Tổng hợp", "", "Văn phòng Tỉnh ủy Lào Cai"],
        ]
    )
    checked = check(read_recipients(raw))
    assert [a.recipient_kind for a in checked.awards] == ["unit", "person", "person", "person",
                                                          "unit"]  # fmt: skip
    # A name column headed "Họ và tên" holds people; "Tên đơn vị" units.
    checked = check(read_recipients(csv_bytes([["Họ và tên"], ["Lò Văn Páo"]])))
    assert [a.recipient_kind for a in checked.awards] == ["person"]
    checked = check(read_recipients(csv_bytes([["Tên đơn vị", "Chức vụ"], ["Văn phòng", "x"]])))
    assert [a.recipient_kind for a in checked.awards] == ["unit"]


def test_files_without_a_usable_header() -> None:
    error = refused(csv_bytes([["Chức vụ", "Thành tích"], ["x", "y"]]))
    assert "the header (row 1) has no name column" in error.message
    error = refused(csv_bytes([["Số", "Ghi chú"], ["1", "x"]]))
    assert "no header row in the first 10 rows" in error.message
    error = refused(csv_bytes([["Họ và tên", "Tên đơn vị"], ["a", "b"]]))
    assert "two columns hold the name" in error.message and "column B" in error.message
    assert refused(b"").message == "the file is empty"


# --- files ---------------------------------------------------------------------------------


def test_xlsx_with_a_title_row_numbers_and_ignored_columns() -> None:
    raw = xlsx(
        [
            ["DANH SÁCH TẬP THỂ, CÁ NHÂN ĐƯỢC TẶNG BẰNG KHEN"],
            [None],
            [*VN_HEADER, "Ghi chú"],
            [1, "Tập thể", "Văn phòng Tỉnh ủy Lào Cai", None, None, "LCI",
             "Đã có thành tích xuất sắc trong công tác văn phòng cấp ủy năm 2026", "mời lên"],
            [2, "Cá nhân", "Đặng Thị Hồng Nhung", "Phó Chánh Văn phòng", "Thành ủy Hải Phòng",
             "Hải Phòng", "Hoàn thành xuất sắc nhiệm vụ"],
            [None] * 7,
            [3, None, "Chi bộ 1", None, None, None, 2026],
        ]
    )  # fmt: skip
    table = read_recipients(raw)
    assert (table.format, table.header_row, table.ignored_columns) == ("xlsx", 3, ["Ghi chú"])
    assert [row.number for row in table.rows] == [4, 5, 7]
    checked = check(table)
    assert problems(checked) == []
    assert recipients(checked) == [
        ("unit", "Văn phòng Tỉnh ủy Lào Cai", "", "", "LCI",
         "Đã có thành tích xuất sắc trong công tác văn phòng cấp ủy năm 2026"),
        ("person", "Đặng Thị Hồng Nhung", "Phó Chánh Văn phòng", "Thành ủy Hải Phòng", "HPG",
         "Hoàn thành xuất sắc nhiệm vụ"),
        ("unit", "Chi bộ 1", "", "", None, "2026"),
    ]  # fmt: skip


def test_csv_utf8_with_bom_semicolons_and_nfc() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn Thị Hường")
    raw = csv_bytes(
        [["STT", "Họ và tên", "Chức vụ", "Thành tích"], ["1", decomposed, "Chuyên viên",
                                                          "Tận tụy, trách nhiệm"]],
        ";",
        bom=True,
    )  # fmt: skip
    table = read_recipients(raw)
    assert table.format == "csv" and table.ignored_columns == []
    (award,) = check(table).awards
    assert award.name == "Nguyễn Thị Hường" and award.name != decomposed
    assert award.citation == "Tận tụy, trách nhiệm"


def test_csv_in_a_windows_code_page_is_refused_as_for_delegates() -> None:
    raw = cp1258("Họ và tên,Thành tích\nNguyễn Văn A,Xuất sắc\n")
    assert unicodedata.normalize("NFC", raw.decode("cp1258")).startswith("Họ và tên,")
    error = refused(raw)
    assert "UTF-8" in error.message and "line 1" in error.message
    assert ".xls" in refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)).message
    assert "sent as XLSX" in refused(csv_bytes([["Tên"], ["A"]]), "xlsx").message


# --- checking rows -------------------------------------------------------------------------


def test_every_bad_row_is_reported_with_its_row_field_and_column() -> None:
    raw = csv_bytes(
        [
            VN_HEADER[1:],
            ["tập thể", "Văn phòng Tỉnh ủy Lào Cai", "", "", "LCI", "Xuất sắc"],  # 2 ok
            ["cá nhân", "", "Chuyên viên", "", "", ""],  # 3 no name
            ["tập thể", "Văn phòng Thành ủy", "", "", "Đà Nẵng", ""],  # 4 unknown site
            ["tập thể", "VĂN PHÒNG TỈNH ỦY LÀO CAI", "", "", "", ""],  # 5 twice in the file
            ["vip", "Lò Văn Páo", "", "", "", ""],  # 6 unknown kind
            ["tập thể", "x" * 301, "", "", "", ""],  # 7 name too long
            ["cá nhân", "Lê Văn H", "x" * 201, "y" * 301, "", ""],  # 8 title and unit too long
            ["tập thể", "Chi bộ 2", "", "", "", "z" * 2001],  # 9 citation too long
            ["cá nhân", "Lê\x00Văn I", "", "", "", ""],  # 10 control character
            ["tập thể", "Văn phòng Tỉnh ủy Yên Bái", "", "", "", ""],  # 11 already a recipient
            ["cá nhân", "Văn phòng Tỉnh ủy Yên Bái", "", "", "", ""],  # 12 ok: not the same kind
            ["cá nhân", "Đặng Thị Hồng Nhung", "", "", "hpg", ""],  # 13 ok
        ]
    )
    checked = check(read_recipients(raw), {("unit", "van phong tinh uy yen bai")})
    assert problems(checked) == [
        (3, "name", "Tên tập thể, cá nhân"),
        (4, "site", "Điểm cầu"),
        (5, "name", "Tên tập thể, cá nhân"),
        (6, "kind", "Loại"),
        (7, "name", "Tên tập thể, cá nhân"),
        (8, "title", "Chức vụ"),
        (8, "unit", "Đơn vị công tác"),
        (9, "citation", "Thành tích"),
        (10, "name", "Tên tập thể, cá nhân"),
        (11, "name", "Tên tập thể, cá nhân"),
    ]
    messages = {(p.row, p.field): p.message for p in checked.report.problems}
    assert messages[3, "name"] == "missing: the name"
    assert "unknown site 'Đà Nẵng'" in messages[4, "site"]
    assert messages[5, "name"] == (
        "VĂN PHÒNG TỈNH ỦY LÀO CAI is listed twice, as a unit (also row 2)"
    )
    assert "unknown kind of recipient 'vip'" in messages[6, "kind"]
    assert "cá nhân" in messages[6, "kind"]
    assert "300" in messages[7, "name"]
    assert "200" in messages[8, "title"] and "300" in messages[8, "unit"]
    assert "2000" in messages[9, "citation"]
    assert "control characters" in messages[10, "name"]
    assert messages[11, "name"] == (
        "Văn phòng Tỉnh ủy Yên Bái is already a recipient of this decision, as a unit"
    )
    report = checked.report
    assert (report.rows, report.valid, report.invalid) == (12, 3, 9)
    assert [a.name for a in checked.awards] == [
        "Văn phòng Tỉnh ủy Lào Cai",
        "Văn phòng Tỉnh ủy Yên Bái",
        "Đặng Thị Hồng Nhung",
    ]


def test_the_documentation_lists_every_header_and_kind_word() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "awards.md").read_text("utf-8")
    section = text[text.index("## Importing recipients") :]
    words = [w for group in KIND_WORDS.values() for w in group]
    headers = [h for group in HEADERS.values() for h in group]
    for word in (*headers, *ROW_NUMBER_HEADERS, *words, *NAME_HEADER_KINDS):
        assert word in section, f"docs/awards.md does not mention {word!r}"


# --- the use case --------------------------------------------------------------------------


async def setup(db: Database) -> tuple[Conference, Actor, Decision]:
    conference, actor, _ = await new_conference(db, sites=tuple(SITES))
    async with db.transaction() as session:
        decision = await create_decision(
            session, conference, DecisionCreate.model_validate(DECISION), actor=actor
        )
        for data in (
            AwardCreate(name="Văn phòng Tỉnh ủy Lào Cai", site="LCI"),
            AwardCreate(recipient_kind="person", name="Lò Văn Páo", title="Chánh Văn phòng"),
        ):
            await add_award(session, conference, decision, data, actor=actor)
    return conference, actor, decision


async def state(db: Database) -> tuple[Any, ...]:
    """Every award, and the audit and event counts: a refused import changes none."""
    async with db.read() as session:
        awards = (await session.exec(select(Award).order_by(col(Award.id)))).all()
        audits = (await session.exec(select(func.count()).select_from(AuditEntry))).one()
        events = (await session.exec(select(func.count()).select_from(LiveEvent))).one()
    return [a.model_dump() for a in awards], audits, events


async def run_import(
    db: Database,
    conference: Conference,
    actor: Actor,
    decision: Decision,
    raw: bytes,
    **flags: bool,
) -> Any:
    table = read_recipients(raw)
    async with db.transaction() as session:
        return await import_awards(session, conference, decision, table, actor=actor, **flags)


MIXED = csv_bytes(
    [
        ["Tên tập thể, cá nhân", "Chức vụ", "Điểm cầu", "Thành tích"],
        ["Văn phòng Thành ủy Hải Phòng", "", "HPG", "Xuất sắc"],  # 2 ok (a unit)
        ["Nguyễn Thị Hường", "Chuyên viên", "", "Tận tụy"],  # 3 ok (a person)
        ["lo van pao", "Phó Chánh Văn phòng", "", ""],  # 4 already a recipient
        ["Văn phòng Tỉnh ủy Yên Bái", "", "YBI", ""],  # 5 unknown site
        ["Văn phòng Thành ủy Hải Phòng", "", "", ""],  # 6 twice in the file
        ["Trần Văn Dũng", "Chánh Văn phòng", "Hà Nội", ""],  # 7 ok
    ]
)


async def test_a_dry_run_reports_and_changes_nothing(db: Database) -> None:
    conference, actor, decision = await setup(db)
    before = await state(db)
    report = await run_import(db, conference, actor, decision, MIXED, dry_run=True)
    assert report.dry_run is True and report.imported == 0
    assert (report.rows, report.valid, report.invalid) == (6, 3, 3)
    assert [(p.row, p.field) for p in report.problems] == [(4, "name"), (5, "site"), (6, "name")]
    assert await state(db) == before
    # The same in a read-only session, as the API runs a dry run.
    async with db.read() as session:
        again = await import_awards(
            session, conference, decision, read_recipients(MIXED), actor=actor, dry_run=True
        )
    assert again == report
    assert await state(db) == before


async def test_a_file_with_problems_imports_nothing(db: Database) -> None:
    conference, actor, decision = await setup(db)
    before = await state(db)
    with pytest.raises(InvalidInput) as excinfo:
        await run_import(db, conference, actor, decision, MIXED)
    assert excinfo.value.field == "file" and excinfo.value.code == "invalid_format"
    assert excinfo.value.details["invalid"] == 3
    assert [p["row"] for p in excinfo.value.details["problems"]] == [4, 5, 6]
    assert await state(db) == before


async def test_skip_invalid_appends_the_valid_rows_in_file_order(db: Database) -> None:
    conference, actor, decision = await setup(db)
    _, audits, events = await state(db)
    report = await run_import(db, conference, actor, decision, MIXED, skip_invalid=True)
    assert report.imported == 3 and report.invalid == 3 and report.dry_run is False
    async with db.read() as session:
        awards = list(
            await session.exec(
                select(Award)
                .where(col(Award.decision_id) == decision.id)
                .order_by(col(Award.position))
            )
        )
        entries = list(await session.exec(select(AuditEntry).order_by(col(AuditEntry.id))))
        logged = list(await session.exec(select(LiveEvent).order_by(col(LiveEvent.seq))))
    assert [(a.position, a.recipient_kind, a.recipient_name) for a in awards] == [
        (1, "unit", "Văn phòng Tỉnh ủy Lào Cai"),
        (2, "person", "Lò Văn Páo"),
        (3, "unit", "Văn phòng Thành ủy Hải Phòng"),
        (4, "person", "Nguyễn Thị Hường"),
        (5, "person", "Trần Văn Dũng"),
    ]
    assert awards[2].site_id is not None and awards[3].site_id is None
    assert awards[3].citation == "Tận tụy" and awards[3].recipient_title == "Chuyên viên"
    codes = [a.verification_code for a in awards]
    assert all(codes) and len(set(codes)) == 5
    # One audit entry and one (staff-only) event for the whole import.
    assert len(entries) == audits + 1 and len(logged) == events + 1
    entry = entries[-1]
    assert (entry.action, entry.target_type, entry.target_id) == (
        "award.import",
        "decision",
        decision.public_id,
    )
    assert entry.changes["imported"] == 3 and entry.changes["skipped"] == 3
    assert entry.changes["positions"] == [3, 5]
    assert (logged[-1].type, logged[-1].data) == (
        "award/imported",
        {"decision": decision.public_id, "count": 3, "positions": [3, 5]},
    )


async def test_a_revoked_recipient_may_be_listed_again(db: Database) -> None:
    conference, actor, decision = await setup(db)
    async with db.read() as session:
        pao = await session.exec(select(Award).where(col(Award.recipient_name) == "Lò Văn Páo"))
        public_id = pao.one().public_id
    async with db.transaction() as session:
        await revoke_award(session, conference, public_id, "Sai tên", actor=actor)
    raw = csv_bytes([["Họ và tên", "Chức vụ"], ["Lò Văn Páo", "Chánh Văn phòng"]])
    report = await run_import(db, conference, actor, decision, raw)
    assert report.imported == 1 and report.problems == []
    async with db.read() as session:
        positions = list(
            await session.exec(
                select(Award.position).where(col(Award.recipient_name) == "Lò Văn Páo")
            )
        )
    assert sorted(positions) == [2, 3]


async def test_only_an_organizer_imports_and_only_into_their_conference(db: Database) -> None:
    conference, _, decision = await setup(db)
    other, other_actor, _ = await new_conference(db, title="Hội nghị khác")
    before = await state(db)
    raw = csv_bytes([["Tên"], ["Chi bộ 3"]])
    for role in ("chair", "secretary", "site_operator"):
        someone = Actor(CLI, conference.id, frozenset({role}))
        with pytest.raises(Forbidden):
            await run_import(db, conference, someone, decision, raw)
    with pytest.raises(NotFound) as excinfo:
        await run_import(db, other, other_actor, decision, raw)
    assert excinfo.value.field == "decision"
    assert await state(db) == before
