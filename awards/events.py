"""Awards' live events: the staff's until the ceremony announces an award (awards/announced)."""

from __future__ import annotations

from typing_extensions import TypedDict

from awards.schemas import AwardOut, DecisionOut
from conference.catalogue import Audience, EventType


class AwardRevoked(TypedDict):
    """decision: the decision's public id; at: when it was revoked."""

    id: str
    decision: str
    at: str


class AwardsImported(TypedDict):
    """positions: the first and last position of the recipients added."""

    decision: str
    count: int
    positions: list[int]


DECISION_CREATED = EventType(
    "decision/created", Audience.STAFF, DecisionOut, "an award decision was recorded"
)
AWARD_CREATED = EventType(
    "award/created", Audience.STAFF, AwardOut, "a recipient was added to a decision"
)
AWARD_UPDATED = EventType("award/updated", Audience.STAFF, AwardOut, "an award changed")
AWARD_REVOKED = EventType(
    "award/revoked",
    Audience.STAFF,
    AwardRevoked,
    "an award was revoked: its documents no longer verify",
)
AWARDS_IMPORTED = EventType(
    "award/imported",
    Audience.STAFF,
    AwardsImported,
    "recipients were imported into a decision from a spreadsheet",
)

EVENTS = (DECISION_CREATED, AWARD_CREATED, AWARD_UPDATED, AWARD_REVOKED, AWARDS_IMPORTED)
