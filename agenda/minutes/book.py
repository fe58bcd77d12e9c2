"""The minutes book: heading and signatories, who reads, finalising and amendments, and
the signed versions that anyone can verify.

Finalising makes version 1: the document is rendered (by the caller, outside the
transaction: a PDF takes a second or two and the conference must not wait on it), then
stored with its SHA-256 and the server's Ed25519 signature of it, and the sections lock.
Each amendment afterwards is numbered and makes the next version, which prints every
amendment so far; older versions stay verifiable (and say what superseded them).

The two steps: ``prepare_version`` reads what the document will say;
``commit_version`` stores it only if, under the conference lock, the minutes still say
exactly that (else ``conflict``: render again).

Events: ``minutes/finalised {version, sha256, code, by, at, amendment, readers}``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from typing_extensions import TypedDict

from agenda.minutes.document import Amendment, MinutesContent, amendments, minutes_content
from agenda.minutes.events import FINALISED
from agenda.minutes.models import (
    MinutesAmendment,
    MinutesBook,
    MinutesVersion,
    conference_rows,
)
from agenda.minutes.services import READERS, WRITE_ROLES, minutes_book, require_reader
from agenda.state import iso
from conference.actors import Actor
from conference.audit import record
from conference.dbtypes import new_public_id, utcnow
from conference.errors import Conflict, InvalidInput, NotFound
from conference.live import append_event, lock_conference
from conference.models import Conference
from conference.signing import Keyring

SETTINGS = (
    "issuing_body",
    "document_number",
    "heading",
    "place",
    "title",
    "chair_name",
    "secretary_name",
    "readers",
)
# What may change after finalising: who reads (the printed heading may not).
AFTER_FINAL = ("readers",)
MAX_AMENDMENT = 20_000


class BookData(TypedDict):
    """The book's settings (SETTINGS), whether it is final and its latest version."""

    issuing_body: str
    document_number: str
    heading: str
    place: str
    title: str
    chair_name: str
    secretary_name: str
    readers: str
    status: str
    version: int
    finalised_at: str | None
    finalised_by: str


class VersionData(TypedDict):
    """A finalised version without its PDF: size is the PDF's in bytes."""

    version: int
    code: str
    sha256: str
    kid: int
    pages: int
    size: int
    made_at: str | None
    made_by: str
    amendments: int


def book_data(book: MinutesBook) -> BookData:
    """The book as its API shows it."""
    return {
        "issuing_body": book.issuing_body,
        "document_number": book.document_number,
        "heading": book.heading,
        "place": book.place,
        "title": book.title,
        "chair_name": book.chair_name,
        "secretary_name": book.secretary_name,
        "readers": book.readers,
        "status": book.status,
        "version": book.version,
        "finalised_at": iso(book.finalised_at),
        "finalised_by": book.finalised_by,
    }


class MinutesVerification(TypedDict):
    """What verifying a finalised version tells anyone: which minutes, which version, who
    finalised it and when, whether a later one supersedes it, whether the signature holds."""

    conference: str
    timezone: str
    organizing_body: str
    document_number: str
    version: int
    latest_version: int
    superseded: bool
    amendments: int
    sha256: str
    code: str
    pages: int
    made_at: str | None
    made_by: str
    finalised_at: str | None
    finalised_by: str
    signature_valid: bool
    kid: int


def stored_content(row: MinutesVersion) -> MinutesContent:
    """A version's content as stored: what minutes_content made for it."""
    return cast(MinutesContent, row.content)


def version_data(row: MinutesVersion) -> VersionData:
    """A finalised version as its API lists it."""
    return {
        "version": row.version,
        "code": row.code,
        "sha256": row.sha256,
        "kid": row.kid,
        "pages": row.pages,
        "size": len(row.pdf),
        "made_at": iso(row.made_at),
        "made_by": row.made_by,
        "amendments": len(row.content.get("amendments", [])),
    }


def signed_message(conference: Conference, version: int, sha256: str) -> bytes:
    """What the server's key signs for a version: the conference, the version, the hash."""
    return f"plenary-minutes/v1\n{conference.public_id}\n{version}\n{sha256}".encode()


async def read_book(session: AsyncSession, conference: Conference, *, actor: Actor) -> BookData:
    """The book's settings and state, for those who may read the minutes."""
    book = await require_reader(session, conference, actor)
    return book_data(book)


