"""Delegates: the people expected at a conference, each bound to a site."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index
from sqlmodel import Field, SQLModel

from conference.dbtypes import UTCDateTime, new_public_id, utcnow

CATEGORIES = ("official", "alternate", "guest", "staff")


class Delegate(SQLModel, table=True):
    __tablename__ = "delegate"
    __table_args__ = (Index("ix_delegate_conference_site", "conference_id", "site_id"),)

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(default_factory=new_public_id, unique=True, index=True, max_length=32)
    conference_id: int = Field(foreign_key="conference.id", index=True, ondelete="CASCADE")
    # No cascade: a site that still has delegates cannot be removed (nobody is lost).
    site_id: int = Field(foreign_key="site.id")
    full_name: str = Field(max_length=200)
    name_folded: str = Field(default="", max_length=200, index=True)
    title: str = Field(default="", max_length=200)
    unit: str = Field(default="", max_length=300)
    category: str = Field(default="official", max_length=16)
    phone: str = Field(default="", max_length=40)
    email: str = Field(default="", max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
