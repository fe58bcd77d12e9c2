"""Delegate credentials: compact Ed25519-signed tokens printed as a badge's QR code.

Layout before encoding (88 bytes)::

    version 1 | kid 1 | conference tag 4 | delegate public id 12 | credential version 2
    | expires (unix seconds) 4 | Ed25519 signature 64 over everything before it

The text is ``PL1`` and the bytes in base32 without padding: only characters of the
QR alphanumeric mode, so the code fits QR version 6 (41 x 41) at level M. The conference tag is the
start of SHA-256 of the conference's public id; the credential version is bumped
when the organizer reissues a delegate's credential, which revokes the old one.
A site device holding the public key can check the signature offline.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from conference.errors import InvalidInput
from conference.signing import Keyring

PREFIX = "PL1"
FORMAT_VERSION = 1
_HEAD = struct.Struct(">BB4s12sHI")
SIGNATURE_BYTES = 64
TOKEN_BYTES = _HEAD.size + SIGNATURE_BYTES

# Refusal codes, stable for clients and tests.
MALFORMED = "credential_malformed"
FORGED = "credential_forged"
EXPIRED = "credential_expired"
REVOKED = "credential_revoked"
OTHER_CONFERENCE = "credential_other_conference"


class CredentialRefused(InvalidInput):
    """A scanned credential that cannot admit anyone; ``code`` names the reason."""


@dataclass(frozen=True)
class Claims:
    """What a verified credential says."""

    kid: int
    conference_tag: bytes
    delegate_id: str
    version: int
    expires: datetime


def conference_tag(conference_public_id: str) -> bytes:
    return hashlib.sha256(conference_public_id.encode()).digest()[:4]


def id_bytes(public_id: str) -> bytes:
    raw = base64.urlsafe_b64decode(public_id + "=" * (-len(public_id) % 4))
    if len(raw) != 12:
        raise ValueError(f"a public id of 12 bytes was expected, not {len(raw)}")
    return raw


def id_text(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def expiry_for(ends_on: date, valid_days: int) -> datetime:
    """Credentials stay valid until the end of the day valid_days after the conference."""
    return datetime.combine(ends_on + timedelta(days=valid_days + 1), time(0), tzinfo=UTC)


def issue(
    keyring: Keyring,
    conference_public_id: str,
    delegate_public_id: str,
    version: int,
    expires: datetime,
) -> str:
    """The credential text for one delegate."""
    head = _HEAD.pack(
        FORMAT_VERSION,
        keyring.current_kid,
        conference_tag(conference_public_id),
        id_bytes(delegate_public_id),
        version & 0xFFFF,
        int(expires.timestamp()),
    )
    kid, signature = keyring.sign(head)
    assert kid == keyring.current_kid
    return PREFIX + base64.b32encode(head + signature).decode().rstrip("=")


def credential_for(
    keyring: Keyring,
    conference_public_id: str,
    ends_on: date,
    delegate_public_id: str,
    version: int,
    valid_days: int,
) -> str:
    """The current credential of a delegate (what their badge QR and phone page show)."""
    return issue(
        keyring,
        conference_public_id,
        delegate_public_id,
        version,
        expiry_for(ends_on, valid_days),
    )


def decode(text: str) -> tuple[bytes, bytes]:
    """(signed head, signature) of a credential's text; CredentialRefused when malformed."""
    text = text.strip()
    if not text.upper().startswith(PREFIX):
        raise CredentialRefused("this is not a plenary badge code", code=MALFORMED)
    body = text[len(PREFIX) :].upper()
    try:
        raw = base64.b32decode(body + "=" * (-len(body) % 8))
    except (binascii.Error, ValueError):
        raise CredentialRefused("the badge code is damaged", code=MALFORMED) from None
    if len(raw) != TOKEN_BYTES:
        raise CredentialRefused(
            "the badge code is incomplete or too long", code=MALFORMED
        ) from None
    return raw[: _HEAD.size], raw[_HEAD.size :]


def verify(keyring: Keyring, text: str, conference_public_id: str, *, now: datetime) -> Claims:
    """The claims of a genuine, current credential of this conference, or CredentialRefused.

    The signature is checked first: only a genuine credential can be "of another
    conference" or "expired"; anything altered is forged.
    """
    head, signature = decode(text)
    version, kid, tag, raw_id, cred_version, expires = _HEAD.unpack(head)
    if version != FORMAT_VERSION:
        raise CredentialRefused("this badge code has an unknown format", code=MALFORMED)
    if not keyring.verify(kid, head, signature):
        raise CredentialRefused(
            "the badge code's signature is not valid: forged or altered", code=FORGED
        )
    if tag != conference_tag(conference_public_id):
        raise CredentialRefused("this badge is for another conference", code=OTHER_CONFERENCE)
    expires_at = datetime.fromtimestamp(expires, UTC)
    if expires_at <= now:
        raise CredentialRefused(f"this badge expired on {expires_at:%Y-%m-%d}", code=EXPIRED)
    return Claims(kid, tag, id_text(raw_id), cred_version, expires_at)
