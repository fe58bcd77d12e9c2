"""The conference file: round trips, every problem reported with path and line, HTTP and CLI."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
import unicodedata
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from PIL import Image
from sqlalchemy import delete
from sqlmodel import col, func, select

from agenda.models import AgendaItem
from attendance.models import Delegate
from cli.demo_data import reference_document
from cli.main import main
from conference.accounts import grant_role, principal_for_account
from conference.actors import CLI, Actor
from conference.db import Database
from conference.errors import Forbidden, InvalidInput
from conference.models import Account, AuditEntry, Conference, LiveEvent, Site
from conference_file.exporting import dump, export_conference
from conference_file.importing import import_conference, read_conference_file
from conference_file.reader import Format
from runtime.config import Config
from server.app import create_app
from server.keys import db_key
from tests.conftest import Api, add_account

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "docs" / "examples" / "reference-conference.yaml"
AWARD_TEMPLATES = ROOT / "web" / "templates" / "documents" / "awards"
CODE_SHAPE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}")

SMALL = """\
plenary: 1
conference:
  title: Hội nghị sơ kết
  starts_on: 2026-12-10
  ends_on: 2026-12-10
sites:
- code: TW
  name: Hà Nội
  kind: main
- code: NO
  name: Điểm cầu Na Uy
delegates:
- name: Lò Văn Páo
  site: no
  phone: 0243123456
agenda:
- title: Khai mạc
  kind: opening
  planned_start: 2026-12-10T08:00:00+07:00
  site: TW
decisions: []
"""


def line_of(text: str, snippet: str, nth: int = 1) -> int:
    """1-based number of the nth line containing snippet."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if snippet in line]
    return found[nth - 1]


async def count(db: Database, table: Any) -> int:
    async with db.transaction() as session:
        return int((await session.exec(select(func.count()).select_from(table))).one())


async def do_import(db: Database, text: str | bytes, fmt: Format = "yaml") -> Conference:
    raw = text.encode() if isinstance(text, str) else text
    file = read_conference_file(raw, fmt)
    async with db.transaction() as session:
        return await import_conference(session, file, actor=Actor(CLI))


async def do_export(db: Database, conference: Conference) -> dict[str, Any]:
    async with db.transaction() as session:
        return await export_conference(session, conference)


async def problems(db: Database, text: str | bytes, fmt: Format = "yaml") -> list[dict[str, Any]]:
    """The problems reported for text, after checking that nothing was created."""
    before = await count(db, Conference)
    with pytest.raises(InvalidInput) as excinfo:
        await do_import(db, text, fmt)
    assert excinfo.value.code == "invalid_format"
    assert await count(db, Conference) == before
    details: list[dict[str, Any]] = excinfo.value.details
    assert excinfo.value.message == f"the file has {len(details)} problem" + (
        "s" if len(details) != 1 else ""
    )
    return details


# --- round trips ------------------------------------------------------------------


async def test_the_example_file_round_trips(db: Database) -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    conference = await do_import(db, text)
    exported = await do_export(db, conference)
    # The committed example is the export of the demo data (regenerate with
    # `python -m cli.demo_data > docs/examples/reference-conference.yaml`).
    assert exported == reference_document()
    assert dump(exported, "yaml") == text
    assert await count(db, Site) == 35
    assert await count(db, Delegate) == len(exported["delegates"])

    # A second import of the same file reuses the decision numbers and the printed
    # verification codes: refused, by path.
    found = await problems(db, text)
    numbers = [p for p in found if p["path"].endswith(".number")]
    assert [p["path"] for p in numbers] == [
        "decisions[0].number",
        "decisions[1].number",
        "decisions[2].number",
    ]
    assert all("never reused" in p["message"] for p in numbers)
    assert numbers[0]["line"] == line_of(text, "1268-QĐ/VPTW")
    codes = [p for p in found if p["path"].endswith(".code")]
    awards = sum(len(d["awards"]) for d in exported["decisions"])
    assert len(codes) == awards == len(found) - 3
    assert codes[0]["path"] == "decisions[0].awards[0].code"
    assert "another award's" in codes[0]["message"]
    assert codes[0]["line"] == line_of(text, exported["decisions"][0]["awards"][0]["code"])

    # Once the first copy is gone, importing its export reproduces it exactly.
    async with db.transaction() as session:
        await session.exec(delete(Conference).where(col(Conference.id) == conference.id))
    again = await do_import(db, dump(exported, "json"), "json")
    assert again.public_id != conference.public_id
    assert await do_export(db, again) == exported


