"""A small in-process sliding-window rate limiter (per key).

A caller that is about to do costly work for an attempt (an Argon2 hash, a lookup of
a guessed secret) *reserves* its slot first, synchronously, before awaiting anything:
attempts in flight count like attempts made, so fifty requests arriving together
cannot all pass the check before the first one is counted. A reservation that turns
out not to be a failure (the right password, a real link) is cancelled.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from conference.errors import RateLimited


@dataclass
class Reservation:
    """Hits counted ahead of an attempt's outcome; cancel them if it succeeds."""

    limiter: RateLimiter
    stamps: list[tuple[str, float]] = field(default_factory=list)

    def cancel(self) -> None:
        for key, stamp in self.stamps:
            self.limiter.forget(key, stamp)
        self.stamps.clear()


class RateLimiter:
    """At most `limit` hits per `window` seconds per key."""

    def __init__(self, limit: int, window: float = 60.0, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float] | None:
        hits = self._hits.get(key)
        if hits is None:
            return None
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        if not hits:
            del self._hits[key]
            return None
        return hits

    def blocked(self, key: str) -> float:
        """Seconds until key may try again (0 when allowed now)."""
        return self._wait(key, self.limit)

    def blocked_many(self, key: str, factor: int = 10) -> float:
        """Like blocked, for a key that stands for many (an address): factor x the limit."""
        return self._wait(key, self.limit * factor)

    def _wait(self, key: str, limit: int) -> float:
        now = time.monotonic()
        hits = self._recent(key, now)
        if hits is None or len(hits) < limit:
            return 0.0
        return max(0.0, hits[0] + self.window - now)

    def reserve(self, keys: dict[str, int]) -> Reservation | float:
        """Count one hit on every key (key: factor x the limit it may reach) and return
        the reservation, or, when any key is at its limit, count nothing and return the
        seconds to wait. Synchronous: nothing can slip in between check and count."""
        wait = max(self._wait(key, self.limit * factor) for key, factor in keys.items())
        if wait:
            return wait
        reservation = Reservation(self)
        for key in keys:
            reservation.stamps.append((key, self.hit(key)))
        return reservation

    def hit(self, key: str) -> float:
        """Count one hit on key now; returns its time stamp."""
        now = time.monotonic()
        hits = self._recent(key, now)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                self._evict(now)
            hits = self._hits[key] = deque()
        hits.append(now)
        return now

    def forget(self, key: str, stamp: float) -> None:
        """Take back one hit (a reserved attempt that succeeded)."""
        hits = self._hits.get(key)
        if hits is None:
            return
        try:
            hits.remove(stamp)
        except ValueError:
            return  # already expired, evicted or reset
        if not hits:
            del self._hits[key]

    def _evict(self, now: float) -> None:
        """Forget expired keys, then the oldest ones; never everyone's counters at once."""
        for key in list(self._hits):
            self._recent(key, now)
        excess = len(self._hits) - self.max_keys + 1
        for key in list(self._hits)[: max(0, excess)]:
            del self._hits[key]

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)


@contextmanager
def failures_counted(limiter: RateLimiter, keys: dict[str, int], refusal: str) -> Iterator[None]:
    """Run an attempt that counts against keys (key: factor x the limit) unless it succeeds.

    The hit is reserved before the attempt starts (RateLimited, naming when to try again,
    if a key is full) and taken back only when the block ends without an exception. An
    attempt that fails in any way stays counted, also one whose client went away: the
    hash it started runs on, and leaving early must not buy another try."""
    reservation = limiter.reserve(keys)
    if not isinstance(reservation, Reservation):
        raise RateLimited(
            f"{refusal}; try again in {int(reservation) + 1} s", retry_after=reservation
        )
    yield
    reservation.cancel()
