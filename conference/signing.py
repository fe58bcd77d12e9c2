"""The server's Ed25519 signing keys, kept in the database so every process shares them.

The newest unretired key signs; every key, retired or not, still verifies what it
signed (credentials printed on badges, finalised minutes). A key id (``kid``, 1-255)
travels with each signature so keys can be rotated.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from conference.dbtypes import utcnow
from conference.models import SigningKey

MAX_KID = 255


@dataclass
class Keyring:
    """The loaded keys: sign with the current one, verify with any."""

    current_kid: int
    _private: dict[int, Ed25519PrivateKey] = field(default_factory=dict)
    _public: dict[int, Ed25519PublicKey] = field(default_factory=dict)
    _secrets: dict[int, bytes] = field(default_factory=dict)

    @property
    def loaded(self) -> bool:
        return bool(self._private)

    def take(self, other: Keyring) -> None:
        """Become other (a reload), in place, so every holder sees the new keys."""
        self.current_kid = other.current_kid
        self._private, self._public, self._secrets = other._private, other._public, other._secrets

    def sign(self, message: bytes) -> tuple[int, bytes]:
        """(kid, 64-byte signature) of message with the current key."""
        return self.current_kid, self._private[self.current_kid].sign(message)

    def verify(self, kid: int, message: bytes, signature: bytes) -> bool:
        key = self._public.get(kid)
        if key is None:
            return False
        try:
            key.verify(signature, message)
        except InvalidSignature:
            return False
        return True

    def public_key(self, kid: int) -> bytes:
        """The raw 32-byte public key (for offline verification on a device)."""
        return self._public[kid].public_bytes(Encoding.Raw, PublicFormat.Raw)

    def public_keys(self) -> dict[int, bytes]:
        return {kid: self.public_key(kid) for kid in self._public}

    def mac(self, purpose: str, message: bytes) -> bytes:
        """HMAC-SHA256 under a secret derived from the current key, one per purpose."""
        return self.mac_with(self.current_kid, purpose, message)

    def mac_with(self, kid: int, purpose: str, message: bytes) -> bytes:
        secret = self._secrets[kid]
        derived = hmac.new(secret, purpose.encode(), hashlib.sha256).digest()
        return hmac.new(derived, message, hashlib.sha256).digest()

    @classmethod
    def of(cls, rows: list[SigningKey]) -> Keyring:
        usable = [row for row in rows if row.retired_at is None]
        ring = cls(current_kid=max(row.kid for row in usable))
        for row in rows:
            private = Ed25519PrivateKey.from_private_bytes(row.private_key)
            ring._private[row.kid] = private
            ring._public[row.kid] = private.public_key()
            ring._secrets[row.kid] = hashlib.sha256(b"plenary-mac" + row.private_key).digest()
        return ring


def new_key_row(kid: int) -> SigningKey:
    private = Ed25519PrivateKey.generate()
    return SigningKey(
        kid=kid,
        private_key=private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption()),
        public_key=private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw),
    )


async def load_keyring(session: AsyncSession) -> Keyring:
    """The keys in the database; the first call on an empty database creates key 1.

    Two processes starting at once may both try to create it: the unique kid lets
    one win, and the other reads the winner's key.
    """
    rows = list(await session.exec(select(SigningKey).order_by(col(SigningKey.kid))))
    if not any(row.retired_at is None for row in rows):
        kid = max((row.kid for row in rows), default=0) + 1
        if kid > MAX_KID:
            raise RuntimeError("no key ids left: remove retired signing keys first")
        try:
            async with session.begin_nested():
                session.add(new_key_row(kid))
        except IntegrityError:
            pass
        rows = list(await session.exec(select(SigningKey).order_by(col(SigningKey.kid))))
    return Keyring.of(rows)


async def rotate_key(session: AsyncSession) -> int:
    """Retire the current key (it keeps verifying) and make a new one; returns its kid."""
    rows = list(await session.exec(select(SigningKey).order_by(col(SigningKey.kid))))
    kid = max((row.kid for row in rows), default=0) + 1
    if kid > MAX_KID:
        raise RuntimeError("no key ids left")
    for row in rows:
        if row.retired_at is None:
            row.retired_at = utcnow()
            session.add(row)
    session.add(new_key_row(kid))
    await session.flush()
    return kid