async def test_import_makes_one_event_and_one_audit_entry(db: Database) -> None:
    conference = await do_import(db, SMALL)
    async with db.transaction() as session:
        events = list(
            await session.exec(
                select(LiveEvent.type).where(col(LiveEvent.conference_id) == conference.id)
            )
        )
        audit = list(
            await session.exec(
                select(AuditEntry).where(col(AuditEntry.action) == "conference.import")
            )
        )
    assert events == ["conference/created", "conference/imported"]
    assert len(audit) == 1
    assert audit[0].changes == {
        "sites": 2,
        "delegates": 1,
        "agenda_items": 1,
        "decisions": 0,
        "awards": 0,
    }


async def test_yaml_values_keep_their_meaning(db: Database) -> None:
    conference = await do_import(db, SMALL)
    exported = await do_export(db, conference)
    # YAML 1.1 would have read NO as false, 0243123456 as an octal number.
    assert [s["code"] for s in exported["sites"]] == ["TW", "NO"]
    assert exported["delegates"][0] == {
        "name": "Lò Văn Páo",
        "site": "NO",
        "category": "official",
        "phone": "0243123456",
    }
    assert exported["agenda"][0]["planned_start"] == "2026-12-10T08:00:00+07:00"


async def test_decomposed_text_is_stored_in_nfc(db: Database) -> None:
    decomposed = unicodedata.normalize("NFD", SMALL)
    assert decomposed != SMALL
    conference = await do_import(db, decomposed)
    assert conference.title == "Hội nghị sơ kết"
    async with db.transaction() as session:
        delegate = (await session.exec(select(Delegate))).one()
        site = (await session.exec(select(Site).where(col(Site.code) == "NO"))).one()
    assert delegate.full_name == "Lò Văn Páo" and delegate.name_folded == "lo van pao"
    assert site.name == "Điểm cầu Na Uy"
    assert unicodedata.is_normalized("NFC", site.name)


async def test_nested_agenda_items_keep_their_order(db: Database) -> None:
    document = json.loads(json.dumps(reference_document()))
    conference = await do_import(db, json.dumps(document), "json")
    async with db.transaction() as session:
        items = list(await session.exec(select(AgendaItem).order_by(col(AgendaItem.id))))
    session_item = next(i for i in items if i.kind == "session")
    speeches = [i for i in items if i.parent_id == session_item.id]
    assert [s.position for s in speeches] == list(range(1, 9))
    assert all(s.kind == "speech" for s in speeches)
    assert (await do_export(db, conference))["agenda"] == document["agenda"]


# --- every problem, with path and line ------------------------------------------------

BROKEN = """\
plenary: 1
conference:
  title: Hội nghị
  starts_on: 2026-12-10
  ends_on: 2026-12-09
sites:
- code: TW
  name: Hà Nội
  kind: main
- code: HNI
  name: Hà Nội
  expected_attendance: many
- code: hni
  name: Hà Nội (trùng)
- code: HUE
  name: Huế
  kind: main
delegates:
- name: Lò Văn Páo
  site: XYZ
- title: Chánh Văn phòng
  site: TW
- name: Nguyễn Văn An
  site: HUE
  nickname: An
- name: nguyen van an
  site: HUE
agenda:
- title: Khai mạc
  duration_minutes: ten
  items:
  - title: ""
    site: QNH
decisions:
- number: 1-QĐ
  issued_on: 2026-12-01
  issuing_body: Văn phòng
  signer_name: A
  signer_title: B
  award_kind: emulation_flag
  awards:
  - name: Văn phòng Tỉnh ủy
    site: DTP
    code: 7kq4 m2xd 9f3b
- number: 1-QĐ
  issued_on: 2026-02-30
  issuing_body: Văn phòng
  signer_name: A
  signer_title: B
  award_kind: flag
  awards:
  - name: Văn phòng Thành ủy
    code: 7KQ4-M2XD-9F3B
  - name: Văn phòng Huyện ủy
    code: nope
award_kinds:
- key: certificate_of_merit
  name: Bằng khen
- key: ky_niem_chuong
  name: Kỷ niệm chương
- key: ky_niem_chuong
  name: Lần nữa
award_documents:
  place: Hà Nội
  emblem: data:image/png;base64,AAAA
  templates:
    certificate.html: "{% for award in awards %}"
speakers: []
"""


