"""Delegates, the people expected at a conference, and the check-in ledger."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from conference.dbtypes import UTCDateTime, new_public_id, utcnow

CATEGORIES = ("official", "alternate", "guest", "staff")
CHECKIN_ACTIONS = ("checkin", "undo", "resolve")
CHECKIN_METHODS = ("scan", "search", "self", "manual")
CHECKIN_OUTCOMES = ("ok", "already_checked_in", "conflict")


def new_link_secret() -> str:
    """The secret part of a delegate's personal link (192 bits)."""
    return secrets.token_urlsafe(24)


class Delegate(SQLModel, table=True):
    __tablename__ = "delegate"
    __table_args__ = (
        Index("ix_delegate_conference_site", "conference_id", "site_id"),
        Index("ix_delegate_checkin_site", "checkin_site_id"),
        UniqueConstraint("link_secret", name="uq_delegate_link_secret"),
    )

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
    # Bumped on reissue: credentials of an older version are refused as revoked.
    credential_version: int = Field(default=1)
    link_secret: str = Field(default_factory=new_link_secret, max_length=64)
    # Current admission (the ledger holds the history); set by one conditional UPDATE.
    checked_in_at: datetime | None = Field(default=None, sa_type=UTCDateTime(), nullable=True)
    checkin_site_id: int | None = Field(default=None, foreign_key="site.id")
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)


class CheckIn(SQLModel, table=True):
    """One row of the append-only check-in ledger (rows are never updated or deleted).

    ``nonce`` is chosen by the client: sending the same request again finds its row
    instead of making a second one. ``ref_id`` points at the row an undo or resolve
    acts on, or at the admission an ``already_checked_in``/``conflict`` row collided with.
    """

    __tablename__ = "checkin"
    __table_args__ = (
        UniqueConstraint("conference_id", "nonce", name="uq_checkin_nonce"),
        Index("ix_checkin_conference_delegate", "conference_id", "delegate_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(default_factory=new_public_id, unique=True, max_length=32)
    conference_id: int = Field(foreign_key="conference.id", ondelete="CASCADE")
    delegate_id: int = Field(foreign_key="delegate.id")
    site_id: int = Field(foreign_key="site.id")
    nonce: str = Field(max_length=64)
    action: str = Field(default="checkin", max_length=16)
    method: str = Field(default="scan", max_length=16)
    outcome: str = Field(default="ok", max_length=24)
    offline: bool = Field(default=False)
    happened_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime(), nullable=False)
    ref_id: int | None = Field(default=None, foreign_key="checkin.id")
    actor_name: str = Field(default="", max_length=200)
    actor_role: str = Field(default="", max_length=32)
    actor_account_id: int | None = Field(default=None)
    note: str = Field(default="", max_length=500)
