"""The core tables: conferences, sites, accounts, sessions, tokens, audit log, live events."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

from conference.dbtypes import UTCDateTime, new_public_id, utcnow
from conference.rawjson import JsonObject

# screen: a hall's projector page (a token bound to its site): sees what the public
# sees and reports the site's presence.
ROLES = ("organizer", "chair", "secretary", "site_operator", "delegate", "screen", "viewer")
SITE_KINDS = ("main", "remote")


def _ts(nullable: bool = False, **kw: Any) -> Any:
    return Field(sa_type=UTCDateTime(), nullable=nullable, **kw)


class Conference(SQLModel, table=True):
    __tablename__ = "conference"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(default_factory=new_public_id, unique=True, index=True, max_length=32)
    title: str = Field(max_length=300)
    starts_on: date
    ends_on: date
    timezone: str = Field(default="Asia/Ho_Chi_Minh", max_length=64)
    venue: str = Field(default="", max_length=300)
    description: str = Field(default="", max_length=4000)
    organizing_body: str = Field(default="", max_length=300)
    public: bool = Field(default=False)
    # Whether a site may admit a delegate registered at another site.
    cross_site_checkin: bool = Field(default=False)
    # The live log's counter and identity (DESIGN.md section 3).
    last_seq: int = Field(default=0)
    epoch: str = Field(default_factory=new_public_id, max_length=32)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class Site(SQLModel, table=True):
    """A connection point (điểm cầu): the main hall or a remote site."""

    __tablename__ = "site"
    __table_args__ = (UniqueConstraint("conference_id", "code", name="uq_site_code"),)

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(default_factory=new_public_id, unique=True, index=True, max_length=32)
    conference_id: int = Field(foreign_key="conference.id", index=True, ondelete="CASCADE")
    code: str = Field(max_length=32)
    name: str = Field(max_length=200)
    region: str = Field(default="", max_length=100)
    kind: str = Field(default="remote", max_length=16)
    expected_attendance: int = Field(default=0)
    contact_name: str = Field(default="", max_length=200)
    contact_phone: str = Field(default="", max_length=40)
    contact_email: str = Field(default="", max_length=200)
    position: int = Field(default=0)
    created_at: datetime = _ts(default_factory=utcnow)
    updated_at: datetime = _ts(default_factory=utcnow)


class Account(SQLModel, table=True):
    __tablename__ = "account"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(default_factory=new_public_id, unique=True, index=True, max_length=32)
    username: str = Field(unique=True, index=True, max_length=100)
    display_name: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=300)
    is_admin: bool = Field(default=False)
    can_create_conferences: bool = Field(default=False)
    disabled: bool = Field(default=False)
    created_at: datetime = _ts(default_factory=utcnow)


class Membership(SQLModel, table=True):
    """An account's role in one conference; a site operator is bound to one site."""

    __tablename__ = "membership"
    __table_args__ = (
        UniqueConstraint("account_id", "conference_id", "role", name="uq_membership"),
    )

    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    conference_id: int = Field(foreign_key="conference.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=32)
    site_id: int | None = Field(default=None, foreign_key="site.id", ondelete="CASCADE")
    created_at: datetime = _ts(default_factory=utcnow)


class BrowserSession(SQLModel, table=True):
    __tablename__ = "browser_session"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    account_id: int = Field(foreign_key="account.id", index=True, ondelete="CASCADE")
    csrf_token: str = Field(max_length=64)
    created_at: datetime = _ts(default_factory=utcnow)
    expires_at: datetime = _ts()
    last_seen_at: datetime = _ts(default_factory=utcnow)
    ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=300)


class ApiToken(SQLModel, table=True):
    """A bearer token an organizer issues to a device or script, with one role."""

    __tablename__ = "api_token"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(default_factory=new_public_id, unique=True, index=True, max_length=32)
    token_hash: str = Field(unique=True, index=True, max_length=64)
    name: str = Field(max_length=200)
    conference_id: int = Field(foreign_key="conference.id", index=True, ondelete="CASCADE")
    role: str = Field(max_length=32)
    site_id: int | None = Field(default=None, foreign_key="site.id", ondelete="CASCADE")
    created_by_id: int | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL")
    created_at: datetime = _ts(default_factory=utcnow)
    revoked_at: datetime | None = _ts(nullable=True, default=None)
    last_used_at: datetime | None = _ts(nullable=True, default=None)


class AuditEntry(SQLModel, table=True):
    """One change made by a person; rows are never updated or deleted."""

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_conference_at", "conference_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    conference_id: int | None = Field(default=None)
    at: datetime = _ts(default_factory=utcnow)
    actor_account_id: int | None = Field(default=None)
    actor_name: str = Field(max_length=200)
    actor_role: str = Field(default="", max_length=32)
    actor_site_code: str = Field(default="", max_length=32)
    via: str = Field(default="", max_length=16)
    ip: str = Field(default="", max_length=64)
    action: str = Field(max_length=64)
    target_type: str = Field(max_length=64)
    target_id: str = Field(default="", max_length=64)
    # Raw JSON: {field: [old, new]} or what the action notes.
    changes: JsonObject = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class LiveEvent(SQLModel, table=True):
    """One entry of a conference's live log; seq is gapless per conference and epoch."""

    __tablename__ = "live_event"
    __table_args__ = (UniqueConstraint("conference_id", "epoch", "seq", name="uq_live_event_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True, ondelete="CASCADE")
    epoch: str = Field(max_length=32)
    seq: int
    type: str = Field(max_length=64)
    # Raw JSON: the event's data, as its type declares it (conference.catalogue).
    data: JsonObject = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    at: datetime = _ts(default_factory=utcnow)


class SigningKey(SQLModel, table=True):
    """The server's Ed25519 keys; the newest unretired one signs, all of them verify."""

    __tablename__ = "signing_key"

    id: int | None = Field(default=None, primary_key=True)
    kid: int = Field(unique=True)
    private_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    public_key: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created_at: datetime = _ts(default_factory=utcnow)
    retired_at: datetime | None = _ts(nullable=True, default=None)


class DocumentJob(SQLModel, table=True):
    """A document rendered in the background (badges, certificates), with its progress."""

    __tablename__ = "document_job"

    id: int | None = Field(default=None, primary_key=True)
    public_id: str = Field(default_factory=new_public_id, unique=True, index=True, max_length=32)
    conference_id: int = Field(foreign_key="conference.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=32)
    # Raw JSON: what the job's kind needs to make the document.
    params: JsonObject = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default="queued", max_length=16)
    done: int = Field(default=0)
    total: int = Field(default=0)
    error: str = Field(default="", max_length=1000)
    filename: str = Field(default="", max_length=200)
    content_type: str = Field(default="", max_length=100)
    size: int = Field(default=0)
    sha256: str = Field(default="", max_length=64)
    created_by: str = Field(default="", max_length=200)
    created_at: datetime = _ts(default_factory=utcnow)
    finished_at: datetime | None = _ts(nullable=True, default=None)
    # Last sign of life of the process rendering it: a running job whose heartbeat is
    # old was left by a process that died, and is queued again (conference/jobs.py).
    heartbeat_at: datetime | None = _ts(nullable=True, default=None)


class DocumentFile(SQLModel, table=True):
    """The bytes a finished DocumentJob produced (kept apart so listing jobs stays light)."""

    __tablename__ = "document_file"

    job_id: int = Field(foreign_key="document_job.id", primary_key=True, ondelete="CASCADE")
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