async def test_a_broken_file_reports_every_problem(db: Database) -> None:
    found = await problems(db, BROKEN)
    got = {(p["path"], p["line"]) for p in found}
    expected = {
        ("conference.ends_on", line_of(BROKEN, "ends_on")),
        ("sites[1].expected_attendance", line_of(BROKEN, "many")),
        ("sites[2].code", line_of(BROKEN, "code: hni")),
        ("sites[3].kind", line_of(BROKEN, "name: Huế") + 1),
        ("delegates[0].site", line_of(BROKEN, "XYZ")),
        ("delegates[1].name", line_of(BROKEN, "- title: Chánh Văn phòng")),
        ("delegates[2].nickname", line_of(BROKEN, "nickname")),
        ("delegates[3].name", line_of(BROKEN, "nguyen van an")),
        ("agenda[0].duration_minutes", line_of(BROKEN, "duration_minutes: ten")),
        ("agenda[0].items[0].title", line_of(BROKEN, 'title: ""')),
        ("agenda[0].items[0].site", line_of(BROKEN, "QNH")),
        ("decisions[0].awards[0].site", line_of(BROKEN, "DTP")),
        ("decisions[1].number", line_of(BROKEN, "- number: 1-QĐ", 2)),
        ("decisions[1].issued_on", line_of(BROKEN, "2026-02-30")),
        ("decisions[1].award_kind", line_of(BROKEN, "award_kind: flag")),
        ("decisions[1].awards[0].code", line_of(BROKEN, "code: 7KQ4-M2XD-9F3B")),
        ("decisions[1].awards[1].code", line_of(BROKEN, "code: nope")),
        ("award_kinds[0].key", line_of(BROKEN, "key: certificate_of_merit")),
        ("award_kinds[2].key", line_of(BROKEN, "key: ky_niem_chuong", 2)),
        ("award_documents.emblem", line_of(BROKEN, "emblem:")),
        ("award_documents.templates.certificate.html", line_of(BROKEN, "certificate.html")),
        ("speakers", line_of(BROKEN, "speakers")),
    }
    assert got == expected, sorted(got ^ expected)
    assert [p["line"] for p in found] == sorted(p["line"] for p in found)
    by_path = {p["path"]: p["message"] for p in found}
    assert "used twice" in by_path["sites[2].code"]
    assert "second main site" in by_path["sites[3].kind"]
    assert "unknown site code XYZ" in by_path["delegates[0].site"]
    assert "required" in by_path["delegates[1].name"]
    assert "unknown field" in by_path["delegates[2].nickname"]
    assert "listed twice" in by_path["delegates[3].name"]
    assert "valid integer" in by_path["agenda[0].duration_minutes"]
    assert "unknown kind of award flag" in by_path["decisions[1].award_kind"]
    assert "given twice" in by_path["decisions[1].awards[0].code"]
    assert "12 letters" in by_path["decisions[1].awards[1].code"]
    assert "built-in" in by_path["award_kinds[0].key"]
    assert "defined twice" in by_path["award_kinds[2].key"]
    assert "not a picture" in by_path["award_documents.emblem"]
    assert "line 1" in by_path["award_documents.templates.certificate.html"]


async def test_a_syntax_error_does_not_hide_the_other_problems(db: Database) -> None:
    text = SMALL.replace("- title: Khai mạc", '- title: "Khai mạc').replace(
        "- code: NO", "- code: TW"
    )
    text = text.replace("  site: no\n", "  site: ABC\n")
    found = await problems(db, text)
    paths = {p["path"]: p for p in found}
    assert set(paths) == {"", "sites[1].code", "delegates[0].site"}
    assert paths[""]["message"].startswith("YAML syntax")
    assert line_of(text, '"Khai mạc') <= paths[""]["line"] <= len(text.splitlines())
    assert paths["sites[1].code"]["line"] == line_of(text, "- code: TW") + 3
    assert paths["delegates[0].site"]["line"] == line_of(text, "site: ABC")