async def update_book(
    session: AsyncSession, conference: Conference, changes: Mapping[str, object], *, actor: Actor
) -> MinutesBook:
    """Change the heading, signatories or readers; after finalising only the readers."""
    actor.require(*WRITE_ROLES)
    assert conference.id is not None
    unknown = set(changes) - set(SETTINGS)
    if unknown:
        raise InvalidInput(f"unknown setting {sorted(unknown)[0]}", field=sorted(unknown)[0])
    if "readers" in changes and changes["readers"] not in READERS:
        raise InvalidInput("readers is one of " + ", ".join(READERS), field="readers")
    await lock_conference(session, conference.id)
    book = await minutes_book(session, conference.id, create=True)
    if book.status == "final":
        frozen = sorted(k for k in changes if k not in AFTER_FINAL)
        if frozen:
            raise Conflict(
                f"the minutes are final: {frozen[0]} is printed in them and stays",
                field=frozen[0],
            )
    before = {k: getattr(book, k) for k in changes}
    for name, value in changes.items():
        setattr(book, name, value)
    book.updated_at = utcnow()
    session.add(book)
    await session.flush()
    await record(
        session,
        actor,
        "minutes.settings",
        "minutes_book",
        conference.public_id,
        {k: [before[k], changes[k]] for k in changes if before[k] != changes[k]},
    )
    return book


@dataclass
class Prepared:
    """A version about to be made: what it will say and the code printed on it."""

    version: int
    code: str
    now: datetime
    content: MinutesContent
    amendment: Amendment | None = None
    verify_url: str = ""


async def _content(
    session: AsyncSession,
    conference: Conference,
    book: MinutesBook,
    version: int,
    code: str,
    verify_url: str,
    now: datetime,
    amendment: Amendment | None,
) -> MinutesContent:
    return await minutes_content(
        session,
        conference,
        book,
        now=now,
        status="final",
        version=version,
        verification={"code": code, "url": verify_url},
        pending=[amendment] if amendment else None,
    )


async def prepare_version(
    session: AsyncSession,
    conference: Conference,
    *,
    actor: Actor,
    verify_base: str,
    amendment: str | None = None,
    now: datetime | None = None,
) -> Prepared:
    """What finalising (amendment None) or an amendment would print.

    verify_base is the public verification page's address without the code.
    """
    actor.require(*WRITE_ROLES)
    assert conference.id is not None
    book = await minutes_book(session, conference.id)
    now = now or utcnow()
    pending: Amendment | None = None
    if amendment is None:
        if book.status == "final":
            raise Conflict("the minutes are final already: make an amendment", field="status")
    else:
        text = amendment.strip()
        if not text:
            raise InvalidInput("an amendment needs its text", field="text")
        if len(text) > MAX_AMENDMENT:
            raise InvalidInput(f"an amendment is at most {MAX_AMENDMENT} characters", field="text")
        if book.status != "final":
            raise Conflict(
                "the minutes are not final yet: change the sections themselves", field="status"
            )
        number = len(await amendments(session, conference.id)) + 1
        pending = {"number": number, "text": text, "at": now.isoformat(), "by": actor.name}
    version = book.version + 1
    code = new_public_id()
    url = verify_base.rstrip("/") + "/" + code
    content = await _content(session, conference, book, version, code, url, now, pending)
    return Prepared(version, code, now, content, pending, url)


async def commit_version(
    session: AsyncSession,
    conference: Conference,
    prepared: Prepared,
    pdf: bytes,
    pages: int,
    keyring: Keyring,
    *,
    actor: Actor,
) -> MinutesVersion:
    """Store a rendered version if the minutes still say what it prints; sign it."""
    actor.require(*WRITE_ROLES)
    assert conference.id is not None
    await lock_conference(session, conference.id)
    book = await minutes_book(session, conference.id, create=True)
    await _check_unchanged(session, conference, book, prepared)
    row = _signed_version(conference, prepared, keyring, pdf, pages, actor.name)
    session.add(row)
    _advance_book(session, book, prepared, actor)
    await session.flush()
    amendment_number = prepared.amendment["number"] if prepared.amendment else None
    await record(
        session,
        actor,
        "minutes.amend" if prepared.amendment else "minutes.finalise",
        "minutes_version",
        prepared.code,
        {"version": prepared.version, "sha256": row.sha256, "amendment": amendment_number},
    )
    await append_event(
        session,
        conference.id,
        FINALISED,
        {
            "version": prepared.version,
            "sha256": row.sha256,
            "code": prepared.code,
            "by": actor.name,
            "at": iso(prepared.now),
            "amendment": amendment_number,
            "readers": book.readers,
        },
    )
    return row


