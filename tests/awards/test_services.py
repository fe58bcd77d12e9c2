"""Decisions and awards: numbers never reused per issuing body, positions, sites."""

from __future__ import annotations

from typing import Any, get_args

import pytest
from pydantic import ValidationError
from sqlmodel import col, func, select

from awards.kinds import BUILTIN
from awards.models import AWARD_KINDS, LAYOUTS, RECIPIENT_KINDS, Award, Decision
from awards.schemas import (
    AwardChange,
    AwardCreate,
    DecisionCreate,
    DecisionWithAwards,
    Layout,
    RecipientKind,
)
from awards.services import (
    add_award,
    create_decision,
    insert_decisions,
    revoke_award,
    update_award,
)
from awards.verification import verify_award
from conference.actors import Actor
from conference.db import Database
from conference.errors import Conflict, Forbidden, InvalidInput, NotFound
from conference.models import AuditEntry, Conference
from tests.conftest import new_conference

DECISION = {
    "number": "1268-QĐ/VPTW",
    "issued_on": "2026-12-01",
    "issuing_body": "Văn phòng Trung ương Đảng",
    "signer_name": "Nguyễn Văn A",
    "signer_title": "Chánh Văn phòng",
    "award_kind": "emulation_flag",
}


async def setup(db: Database, title: str = "Hội nghị") -> tuple[Conference, Actor]:
    conference, actor, _ = await new_conference(db, title=title)
    return conference, actor


def test_kinds_match_the_model() -> None:
    assert tuple(BUILTIN) == AWARD_KINDS
    assert {kind.layout for kind in BUILTIN.values()} == set(LAYOUTS)
    assert get_args(Layout) == LAYOUTS
    assert get_args(RecipientKind) == RECIPIENT_KINDS


async def test_a_decision_number_is_never_reused_by_its_body(db: Database) -> None:
    first, actor = await setup(db)
    other, other_actor = await setup(db, "Hội nghị khác")
    async with db.transaction() as session:
        await create_decision(session, first, DecisionCreate.model_validate(DECISION), actor=actor)
    with pytest.raises(Conflict) as excinfo:
        async with db.transaction() as session:
            data = DecisionCreate.model_validate(DECISION)
            await create_decision(session, other, data, actor=other_actor)
    assert excinfo.value.field == "number"
    async with db.transaction() as session:
        # Another issuing body may use the same number.
        data = DecisionCreate.model_validate({**DECISION, "issuing_body": "Tỉnh ủy Lào Cai"})
        await create_decision(session, other, data, actor=other_actor)
        assert (await session.exec(select(func.count()).select_from(Decision))).one() == 2


async def test_awards_are_appended_with_their_site(db: Database) -> None:
    conference, actor = await setup(db)
    async with db.transaction() as session:
        decision = await create_decision(
            session, conference, DecisionCreate.model_validate(DECISION), actor=actor
        )
        first = await add_award(
            session,
            conference,
            decision,
            AwardCreate(name="Văn phòng Tỉnh ủy Lào Cai", site="lci", citation="Xuất sắc"),
            actor=actor,
        )
        second = await add_award(
            session,
            conference,
            decision,
            AwardCreate(recipient_kind="person", name="Lò Văn Páo", title="Phó Chánh Văn phòng"),
            actor=actor,
        )
    assert (first.position, second.position) == (1, 2)
    assert first.site_id is not None and second.site_id is None
    assert first.verification_code != second.verification_code
    with pytest.raises(InvalidInput) as excinfo:
        async with db.transaction() as session:
            data = AwardCreate(name="Nơi khác", site="XYZ")
            await add_award(session, conference, decision, data, actor=actor)
    assert excinfo.value.field == "site"
    async with db.transaction() as session:
        assert (await session.exec(select(func.count()).select_from(Award))).one() == 2
        actions = list(await session.exec(select(AuditEntry.action).order_by(col(AuditEntry.id))))
    assert actions[-3:] == ["decision.create", "award.create", "award.create"]