@pytest.mark.parametrize(
    ("text", "fmt", "path", "line", "words"),
    [
        ("", "yaml", "", 1, "empty"),
        ("- 1\n- 2\n", "yaml", "", 1, "must be a mapping"),
        ("plenary: 2\nconference: {}\n", "yaml", "plenary", 1, "not supported"),
        ("conference:\n  title: x\n", "yaml", "plenary", 1, "format version"),
        ("plenary: 1\nplenary: 1\n", "yaml", "plenary", 2, "appears twice"),
        ("plenary: 1\nsites: {code: A}\n", "yaml", "sites", 2, "must be a list"),
        ("a: &x [1]\nb: *x\n", "yaml", "", 2, "aliases"),
        ('{\n  "plenary": 1,\n  "conference": }\n', "json", "", 3, "JSON syntax"),
        ("plenary: !!int 0x1\n", "yaml", "plenary", 1, "not a number"),
        ("plenary: !!bool yes\n", "yaml", "plenary", 1, "unsupported YAML tag"),
        ("plenary: !secret 1\n", "yaml", "plenary", 1, "unsupported YAML tag"),
        ("[" * 100_000 + "]" * 100_000, "yaml", "", 1, "nests more than"),
        ("[" * 100_000 + "]" * 100_000, "json", "", 1, "nests more than"),
    ],
)
def test_malformed_files(text: str, fmt: Format, path: str, line: int, words: str) -> None:
    with pytest.raises(InvalidInput) as excinfo:
        read_conference_file(text.encode(), fmt)
    found = excinfo.value.details
    assert any(p["path"] == path and p["line"] == line and words in p["message"] for p in found), (
        found
    )


