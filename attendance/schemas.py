"""Validated input and serialised output of delegates."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, StrictStr

from attendance.models import Delegate
from conference.schemas import Email, Input, Name, Phone, SiteCode
from conference.text import clean_text

Category = Literal["official", "alternate", "guest", "staff"]
DelegateTitle = Annotated[StrictStr, AfterValidator(clean_text), Field(max_length=200)]
Unit = Annotated[StrictStr, AfterValidator(clean_text), Field(max_length=300)]


class DelegateCreate(Input):
    """A person expected at the conference, bound to the site they attend from."""

    name: Name
    title: DelegateTitle = ""
    unit: Unit = ""
    site: SiteCode
    category: Category = "official"
    phone: Phone = ""
    email: Email = ""


class DelegateOut(BaseModel):
    id: str
    name: str
    title: str
    unit: str
    site: str
    category: str
    phone: str
    email: str

    @classmethod
    def of(cls, delegate: Delegate, site_code: str) -> DelegateOut:
        return cls(
            id=delegate.public_id,
            name=delegate.full_name,
            title=delegate.title,
            unit=delegate.unit,
            site=site_code,
            category=delegate.category,
            phone=delegate.phone,
            email=delegate.email,
        )


def delegate_data(delegate: Delegate, site_code: str) -> dict[str, Any]:
    """The live-event form: no phone or email, since every subscriber receives it."""
    return DelegateOut.of(delegate, site_code).model_dump(mode="json", exclude={"phone", "email"})
