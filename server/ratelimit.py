"""A small in-process sliding-window rate limiter (per key)."""

from __future__ import annotations

import time
from collections import deque


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
        now = time.monotonic()
        hits = self._recent(key, now)
        if hits is None or len(hits) < self.limit:
            return 0.0
        return max(0.0, hits[0] + self.window - now)

    def blocked_many(self, key: str, factor: int = 10) -> float:
        """Like blocked, for a key that stands for many (an address): factor x the limit."""
        now = time.monotonic()
        hits = self._recent(key, now)
        if hits is None or len(hits) < self.limit * factor:
            return 0.0
        return max(0.0, hits[0] + self.window - now)

    def hit(self, key: str) -> None:
        now = time.monotonic()
        hits = self._recent(key, now)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                self._evict(now)
            hits = self._hits[key] = deque()
        hits.append(now)

    def _evict(self, now: float) -> None:
        """Forget expired keys, then the oldest ones; never everyone's counters at once."""
        for key in list(self._hits):
            self._recent(key, now)
        excess = len(self._hits) - self.max_keys + 1
        for key in list(self._hits)[: max(0, excess)]:
            del self._hits[key]

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)