def test_a_numeric_decision_number_becomes_text() -> None:
    assert DecisionCreate.model_validate({**DECISION, "number": 125}).number == "125"


@pytest.mark.parametrize(
    ("field", "value"),
    [("number", ""), ("number", True), ("award_kind", "Huân chương"), ("issued_on", "2026-13-01")],
)
def test_bad_decisions_name_the_field(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as excinfo:
        DecisionCreate.model_validate({**DECISION, field: value})
    assert excinfo.value.errors()[0]["loc"][0] == field


async def test_a_number_taken_after_the_check_is_refused_and_the_transaction_goes_on(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another conference may take the number between the check and the insert: the unique
    index refuses it in a savepoint, with the check's answer, and the transaction goes on."""
    from awards import services

    conference, actor = await setup(db)
    data = DecisionCreate.model_validate(DECISION)
    real_check = services.used_decision_numbers
    async with db.transaction() as session:
        assert conference.id is not None

        async def check_then_taken(*args: Any) -> set[tuple[str, str]]:
            found = await real_check(*args)
            session.add(services.new_decision(conference.id or 0, data))
            await session.flush()
            return found

        monkeypatch.setattr(services, "used_decision_numbers", check_then_taken)
        with pytest.raises(Conflict) as excinfo:
            await create_decision(session, conference, data, actor=actor)
        assert (excinfo.value.field, str(excinfo.value)) == (
            "number",
            "a decision number is already used",
        )
        monkeypatch.undo()
        other = data.model_copy(update={"number": "1269-QĐ/VPTW"})
        await create_decision(session, conference, other, actor=actor)
    async with db.read() as session:
        numbers = list(await session.exec(select(Decision.number).order_by(Decision.number)))
        actions = list(await session.exec(select(AuditEntry.action)))
    assert numbers == ["1268-QĐ/VPTW", "1269-QĐ/VPTW"]
    assert actions.count("decision.create") == 1


async def test_a_code_taken_after_the_check_refuses_the_whole_import(db: Database) -> None:
    """insert_decisions trusts the check made before it (used_codes); an award code another
    award took meanwhile is refused by the unique index, naming the code."""
    conference, actor = await setup(db)
    async with db.transaction() as session:
        decision = await create_decision(
            session, conference, DecisionCreate.model_validate(DECISION), actor=actor
        )
        taken = await add_award(session, conference, decision, AwardCreate(name="A"), actor=actor)
    entry = DecisionWithAwards.model_validate(
        {
            **DECISION,
            "number": "7-QĐ/TU",
            "awards": [{"name": "B"}, {"name": "C", "code": taken.verification_code.lower()}],
        }
    )
    assert conference.id is not None
    with pytest.raises(Conflict) as excinfo:
        async with db.transaction() as session:
            await insert_decisions(session, conference.id, {}, [entry])
    assert excinfo.value.field == "code"
    async with db.read() as session:
        assert (await session.exec(select(func.count()).select_from(Award))).one() == 1
        assert (await session.exec(select(func.count()).select_from(Decision))).one() == 1


async def test_a_number_taken_meanwhile_refuses_the_whole_import(db: Database) -> None:
    conference, actor = await setup(db)
    async with db.transaction() as session:
        await create_decision(
            session, conference, DecisionCreate.model_validate(DECISION), actor=actor
        )
    entries = [
        DecisionWithAwards.model_validate({**DECISION, "number": "7-QĐ/TU"}),
        DecisionWithAwards.model_validate({**DECISION, "awards": [{"name": "B"}]}),
    ]
    assert conference.id is not None
    with pytest.raises(Conflict) as excinfo:
        async with db.transaction() as session:
            await insert_decisions(session, conference.id, {}, entries)
    assert excinfo.value.field == "number"
    async with db.read() as session:
        assert list(await session.exec(select(Decision.number))) == ["1268-QĐ/VPTW"]


async def test_a_correction_keeps_the_code_and_a_revoked_award_verifies_as_revoked(
    db: Database,
) -> None:
    conference, actor = await setup(db)
    async with db.transaction() as session:
        decision = await create_decision(
            session, conference, DecisionCreate.model_validate(DECISION), actor=actor
        )
        award = await add_award(
            session, conference, decision, AwardCreate(name="Đặng Thị Hồng Nhung"), actor=actor
        )
    code = award.verification_code
    async with db.transaction() as session:
        fixed, _, _ = await update_award(
            session,
            conference,
            award.public_id,
            AwardChange(name="Đặng Thị Hồng Nhung (Hải Phòng)", site="lci"),
            actor=actor,
        )
    assert (fixed.verification_code, fixed.recipient_name) == (
        code,
        "Đặng Thị Hồng Nhung (Hải Phòng)",
    )
    async with db.read() as session:
        found = await verify_award(session, code)
        # Typed as people type it: lower case, no hyphens, O for 0.
        typed = await verify_award(session, code.replace("-", "").lower().replace("0", "o"))
    assert (found["status"], found["valid"], found["kind_label"]) == ("valid", True, "Cờ thi đua")
    assert found["recipient"]["name"] == "Đặng Thị Hồng Nhung (Hải Phòng)"
    assert found["decision"]["number"] == "1268-QĐ/VPTW"
    assert found["decision"]["issuing_body"] == "Văn phòng Trung ương Đảng"
    assert typed["code"] == code
    # Revoked with a reason: verification says so at once, and the audit log has it.
    async with db.transaction() as session:
        await revoke_award(
            session, conference, award.public_id, "Quyết định bị thu hồi do sai sót", actor=actor
        )
    async with db.read() as session:
        found = await verify_award(session, code)
        actions = list(await session.exec(select(AuditEntry.action)))
    assert (found["status"], found["valid"]) == ("revoked", False)
    assert found["revoked_reason"] == "Quyết định bị thu hồi do sai sót" and found["revoked_at"]
    assert actions.count("award.revoke") == 1 and actions.count("award.update") == 1
    # A revoked award is neither revoked again nor corrected.
    with pytest.raises(Conflict):
        async with db.transaction() as session:
            await revoke_award(session, conference, award.public_id, "lần nữa", actor=actor)
    with pytest.raises(Conflict):
        async with db.transaction() as session:
            change = AwardChange(citation="x")
            await update_award(session, conference, award.public_id, change, actor=actor)
    # Its decision's number stays taken.
    with pytest.raises(Conflict) as excinfo:
        async with db.transaction() as session:
            data = DecisionCreate.model_validate(DECISION)
            await create_decision(session, conference, data, actor=actor)
    assert excinfo.value.field == "number"
    # Unknown and malformed codes are not found alike.
    async with db.read() as session:
        for typed_code in ("ABCD-EFGH-JKMN", "abc", "Z" * 40):
            with pytest.raises(NotFound):
                await verify_award(session, typed_code)


async def test_a_bad_correction_changes_nothing(db: Database) -> None:
    conference, actor = await setup(db)
    async with db.transaction() as session:
        decision = await create_decision(
            session, conference, DecisionCreate.model_validate(DECISION), actor=actor
        )
        award = await add_award(session, conference, decision, AwardCreate(name="A"), actor=actor)
    with pytest.raises(InvalidInput) as excinfo:
        async with db.transaction() as session:
            await update_award(
                session, conference, award.public_id, AwardChange(site="XYZ"), actor=actor
            )
    assert excinfo.value.field == "site"
    with pytest.raises(NotFound):
        async with db.transaction() as session:
            await update_award(session, conference, "nope", AwardChange(name="X"), actor=actor)
    with pytest.raises(Forbidden):
        async with db.transaction() as session:
            chair = Actor(actor.principal, conference.id, frozenset({"chair"}))
            await update_award(
                session, conference, award.public_id, AwardChange(name="X"), actor=chair
            )
    async with db.read() as session:
        row = await session.get(Award, award.id)
        actions = list(await session.exec(select(AuditEntry.action)))
    assert row is not None and row.recipient_name == "A" and "award.update" not in actions