def test_the_example_in_the_documentation_is_valid() -> None:
    text = (ROOT / "docs" / "conference-file.md").read_text(encoding="utf-8")
    example = text.split("## A small example", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    plan = read_conference_file(example.encode(), "yaml").plan
    assert [s.code for s in plan.sites] == ["TW", "LCI"]
    assert plan.agenda[1].items[0].site == "LCI"
    assert plan.decisions[0].awards[0].site == "LCI"


async def test_bytes_that_are_not_utf8(db: Database) -> None:
    found = await problems(db, SMALL.encode() + b"\nvenue: \xff\xfe\n")
    assert found == [
        {"path": "", "line": len(SMALL.splitlines()) + 2, "message": found[0]["message"]}
    ]
    assert "UTF-8" in found[0]["message"]


async def test_json_with_tabs_and_surrogate_pairs(db: Database) -> None:
    document = json.loads(json.dumps(reference_document()))
    document["conference"]["description"] = "Hội nghị 🎉"
    text = json.dumps(document, indent="\t")  # ASCII with \ud83c\udf89 escapes
    conference = await do_import(db, text, "json")
    assert conference.description == "Hội nghị 🎉"


async def test_only_accounts_that_may_create_conferences_import(db: Database) -> None:
    account = await add_account(db, "viewer")
    file = read_conference_file(SMALL.encode(), "yaml")
    with pytest.raises(Forbidden):
        async with db.transaction() as session:
            actor = Actor(principal_for_account(account))
            await import_conference(session, file, actor=actor)


# --- HTTP ------------------------------------------------------------------------------


def as_file(text: str, content_type: str = "application/yaml") -> dict[str, Any]:
    return {"data": text.encode(), "headers": {"Content-Type": content_type}}


async def test_http_import_and_export(organizer: Api, app: web.Application) -> None:
    db = app[db_key]
    status, body = await organizer.post(
        "/api/v1/conferences/import?dry_run=1", **as_file(SMALL, "text/yaml")
    )
    assert status == 200, body
    assert body["valid"] is True and body["counts"]["sites"] == 2
    assert await count(db, Conference) == 0

    status, created = await organizer.post("/api/v1/conferences/import", **as_file(SMALL))
    assert status == 201, created
    assert created["title"] == "Hội nghị sơ kết"
    status, listing = await organizer.get("/api/v1/conferences")
    assert [c["id"] for c in listing["items"]] == [created["id"]]

    resp = await organizer.client.get(f"/api/v1/conferences/{created['id']}/export")
    assert resp.status == 200
    assert resp.content_type == "application/yaml"
    disposition = resp.headers["Content-Disposition"]
    assert disposition == 'attachment; filename="hoi-nghi-so-ket-2026-12-10.yaml"'
    yaml_text = await resp.text()
    resp = await organizer.client.get(f"/api/v1/conferences/{created['id']}/export?format=json")
    assert resp.content_type == "application/json"
    document = json.loads(await resp.text())
    assert dump(document, "yaml") == yaml_text
    assert document["delegates"][0]["phone"] == "0243123456"

    status, body = await organizer.get(f"/api/v1/conferences/{created['id']}/export?format=xml")
    assert status == 422 and body["error"]["field"] == "format"


async def test_http_import_reports_every_problem(organizer: Api, app: web.Application) -> None:
    status, body = await organizer.post(
        "/api/v1/conferences/import", **as_file(BROKEN, "application/x-yaml")
    )
    assert status == 422
    assert body["error"]["code"] == "invalid_format"
    assert len(body["error"]["details"]) == 22
    by_path = {p["path"]: p for p in body["error"]["details"]}
    assert by_path["delegates[0].site"]["line"] == 20
    status, body = await organizer.post(
        "/api/v1/conferences/import?dry_run=1", **as_file(BROKEN, "application/x-yaml")
    )
    assert status == 422
    assert await count(app[db_key], Conference) == 0


async def test_http_import_needs_the_right_content_type_and_account(
    organizer: Api, client: Any, app: web.Application
) -> None:
    status, body = await organizer.post(
        "/api/v1/conferences/import", **as_file(SMALL, "text/plain")
    )
    assert status == 415 and body["error"]["code"] == "unsupported_media_type"
    client.session.cookie_jar.clear()
    status, body = await Api(client).post("/api/v1/conferences/import", **as_file(SMALL))
    assert status == 401
    await add_account(app[db_key], "someone")
    someone = Api(client)
    await someone.login("someone")
    status, body = await someone.post("/api/v1/conferences/import", **as_file(SMALL))
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert await count(app[db_key], Conference) == 0


async def test_http_import_refuses_a_file_over_the_upload_limit(
    aiohttp_client: Any, db_url: str
) -> None:
    app = create_app(Config(database_url=db_url, max_upload_bytes=2000))
    client = await aiohttp_client(app)
    await add_account(app[db_key], "organizer", can_create=True)
    api = Api(client)
    await api.login("organizer")
    status, body = await api.post("/api/v1/conferences/import", **as_file(SMALL + "#" * 2000))
    assert status == 413 and body["error"]["code"] == "too_large"
    status, body = await api.post("/api/v1/conferences/import", **as_file(SMALL))
    assert status == 201, body


async def test_only_organizers_export(organizer: Api, client: Any, app: web.Application) -> None:
    status, created = await organizer.post("/api/v1/conferences/import", **as_file(SMALL))
    assert status == 201
    db = app[db_key]
    chair = await add_account(db, "chair")
    await add_account(db, "stranger")
    async with db.transaction() as session:
        conference = (await session.exec(select(Conference))).one()
        account = await session.get(Account, chair.id)
        assert account is not None
        await grant_role(session, account, conference, "chair", actor=Actor(CLI))
    path = f"/api/v1/conferences/{created['id']}/export"
    for username, expected in (("chair", 403), ("stranger", 404)):
        api = Api(client)
        await api.login(username)
        status, body = await api.get(path)
        assert status == expected, (username, body)
    client.session.cookie_jar.clear()
    status, _ = await Api(client).get(path)
    assert status == 404


async def test_openapi_describes_import_and_export(client: Any) -> None:
    status, document = await Api(client).get("/api/v1/openapi.json")
    assert status == 200
    imported = document["paths"]["/api/v1/conferences/import"]["post"]
    assert "application/yaml" in imported["requestBody"]["content"]
    assert "201" in imported["responses"]
    assert "get" in document["paths"]["/api/v1/conferences/{cid}/export"]


# --- command line -----------------------------------------------------------------------


def test_cli_import_and_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    assert main(["migrate", "--database-url", url]) == 0
    source = tmp_path / "small.yaml"
    source.write_text(SMALL, encoding="utf-8")
    capsys.readouterr()

    assert main(["import", str(source), "--dry-run", "--database-url", url]) == 0
    assert "nothing was imported" in capsys.readouterr().out
    assert main(["import", str(source), "--database-url", url]) == 0
    out = capsys.readouterr().out
    assert "2 sites, 1 delegates, 1 agenda items" in out
    conference_id = out.split()[1]

    target = tmp_path / "copy.json"
    assert main(["export", conference_id, "-o", str(target), "--database-url", url]) == 0
    document = json.loads(target.read_text(encoding="utf-8"))
    assert document["sites"][1]["code"] == "NO"
    capsys.readouterr()
    assert main(["export", conference_id, "--database-url", url]) == 0
    assert capsys.readouterr().out == dump(document, "yaml")

    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    assert main(["import", str(broken), "--database-url", url]) == 1
    err = capsys.readouterr().err
    assert f"{broken}:20: delegates[0].site: unknown site code XYZ" in err
    assert "the file has 22 problems; nothing was imported" in err

    assert main(["import", str(source), "--organizer", "nobody", "--database-url", url]) == 1
    assert "no account" in capsys.readouterr().err
    assert main(["export", "nope", "--database-url", url]) == 1
    assert main(["import", str(tmp_path / "missing.yaml"), "--database-url", url]) == 1

    async def conferences() -> int:
        database = Database(url)
        try:
            async with database.transaction() as session:
                return len(list(await session.exec(select(Conference))))
        finally:
            await database.dispose()

    assert asyncio.run(conferences()) == 1


# --- award kinds, document settings and printed codes ------------------------------------------


def _emblem_uri() -> str:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (218, 37, 29)).save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


