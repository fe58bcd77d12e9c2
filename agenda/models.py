"""Agenda items (optionally nested), the live state of the agenda, speaker lists,
site presence and roll calls of sites."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from conference.dbtypes import UTCDateTime, new_public_id, utcnow

ITEM_KINDS = (
    "opening",
    "report",
    "speech",
    "discussion",
    "directive_speech",
    "awards",
    "campaign_launch",
    "break",
    "closing",
    "session",
    "other",
)
# planned -> running -> done; planned -> skipped; "back" reopens an item.
ITEM_STATUSES = ("planned", "running", "done", "skipped")
# request: asked from the floor (a phone, an operator); registered: a planned speech
# (tham luận), queued in its planned order; point_of_order: goes ahead of the others.
SPEAKER_KINDS = ("request", "registered", "point_of_order")
# requested -> queued (approved) -> speaking -> done; requested -> rejected;
# requested | queued -> withdrawn.
SPEAKER_STATUSES = ("requested", "queued", "speaking", "done", "rejected", "withdrawn")


def _ts(nullable: bool = False, **kw: Any) -> Any:
    return Field(sa_type=UTCDateTime(), nullable=nullable, **kw)


class AgendaItem(SQLModel, table=True):
    __tablename__ = "agenda_item"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(default_factory=new_public_id, unique=True, index=True, max_length=32)
    conference_id: int = Field(foreign_key="conference.id", index=True, ondelete="CASCADE")
    parent_id: int | None = Field(default=None, foreign_key="agenda_item.id", ondelete="CASCADE")
    position: int = Field(default=0)
    kind: str = Field(default="other", max_length=32)
    title: str = Field(max_length=300)
    planned_start: datetime | None = _ts(nullable=True, default=None)
    duration_minutes: int = Field(default=0)
    presenter_name: str = Field(default="", max_length=200)
    presenter_delegate_id: int | None = Field(
        default=None, foreign_key="delegate.id", ondelete="SET NULL"
    )
    site_id: int | None = Field(default=None, foreign_key="site.id", ondelete="SET NULL")
    created_at: datetime = _ts(default_factory=utcnow)
    # The live part: what happened to the item, and its speaker list.
    status: str = Field(default="planned", max_length=16)
    started_at: datetime | None = _ts(nullable=True, default=None)
    ended_at: datetime | None = _ts(nullable=True, default=None)
    # Seconds each speaker may speak on this item; 0: the conference's limit for the kind.
    speaking_limit_seconds: int = Field(default=0)
    speakers_open: bool = Field(default=True)
    # Bumped by every change of the item's speaker list: a reorder names the version it
    # was made on, and a stale one is refused.
    speakers_version: int = Field(default=0)
    # What the scheduler announced (agenda/jobs.py), each once: the planned start a
    # reminder was sent for, and the planned end (start + duration) an overrun was for.
    reminded_for: datetime | None = _ts(nullable=True, default=None)
    overrun_for: datetime | None = _ts(nullable=True, default=None)


class AgendaState(SQLModel, table=True):
    """Per conference: the item now running and how speaker lists behave."""

    __tablename__ = "agenda_state"

    conference_id: int = Field(foreign_key="conference.id", primary_key=True, ondelete="CASCADE")
    current_item_id: int | None = Field(
        default=None, foreign_key="agenda_item.id", ondelete="SET NULL"
    )
    # Seconds per speaker by item kind ({"discussion": 420, ...}); default_speaking_seconds
    # for the kinds it does not name.
    kind_limits: dict[str, int] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    default_speaking_seconds: int = Field(default=300)
    # Approved requests from the floor go after those of sites that have spoken less.
    fair_order: bool = Field(default=False)
    updated_at: datetime = _ts(default_factory=utcnow)


class Speaker(SQLModel, table=True):
    """One entry of an agenda item's speaker list."""

    __tablename__ = "speaker"
    __table_args__ = (Index("ix_speaker_item_status", "item_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(default_factory=new_public_id, unique=True, index=True, max_length=32)
    conference_id: int = Field(foreign_key="conference.id", index=True, ondelete="CASCADE")
    item_id: int = Field(foreign_key="agenda_item.id", ondelete="CASCADE")
    delegate_id: int | None = Field(
        default=None, foreign_key="delegate.id", index=True, ondelete="SET NULL"
    )
    # Who speaks, as they were when they asked (a delegate renamed later keeps the record).
    name: str = Field(max_length=200)
    title: str = Field(default="", max_length=200)
    unit: str = Field(default="", max_length=300)
    site_id: int | None = Field(default=None, foreign_key="site.id", ondelete="SET NULL")
    kind: str = Field(default="request", max_length=16)
    status: str = Field(default="requested", max_length=16)
    # Order in the list (queued entries); smaller speaks first.
    position: int = Field(default=0)
    topic: str = Field(default="", max_length=300)
    requested_at: datetime = _ts(default_factory=utcnow)
    requested_by: str = Field(default="", max_length=200)
    # The speaking time: seconds already spoken, plus since timer_started_at if running.
    limit_seconds: int = Field(default=0)
    spoken_seconds: float = Field(default=0)
    timer_started_at: datetime | None = _ts(nullable=True, default=None)
    started_at: datetime | None = _ts(nullable=True, default=None)
    ended_at: datetime | None = _ts(nullable=True, default=None)
    # Bumped each time the timer starts: a scheduled "time is up" for an earlier run
    # of the timer finds another generation and does nothing.
    timer_generation: int = Field(default=0)
    # The timer generation whose "time is up" was announced (0: none yet).
    time_up_generation: int = Field(default=0)


class SitePresence(SQLModel, table=True):
    """Whether a site's screens and operator pages are connected, and how well."""

    __tablename__ = "site_presence"

    site_id: int = Field(foreign_key="site.id", primary_key=True, ondelete="CASCADE")
    conference_id: int = Field(foreign_key="conference.id", index=True, ondelete="CASCADE")
    connected: bool = Field(default=False)
    since: datetime = _ts(default_factory=utcnow)
    last_seen_at: datetime = _ts(default_factory=utcnow)
    latency_ms: int | None = Field(default=None)


class RollCall(SQLModel, table=True):
    """A roll call of sites: each site operator confirms the site is ready."""

    __tablename__ = "roll_call"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(default_factory=new_public_id, unique=True, index=True, max_length=32)
    conference_id: int = Field(foreign_key="conference.id", index=True, ondelete="CASCADE")
    started_at: datetime = _ts(default_factory=utcnow)
    started_by: str = Field(default="", max_length=200)
    closed_at: datetime | None = _ts(nullable=True, default=None)


class RollCallAnswer(SQLModel, table=True):
    __tablename__ = "roll_call_answer"
    __table_args__ = (UniqueConstraint("roll_call_id", "site_id", name="uq_roll_call_site"),)

    id: int | None = Field(default=None, primary_key=True)
    roll_call_id: int = Field(foreign_key="roll_call.id", index=True, ondelete="CASCADE")
    site_id: int = Field(foreign_key="site.id", ondelete="CASCADE")
    answered_at: datetime = _ts(default_factory=utcnow)
    answered_by: str = Field(default="", max_length=200)


class MinutesSection(SQLModel, table=True):
    """The secretary's text of the minutes for one agenda item (or, item None, the
    minutes' own opening and closing text), at its latest revision."""

    __tablename__ = "minutes_section"
    __table_args__ = (UniqueConstraint("conference_id", "key", name="uq_minutes_section"),)

    id: int | None = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True, ondelete="CASCADE")
    # The agenda item's public id, or "opening" / "closing".
    key: str = Field(max_length=32)
    item_id: int | None = Field(default=None, foreign_key="agenda_item.id", ondelete="SET NULL")
    text: str = Field(default="", sa_type=Text())
    # The conclusions and decisions the secretary marked, in order.
    decisions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    revision: int = Field(default=0)
    updated_at: datetime = _ts(default_factory=utcnow)
    updated_by: str = Field(default="", max_length=200)


class MinutesRevision(SQLModel, table=True):
    """Every saved text of a section, kept: revisions can be read and compared."""

    __tablename__ = "minutes_revision"
    __table_args__ = (UniqueConstraint("section_id", "revision", name="uq_minutes_revision"),)

    id: int | None = Field(default=None, primary_key=True)
    section_id: int = Field(foreign_key="minutes_section.id", index=True, ondelete="CASCADE")
    revision: int
    text: str = Field(default="", sa_type=Text())
    decisions: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    saved_at: datetime = _ts(default_factory=utcnow)
    saved_by: str = Field(default="", max_length=200)


class MinutesBook(SQLModel, table=True):
    """Per conference: how the minutes are headed and signed, who may read them, and
    whether they are final (then text changes only by numbered amendments)."""

    __tablename__ = "minutes_book"

    conference_id: int = Field(foreign_key="conference.id", primary_key=True, ondelete="CASCADE")
    # Top left: the issuing body (one line per level, the last one the body itself) and
    # the document number; top right: the heading the body uses.
    issuing_body: str = Field(default="", max_length=600)
    document_number: str = Field(default="", max_length=100)
    heading: str = Field(default="", max_length=300)
    place: str = Field(default="", max_length=100)
    title: str = Field(default="BIÊN BẢN", max_length=200)
    chair_name: str = Field(default="", max_length=200)
    secretary_name: str = Field(default="", max_length=200)
    # staff: organizers, chair, secretary; sites: also site operators and screens;
    # delegates: also delegates, by their personal link.
    readers: str = Field(default="staff", max_length=16)
    status: str = Field(default="draft", max_length=16)
    finalised_at: datetime | None = _ts(nullable=True, default=None)
    finalised_by: str = Field(default="", max_length=200)
    version: int = Field(default=0)
    updated_at: datetime = _ts(default_factory=utcnow)


class MinutesAmendment(SQLModel, table=True):
    """A numbered change to finalised minutes; it first appears in version ``version``."""

    __tablename__ = "minutes_amendment"
    __table_args__ = (UniqueConstraint("conference_id", "number", name="uq_minutes_amendment"),)

    id: int | None = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True, ondelete="CASCADE")
    number: int
    text: str = Field(sa_type=Text())
    made_at: datetime = _ts(default_factory=utcnow)
    made_by: str = Field(default="", max_length=200)
    version: int


class MinutesVersion(SQLModel, table=True):
    """A finalised PDF of the minutes (version 1, then one per amendment), with its
    SHA-256, the server's Ed25519 signature of it and the content it was made from."""

    __tablename__ = "minutes_version"
    __table_args__ = (UniqueConstraint("conference_id", "version", name="uq_minutes_version"),)

    id: int | None = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True, ondelete="CASCADE")
    version: int
    code: str = Field(unique=True, index=True, max_length=32)
    sha256: str = Field(index=True, max_length=64)
    kid: int
    signature: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    pdf: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    pages: int = Field(default=0)
    content: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    made_at: datetime = _ts(default_factory=utcnow)
    made_by: str = Field(default="", max_length=200)
