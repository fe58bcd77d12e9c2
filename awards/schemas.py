"""Validated input and serialised output of decisions and awards."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BeforeValidator,
    Field,
    StrictStr,
    field_validator,
)

from awards.codes import normalise_code
from awards.models import Award, Decision
from conference.rawjson import JsonObject
from conference.schemas import CLEAN, Input, Name, RowOut, SiteCode, Title, _not_null
from conference.text import clean_text

# Kept equal to awards.models.RECIPIENT_KINDS and LAYOUTS (a test checks it).
RecipientKind = Literal["unit", "person"]
Layout = Literal["certificate", "flag_award"]
KIND_KEY = re.compile(r"[a-z][a-z0-9_]{1,63}")


def _kind_key(value: str) -> str:
    if not KIND_KEY.fullmatch(value):
        raise ValueError(
            "a kind's key is 2-64 lower-case letters, digits or _ (ky_niem_chuong), "
            "starting with a letter"
        )
    return value


# Built-in (awards.models.AWARD_KINDS) or one the conference defines (checked by the service).
KindKey = Annotated[StrictStr, AfterValidator(_kind_key)]


def _number_as_text(value: Any) -> Any:
    # `number: 125` in YAML is an integer, but decision numbers are text (125-QĐ/VPTW).
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _nonempty(value: str) -> str:
    if not value:
        raise ValueError("must not be empty")
    return value


DecisionNumber = Annotated[
    StrictStr,
    BeforeValidator(_number_as_text),
    AfterValidator(clean_text),
    AfterValidator(_nonempty),
    Field(max_length=64),
]


class DecisionCreate(Input):
    """A numbered decision (quyết định); the number is unique per issuing body."""

    number: DecisionNumber
    issued_on: date
    issuing_body: Title
    signer_name: Name
    signer_title: Name
    award_kind: KindKey
    title: Annotated[StrictStr, AfterValidator(clean_text), Field(max_length=500)] = ""


class AwardCreate(Input):
    """One recipient of a decision: a unit (an office) or a person."""

    recipient_kind: RecipientKind = "unit"
    name: Title
    title: Annotated[StrictStr, AfterValidator(clean_text), Field(max_length=200)] = ""
    unit: Annotated[StrictStr, AfterValidator(clean_text), Field(max_length=300)] = ""
    site: SiteCode | None = None
    citation: Annotated[StrictStr, AfterValidator(clean_text), Field(max_length=2000)] = ""


class AwardChange(Input):
    """A correction of a recipient (the verification code stays)."""

    recipient_kind: RecipientKind | None = None
    name: Title | None = None
    title: Annotated[StrictStr, AfterValidator(clean_text), Field(max_length=200)] | None = None
    unit: Annotated[StrictStr, AfterValidator(clean_text), Field(max_length=300)] | None = None
    site: SiteCode | None = None
    citation: Annotated[StrictStr, AfterValidator(clean_text), Field(max_length=2000)] | None = None


class Revocation(Input):
    """Why an award is revoked (shown on its verification page)."""

    reason: Annotated[
        StrictStr, AfterValidator(clean_text), AfterValidator(_nonempty), Field(max_length=1000)
    ]


class KindCreate(Input):
    """A kind of award the conference's decisions may grant, beside the built-in ones."""

    key: KindKey
    name: Name
    # The heading its documents print; empty: the name in capitals.
    label: Annotated[StrictStr, AfterValidator(clean_text), Field(max_length=200)] = ""
    layout: Layout = "certificate"


class KindChange(Input):
    """A new name, printed heading or layout for a kind the conference defined."""

    name: Name | None = None
    label: Annotated[StrictStr, AfterValidator(clean_text), AfterValidator(_nonempty),
                     Field(max_length=200)] | None = None  # fmt: skip
    layout: Layout | None = None

    # Runs only on the fields a client sent: an explicit null is refused by name.
    _no_nulls = field_validator("*", mode="before")(_not_null)


def _heading_lines(value: str) -> str:
    lines = [clean_text(line) for line in value.replace("\r\n", "\n").split("\n")]
    lines = [line for line in lines if line]
    if len(lines) > 4:
        raise ValueError("at most 4 lines")
    return "\n".join(lines)


class DocumentSettings(Input):
    """What every award document of the conference prints beside its decision."""

    # "Hà Nội": printed before the decision's date ("Hà Nội, ngày 15 tháng 12 năm 2026").
    place: Annotated[StrictStr, AfterValidator(clean_text), Field(max_length=100)] = ""
    # The lines at the top (ĐẢNG CỘNG SẢN VIỆT NAM); empty: the organizing body.
    heading: Annotated[StrictStr, AfterValidator(_heading_lines), Field(max_length=500)] = ""


class DocumentSettingsOut(DocumentSettings):
    emblem: bool
    emblem_type: str
    templates: list[str]
    # Where the QR codes printed now point (add the code), and whether that address is
    # the configured PLENARY_PUBLIC_URL (else the one this request came to).
    verify_base: str = ""
    public_url_set: bool = False


def _code(value: str) -> str:
    code = normalise_code(value)
    if code is None:
        raise ValueError("a verification code is 12 letters and digits (7KQ4-M2XD-9F3B)")
    return code


class AwardRecord(AwardCreate):
    """An award as a conference file keeps it, revocation and printed code included."""

    revoked_at: AwareDatetime | None = None
    revoked_reason: Annotated[StrictStr, CLEAN, Field(max_length=1000)] = ""
    # The code printed on its document: kept when a conference moves to another server.
    code: Annotated[StrictStr, AfterValidator(_code)] | None = None


class DocumentsRecord(DocumentSettings):
    """The award documents' settings as a conference file keeps them."""

    # The uploaded emblem as a data: URI (data:image/png;base64,...).
    emblem: Annotated[StrictStr, Field(max_length=8_000_000)] = ""
    # Replaced template files: file name (certificate.html) -> source.
    templates: dict[StrictStr, StrictStr] = Field(default_factory=dict)


class DecisionWithAwards(DecisionCreate):
    """A decision with its recipients, in order (as a conference file lists them)."""

    awards: list[AwardRecord] = Field(default_factory=list)


class DecisionOut(RowOut):
    id: str
    number: str
    issued_on: date
    issuing_body: str
    signer_name: str
    signer_title: str
    award_kind: str
    title: str

    @classmethod
    def of(cls, decision: Decision) -> DecisionOut:
        return cls.from_row(decision, id=decision.public_id)


class AwardOut(RowOut):
    id: str
    decision: str
    position: int
    recipient_kind: str
    name: str
    title: str
    unit: str
    site: str | None
    citation: str
    revoked: bool
    revoked_at: AwareDatetime | None = None
    revoked_reason: str = ""
    code: str = ""
    document_sha256: str = ""
    rendered_at: AwareDatetime | None = None

    @classmethod
    def of(cls, award: Award, *, decision: Decision, site_code: str | None) -> AwardOut:
        return cls.from_row(
            award,
            id=award.public_id,
            decision=decision.public_id,
            name=award.recipient_name,
            title=award.recipient_title,
            unit=award.recipient_unit,
            site=site_code,
            revoked=award.revoked_at is not None,
            code=award.verification_code,
        )


def decision_data(decision: Decision) -> JsonObject:
    """DecisionOut as JSON: an event's data."""
    return DecisionOut.of(decision).model_dump(mode="json")


def award_data(award: Award, *, decision: Decision, site_code: str | None) -> JsonObject:
    """AwardOut as JSON: an event's data."""
    return AwardOut.of(award, decision=decision, site_code=site_code).model_dump(mode="json")
