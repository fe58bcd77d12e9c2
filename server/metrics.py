"""Counters exposed at /metrics in the Prometheus text format."""

from __future__ import annotations

import time
from collections import Counter

from conference.db import Database
from conference.passwords import Passwords


class Metrics:
    def __init__(self) -> None:
        self.started = time.time()
        self.requests: Counter[tuple[str, int]] = Counter()
        self.ws_connections = 0
        self.ws_closed_slow = 0
        # The app's password hasher, whose runs are counted (set by create_app).
        self.passwords: Passwords | None = None

    def render(self, db: Database, open_sockets: int) -> str:
        lines = [
            "# HELP plenary_http_requests_total HTTP requests by method and status.",
            "# TYPE plenary_http_requests_total counter",
        ]
        for (method, status), count in sorted(self.requests.items()):
            lines.append(
                f'plenary_http_requests_total{{method="{method}",status="{status}"}} {count}'
            )
        lines += [
            "# HELP plenary_websockets_open Open WebSocket connections.",
            "# TYPE plenary_websockets_open gauge",
            f"plenary_websockets_open {open_sockets}",
            "# HELP plenary_websockets_total WebSocket connections accepted.",
            "# TYPE plenary_websockets_total counter",
            f"plenary_websockets_total {self.ws_connections}",
            "# HELP plenary_websockets_closed_slow_total Sockets closed for falling behind.",
            "# TYPE plenary_websockets_closed_slow_total counter",
            f"plenary_websockets_closed_slow_total {self.ws_closed_slow}",
            "# HELP plenary_live_events_published_total Live events handed to the hub.",
            "# TYPE plenary_live_events_published_total counter",
            f"plenary_live_events_published_total {db.hub.published}",
            "# HELP plenary_live_subscribers Live subscriptions in this process.",
            "# TYPE plenary_live_subscribers gauge",
            f"plenary_live_subscribers {db.hub.subscriber_count()}",
            "# HELP plenary_start_time_seconds Process start, Unix time.",
            "# TYPE plenary_start_time_seconds gauge",
            f"plenary_start_time_seconds {self.started:.0f}",
            "# HELP plenary_password_hashes_total Argon2 hashes run (logins, new passwords).",
            "# TYPE plenary_password_hashes_total counter",
            f"plenary_password_hashes_total {self.passwords.runs if self.passwords else 0}",
        ]
        return "\n".join(lines) + "\n"
