"""Public verification of an award by the code printed on it: what it is, to whom, under
which decision, and whether it still stands (a revoked award says when and why).

Nothing else is revealed, and an unknown code says only that it is unknown.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from typing_extensions import TypedDict

from awards.codes import normalise_code
from awards.kinds import conference_kinds, kind_of
from awards.models import Award, Decision, Recipient
from conference.errors import NotFound
from conference.models import Conference


class DecisionNamed(TypedDict):
    number: str
    issued_on: str
    issuing_body: str
    signer_name: str
    signer_title: str
    title: str


class ConferenceNamed(TypedDict):
    title: str
    organizing_body: str


class AwardVerification(TypedDict):
    """What the code tells anyone; status: valid or revoked (times ISO 8601)."""

    code: str
    status: str
    valid: bool
    kind: str
    kind_label: str
    recipient: Recipient
    citation: str
    decision: DecisionNamed
    conference: ConferenceNamed
    timezone: str
    revoked_at: str | None
    revoked_reason: str
    document_sha256: str
    rendered_at: str | None


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def verify_award(session: AsyncSession, typed: str) -> AwardVerification:
    """The award printed with this code, valid or revoked; NotFound if none."""
    code = normalise_code(typed)
    unknown = NotFound("no award has this verification code", field="code")
    if code is None:
        raise unknown
    found = (
        await session.exec(
            select(Award, Decision, Conference)
            .join(Decision, col(Decision.id) == col(Award.decision_id))
            .join(Conference, col(Conference.id) == col(Decision.conference_id))
            .where(col(Award.verification_code) == code)
        )
    ).first()
    if found is None:
        raise unknown
    award, decision, conference = found
    revoked = award.revoked_at is not None
    kinds = await conference_kinds(session, conference.id)
    return {
        "code": code,
        "status": "revoked" if revoked else "valid",
        "valid": not revoked,
        "kind": decision.award_kind,
        "kind_label": kind_of(kinds, decision.award_kind).name,
        "recipient": award.recipient(),
        "citation": award.citation,
        "decision": {
            "number": decision.number,
            "issued_on": decision.issued_on.isoformat(),
            "issuing_body": decision.issuing_body,
            "signer_name": decision.signer_name,
            "signer_title": decision.signer_title,
            "title": decision.title,
        },
        "conference": {"title": conference.title, "organizing_body": conference.organizing_body},
        "timezone": conference.timezone,
        "revoked_at": _iso(award.revoked_at),
        "revoked_reason": award.revoked_reason,
        "document_sha256": award.document_sha256,
        "rendered_at": _iso(award.rendered_at),
    }
