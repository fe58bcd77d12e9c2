"""Self check-in: a site screen shows a code that changes every period; a delegate's
phone scans it, which proves they are in that hall.

The code is ``PLS1`` and base32 of: site public id (12 bytes) | window number (4) |
HMAC (10) under a key derived from the server's signing key. A code is good for its
window and a few seconds into the next one (a phone that scanned just before the
change); an older code, a forged one, or one of another conference is refused.

A delegate's own check-in (over HTTP or the WebSocket, whatever their credential)
needs a :class:`SiteProof`, which only :func:`prove_site` makes from a current code
of a site of the same conference: a personal link alone admits nobody.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from attendance.credentials import id_bytes, id_text
from conference.errors import InvalidInput
from conference.models import Conference, Site
from conference.queries import conference_row
from conference.signing import Keyring

PREFIX = "PLS1"
_BODY = struct.Struct(">12sI")
MAC_BYTES = 10
GRACE_SECONDS = 10
CODE_REQUIRED = "site_code_required"
CODE_EXPIRED = "site_code_expired"
CODE_OTHER_CONFERENCE = "site_code_other_conference"
CODE_INVALID = "site_code_invalid"


class CodeRefused(InvalidInput):
    """A scanned site code that does not prove presence; ``code`` names why."""


@dataclass(frozen=True, slots=True)
class SiteProof:
    """A delegate's phone read the current code of this site's screen."""

    conference_id: int
    site_id: int


def required() -> CodeRefused:
    return CodeRefused(
        "scan the check-in code on the site's screen to check yourself in", code=CODE_REQUIRED
    )


def _mac(keyring: Keyring, kid: int, conference_id: str, body: bytes) -> bytes:
    return keyring.mac_with(kid, "site-checkin", conference_id.encode() + body)[:MAC_BYTES]


def window_of(now: datetime, period: int) -> int:
    return int(now.timestamp()) // period


def site_code(
    keyring: Keyring, conference_id: str, site_id: str, *, now: datetime, period: int
) -> tuple[str, datetime]:
    """The code a site's screen shows now, and when it changes."""
    window = window_of(now, period)
    body = _BODY.pack(id_bytes(site_id), window)
    mac = _mac(keyring, keyring.current_kid, conference_id, body)
    text = PREFIX + base64.b32encode(body + mac).decode().rstrip("=")
    return text, datetime.fromtimestamp((window + 1) * period, UTC)


def read_code(
    keyring: Keyring, text: str, conference_id: str, *, now: datetime, period: int
) -> str:
    """The public id of the site whose current code this is, or CodeRefused."""
    body, mac = _split(text)
    if not _genuine(keyring, conference_id, body, mac):
        raise _invalid()
    raw_site, window = _BODY.unpack(body)
    current = window_of(now, period)
    late = now - datetime.fromtimestamp((window + 1) * period, UTC)
    if window > current or (window < current and late > timedelta(seconds=GRACE_SECONDS)):
        raise CodeRefused(
            "this check-in code has changed: scan the one on the screen now", code=CODE_EXPIRED
        )
    return id_text(raw_site)


def _invalid() -> CodeRefused:
    return CodeRefused("this is not this conference's check-in code", code=CODE_INVALID)


def _split(text: str) -> tuple[bytes, bytes]:
    """The signed body and the MAC of a code, or CodeRefused (site_code_invalid)."""
    text = text.strip().upper()
    if not text.startswith(PREFIX):
        raise _invalid()
    body_text = text[len(PREFIX) :]
    try:
        raw = base64.b32decode(body_text + "=" * (-len(body_text) % 8))
    except (binascii.Error, ValueError):
        raise _invalid() from None
    if len(raw) != _BODY.size + MAC_BYTES:
        raise _invalid()
    return raw[: _BODY.size], raw[_BODY.size :]


def _genuine(keyring: Keyring, conference_id: str, body: bytes, mac: bytes) -> bool:
    # Any key of the ring: a code shown just before a key rotation still works.
    return any(
        hmac.compare_digest(mac, _mac(keyring, kid, conference_id, body))
        for kid in keyring.public_keys()
    )


async def prove_site(
    session: AsyncSession,
    keyring: Keyring,
    conference: Conference,
    text: str | None,
    *,
    now: datetime,
    period: int,
) -> tuple[Site, SiteProof]:
    """The site whose current code text is, and the proof of presence it gives.

    Refused by name: no code (site_code_required), an old one (site_code_expired), a
    genuine code of another conference's screen (site_code_other_conference), anything
    else (site_code_invalid).
    """
    assert conference.id is not None
    if text is None or not text.strip():
        raise required()
    try:
        site_public_id = read_code(keyring, text, conference.public_id, now=now, period=period)
    except CodeRefused as exc:
        if exc.code == CODE_INVALID and await _of_other_conference(session, keyring, text):
            raise CodeRefused(
                "this is the check-in code of another conference's screen",
                code=CODE_OTHER_CONFERENCE,
            ) from None
        raise
    site = await conference_row(session, Site, conference.id, public_id=site_public_id)
    if site is None or site.id is None:
        raise _invalid()
    return site, SiteProof(conference.id, site.id)


async def _of_other_conference(session: AsyncSession, keyring: Keyring, text: str) -> bool:
    """Whether text is a genuine code of a site of some other conference."""
    body, mac = _split(text)
    raw_site, _ = _BODY.unpack(body)
    row = (
        await session.exec(
            select(Conference.public_id)
            .join(Site, col(Site.conference_id) == col(Conference.id))
            .where(col(Site.public_id) == id_text(raw_site))
        )
    ).one_or_none()
    return row is not None and _genuine(keyring, row, body, mac)
