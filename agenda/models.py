"""Agenda items, optionally nested (a session with its items)."""

from __future__ import annotations

from datetime import datetime

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


class AgendaItem(SQLModel, table=True):
    __tablename__ = "agenda_item"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(default_factory=new_public_id, unique=True, index=True, max_length=32)
    conference_id: int = Field(foreign_key="conference.id", index=True, ondelete="CASCADE")
    parent_id: int | None = Field(default=None, foreign_key="agenda_item.id", ondelete="CASCADE")
    position: int = Field(default=0)
    kind: str = Field(default="other", max_length=32)
    title: str = Field(max_length=300)
    planned_start: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    duration_minutes: int = Field(default=0)
    presenter_name: str = Field(default="", max_length=200)
    presenter_delegate_id: int | None = Field(
        default=None, foreign_key="delegate.id", ondelete="SET NULL"
    )
    site_id: int | None = Field(default=None, foreign_key="site.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
