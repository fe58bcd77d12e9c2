"""Validated input and serialised output of check-ins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, Field, StrictStr, WithJsonSchema
from typing_extensions import TypedDict

from attendance.figures import SiteFiguresData
from attendance.schemas import DelegateCard
from conference.schemas import Input, ShortText, SiteCode

Nonce = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]
CodeText = Annotated[StrictStr, Field(min_length=1, max_length=400)]
PublicId = Annotated[StrictStr, Field(min_length=1, max_length=64)]


class CheckinCreate(Input):
    """One scan: a badge's code, or a delegate picked from a search."""

    nonce: Nonce
    credential: CodeText | None = None
    delegate: PublicId | None = None
    site: SiteCode | None = None
    override: bool = False
    note: ShortText = ""


class BatchItem(Input):
    nonce: Nonce
    credential: CodeText | None = None
    delegate: PublicId | None = None
    happened_at: AwareDatetime


class CheckinBatch(Input):
    """Scans made while the phone was offline, with the times they happened at the door."""

    site: SiteCode | None = None
    items: Annotated[list[BatchItem], Field(min_length=1, max_length=500)]


class UndoInput(Input):
    reason: ShortText = ""


class ResolveInput(Input):
    keep: Literal["admitted", "conflicting"]
    note: ShortText = ""


class SelfCheckin(Input):
    """The site screen's code as the delegate's phone read it (none: site_code_required)."""

    code: Annotated[StrictStr, Field(max_length=400)] | None = None
    nonce: Nonce


class Present(BaseModel):
    site: str
    checked_in: int
    expected: int | None = None


class CheckinOut(BaseModel):
    id: str
    delegate: DelegateCard
    site: str
    at: datetime | None
    method: str
    offline: bool


class CheckinAnswer(BaseModel):
    outcome: Literal["ok"]
    checkin: CheckinOut
    present: Present


class BatchResult(BaseModel):
    nonce: str
    outcome: str
    code: str | None = None
    message: str = ""
    delegate: DelegateCard | None = None
    site: str | None = None
    at: datetime | None = None


class BatchAnswer(BaseModel):
    results: list[BatchResult]


class LedgerItem(BaseModel):
    id: str
    delegate: DelegateCard
    site: str
    at: datetime
    recorded_at: datetime
    action: str
    method: str
    outcome: str
    offline: bool
    by: str
    note: str


class LedgerList(BaseModel):
    items: list[LedgerItem]


class Totals(BaseModel):
    expected: int
    registered: int
    checked_in: int


class AttendanceOut(BaseModel):
    seq: int
    epoch: str
    sites: list[SiteFiguresData]
    total: Totals
    conflicts: int


class SiteCodeOut(BaseModel):
    code: str
    expires_at: datetime
    period: int


class KeysOut(BaseModel):
    keys: dict[str, str]


# The OpenAPI document describes these parts as open objects, as it always has.
_OPEN = WithJsonSchema({"additionalProperties": True, "type": "object"})


class PageConference(TypedDict):
    id: str
    title: str
    starts_on: str
    ends_on: str
    venue: str
    timezone: str


class PageCheckin(TypedDict):
    """Where and when the delegate was admitted."""

    at: str | None
    site: str
    site_name: str


class PageItem(TypedDict):
    """An agenda item as the personal page lists it."""

    id: str
    parent: str | None
    title: str
    kind: str
    planned_start: str | None
    duration_minutes: int
    presenter: str


class DelegatePage(BaseModel):
    """What a delegate's personal page shows."""

    delegate: DelegateCard
    conference: Annotated[PageConference, _OPEN, Field(title="Conference")]
    site: dict[str, str]
    credential: str
    checkin: Annotated[Annotated[PageCheckin, _OPEN] | None, Field(title="Checkin")]
    agenda: list[Annotated[PageItem, _OPEN]]
