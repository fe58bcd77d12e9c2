"""Validated input and serialised output of conferences and sites.

The same models validate requests and generate the OpenAPI document.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationInfo,
    field_validator,
)

from conference.models import Conference, Site
from conference.rawjson import JsonObject
from conference.text import clean_text

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_RE = re.compile(r"^\+?[0-9][0-9 .()-]{5,30}$")
SITE_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")


def _nonempty(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


# Files in the zone database that are not zones of a place.
_NOT_ZONES = frozenset({"localtime", "posixrules", "Factory"})


@cache
def _zone_names() -> frozenset[str]:
    return frozenset(
        name
        for name in available_timezones()
        if name not in _NOT_ZONES and not name.startswith(("posix/", "right/"))
    )


def _timezone(value: str) -> str:
    # Only IANA names: "localtime" or "posixrules" would follow the server's own files.
    try:
        if value not in _zone_names():
            raise ValueError(value)
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name like Asia/Ho_Chi_Minh)"
        ) from None
    return value


def _email(value: str) -> str:
    if value and not EMAIL_RE.match(value):
        raise ValueError("not an email address")
    return value


def _phone(value: str) -> str:
    if value and not PHONE_RE.match(value):
        raise ValueError("not a phone number (digits, spaces, + . ( ) -)")
    return value


def _site_code(value: str) -> str:
    if not SITE_CODE_RE.match(value):
        raise ValueError("a site code is 1-32 letters, digits, . _ - (no spaces)")
    return value.upper()


# NFC, trimmed, no control characters: every text a person sends goes through this.
CLEAN = AfterValidator(clean_text)
Text = Annotated[StrictStr, CLEAN]
Title = Annotated[StrictStr, CLEAN, AfterValidator(_nonempty), Field(max_length=300)]
Name = Annotated[StrictStr, CLEAN, AfterValidator(_nonempty), Field(max_length=200)]
ShortText = Annotated[StrictStr, CLEAN, Field(max_length=300)]
LongText = Annotated[StrictStr, CLEAN, Field(max_length=4000)]
TimeZone = Annotated[StrictStr, CLEAN, AfterValidator(_timezone)]
Email = Annotated[StrictStr, CLEAN, AfterValidator(_email), Field(max_length=200)]
Phone = Annotated[StrictStr, CLEAN, AfterValidator(_phone), Field(max_length=40)]
SiteCode = Annotated[StrictStr, CLEAN, AfterValidator(_site_code)]
Count = Annotated[StrictInt, Field(ge=0, le=10_000_000)]


class Input(BaseModel):
    """Base of request bodies: unknown fields are refused."""

    model_config = ConfigDict(extra="forbid")

    def given(self) -> dict[str, object]:
        """Only the fields the client sent (for partial updates)."""
        return {key: getattr(self, key) for key in self.model_fields_set}


FIRST_YEAR, LAST_YEAR = 1900, 2199


def _year_in_range(day: date) -> date:
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"a date must be between the years {FIRST_YEAR} and {LAST_YEAR}")
    return day


Day = Annotated[date, AfterValidator(_year_in_range)]


def _check_dates(starts_on: date | None, ends_on: date | None) -> None:
    if starts_on is not None and ends_on is not None and ends_on < starts_on:
        raise ValueError("ends_on is before starts_on")


def _ends_after_start(value: date | None, info: ValidationInfo) -> date | None:
    # A field validator (not a model one) so that the error names ends_on.
    _check_dates(info.data.get("starts_on"), value)
    return value


def _not_null(value: Any) -> Any:
    # Runs only on the fields a client sent: an explicit null is refused by name.
    if value is None:
        raise ValueError("may not be null")
    return value


class ConferenceCreate(Input):
    title: Title
    starts_on: Day
    ends_on: Day
    timezone: TimeZone = "Asia/Ho_Chi_Minh"
    venue: ShortText = ""
    description: LongText = ""
    organizing_body: ShortText = ""
    public: StrictBool = False
    cross_site_checkin: StrictBool = False

    _dates = field_validator("ends_on")(_ends_after_start)


class ConferenceUpdate(Input):
    title: Title | None = None
    starts_on: Day | None = None
    ends_on: Day | None = None
    timezone: TimeZone | None = None
    venue: ShortText | None = None
    description: LongText | None = None
    organizing_body: ShortText | None = None
    public: StrictBool | None = None
    cross_site_checkin: StrictBool | None = None

    _no_nulls = field_validator("*", mode="before")(_not_null)
    _dates = field_validator("ends_on")(_ends_after_start)


SiteKind = Literal["main", "remote"]


class SiteCreate(Input):
    code: SiteCode
    name: Name
    region: Annotated[StrictStr, CLEAN, Field(max_length=100)] = ""
    kind: SiteKind = "remote"
    expected_attendance: Count = 0
    contact_name: Annotated[StrictStr, CLEAN, Field(max_length=200)] = ""
    contact_phone: Phone = ""
    contact_email: Email = ""
    position: Annotated[StrictInt, Field(ge=0, le=1_000_000)] | None = None


class SiteUpdate(Input):
    code: SiteCode | None = None
    name: Name | None = None
    region: Annotated[StrictStr, CLEAN, Field(max_length=100)] | None = None
    kind: SiteKind | None = None
    expected_attendance: Count | None = None
    contact_name: Annotated[StrictStr, CLEAN, Field(max_length=200)] | None = None
    contact_phone: Phone | None = None
    contact_email: Email | None = None
    position: Annotated[StrictInt, Field(ge=0, le=1_000_000)] | None = None

    _no_nulls = field_validator("*", mode="before")(_not_null)


class RowOut(BaseModel):
    """Base of answers that show one row: a field named as an attribute of the row reads it."""

    @classmethod
    def from_row(cls, row: object, **given: Any) -> Self:
        """The answer for row: given's values, and the row's same-named attributes for the rest."""
        values = {name: getattr(row, name) for name in cls.model_fields if name not in given}
        return cls(**values, **given)


class ConferenceData(RowOut):
    """A conference as its live events carry it (a seq in an event would be stale)."""

    id: str
    title: str
    starts_on: Day
    ends_on: Day
    timezone: str
    venue: str
    description: str
    organizing_body: str
    public: bool
    cross_site_checkin: bool
    epoch: str
    created_at: datetime
    updated_at: datetime


class ConferenceOut(ConferenceData):
    seq: int

    @classmethod
    def of(cls, conference: Conference) -> ConferenceOut:
        return cls.from_row(conference, id=conference.public_id, seq=conference.last_seq)


class SiteOut(RowOut):
    id: str
    code: str
    name: str
    region: str
    kind: str
    expected_attendance: int
    # None for callers who may not see a site's contact person (viewers, delegates).
    contact_name: str | None
    contact_phone: str | None
    contact_email: str | None
    position: int

    @classmethod
    def of(cls, site: Site, *, contacts: bool = True) -> SiteOut:
        hidden = {} if contacts else dict.fromkeys(CONTACT_FIELDS)
        return cls.from_row(site, id=site.public_id, **hidden)


def conference_data(conference: Conference) -> JsonObject:
    """ConferenceOut's JSON form, used in live events and snapshots."""
    # seq in an event payload would be stale by the time it is read.
    return ConferenceOut.of(conference).model_dump(mode="json", exclude={"seq"})


def site_data(site: Site, *, contacts: bool = True) -> JsonObject:
    """SiteOut's JSON form, used in live events and snapshots."""
    return SiteOut.of(site, contacts=contacts).model_dump(mode="json")


CONTACT_FIELDS = ("contact_name", "contact_phone", "contact_email")
