"""NFC on the way in; folding so that `Nguyen` finds `Nguyễn`."""

from __future__ import annotations

import secrets
import unicodedata

import pytest

from conference.dbtypes import new_public_id
from conference.text import fold, is_public_id, nfc, nfc_or_none


@pytest.mark.parametrize(
    ("text", "folded"),
    [
        ("Nguyễn Văn Á", "nguyen van a"),
        ("Đặng", "dang"),
        ("đặng thị đào", "dang thi dao"),
        ("TRẦN  QUỐC   TOẢN", "tran quoc toan"),
        ("  Hồ Chí Minh\t", "ho chi minh"),
        ("Phú Thọ", "phu tho"),
        ("Bắc Kạn", "bac kan"),
        ("Ưng Hoàng Phúc", "ung hoang phuc"),
        ("Straße", "strasse"),
        ("", ""),
    ],
)
def test_fold(text: str, folded: str) -> None:
    assert fold(text) == folded
    # Decomposed input folds the same.
    assert fold(unicodedata.normalize("NFD", text)) == folded


def test_fold_makes_names_match() -> None:
    assert fold("Nguyen") in fold("Hội nghị họ Nguyễn")
    assert fold("NGUYỄN") == fold("nguyễn") == fold("nguyen")
    assert fold("Đà Nẵng") == fold("da nang")


def test_nfc_composes_and_strips() -> None:
    decomposed = unicodedata.normalize("NFD", "Nguyễn")
    assert len(decomposed) > len("Nguyễn")
    assert nfc(decomposed) == "Nguyễn"
    assert unicodedata.is_normalized("NFC", nfc(decomposed))
    assert nfc("  Hà Nội \n") == "Hà Nội"


@pytest.mark.parametrize("text", ["Nguyễn Văn Á", "Đặng", " x ", "", "ạ̣"])
def test_nfc_is_idempotent(text: str) -> None:
    once = nfc(unicodedata.normalize("NFD", text))
    assert nfc(once) == once
    assert nfc(text) == once


def test_nfc_or_none() -> None:
    assert nfc_or_none(None) is None
    assert nfc_or_none("   ") is None
    assert nfc_or_none(unicodedata.normalize("NFD", " Huế ")) == "Huế"


def test_public_ids_can_be_given_on_a_command_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """An id never starts with "-" (argparse would take it for an option), yet stays random."""
    drawn = iter(["-startsWithDash0", "_fine_as_it_is0"])
    monkeypatch.setattr(secrets, "token_urlsafe", lambda n: next(drawn))
    assert new_public_id() == "_fine_as_it_is0"
    monkeypatch.undo()
    ids = {new_public_id() for _ in range(5000)}
    assert len(ids) == 5000 and not any(i.startswith("-") for i in ids)
    assert all(is_public_id(i) and len(i) == 16 for i in ids)
