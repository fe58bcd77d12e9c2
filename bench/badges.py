"""Badges: how fast delegate badges become one printable PDF.

N delegates with Vietnamese names at 34 sites get real signed credentials
(attendance.badges.badge_items, as a badge job does) and are rendered in the sheet
layout through conference.documents.render_in_pool: chunks of pages per WeasyPrint
document in a pool of spawned processes, joined with pypdf. That is the server's own
code path for a badge job, minus the database. The pool is started and warmed first,
as in a server that has printed before; its start-up time is reported apart.

The baseline, measured in the same run on a smaller sample, is the naive loop: one
WeasyPrint document per badge, one after another in this process.

    python bench/badges.py --n 10000

The last line is one JSON object with the figures; measure_badges(n) returns it.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import date
from typing import Any

# Importing common puts the project on sys.path first.
from common import report, sample_name, sample_title, used_cpu_seconds, warm_pool

from attendance import badges
from attendance.models import Delegate
from conference import documents
from conference.models import Conference, Site
from conference.signing import Keyring, new_key_row

CATEGORIES = ("official", "official", "official", "alternate", "guest", "staff")


def sample_items(n: int, keyring: Keyring) -> tuple[list[dict[str, Any]], Conference]:
    """n badges' data, signed as a badge job signs them, and their conference."""
    conference = Conference(
        id=1,
        title="Hội nghị toàn quốc Văn phòng cấp ủy lần thứ nhất, nhiệm kỳ 2025 - 2030",
        starts_on=date(2026, 12, 10),
        ends_on=date(2026, 12, 11),
    )
    sites = [
        Site(id=k + 1, conference_id=1, code=f"S{k:02d}", name=f"Tỉnh số {k}") for k in range(34)
    ]
    rows = []
    for k in range(n):
        site = sites[k % len(sites)]
        delegate = Delegate(
            conference_id=1,
            site_id=site.id or 0,
            full_name=sample_name(k),
            title=sample_title(k),
            unit=f"Văn phòng Tỉnh ủy {site.name}",
            category=CATEGORIES[k % len(CATEGORIES)],
        )
        rows.append((delegate, site))
    return asyncio.run(badges.badge_items(keyring, conference, rows, 7)), conference


def _items_and_context(n: int, layout: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    items, conference = sample_items(n, Keyring.of([new_key_row(1)]))
    return items, badges.badge_context(conference, layout, [])


def baseline(items: list[dict[str, Any]], context: dict[str, Any]) -> float:
    """Badges per second, one WeasyPrint document per badge in this process."""
    documents.render_template(badges.TEMPLATE, {**context, "items": items[:1]})  # load fonts
    started = time.perf_counter()
    for item in items:
        documents.render_template(badges.TEMPLATE, {**context, "items": [item]})
    return len(items) / (time.perf_counter() - started)


def measure_badges(
    n: int, *, workers: int = 2, layout: str = "sheet", baseline_n: int = 40
) -> dict[str, Any]:
    """Render n badges through the pool; the figures, with the naive loop's for comparison."""
    cpu_before = used_cpu_seconds()
    prepared = time.perf_counter()
    items, context = _items_and_context(n, layout)
    signing = time.perf_counter() - prepared
    with warm_pool(documents.new_pool, workers) as (pool, pool_seconds):
        started = time.perf_counter()
        rendered = asyncio.run(
            documents.render_in_pool(
                pool,
                badges.TEMPLATE,
                context,
                items,
                per_page=badges.PER_PAGE[layout],
                workers=workers,
            )
        )
        seconds = time.perf_counter() - started + signing
    # The workers' CPU time (start-up included) and this process's: what the machine did.
    cpu = used_cpu_seconds() - cpu_before
    naive = baseline(items[: min(baseline_n, n)], context)
    return {
        "badges": n,
        "layout": layout,
        "workers": workers,
        "pages": rendered.pages,
        "pdf_bytes": len(rendered.pdf),
        "missing_glyphs": len(rendered.missing),
        "signing_seconds": round(signing, 3),
        "pool_start_seconds": round(pool_seconds, 3),
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "badges_per_s": round(n / seconds, 1),
        "baseline_badges": min(baseline_n, n),
        "baseline_badges_per_s": round(naive, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="badges to render")
    parser.add_argument("--workers", type=int, default=2, help="processes in the pool")
    parser.add_argument("--layout", choices=sorted(badges.PER_PAGE), default="sheet")
    parser.add_argument("--baseline", type=int, default=40, help="badges for the naive loop")
    args = parser.parse_args()
    figures = measure_badges(
        args.n, workers=args.workers, layout=args.layout, baseline_n=args.baseline
    )
    report(
        figures,
        f"{figures['badges']} badges ({figures['pages']} pages, {figures['pdf_bytes']:,} bytes) "
        f"in {figures['seconds']} s: {figures['badges_per_s']} badges/s with "
        f"{figures['workers']} workers; one document per badge: "
        f"{figures['baseline_badges_per_s']} badges/s",
    )


if __name__ == "__main__":
    main()
