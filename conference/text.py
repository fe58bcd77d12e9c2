"""Text normalisation: NFC on the way in, folding for search."""

from __future__ import annotations

import unicodedata

# Letters that do not decompose into a base letter plus a combining mark.
_FOLD_EXTRA = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "ø": "o", "ł": "l", "ß": "ss"})


def nfc(value: str) -> str:
    """Return value in Unicode NFC with surrounding whitespace removed."""
    return unicodedata.normalize("NFC", value).strip()


def nfc_or_none(value: str | None) -> str | None:
    """NFC-normalise an optional string; empty strings become None."""
    if value is None:
        return None
    cleaned = nfc(value)
    return cleaned or None


def fold(value: str) -> str:
    """Fold case and diacritics so that `nguyen van a` matches `Nguyễn Văn A`."""
    decomposed = unicodedata.normalize("NFD", value.translate(_FOLD_EXTRA))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.casefold().translate(_FOLD_EXTRA).split())
