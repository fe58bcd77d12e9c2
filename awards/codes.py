"""Verification codes of awards: short enough to type from a certificate, impossible to
guess or enumerate.

Twelve characters of Crockford's base32 (60 random bits), printed in groups of four:
``7KQ4-M2XD-9F3B``. Reading one back forgives what people do when they type: lower
case, missing or extra hyphens and spaces, O for 0 and I or L for 1.
"""

from __future__ import annotations

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 12
GROUP = 4
_TYPED = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_award_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return "-".join(raw[i : i + GROUP] for i in range(0, LENGTH, GROUP))


def normalise_code(typed: str) -> str | None:
    """The code as stored, or None when typed cannot be one (wrong length or letters)."""
    raw = "".join(typed.split()).replace("-", "").upper().translate(_TYPED)
    if len(raw) != LENGTH or any(ch not in ALPHABET for ch in raw):
        return None
    return "-".join(raw[i : i + GROUP] for i in range(0, LENGTH, GROUP))