async def test_award_kinds_settings_templates_and_codes_travel_with_the_file(
    db: Database,
) -> None:
    template = (AWARD_TEMPLATES / "certificate.html").read_text(encoding="utf-8")
    sections = {
        "award_kinds": [
            {"key": "ky_niem_chuong", "name": "Kỷ niệm chương", "label": "KỶ NIỆM CHƯƠNG",
             "layout": "certificate"},
        ],
        "decisions": [
            {"number": "5-QĐ/TR", "issued_on": "2026-12-01", "issuing_body": "Văn phòng",
             "signer_name": "Nguyễn Văn A", "signer_title": "Chánh Văn phòng",
             "award_kind": "ky_niem_chuong",
             "awards": [{"recipient_kind": "person", "name": "Lò Văn Páo", "code": "7kq4m2xd9f3b"},
                        {"recipient_kind": "unit", "name": "Văn phòng Tỉnh ủy"}]},
        ],
        "award_documents": {
            "place": "Hà Nội", "heading": "Đảng Cộng sản Việt Nam", "emblem": _emblem_uri(),
            "templates": {"certificate.html": template.replace("TẶNG", "TRAO TẶNG")},
        },
    }  # fmt: skip
    # YAML reads the site code NO as false: the small file's text, then these sections.
    text = SMALL.replace("decisions: []\n", "") + yaml.safe_dump(sections, allow_unicode=True)
    conference = await do_import(db, text)
    exported = await do_export(db, conference)
    assert exported["award_kinds"] == sections["award_kinds"]
    awards = exported["decisions"][0]["awards"]
    assert awards[0]["code"] == "7KQ4-M2XD-9F3B" and CODE_SHAPE.fullmatch(awards[1]["code"])
    looks = exported["award_documents"]
    assert looks["place"] == "Hà Nội" and looks["heading"] == "Đảng Cộng sản Việt Nam"
    assert looks["emblem"].startswith("data:image/png;base64,")
    assert looks["templates"] == sections["award_documents"]["templates"]
    async with db.transaction() as session:
        await session.exec(delete(Conference).where(col(Conference.id) == conference.id))
    again = await do_import(db, dump(exported, "yaml"))
    assert await do_export(db, again) == exported
