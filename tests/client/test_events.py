"""The stream's clients name the server's events by domain without importing the server;
the sets they use are the catalogue's domains."""

from __future__ import annotations

from client import events
from server.events import build_catalogue


def test_the_clients_domains_are_the_catalogues() -> None:
    domains = build_catalogue().domains()
    assert set(domains["attendance"]) == events.ATTENDANCE
    assert set(domains["minutes"]) == events.MINUTES
    assert set(domains["awards"]) == events.AWARDS
    assert set(domains["conference"]) >= events.MAKING
