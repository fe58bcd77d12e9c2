"""Attendance's live events: delegates and the check-in ledger (people's records)."""

from __future__ import annotations

from typing import NotRequired

from typing_extensions import TypedDict

from attendance.schemas import DelegateCard
from conference.catalogue import Audience, EventType


class DelegateChanged(DelegateCard):
    #: the site they left, when they were moved (absent otherwise).
    from_site: str = ""


class DelegateRef(TypedDict):
    id: str
    site: str


class DelegatesImported(TypedDict):
    count: int
    sites: list[str]


class SiteCount(TypedDict):
    """A site's admissions after the change (expected: its expected attendance)."""

    site: str
    checked_in: int
    expected: NotRequired[int]


class Admission(TypedDict):
    """site: the delegate's own site; at_site: where they were admitted."""

    delegate: DelegateCard
    site: str
    at_site: str
    at: str
    method: str
    offline: bool
    present: SiteCount


class AdmissionConflict(Admission):
    #: the site that scanned them after they were admitted elsewhere.
    other_site: str


class ConflictResolved(TypedDict):
    id: str
    site: str


class AdmissionUndone(TypedDict):
    delegate: DelegateCard
    site: str
    at_site: str
    present: SiteCount


DELEGATE_CREATED = EventType(
    "delegate/created", Audience.PEOPLE, DelegateCard, "a delegate was added"
)
DELEGATE_UPDATED = EventType(
    "delegate/updated",
    Audience.PEOPLE,
    DelegateChanged,
    "a delegate's record changed (from_site: the site they left, when moved)",
)
DELEGATE_REMOVED = EventType(
    "delegate/removed", Audience.PEOPLE, DelegateRef, "a delegate was removed"
)
DELEGATE_REISSUED = EventType(
    "delegate/reissued",
    Audience.PEOPLE,
    DelegateRef,
    "a delegate's credential was reissued: the old badge and link no longer work",
)
DELEGATES_IMPORTED = EventType(
    "delegates/imported",
    Audience.EVERYONE,
    DelegatesImported,
    "delegates were imported from a spreadsheet: how many, at which sites",
)
CHECKED_IN = EventType(
    "delegate/checked_in",
    Audience.PEOPLE,
    Admission,
    "a delegate was admitted at a site (present: that site's new count)",
)
CHECKIN_CONFLICT = EventType(
    "delegate/checkin_conflict",
    Audience.PEOPLE,
    AdmissionConflict,
    "a delegate was scanned at a second site; the first admission stands until resolved",
)
CHECKIN_CONFLICT_RESOLVED = EventType(
    "delegate/checkin_conflict_resolved",
    Audience.PEOPLE,
    ConflictResolved,
    "a check-in conflict was resolved",
)
CHECKIN_UNDONE = EventType(
    "delegate/checkin_undone",
    Audience.PEOPLE,
    AdmissionUndone,
    "an admission was undone (present: that site's new count)",
)

EVENTS = (
    DELEGATE_CREATED,
    DELEGATE_UPDATED,
    DELEGATE_REMOVED,
    DELEGATE_REISSUED,
    DELEGATES_IMPORTED,
    CHECKED_IN,
    CHECKIN_CONFLICT,
    CHECKIN_CONFLICT_RESOLVED,
    CHECKIN_UNDONE,
)
