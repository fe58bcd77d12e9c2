"""Delegate services: search and scoping, changes, removal, and importing a checked file."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from attendance.importing import read_table
from attendance.models import CheckIn, Delegate
from attendance.schemas import DelegateCreate, DelegateQuery, DelegateUpdate
from attendance.services import (
    create_delegate,
    delete_delegate,
    get_delegate,
    import_delegates,
    list_delegates,
    update_delegate,
)
from conference.actors import CLI, Actor
from conference.db import Database
from conference.errors import Conflict, Forbidden, InvalidInput, NotFound
from conference.models import AuditEntry, Conference, LiveEvent, Site
from tests.conftest import new_conference

SITES = (("HNI", "Hà Nội"), ("LCI", "Lào Cai"), ("HCM", "TP. Hồ Chí Minh"))
PEOPLE = [
    ("Nguyễn Văn A", "HNI", "official"),
    ("NGUYỄN VĂN ANH", "LCI", "alternate"),
    ("Nguyen Van Binh", "HNI", "guest"),
    ("Hoàng Văn Nam", "HCM", "official"),
    ("Trần Thị Bích", "LCI", "staff"),
    ("Lò Văn Páo", "LCI", "official"),
]


async def setup(db: Database) -> tuple[Conference, Actor, dict[str, Site]]:
    conference, actor, sites = await new_conference(db, sites=SITES)
    async with db.transaction() as session:
        for name, site, category in PEOPLE:
            data = DelegateCreate(
                name=name, site=site, category=category, phone="0912 345 678", unit="Tỉnh ủy"
            )
            await create_delegate(session, conference, data, actor=actor)
    return conference, actor, {s.code: s for s in sites}


def role(conference: Conference, *roles: str, site: Site | None = None) -> Actor:
    assert conference.id is not None
    return Actor(
        CLI,
        conference.id,
        frozenset(roles),
        site.id if site else None,
        site.code if site else "",
    )


async def names(
    db: Database, conference: Conference, actor: Actor, **query: Any
) -> tuple[list[str], int]:
    async with db.read() as session:
        rows, total = await list_delegates(
            session, conference, DelegateQuery.model_validate(query), actor=actor
        )
    return [d.full_name for d, _ in rows], total


async def state(db: Database) -> tuple[Any, ...]:
    """Every delegate row, and the audit and event counts: a refused change alters none."""
    async with db.read() as session:
        rows = (await session.exec(select(Delegate).order_by(col(Delegate.id)))).all()
        audits = (await session.exec(select(func.count()).select_from(AuditEntry))).one()
        events = (await session.exec(select(func.count()).select_from(LiveEvent))).one()
    return [r.model_dump() for r in rows], audits, events


# --- listing and searching --------------------------------------------------------------------


async def audited(session: AsyncSession, action: str) -> tuple[AuditEntry, LiveEvent]:
    """The one audit entry of action, and the newest live event."""
    entry = (await session.exec(select(AuditEntry).where(AuditEntry.action == action))).one()
    event = (
        await session.exec(select(LiveEvent).order_by(col(LiveEvent.seq).desc()).limit(1))
    ).one()
    return entry, event


async def test_list_orders_by_site_position_then_name(db: Database) -> None:
    conference, actor, _ = await setup(db)
    found, total = await names(db, conference, actor)
    assert total == 6
    assert found == [
        "Nguyễn Văn A",
        "Nguyen Van Binh",
        "Lò Văn Páo",
        "NGUYỄN VĂN ANH",
        "Trần Thị Bích",
        "Hoàng Văn Nam",
    ]
    assert await names(db, conference, actor, limit=2, offset=1) == (found[1:3], 6)
    assert await names(db, conference, actor, offset=10) == ([], 6)


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("nguyen van a", ["Nguyễn Văn A", "NGUYỄN VĂN ANH"]),
        ("NGUYỄN", ["Nguyễn Văn A", "Nguyen Van Binh", "NGUYỄN VĂN ANH"]),
        ("nguyễn văn anh", ["NGUYỄN VĂN ANH"]),
        ("  Văn   A  ", ["Nguyễn Văn A", "NGUYỄN VĂN ANH"]),
        ("anh nguyen", ["NGUYỄN VĂN ANH"]),
        ("tran thi bich", ["Trần Thị Bích"]),
        ("TRẦN", ["Trần Thị Bích"]),
        ("lo van pao", ["Lò Văn Páo"]),
        ("am", []),
        ("%", []),
        ("_", []),
        ("", None),
    ],
)
async def test_search_folds_case_and_diacritics(db: Database, q: str, expected: Any) -> None:
    conference, actor, _ = await setup(db)
    found, total = await names(db, conference, actor, q=q)
    if expected is None:
        assert total == len(PEOPLE)
        return
    assert sorted(found) == sorted(expected) and total == len(expected)


async def test_filters_by_site_and_category(db: Database) -> None:
    conference, actor, _ = await setup(db)
    found, total = await names(db, conference, actor, site="lci")
    assert found == ["Lò Văn Páo", "NGUYỄN VĂN ANH", "Trần Thị Bích"] and total == 3
    assert await names(db, conference, actor, site="LCI", category="official") == (
        ["Lò Văn Páo"],
        1,
    )
    assert await names(db, conference, actor, category="guest", q="nguyen") == (
        ["Nguyen Van Binh"],
        1,
    )
    with pytest.raises(NotFound) as excinfo:
        await names(db, conference, actor, site="XYZ")
    assert excinfo.value.field == "site"


async def test_chair_and_secretary_read_all_with_contacts_viewers_nothing(db: Database) -> None:
    conference, _, _ = await setup(db)
    for roles in (("chair",), ("secretary",)):
        reader = role(conference, *roles)
        assert reader.sees_contacts
        assert (await names(db, conference, reader))[1] == 6
    for roles in (("viewer",), ("delegate",), ()):
        with pytest.raises(Forbidden):
            await names(db, conference, role(conference, *roles))


async def test_operator_sees_only_their_site(db: Database) -> None:
    conference, _, sites = await setup(db)
    operator = role(conference, "site_operator", site=sites["LCI"])
    found, total = await names(db, conference, operator)
    assert found == ["Lò Văn Páo", "NGUYỄN VĂN ANH", "Trần Thị Bích"] and total == 3
    assert (await names(db, conference, operator, q="nguyen"))[0] == ["NGUYỄN VĂN ANH"]
    assert (await names(db, conference, operator, site="lci"))[1] == 3
    # Another site's code answers exactly as a code that does not exist.
    for code in ("HNI", "XYZ"):
        with pytest.raises(NotFound) as excinfo:
            await names(db, conference, operator, site=code)
        assert excinfo.value.field == "site"
    async with db.read() as session:
        rows, _ = await list_delegates(
            session, conference, DelegateQuery(), actor=role(conference, "organizer")
        )
        theirs = [d.public_id for d, s in rows if s.code != "LCI"]
        mine = [d.public_id for d, s in rows if s.code == "LCI"]
        for public_id in theirs:
            with pytest.raises(NotFound) as excinfo:
                await get_delegate(session, conference, public_id, actor=operator)
            assert excinfo.value.field == "delegate"
        _, site = await get_delegate(session, conference, mine[0], actor=operator)
        assert site.code == "LCI"


async def test_unknown_and_malformed_ids_are_not_found(db: Database) -> None:
    conference, actor, _ = await setup(db)
    other, _, _ = await new_conference(db, title="B", sites=(("HNI", "Hà Nội"),))
    async with db.transaction() as session:
        stranger = await create_delegate(
            session,
            other,
            DelegateCreate(name="Người lạ", site="HNI"),
            actor=role(other, "organizer"),
        )
    async with db.read() as session:
        for public_id in ("nope", "", "a/b", "x" * 65, stranger.public_id):
            with pytest.raises(NotFound):
                await get_delegate(session, conference, public_id, actor=actor)


# --- changing ---------------------------------------------------------------------------------


async def one(db: Database, conference: Conference, name: str) -> tuple[Delegate, Site]:
    async with db.read() as session:
        rows, _ = await list_delegates(
            session, conference, DelegateQuery(q=name), actor=role(conference, "organizer")
        )
    return next((d, s) for d, s in rows if d.full_name == name)


async def test_update_changes_only_what_is_sent(db: Database) -> None:
    conference, actor, _ = await setup(db)
    found = await one(db, conference, "Lò Văn Páo")
    async with db.transaction() as session:
        data = DelegateUpdate(
            name="Lò  Văn Pao", site="hcm", email="pao@example.vn", unit="Tỉnh ủy"
        )
        delegate, site = await update_delegate(session, conference, found, data, actor=actor)
    assert (delegate.full_name, delegate.name_folded, site.code) == (
        "Lò  Văn Pao",
        "lo van pao",
        "HCM",
    )
    assert delegate.phone == "0912 345 678" and delegate.category == "official"
    async with db.read() as session:
        entry, event = await audited(session, "delegate.update")
    # The unit was sent unchanged: not recorded.
    assert entry.changes == {
        "name": ["Lò Văn Páo", "Lò  Văn Pao"],
        "site": ["LCI", "HCM"],
        "email": ["", "pao@example.vn"],
    }
    assert entry.target_id == delegate.public_id
    assert event.type == "delegate/updated"
    assert event.data["site"] == "HCM" and event.data["name"] == "Lò  Văn Pao"
    assert "email" not in event.data and "phone" not in event.data
    assert (await names(db, conference, actor, q="lo van pao", site="HCM"))[1] == 1


async def test_update_with_nothing_new_records_nothing(db: Database) -> None:
    conference, actor, _ = await setup(db)
    found = await one(db, conference, "Lò Văn Páo")
    before = await state(db)
    async with db.transaction() as session:
        data = DelegateUpdate(name="Lò Văn Páo", site="lci")
        await update_delegate(session, conference, found, data, actor=actor)
    assert await state(db) == before


async def test_update_refusals_change_nothing(db: Database) -> None:
    conference, actor, sites = await setup(db)
    found = await one(db, conference, "Nguyễn Văn A")
    before = await state(db)
    cases: list[tuple[DelegateUpdate, Actor, type[Exception], str | None]] = [
        # Nguyen Van Binh is at HNI already; Nguyễn Văn Anh is at LCI.
        (DelegateUpdate(name="NGUYEN VAN BINH"), actor, Conflict, "name"),
        (DelegateUpdate(site="LCI", name="Nguyễn Văn Anh"), actor, Conflict, "name"),
        (DelegateUpdate(site="XYZ"), actor, InvalidInput, "site"),
        (DelegateUpdate(title="x"), role(conference, "chair"), Forbidden, None),
        (
            DelegateUpdate(title="x"),
            role(conference, "site_operator", site=sites["HNI"]),
            Forbidden,
            None,
        ),
    ]
    for data, who, error, field in cases:
        with pytest.raises(error) as excinfo:
            async with db.transaction() as session:
                await update_delegate(session, conference, found, data, actor=who)
        if field is not None:
            assert getattr(excinfo.value, "field", None) == field
    assert await state(db) == before


def test_update_input_refuses_nulls_and_unknown_fields() -> None:
    from pydantic import ValidationError

    for raw in ({"name": None}, {"site": None}, {"name": ""}, {"nmae": "x"}, {"category": "vip"}):
        with pytest.raises(ValidationError) as excinfo:
            DelegateUpdate.model_validate(raw)
        assert excinfo.value.errors()[0]["loc"][0] == next(iter(raw))


# --- removing ---------------------------------------------------------------------------------


async def test_delete_announces_and_audits(db: Database) -> None:
    conference, actor, _ = await setup(db)
    found = await one(db, conference, "Trần Thị Bích")
    async with db.transaction() as session:
        await delete_delegate(session, conference, found, actor=actor)
    async with db.read() as session:
        entry, event = await audited(session, "delegate.delete")
        gone = await session.get(Delegate, found[0].id)
    assert gone is None
    assert entry.target_id == found[0].public_id and entry.changes["name"] == "Trần Thị Bích"
    assert (event.type, event.data) == (
        "delegate/removed",
        {"id": found[0].public_id, "site": "LCI"},
    )


async def test_delete_of_a_checked_in_delegate_is_refused(db: Database) -> None:
    conference, actor, _ = await setup(db)
    delegate, site = await one(db, conference, "Trần Thị Bích")
    async with db.transaction() as session:
        assert delegate.id is not None and site.id is not None and conference.id is not None
        session.add(
            CheckIn(
                conference_id=conference.id, delegate_id=delegate.id, site_id=site.id, nonce="n-1"
            )
        )
    before = await state(db)
    with pytest.raises(Conflict) as excinfo:
        async with db.transaction() as session:
            await delete_delegate(session, conference, (delegate, site), actor=actor)
    assert excinfo.value.field == "delegate"
    with pytest.raises(Forbidden):
        async with db.transaction() as session:
            await delete_delegate(
                session, conference, (delegate, site), actor=role(conference, "chair")
            )
    assert await state(db) == before


# --- importing --------------------------------------------------------------------------------

GOOD = "Họ và tên,Điểm cầu,Email\nĐinh Văn Mới,HNI,moi@example.vn\nLê Thị Hai,Lào Cai,\n"
MIXED = GOOD + "Nguyễn Văn A,hni,\nBa Người,XYZ,\nHà Thị Bốn,HCM,moi@example.vn\n"


async def run_import(
    db: Database, conference: Conference, text: str, actor: Actor, **flags: bool
) -> Any:
    table = read_table(text.encode())
    session_of = db.read() if flags.get("dry_run") else db.transaction()
    async with session_of as session:
        return await import_delegates(session, conference, table, actor=actor, **flags)


async def test_dry_run_reports_and_changes_nothing(db: Database) -> None:
    conference, actor, _ = await setup(db)
    before = await state(db)
    report = await run_import(db, conference, MIXED, actor, dry_run=True)
    assert (report.rows, report.valid, report.invalid, report.imported) == (5, 2, 3, 0)
    assert report.dry_run is True
    assert [(p.row, p.field) for p in report.problems] == [(4, "name"), (5, "site"), (6, "email")]
    assert report.problems[0].message == "Nguyễn Văn A is already a delegate at HNI"
    assert await state(db) == before


async def test_a_file_with_bad_rows_imports_nothing(db: Database) -> None:
    conference, actor, _ = await setup(db)
    before = await state(db)
    with pytest.raises(InvalidInput) as excinfo:
        await run_import(db, conference, MIXED, actor)
    error = excinfo.value
    assert error.code == "invalid_format" and error.field == "file"
    assert error.details["invalid"] == 3 and error.details["valid"] == 2
    assert [p["row"] for p in error.details["problems"]] == [4, 5, 6]
    assert await state(db) == before


async def test_import_inserts_in_one_go_with_one_audit_and_one_event(db: Database) -> None:
    conference, actor, _ = await setup(db)
    _, audits, events = await state(db)
    report = await run_import(db, conference, MIXED, actor, skip_invalid=True)
    assert (report.imported, report.valid, report.invalid) == (2, 2, 3)
    rows, audits_after, events_after = await state(db)
    assert (audits_after, events_after) == (audits + 1, events + 1)
    assert len(rows) == len(PEOPLE) + 2
    found, _ = await names(db, conference, actor, q="dinh van moi")
    assert found == ["Đinh Văn Mới"]
    async with db.read() as session:
        entry, event = await audited(session, "delegate.import")
        new = (await session.exec(select(Delegate).where(Delegate.full_name == "Lê Thị Hai"))).one()
    assert entry.changes == {
        "format": "csv",
        "rows": 5,
        "imported": 2,
        "skipped": 3,
        "sites": {"HNI": 1, "LCI": 1},
    }
    assert (event.type, event.data) == ("delegates/imported", {"count": 2, "sites": ["HNI", "LCI"]})
    assert new.name_folded == "le thi hai" and new.public_id and new.link_secret
    # The same file again: everyone is a duplicate now.
    with pytest.raises(InvalidInput) as excinfo:
        await run_import(db, conference, GOOD, actor)
    messages = [p["message"] for p in excinfo.value.details["problems"]]
    assert messages[0] == "Đinh Văn Mới is already a delegate at HNI"
    assert "already that of Đinh Văn Mới (HNI)" in messages[1]


async def test_import_with_no_valid_row_records_nothing(db: Database) -> None:
    conference, actor, _ = await setup(db)
    before = await state(db)
    report = await run_import(db, conference, "name,site\nA,XYZ\n", actor, skip_invalid=True)
    assert (report.imported, report.invalid) == (0, 1)
    assert await state(db) == before


async def test_only_an_organizer_imports(db: Database) -> None:
    conference, _, sites = await setup(db)
    before = await state(db)
    for who in (role(conference, "chair"), role(conference, "site_operator", site=sites["HNI"])):
        with pytest.raises(Forbidden):
            await run_import(db, conference, GOOD, who)
        with pytest.raises(Forbidden):
            await run_import(db, conference, GOOD, who, dry_run=True)
    assert await state(db) == before


async def test_a_check_in_arriving_after_the_check_still_stops_the_removal(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A check-in may be recorded between the look for check-ins and the delete: the
    foreign key refuses the delete in a savepoint, with the same answer."""
    from attendance import services

    conference, actor, _ = await setup(db)
    delegate, site = await one(db, conference, "Trần Thị Bích")
    before = await state(db)
    real_record = services.record

    async def record_meanwhile(session: AsyncSession, *args: Any, **kw: Any) -> None:
        assert delegate.id is not None and site.id is not None and conference.id is not None
        session.add(
            CheckIn(
                conference_id=conference.id, delegate_id=delegate.id, site_id=site.id, nonce="n-2"
            )
        )
        await session.flush()
        await real_record(session, *args, **kw)

    monkeypatch.setattr(services, "record", record_meanwhile)
    with pytest.raises(Conflict) as excinfo:
        async with db.transaction() as session:
            await delete_delegate(session, conference, (delegate, site), actor=actor)
            raise AssertionError("the delete went through")
    assert excinfo.value.field == "delegate"
    assert str(excinfo.value) == "Trần Thị Bích has check-ins on record and cannot be removed"
    assert await state(db) == before
