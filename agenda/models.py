"""Agenda items (optionally nested), the live state of the agenda, speaker lists,
site presence and roll calls of sites. The minutes' tables are agenda/minutes/models.py."""

from __future__ import annotations

from datetime import datetime
from typing import Literal, get_args

from sqlalchemy import JSON, Column, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from conference.dbtypes import new_public_id, timestamp, utcnow

ItemKind = Literal[
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
]
ITEM_KINDS: tuple[ItemKind, ...] = get_args(ItemKind)
# planned -> running -> done; planned -> skipped; "back" reopens an item.
ITEM_STATUSES = ("planned", "running", "done", "skipped")
# request: asked from the floor (a phone, an operator); registered: a planned speech
# (tham luận), queued in its planned order; point_of_order: goes ahead of the others.
SpeakerKind = Literal["request", "registered", "point_of_order"]
SPEAKER_KINDS: tuple[SpeakerKind, ...] = get_args(SpeakerKind)
# requested -> queued (approved) -> speaking -> done; requested -> rejected;
# requested | queued -> withdrawn.
SPEAKER_STATUSES = ("requested", "queued", "speaking", "done", "rejected", "withdrawn")


class AgendaItem(SQLModel, table=True):
    __tablename__ = "agenda_item"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(default_factory=new_public_id, unique=True, index=True, max_length=32)
    conference_id: int = Field(foreign_key="conference.id", index=True, ondelete="CASCADE")
    parent_id: int | None = Field(default=None, foreign_key="agenda_item.id", ondelete="CASCADE")
    position: int = Field(default=0)
    kind: str = Field(default="other", max_length=32)
    title: str = Field(max_length=300)
    planned_start: datetime | None = timestamp(nullable=True, default=None)
    duration_minutes: int = Field(default=0)
    presenter_name: str = Field(default="", max_length=200)
    presenter_delegate_id: int | None = Field(
        default=None, foreign_key="delegate.id", ondelete="SET NULL"
    )
    site_id: int | None = Field(default=None, foreign_key="site.id", ondelete="SET NULL")
    created_at: datetime = timestamp(default_factory=utcnow)
    # The live part: what happened to the item, and its speaker list.
    status: str = Field(default="planned", max_length=16)
    started_at: datetime | None = timestamp(nullable=True, default=None)
    ended_at: datetime | None = timestamp(nullable=True, default=None)
    # Seconds each speaker may speak on this item; 0: the conference's limit for the kind.
    speaking_limit_seconds: int = Field(default=0)
    speakers_open: bool = Field(default=True)
    # Bumped by every change of the item's speaker list: a reorder names the version it
    # was made on, and a stale one is refused.
    speakers_version: int = Field(default=0)
    # What the scheduler announced (agenda/jobs.py), each once: the planned start a
    # reminder was sent for, and the planned end (start + duration) an overrun was for.
    reminded_for: datetime | None = timestamp(nullable=True, default=None)
    overrun_for: datetime | None = timestamp(nullable=True, default=None)


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
    updated_at: datetime = timestamp(default_factory=utcnow)


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
    requested_at: datetime = timestamp(default_factory=utcnow)
    requested_by: str = Field(default="", max_length=200)
    # The speaking time: seconds already spoken, plus since timer_started_at if running.
    limit_seconds: int = Field(default=0)
    spoken_seconds: float = Field(default=0)
    timer_started_at: datetime | None = timestamp(nullable=True, default=None)
    started_at: datetime | None = timestamp(nullable=True, default=None)
    ended_at: datetime | None = timestamp(nullable=True, default=None)
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
    since: datetime = timestamp(default_factory=utcnow)
    last_seen_at: datetime = timestamp(default_factory=utcnow)
    latency_ms: int | None = Field(default=None)


class RollCall(SQLModel, table=True):
    """A roll call of sites: each site operator confirms the site is ready."""

    __tablename__ = "roll_call"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(default_factory=new_public_id, unique=True, index=True, max_length=32)
    conference_id: int = Field(foreign_key="conference.id", index=True, ondelete="CASCADE")
    started_at: datetime = timestamp(default_factory=utcnow)
    started_by: str = Field(default="", max_length=200)
    closed_at: datetime | None = timestamp(nullable=True, default=None)


class RollCallAnswer(SQLModel, table=True):
    __tablename__ = "roll_call_answer"
    __table_args__ = (UniqueConstraint("roll_call_id", "site_id", name="uq_roll_call_site"),)

    id: int | None = Field(default=None, primary_key=True)
    roll_call_id: int = Field(foreign_key="roll_call.id", index=True, ondelete="CASCADE")
    site_id: int = Field(foreign_key="site.id", ondelete="CASCADE")
    answered_at: datetime = timestamp(default_factory=utcnow)
    answered_by: str = Field(default="", max_length=200)
