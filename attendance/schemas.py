"""Validated input and serialised output of delegates."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, StrictStr, field_validator

from attendance.models import Delegate
from conference.schemas import CLEAN, Email, Input, Name, Phone, RowOut, SiteCode
from conference.tables import TableReport
from conference.text import clean_text, fold

Category = Literal["official", "alternate", "guest", "staff"]
DelegateTitle = Annotated[StrictStr, AfterValidator(clean_text), Field(max_length=200)]
Unit = Annotated[StrictStr, AfterValidator(clean_text), Field(max_length=300)]
MAX_PAGE = 1000


def _not_null(value: Any) -> Any:
    # Runs only on the fields a client sent: an explicit null is refused by name.
    if value is None:
        raise ValueError("may not be null")
    return value


def delegate_key(site_code: str, name: str) -> tuple[str, str]:
    """Two delegates with the same key are taken to be the same person."""
    return site_code.upper(), fold(name)


class DelegateCreate(Input):
    """A person expected at the conference, bound to the site they attend from."""

    name: Name
    title: DelegateTitle = ""
    unit: Unit = ""
    site: SiteCode
    category: Category = "official"
    phone: Phone = ""
    email: Email = ""


class DelegateUpdate(Input):
    """Changes to a delegate: only the fields sent, none of them null."""

    name: Name | None = None
    title: DelegateTitle | None = None
    unit: Unit | None = None
    site: SiteCode | None = None
    category: Category | None = None
    phone: Phone | None = None
    email: Email | None = None

    _no_nulls = field_validator("*", mode="before")(_not_null)


class DelegateQuery(Input):
    """Query string of the delegate list (strings are converted: it comes from a URL)."""

    q: Annotated[StrictStr, CLEAN, Field(max_length=200)] = ""
    site: SiteCode | None = None
    category: Category | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE)] = 100
    offset: Annotated[int, Field(ge=0, le=10_000_000)] = 0


# A delegate as check-in and the live events show them: no phone or email (site: their
# site's code).
class DelegateCard(RowOut):
    id: str
    name: str
    title: str
    unit: str
    site: str
    category: str


class DelegateOut(DelegateCard):
    # None for callers who may not see a person's phone and email.
    phone: str | None
    email: str | None
    # When they were admitted (None: not checked in).
    checked_in_at: datetime | None = None

    @classmethod
    def of(cls, delegate: Delegate, site_code: str, *, contacts: bool = True) -> DelegateOut:
        return cls.from_row(
            delegate,
            id=delegate.public_id,
            name=delegate.full_name,
            site=site_code,
            phone=delegate.phone if contacts else None,
            email=delegate.email if contacts else None,
        )


class DelegateList(BaseModel):
    items: list[DelegateOut]
    total: int
    limit: int
    offset: int


def delegate_data(delegate: Delegate, site_code: str) -> dict[str, Any]:
    """The live-event form: no phone or email, since every subscriber receives it."""
    return DelegateOut.of(delegate, site_code).model_dump(
        mode="json", exclude={"phone", "email", "checked_in_at"}
    )


# The shared report, under the name the API document has always given the delegates' one.
class ImportReport(TableReport):
    """What an import found in a file, and what it imported."""
