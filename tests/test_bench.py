"""The benchmarks keep running (tiny sizes; the figures live in docs/performance.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_live_fanout_benchmark_runs_and_reports_json() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "live_fanout.py"), "--sockets", "3", "--events", "4"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["sockets"] == 3 and figures["events"] == 4
    assert figures["deliveries_per_s"] > 0 and figures["baseline_deliveries_per_s"] > 0
