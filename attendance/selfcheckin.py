"""Self check-in: a site screen shows a code that changes every period; a delegate's
phone scans it, which proves they are in that hall.

The code is ``PLS1`` and base32 of: site public id (12 bytes) | window number (4) |
HMAC (10) under a key derived from the server's signing key. A code is good for its
window and a few seconds into the next one (a phone that scanned just before the
change); an older code, a forged one, or one of another conference is refused.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import struct
from datetime import UTC, datetime, timedelta

from attendance.credentials import id_bytes, id_text
from conference.errors import InvalidInput
from conference.signing import Keyring

PREFIX = "PLS1"
_BODY = struct.Struct(">12sI")
MAC_BYTES = 10
GRACE_SECONDS = 10
CODE_EXPIRED = "checkin_code_expired"
CODE_INVALID = "checkin_code_invalid"


class CodeRefused(InvalidInput):
    """A scanned site code that does not prove presence; ``code`` names why."""


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
    text = text.strip().upper()
    invalid = CodeRefused("this is not this conference's check-in code", code=CODE_INVALID)
    if not text.startswith(PREFIX):
        raise invalid
    body_text = text[len(PREFIX) :]
    try:
        raw = base64.b32decode(body_text + "=" * (-len(body_text) % 8))
    except (binascii.Error, ValueError):
        raise invalid from None
    if len(raw) != _BODY.size + MAC_BYTES:
        raise invalid
    body, mac = raw[: _BODY.size], raw[_BODY.size :]
    # Any key of the ring: a code shown just before a key rotation still works.
    if not any(
        hmac.compare_digest(mac, _mac(keyring, kid, conference_id, body))
        for kid in keyring.public_keys()
    ):
        raise invalid
    raw_site, window = _BODY.unpack(body)
    current = window_of(now, period)
    late = now - datetime.fromtimestamp((window + 1) * period, UTC)
    if window > current or (window < current and late > timedelta(seconds=GRACE_SECONDS)):
        raise CodeRefused(
            "this check-in code has changed: scan the one on the screen now", code=CODE_EXPIRED
        )
    return id_text(raw_site)
