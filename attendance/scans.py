"""What a scan is and what it did: the scan, its outcome, the delegate as check-in reads
and shows them, a site's figures, and the data of the check-in events. The steps that
decide and write are in :mod:`attendance.checkin`."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlmodel import col
from sqlmodel import select as orm_select
from sqlmodel.ext.asyncio.session import AsyncSession
from typing_extensions import TypedDict

from attendance.events import SiteCount
from attendance.models import Delegate
from conference.errors import Conflict, InvalidInput, NotFound, PlenaryError
from conference.models import Site

ALREADY = "already_checked_in"
OTHER_SITE = "delegate_other_site"
SCAN_TIME = "scan_time_invalid"
NONCE_REUSED = "nonce_reused"
NONCE = re.compile(r"[A-Za-z0-9_-]{8,64}")
# Offline scans may carry times from the door; not from the future, nor from long ago.
CLOCK_SLACK = timedelta(minutes=5)
OFFLINE_MAX_AGE = timedelta(days=7)


class NoCount(TypedDict):
    """An outcome's count before the admission fills it (and a refused scan's): {}."""


MAX_BATCH = 500


@dataclass(slots=True)
class DelegateRow:
    """The columns of a delegate that check-in reads and answers with."""

    id: int
    public_id: str
    conference_id: int
    site_id: int
    full_name: str
    title: str
    unit: str
    category: str
    credential_version: int
    checked_in_at: datetime | None
    checkin_site_id: int | None


class AlreadyCheckedIn(Conflict):
    code = ALREADY


class CheckinRefused(InvalidInput):
    """A scan that admits nobody (delegate of another site, bad nonce)."""


@dataclass(frozen=True)
class Scan:
    """One scan at the door: a badge's credential or a delegate picked by name."""

    nonce: str
    credential: str | None = None
    delegate_id: str | None = None
    # When it happened (offline uploads); None means now.
    happened_at: datetime | None = None


@dataclass
class Outcome:
    """What one scan did."""

    nonce: str
    outcome: str  # ok | already_checked_in | conflict | refused
    code: str = ""
    message: str = ""
    delegate: DelegateRow | None = None
    delegate_site: str = ""
    site: str = ""
    site_name: str = ""
    at: datetime | None = None
    method: str = ""
    offline: bool = False
    replayed: bool = False
    checkin_id: str = ""
    # The site the ledger row was made at (replays are only for the same site).
    row_site_id: int | None = None
    # Whom a refused scan named, when that is known (the audit of offline refusals).
    target: str = ""
    # The admission time in the conference's time zone, for messages.
    local_at: str = ""
    present: SiteCount | NoCount = field(default_factory=lambda: NoCount())

    def error(self) -> PlenaryError | None:
        """The error this outcome answers with (None for ok)."""
        if self.outcome == "ok":
            return None
        if self.outcome in (ALREADY, "conflict"):
            when = self.local_at or (f"{self.at:%H:%M} UTC" if self.at else "")
            return AlreadyCheckedIn(
                f"already checked in at {self.site_name or self.site} {when}".strip(),
                details={"site": self.site, "site_name": self.site_name, "at": iso(self.at)},
            )
        if self.code == "not_found":
            return NotFound(self.message, field="delegate")
        return CheckinRefused(self.message, code=self.code)


def iso(at: datetime | None) -> str | None:
    return at.isoformat() if at is not None else None


async def checked_in_at(session: AsyncSession, site_id: int) -> int:
    """How many people are checked in at a site (a site belongs to one conference)."""
    # Only checkin_site_id: the count is then read from ix_delegate_checkin_site
    # alone, without visiting the delegate rows.
    result = await session.exec(
        orm_select(func.count())
        .select_from(Delegate)
        .where(col(Delegate.checkin_site_id) == site_id)
    )
    return int(result.one())


async def expected_at(session: AsyncSession, site: Site) -> int:
    """The site's expected attendance, or the delegates registered there when unset."""
    if site.expected_attendance > 0:
        return site.expected_attendance
    result = await session.exec(
        orm_select(func.count())
        .select_from(Delegate)
        .where(col(Delegate.conference_id) == site.conference_id)
        .where(col(Delegate.site_id) == site.id)
    )
    return int(result.one())


def delegate_card(delegate: Delegate | DelegateRow, site_code: str) -> dict[str, str]:
    """The delegate as check-in answers and events show them: the fields of
    attendance.schemas.DelegateCard."""
    return {
        "id": delegate.public_id,
        "name": delegate.full_name,
        "title": delegate.title,
        "unit": delegate.unit,
        "site": site_code,
        "category": delegate.category,
    }


def event_data(outcome: Outcome) -> dict[str, Any]:
    """The data of delegate/checked_in (attendance.events.Admission; with other_site, of a
    conflict)."""
    assert outcome.delegate is not None and outcome.at is not None
    return {
        "delegate": delegate_card(outcome.delegate, outcome.delegate_site),
        "site": outcome.delegate_site,
        "at_site": outcome.site,
        "at": outcome.at.isoformat(),
        "method": outcome.method,
        "offline": outcome.offline,
        # Filled by the admission with the site's new count (attendance.checkin._present).
        "present": outcome.present,
    }


def server_nonce() -> str:
    return "srv_" + secrets.token_urlsafe(16)
