"""Use cases for award decisions and the awards they grant."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from awards.events import AWARD_CREATED, AWARD_REVOKED, AWARD_UPDATED, DECISION_CREATED
from awards.kinds import require_kind
from awards.models import Award, Decision
from awards.schemas import (
    AwardChange,
    AwardCreate,
    DecisionCreate,
    DecisionWithAwards,
    award_data,
    decision_data,
)
from conference.actors import Actor
from conference.audit import record
from conference.dbtypes import utcnow
from conference.errors import Conflict, InvalidInput, NotFound
from conference.live import append_event, lock_conference
from conference.models import Conference, Site
from conference.queries import conference_row, flushed_or
from conference.services import named_site

_DECISION_FIELDS = set(DecisionCreate.model_fields)
# Who reads the decisions and awards of a conference (verification is public).
READ_ROLES = ("organizer", "chair", "secretary")


def new_decision(conference_id: int, data: DecisionCreate) -> Decision:
    """The row for data (no checks, no audit, no event: the callers do those)."""
    # data may be a DecisionWithAwards: only the decision's own fields make the row.
    return Decision(conference_id=conference_id, **data.model_dump(include=_DECISION_FIELDS))


def new_award(decision_id: int, data: AwardCreate, *, site_id: int | None, position: int) -> Award:
    """The row for data (no checks, no audit, no event: the callers do those)."""
    return Award(
        decision_id=decision_id,
        position=position,
        recipient_kind=data.recipient_kind,
        recipient_name=data.name,
        recipient_title=data.title,
        recipient_unit=data.unit,
        site_id=site_id,
        citation=data.citation,
    )


async def used_decision_numbers(
    session: AsyncSession, keys: Iterable[tuple[str, str]]
) -> set[tuple[str, str]]:
    """Those (issuing_body, number) pairs some decision already carries, in any conference."""
    wanted = set(keys)
    if not wanted:
        return set()
    rows = await session.exec(
        select(Decision.issuing_body, Decision.number).where(
            col(Decision.number).in_({number for _, number in wanted})
        )
    )
    return {(body, number) for body, number in rows if (body, number) in wanted}


async def used_codes(session: AsyncSession, codes: Iterable[str]) -> set[str]:
    """Those verification codes some award already carries, in any conference."""
    wanted = set(codes)
    if not wanted:
        return set()
    rows = await session.exec(
        select(Award.verification_code).where(col(Award.verification_code).in_(wanted))
    )
    return set(rows.all())


async def add_decisions(session: AsyncSession, decisions: Sequence[Decision]) -> None:
    """Add and flush decisions; a number taken meanwhile by another transaction: Conflict."""
    async with flushed_or(session, Conflict("a decision number is already used", field="number")):
        session.add_all(decisions)


async def create_decision(
    session: AsyncSession, conference: Conference, data: DecisionCreate, *, actor: Actor
) -> Decision:
    """Record a decision; a number is never reused by the same issuing body."""
    actor.require("organizer")
    assert conference.id is not None
    # A kind removed meanwhile (kinds.delete_kind takes the same lock) is not granted.
    await lock_conference(session, conference.id)
    await require_kind(session, conference.id, data.award_kind)
    if await used_decision_numbers(session, [(data.issuing_body, data.number)]):
        raise Conflict(
            f"decision {data.number} of {data.issuing_body} already exists "
            "(decision numbers are never reused)",
            field="number",
        )
    decision = new_decision(conference.id, data)
    await add_decisions(session, [decision])
    await record(
        session, actor, "decision.create", "decision", decision.public_id, data.model_dump()
    )
    await append_event(session, conference.id, DECISION_CREATED, decision_data(decision))
    return decision


async def add_award(
    session: AsyncSession,
    conference: Conference,
    decision: Decision,
    data: AwardCreate,
    *,
    actor: Actor,
) -> Award:
    """Name one more recipient of decision (appended after the others)."""
    actor.require("organizer")
    assert conference.id is not None and decision.id is not None
    # Positions and the checks below are decided under the conference's lock.
    await lock_conference(session, conference.id)
    if decision.conference_id != conference.id:
        raise InvalidInput("the decision belongs to another conference", field="decision")
    site = await named_site(session, conference.id, data.site)
    highest = await session.exec(
        select(func.max(Award.position)).where(col(Award.decision_id) == decision.id)
    )
    award = new_award(
        decision.id,
        data,
        site_id=site.id if site is not None else None,
        position=(highest.one() or 0) + 1,
    )
    session.add(award)
    await session.flush()
    await record(
        session,
        actor,
        "award.create",
        "award",
        award.public_id,
        {"decision": decision.number, **data.model_dump()},
    )
    site_code = site.code if site is not None else None
    await append_event(
        session,
        conference.id,
        AWARD_CREATED,
        award_data(award, decision=decision, site_code=site_code),
    )
    return award


async def insert_decisions(
    session: AsyncSession,
    conference_id: int,
    site_ids: Mapping[str, int],
    entries: Sequence[DecisionWithAwards],
) -> None:
    """Checked decisions and their awards, without per-row audit or events."""
    decisions = [new_decision(conference_id, entry) for entry in entries]
    await add_decisions(session, decisions)
    awards: list[Award] = []
    for decision, entry in zip(decisions, entries, strict=True):
        assert decision.id is not None
        for i, given in enumerate(entry.awards):
            site_id = site_ids[given.site] if given.site else None
            award = new_award(decision.id, given, site_id=site_id, position=i + 1)
            award.revoked_at = given.revoked_at
            award.revoked_reason = given.revoked_reason
            if given.code is not None:
                award.verification_code = given.code
            awards.append(award)
    # Checked before; only a code taken meanwhile by another transaction gets here.
    async with flushed_or(
        session, Conflict("a verification code is already another award's", field="code")
    ):
        session.add_all(awards)


# --- reading ------------------------------------------------------------------------------


async def list_decisions(
    session: AsyncSession, conference: Conference, *, actor: Actor
) -> list[tuple[Decision, list[Award]]]:
    """Every decision of the conference with its awards, in order (organizers, chair,
    secretary)."""
    actor.require(*READ_ROLES)
    return await decisions_with_awards(session, conference.id)


async def decisions_with_awards(
    session: AsyncSession, conference_id: int | None
) -> list[tuple[Decision, list[Award]]]:
    """Every decision of the conference with its awards, in order (no access check)."""
    decisions = list(
        await session.exec(
            select(Decision)
            .where(col(Decision.conference_id) == conference_id)
            .order_by(col(Decision.issued_on), col(Decision.id))
        )
    )
    awards: dict[int, list[Award]] = {}
    if decisions:
        rows = await session.exec(
            select(Award)
            .where(col(Award.decision_id).in_([d.id for d in decisions]))
            .order_by(col(Award.position), col(Award.id))
        )
        for award in rows:
            awards.setdefault(award.decision_id, []).append(award)
    return [(d, awards.get(d.id or 0, [])) for d in decisions]


async def get_decision(session: AsyncSession, conference: Conference, public_id: str) -> Decision:
    found = await conference_row(session, Decision, conference.id, public_id=public_id)
    if found is None:
        raise NotFound("no such decision in this conference", field="decision")
    return found


async def get_award(
    session: AsyncSession, conference: Conference, public_id: str
) -> tuple[Award, Decision]:
    found = (
        await session.exec(
            select(Award, Decision)
            .join(Decision, col(Decision.id) == col(Award.decision_id))
            .where(col(Decision.conference_id) == conference.id, col(Award.public_id) == public_id)
            .execution_options(populate_existing=True)
        )
    ).first()
    if found is None:
        raise NotFound("no such award in this conference", field="award")
    return found[0], found[1]


# --- corrections and revocation ------------------------------------------------------------


async def update_award(
    session: AsyncSession,
    conference: Conference,
    public_id: str,
    data: AwardChange,
    *,
    actor: Actor,
) -> tuple[Award, Decision, str | None]:
    """Correct a recipient; the verification code stays (the next rendering prints the
    correction under the same code). A revoked award is not corrected."""
    actor.require("organizer")
    assert conference.id is not None
    await lock_conference(session, conference.id)
    award, decision = await get_award(session, conference, public_id)
    if award.revoked_at is not None:
        raise Conflict("this award is revoked: it is no longer changed", field="award")
    changes = data.model_dump(exclude_unset=True)
    site_code: str | None = None
    if "site" in changes:
        site = await named_site(session, conference.id, changes["site"])
        award.site_id = site.id if site is not None else None
    columns = {"name": "recipient_name", "title": "recipient_title", "unit": "recipient_unit"}
    before = {}
    for name, value in changes.items():
        if name == "site" or value is None:
            continue
        column = columns.get(name, name)
        before[name] = getattr(award, column)
        setattr(award, column, value)
    award.updated_at = utcnow()
    session.add(award)
    await session.flush()
    if award.site_id is not None:
        site_row = await session.get(Site, award.site_id)
        site_code = site_row.code if site_row is not None else None
    await record(
        session,
        actor,
        "award.update",
        "award",
        award.public_id,
        {k: [before.get(k), v] for k, v in changes.items()},
    )
    await append_event(
        session,
        conference.id,
        AWARD_UPDATED,
        award_data(award, decision=decision, site_code=site_code),
    )
    return award, decision, site_code


async def revoke_award(
    session: AsyncSession, conference: Conference, public_id: str, reason: str, *, actor: Actor
) -> tuple[Award, Decision]:
    """Revoke an award with a reason: its verification says so from now on."""
    actor.require("organizer")
    assert conference.id is not None
    await lock_conference(session, conference.id)
    award, decision = await get_award(session, conference, public_id)
    if award.revoked_at is not None:
        raise Conflict("this award is revoked already", field="award")
    award.revoked_at = utcnow()
    award.revoked_reason = reason
    award.revoked_by = actor.name[:200]
    award.updated_at = award.revoked_at
    session.add(award)
    await session.flush()
    await record(
        session,
        actor,
        "award.revoke",
        "award",
        award.public_id,
        {"decision": decision.number, "reason": reason},
    )
    await append_event(
        session,
        conference.id,
        AWARD_REVOKED,
        {"id": award.public_id, "decision": decision.public_id, "at": award.revoked_at.isoformat()},
    )
    return award, decision
