"""Award decisions (quyết định) and the awards they grant."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel
from typing_extensions import TypedDict

from awards.codes import new_award_code
from conference.dbtypes import UTCDateTime, new_public_id, utcnow

# The kinds every conference has; a conference defines more (AwardKind).
AWARD_KINDS = ("emulation_flag", "certificate_of_merit", "certificate_of_recognition", "other")
# How a kind's documents are laid out: the certificate or the flag's award document.
LAYOUTS = ("certificate", "flag_award")
RECIPIENT_KINDS = ("unit", "person")


class Recipient(TypedDict):
    kind: str
    name: str
    title: str
    unit: str


class Decision(SQLModel, table=True):
    """A numbered decision; its number is unique per issuing body and never reused."""

    __tablename__ = "decision"
    __table_args__ = (UniqueConstraint("issuing_body", "number", name="uq_decision_number"),)

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(default_factory=new_public_id, unique=True, index=True, max_length=32)
    conference_id: int = Field(foreign_key="conference.id", index=True, ondelete="CASCADE")
    number: str = Field(max_length=64)
    issued_on: date
    issuing_body: str = Field(max_length=300)
    signer_name: str = Field(max_length=200)
    signer_title: str = Field(max_length=200)
    award_kind: str = Field(max_length=64)
    title: str = Field(default="", max_length=500)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)


class Award(SQLModel, table=True):
    __tablename__ = "award"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(default_factory=new_public_id, unique=True, index=True, max_length=32)
    decision_id: int = Field(foreign_key="decision.id", index=True, ondelete="CASCADE")
    position: int = Field(default=0)
    recipient_kind: str = Field(default="unit", max_length=16)
    recipient_name: str = Field(max_length=300)
    recipient_title: str = Field(default="", max_length=200)
    recipient_unit: str = Field(default="", max_length=300)
    site_id: int | None = Field(default=None, foreign_key="site.id", ondelete="SET NULL")
    citation: str = Field(default="", max_length=2000)
    verification_code: str = Field(default_factory=new_award_code, unique=True, max_length=32)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    revoked_reason: str = Field(default="", max_length=1000)
    revoked_by: str = Field(default="", max_length=200)
    # The document last rendered for the award: its SHA-256 and when (the code stays).
    document_sha256: str = Field(default="", max_length=64)
    rendered_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    # Called at the ceremony (the minutes list the awards given).
    announced_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)

    def recipient(self) -> Recipient:
        """Who the award is to, as its document and its verification page show them."""
        return {
            "kind": self.recipient_kind,
            "name": self.recipient_name,
            "title": self.recipient_title,
            "unit": self.recipient_unit,
        }


class AwardKind(SQLModel, table=True):
    """A kind of award a conference defines beside the built-in ones (Kỷ niệm chương, ...)."""

    __tablename__ = "award_kind"
    __table_args__ = (UniqueConstraint("conference_id", "key", name="uq_award_kind_key"),)

    id: int | None = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True, ondelete="CASCADE")
    key: str = Field(max_length=64)
    name: str = Field(max_length=200)
    # The heading its documents print ("KỶ NIỆM CHƯƠNG").
    label: str = Field(max_length=200)
    layout: str = Field(default="certificate", max_length=16)
    position: int = Field(default=0)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)


class AwardSettings(SQLModel, table=True):
    """What a conference's award documents print beside each decision: the place before
    the date, the heading lines at the top, the emblem."""

    __tablename__ = "award_settings"

    id: int | None = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", unique=True, ondelete="CASCADE")
    place: str = Field(default="", max_length=100)
    heading: str = Field(default="", max_length=500)
    emblem: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    emblem_type: str = Field(default="", max_length=32)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)


class AwardTemplate(SQLModel, table=True):
    """An organizer's replacement of one award template file, for one conference."""

    __tablename__ = "award_template"
    __table_args__ = (UniqueConstraint("conference_id", "name", name="uq_award_template_name"),)

    id: int | None = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    source: str = Field(sa_type=Text())
    updated_by: str = Field(default="", max_length=200)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
