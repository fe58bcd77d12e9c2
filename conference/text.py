"""Text normalisation: NFC on the way in, folding for search."""

from __future__ import annotations

import re
import unicodedata

# Letters that do not decompose into a base letter plus a combining mark.
_FOLD_EXTRA = str.maketrans({"đ": "d", "Đ": "d", "ð": "d", "ø": "o", "ł": "l", "ß": "ss"})


def nfc(value: str) -> str:
    """Return value in Unicode NFC with surrounding whitespace removed."""
    return unicodedata.normalize("NFC", value).strip()


# C0 controls, DEL and the C1 controls (U+0080-U+009F: text decoded as Latin-1, never
# typed; a PDF prints them as empty boxes), except tab, newline and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
PUBLIC_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")


def has_control(value: str) -> bool:
    """Whether value holds a control character no person types (NUL, ESC, ...)."""
    return _CONTROL.search(value) is not None


def clean_text(value: str) -> str:
    """NFC, trimmed; refuses control characters (for validators: raises ValueError)."""
    if has_control(value):
        raise ValueError("control characters (such as NUL) are not allowed")
    return nfc(value)


def clean_prose(value: str) -> str:
    """Typed or pasted text kept as written (lines, spacing) but in NFC; a word
    processor's line and page breaks (VT, FF, NEL) become new lines; other control
    characters are refused (for validators: raises ValueError)."""
    value = value.replace("\x0b", "\n").replace("\x0c", "\n").replace("\x85", "\n")
    if has_control(value):
        raise ValueError("control characters (such as NUL) are not allowed")
    return unicodedata.normalize("NFC", value)


def is_public_id(value: str) -> bool:
    """Whether value can be a public identifier at all (anything else is simply not found)."""
    return PUBLIC_ID.fullmatch(value) is not None


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