async def _check_unchanged(
    session: AsyncSession, conference: Conference, book: MinutesBook, prepared: Prepared
) -> None:
    """Refuse a document made from minutes that moved on or changed while it rendered."""
    expected_status = "final" if prepared.amendment else "draft"
    if book.version != prepared.version - 1 or book.status != expected_status:
        raise Conflict(
            f"the minutes moved on meanwhile (now version {book.version}): try again",
            field="version",
        )
    again = await _content(
        session,
        conference,
        book,
        prepared.version,
        prepared.code,
        prepared.verify_url,
        prepared.now,
        prepared.amendment,
    )
    if again != prepared.content:
        raise Conflict(
            "the minutes changed while the document was being made: try again", field="version"
        )


def _signed_version(
    conference: Conference, prepared: Prepared, keyring: Keyring, pdf: bytes, pages: int, by: str
) -> MinutesVersion:
    """The version's row: the PDF, its SHA-256 and the conference key's signature of it."""
    assert conference.id is not None
    sha256 = hashlib.sha256(pdf).hexdigest()
    kid, signature = keyring.sign(signed_message(conference, prepared.version, sha256))
    return MinutesVersion(
        conference_id=conference.id,
        version=prepared.version,
        code=prepared.code,
        sha256=sha256,
        kid=kid,
        signature=signature,
        pdf=pdf,
        pages=pages,
        content=dict(prepared.content),
        made_at=prepared.now,
        made_by=by,
    )


def _advance_book(
    session: AsyncSession, book: MinutesBook, prepared: Prepared, actor: Actor
) -> None:
    """The book at the new version: final now, or with one more amendment."""
    if prepared.amendment:
        session.add(
            MinutesAmendment(
                conference_id=book.conference_id,
                number=prepared.amendment["number"],
                text=prepared.amendment["text"],
                made_at=prepared.now,
                made_by=actor.name,
                version=prepared.version,
            )
        )
    else:
        book.status = "final"
        book.finalised_at = prepared.now
        book.finalised_by = actor.name
    book.version = prepared.version
    book.updated_at = prepared.now
    session.add(book)


async def list_versions(
    session: AsyncSession, conference: Conference, *, actor: Actor
) -> list[MinutesVersion]:
    await require_reader(session, conference, actor)
    return await conference_rows(session, MinutesVersion, conference.id, MinutesVersion.version)


async def get_version(
    session: AsyncSession, conference: Conference, version: int | None, *, actor: Actor
) -> MinutesVersion:
    """A finalised version (None: the latest)."""
    rows = await list_versions(session, conference, actor=actor)
    if not rows:
        raise NotFound("the minutes are not final yet", field="version")
    if version is None:
        return rows[-1]
    for row in rows:
        if row.version == version:
            return row
    raise NotFound(f"the minutes have no version {version}", field="version")


async def verification(
    session: AsyncSession, keyring: Keyring, *, code: str | None = None, sha256: str | None = None
) -> MinutesVerification:
    """Whether a document (by its printed code, or its SHA-256) is finalised minutes.

    Public: it says which minutes, which version, who finalised it and when, whether a
    later version supersedes it, and whether the server's signature holds; nothing more.
    """
    query = select(MinutesVersion, Conference).join(
        Conference, col(Conference.id) == col(MinutesVersion.conference_id)
    )
    if code is not None:
        query = query.where(col(MinutesVersion.code) == code)
    elif sha256 is not None:
        query = query.where(col(MinutesVersion.sha256) == sha256.lower())
    else:
        raise InvalidInput("give a verification code or a SHA-256", field="sha256")
    found = (await session.exec(query)).first()
    if found is None:
        raise NotFound("no finalised minutes have this code or hash", field="document")
    row, conference = found
    book = await session.get(MinutesBook, conference.id)
    latest = book.version if book is not None else row.version
    signed = keyring.verify(
        row.kid, signed_message(conference, row.version, row.sha256), row.signature
    )
    return {
        "conference": conference.title,
        "timezone": conference.timezone,
        "organizing_body": conference.organizing_body,
        "document_number": row.content.get("header", {}).get("document_number", ""),
        "version": row.version,
        "latest_version": latest,
        "superseded": latest > row.version,
        "amendments": len(row.content.get("amendments", [])),
        "sha256": row.sha256,
        "code": row.code,
        "pages": row.pages,
        "made_at": iso(row.made_at),
        "made_by": row.made_by,
        "finalised_at": iso(book.finalised_at) if book else None,
        "finalised_by": book.finalised_by if book else "",
        "signature_valid": signed,
        "kid": row.kid,
    }
