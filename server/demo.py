"""The reference conference of SCENARIO.md (filled in by the demo work)."""

from __future__ import annotations

from server.config import Config


def run_demo(config: Config, *, serve: bool = True) -> None:
    raise NotImplementedError
