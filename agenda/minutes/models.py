"""The minutes' tables: the secretary's text per agenda item and its revisions, the
book's settings and state, amendments after finalising, and each finalised version."""

from __future__ import annotations

from datetime import datetime
from typing import TypeVar

from sqlalchemy import JSON, Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from conference.dbtypes import timestamp, utcnow
from conference.rawjson import JsonObject


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
    updated_at: datetime = timestamp(default_factory=utcnow)
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
    saved_at: datetime = timestamp(default_factory=utcnow)
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
    finalised_at: datetime | None = timestamp(nullable=True, default=None)
    finalised_by: str = Field(default="", max_length=200)
    version: int = Field(default=0)
    updated_at: datetime = timestamp(default_factory=utcnow)


class MinutesAmendment(SQLModel, table=True):
    """A numbered change to finalised minutes; it first appears in version ``version``."""

    __tablename__ = "minutes_amendment"
    __table_args__ = (UniqueConstraint("conference_id", "number", name="uq_minutes_amendment"),)

    id: int | None = Field(default=None, primary_key=True)
    conference_id: int = Field(foreign_key="conference.id", index=True, ondelete="CASCADE")
    number: int
    text: str = Field(sa_type=Text())
    made_at: datetime = timestamp(default_factory=utcnow)
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
    # Raw JSON as stored and read back: agenda.minutes.document.MinutesContent when made.
    content: JsonObject = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    made_at: datetime = timestamp(default_factory=utcnow)
    made_by: str = Field(default="", max_length=200)


Row = TypeVar("Row", MinutesSection, MinutesAmendment, MinutesVersion)


async def conference_rows(
    session: AsyncSession, table: type[Row], conference_id: int | None, order: object
) -> list[Row]:
    """A conference's rows of one of the minutes' tables, in the order of one column."""
    rows = await session.exec(
        select(table).where(col(table.conference_id) == conference_id).order_by(col(order))
    )
    return list(rows)
