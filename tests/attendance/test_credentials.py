"""Badge credentials: issued, verified, and every kind of bad code refused by name."""

from __future__ import annotations

import base64
import random
from datetime import UTC, date, datetime, timedelta

import pytest
import qrcode
import qrcode.util

from attendance import credentials
from attendance.credentials import CredentialRefused, expiry_for, issue, verify
from conference.dbtypes import new_public_id
from conference.signing import Keyring, new_key_row

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=30)


@pytest.fixture(scope="module")
def ring() -> Keyring:
    return Keyring.of([new_key_row(1)])


def refusal(ring: Keyring, text: str, conference: str, now: datetime = NOW) -> str:
    with pytest.raises(CredentialRefused) as excinfo:
        verify(ring, text, conference, now=now)
    return excinfo.value.code


def test_a_credential_verifies_and_names_its_delegate(ring: Keyring) -> None:
    conference, delegate = new_public_id(), new_public_id()
    text = issue(ring, conference, delegate, 3, LATER)
    claims = verify(ring, text, conference, now=NOW)
    assert claims.delegate_id == delegate
    assert claims.version == 3
    assert claims.kid == 1
    assert claims.expires == LATER.replace(microsecond=0)
    # Lower case (some scanners) and surrounding blanks still verify.
    assert verify(ring, f"  {text.lower()}\n", conference, now=NOW).delegate_id == delegate


def test_the_code_fits_a_small_alphanumeric_qr(ring: Keyring) -> None:
    text = issue(ring, new_public_id(), new_public_id(), 1, LATER)
    assert set(text) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567PL1")
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(qrcode.util.QRData(text, mode=qrcode.util.MODE_ALPHA_NUM))
    code.make(fit=True)
    # 41 x 41 modules with 15 % error correction: easy for a phone at badge size.
    assert code.version <= 6


def test_tampered_bytes_are_forged(ring: Keyring) -> None:
    conference = new_public_id()
    text = issue(ring, conference, new_public_id(), 1, LATER)
    raw = bytearray(credentials.decode(text)[0] + credentials.decode(text)[1])
    for position in (1 + 1 + 4, 20, 30, len(raw) - 1):  # delegate id, version, expiry, signature
        changed = bytearray(raw)
        changed[position] ^= 0x01
        forged = credentials.PREFIX + base64.b32encode(bytes(changed)).decode().rstrip("=")
        assert refusal(ring, forged, conference) == credentials.FORGED


def test_a_key_we_do_not_hold_is_forged(ring: Keyring) -> None:
    conference = new_public_id()
    stranger = Keyring.of([new_key_row(1)])
    text = issue(stranger, conference, new_public_id(), 1, LATER)
    assert refusal(ring, text, conference) == credentials.FORGED
    unknown_kid = Keyring.of([new_key_row(7)])
    assert refusal(ring, issue(unknown_kid, conference, new_public_id(), 1, LATER), conference) == (
        credentials.FORGED
    )


def test_truncated_and_garbage_codes_are_malformed(ring: Keyring) -> None:
    conference = new_public_id()
    text = issue(ring, conference, new_public_id(), 1, LATER)
    for bad in (text[:-1], text[:-8], text[:20], text + "AAAAAAAA", "PL1", "", "hello", "PL1!!!!"):
        assert refusal(ring, bad, conference) == credentials.MALFORMED, bad


def test_expired_and_other_conference(ring: Keyring) -> None:
    conference = new_public_id()
    text = issue(ring, conference, new_public_id(), 1, NOW - timedelta(seconds=1))
    assert refusal(ring, text, conference) == credentials.EXPIRED
    fresh = issue(ring, conference, new_public_id(), 1, LATER)
    assert refusal(ring, fresh, new_public_id()) == credentials.OTHER_CONFERENCE


def test_retired_keys_still_verify_new_ones_sign() -> None:
    old = new_key_row(1)
    conference = new_public_id()
    text = issue(Keyring.of([old]), conference, new_public_id(), 1, LATER)
    old.retired_at = NOW
    ring = Keyring.of([old, new_key_row(2)])
    assert ring.current_kid == 2
    assert verify(ring, text, conference, now=NOW).kid == 1
    assert (
        verify(ring, issue(ring, conference, new_public_id(), 1, LATER), conference, now=NOW).kid
        == 2
    )


def test_ten_thousand_random_codes_admit_nobody(ring: Keyring) -> None:
    conference = new_public_id()
    rng = random.Random(20261124)
    codes: dict[str, int] = {}
    for _ in range(10_000):
        raw = rng.randbytes(credentials.TOKEN_BYTES)
        raw = bytes([1, 1]) + raw[2:]  # the right format and key id: only the signature can fail
        text = credentials.PREFIX + base64.b32encode(raw).decode().rstrip("=")
        code = refusal(ring, text, conference)
        codes[code] = codes.get(code, 0) + 1
    assert codes == {credentials.FORGED: 10_000}


def test_expiry_is_after_the_conference() -> None:
    assert expiry_for(date(2026, 12, 2), 7) == datetime(2026, 12, 10, tzinfo=UTC)
