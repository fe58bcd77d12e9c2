"""The benchmarks keep running (tiny sizes; the figures live in docs/performance.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def run_bench(script: str, *args: str, timeout: float = 120) -> dict[str, Any]:
    """Run bench/<script> with args; its last line of output is a JSON object of figures."""
    done = subprocess.run(
        [sys.executable, str(ROOT / "bench" / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def test_fanout_benchmark_runs_and_reports_json() -> None:
    figures = run_bench("fanout.py", "--subscribers", "4", "--events", "2", "--generators", "2")
    # Two agenda moves and the end marker reach each of the 4 subscribers, none missed.
    assert figures["subscribers"] == 4 and figures["events"] == 3 and figures["missed"] == 0
    assert 0 < figures["p50_ms"] <= figures["p99_ms"]
    assert figures["cpu_us_per_delivery"] > 0 and figures["kb_per_subscriber"] != 0
    assert "baseline_cpu_us_per_delivery" in figures and figures["generators_cpu_s"] > 0


def test_badges_benchmark_runs_and_reports_json() -> None:
    figures = run_bench("badges.py", "--n", "12", "--baseline", "2")
    assert figures["badges"] == 12 and figures["pages"] == 2 and figures["missing_glyphs"] == 0
    assert figures["badges_per_s"] > 0 and figures["baseline_badges_per_s"] > 0


def test_checkin_benchmark_runs_and_reports_json() -> None:
    figures = run_bench(
        "checkin.py", "--n", "50", "--concurrency", "4", "--badges", "0", timeout=180
    )
    keys = {"checkins_per_s", "p50_ms", "p99_ms", "baseline_per_s", "badges_per_s"}
    assert keys <= set(figures)
    # Every request answered 200, and the baseline admitted every delegate too.
    assert figures["checkins"] == 50 and figures["errors"] == 0
    assert figures["baseline_checkins"] == 50 and figures["baseline_errors"] == 0
    assert figures["checkins_per_s"] > 0 and figures["baseline_per_s"] > 0
    assert figures["p50_ms"] <= figures["p99_ms"]
    assert figures["badges_per_s"] is None


def test_certificates_benchmark_runs_and_reports_json() -> None:
    figures = run_bench(
        "certificates.py", "--n", "6", "--workers", "2", "--baseline-n", "2", timeout=180
    )
    assert figures["certificates"] == 6 and figures["pdfs"] == 6
    assert figures["missing_glyphs"] == 0
    assert figures["pages_per_s"] > 0 and figures["baseline_pages_per_s"] > 0
    assert figures["speedup"] > 0 and figures["seconds"] > 0
    assert figures["baseline_certificates"] == 2


def test_the_certificates_baseline_may_run_for_a_time_instead() -> None:
    figures = run_bench(
        "certificates.py", "--n", "4", "--workers", "1", "--seconds", "0.2", timeout=180
    )
    # At least three naive certificates, however short the time.
    assert figures["pdfs"] == 4 and figures["baseline_certificates"] >= 3
    assert {"load_before", "load_after", "pages_per_s", "baseline_pages_per_s"} <= set(figures)
