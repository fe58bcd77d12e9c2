"""Argon2 password hashing on a small thread pool of its own.

A hash takes tens of milliseconds of CPU; run on the event loop it would stall every
request. It does not use asyncio's default executor either: heavy parsing (imports)
runs elsewhere, and a login must not queue behind a spreadsheet, nor a flood of
logins behind each other without bound (callers limit attempts before hashing).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the username is unknown, so both paths cost the same; made at the
# first such login, in a worker thread (at import it cost every process half a second).
_dummy: tuple[PasswordHasher, str] | None = None


def _dummy_hash() -> str:
    global _dummy
    if _dummy is None or _dummy[0] is not _hasher:
        _dummy = (_hasher, _hasher.hash("not a real password, only for timing"))
    return _dummy[1]


class Passwords:
    """Hashes and verifies passwords on `workers` threads; counts every Argon2 run."""

    def __init__(self, workers: int = 2) -> None:
        self._pool = ThreadPoolExecutor(max(1, workers), thread_name_prefix="plenary-argon2")
        self.runs = 0

    async def verify(self, stored: str | None, password: str) -> bool:
        """Whether password matches the stored hash (a malformed hash matches nothing; None,
        an unknown account, matches nothing at the cost of a real hash)."""
        self.runs += 1
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, _matches, stored, password)

    async def hash(self, password: str) -> str:
        self.runs += 1
        return await asyncio.get_running_loop().run_in_executor(self._pool, _hasher.hash, password)

    async def rehashed(self, stored: str, password: str) -> str | None:
        """A new hash when stored was made with older parameters, else None."""
        if not _hasher.check_needs_rehash(stored):
            return None
        return await self.hash(password)

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _matches(stored: str | None, password: str) -> bool:
    try:
        return _hasher.verify(_dummy_hash() if stored is None else stored, password) and (
            stored is not None
        )
    except (VerificationError, InvalidHashError):
        return False


async def verify_password(stored: str | None, password: str) -> bool:
    """Check once outside a server (the command line): a worker thread."""
    return await asyncio.to_thread(_matches, stored, password)


async def hash_password(password: str) -> str:
    """Hash once outside a server (the command line, the demo): a worker thread."""
    return await asyncio.to_thread(_hasher.hash, password)
