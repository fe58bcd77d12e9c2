"""Certificates: how fast award certificates become one PDF each, and one to print.

N certificates of merit (Bằng khen) to units and people with Vietnamese names, each with
its own verification code and QR, are rendered through awards.documents.render_awards:
chunks of certificates per WeasyPrint document in a pool of spawned processes, each
chunk's PDF cut into one PDF per certificate, and all of them joined in order into one
print-ready PDF. That is the server's own code path for an award job, minus the
database. The pool is started and warmed first, as in a server that has printed before;
its start-up time is reported apart.

The baseline, measured in the same run on a smaller sample, is the naive loop: one
WeasyPrint document per certificate, the whole certificate from the default template,
one after another in this process: --baseline-n certificates, or as many as fit in
--seconds (at least three).

    python bench/certificates.py --n 1000
    python bench/certificates.py --n 1000 --seconds 10

The last line is one JSON object with the figures; measure_certificates(n) returns it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from typing import Any

# Importing common puts the project on sys.path first.
from common import report, sample_name, sample_title, used_cpu_seconds, warm_pool

from awards import documents as award_documents
from conference import documents

PROVINCES = ("Hà Nội", "Huế", "Hải Phòng", "Quảng Ninh", "Lào Cai", "Đồng Tháp", "Đắk Lắk")
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base32


def code(k: int) -> str:
    """A verification code like the server's: 12 characters of base32 in groups of four."""
    chars = []
    for _ in range(12):
        k, digit = divmod(k * 7919 + 104729, len(ALPHABET))
        chars.append(ALPHABET[digit])
    return "-".join("".join(chars[i : i + 4]) for i in range(0, 12, 4))


def sample_items(n: int) -> list[dict[str, Any]]:
    """n certificates' data: every third to a unit, the others to a person."""
    items = []
    for k in range(n):
        province = PROVINCES[k % len(PROVINCES)]
        if k % 3 == 0:
            recipient = {"kind": "unit", "name": f"Văn phòng Tỉnh ủy {province}"}
            recipient |= {"title": "", "unit": ""}
        else:
            recipient = {"kind": "person", "name": sample_name(k), "title": sample_title(k)}
            recipient["unit"] = f"Văn phòng Tỉnh ủy {province}"
        verification = code(k)
        items.append(
            {
                "kind": "certificate_of_merit",
                "kind_label": "BẰNG KHEN",
                "awarding_body": "CHÁNH VĂN PHÒNG TRUNG ƯƠNG ĐẢNG",
                "issuing_body": ["ĐẢNG CỘNG SẢN VIỆT NAM"],
                "recipient": recipient,
                "citation": (
                    "Đã có thành tích xuất sắc trong thực hiện nhiệm vụ công tác văn phòng "
                    "cấp ủy năm 2026, góp phần vào sự nghiệp xây dựng Đảng và bảo vệ Tổ quốc."
                ),
                "decision": {
                    "number": f"{125 + k // 50}-QĐ/VPTW",
                    "date_label": "ngày 15 tháng 12 năm 2026",
                },
                "place_date": "Hà Nội, ngày 15 tháng 12 năm 2026",
                "signer": {"title": "Chánh Văn phòng", "name": "Nguyễn Văn Hùng"},
                "year": 2026,
                "emblem": "",
                "verification": {
                    "code": verification,
                    "url": f"https://plenary.example.vn/verify/{verification}",
                },
                "revoked": False,
            }
        )
    return items


def baseline(items: list[dict[str, Any]], *, seconds: float | None = None) -> tuple[int, float]:
    """The naive loop, one WeasyPrint document per certificate in this process: how many
    it rendered (all of items, or as many as fit in seconds, at least three, taking
    items again from the start if need be), and how many per second."""
    template = award_documents.template_for(items[0])
    context = {"star": award_documents.STAR}
    documents.render_template(template, {**context, "awards": items[:1]})  # load fonts
    done = 0
    started = time.perf_counter()
    while True:
        if seconds is None and done == len(items):
            break
        if seconds is not None and done >= 3 and time.perf_counter() - started >= seconds:
            break
        documents.render_template(template, {**context, "awards": [items[done % len(items)]]})
        done += 1
    return done, done / (time.perf_counter() - started)


def measure_certificates(
    n: int,
    *,
    workers: int | None = None,
    baseline_n: int = 40,
    baseline_seconds: float | None = None,
) -> dict[str, Any]:
    """Render n certificates through the pool; the figures, with the naive loop's
    (baseline_n certificates, or as many as fit in baseline_seconds) and the machine's
    load average (one minute) before and after: other work on the machine skews both."""
    workers = workers or os.cpu_count() or 1
    items = sample_items(n)
    load_before = os.getloadavg()[0]
    cpu_before = used_cpu_seconds()
    with warm_pool(documents.new_pool, workers) as (pool, pool_seconds):
        started = time.perf_counter()
        pdfs, combined, missing = asyncio.run(
            award_documents.render_awards(pool, items, workers=workers)
        )
        seconds = time.perf_counter() - started
    cpu = used_cpu_seconds() - cpu_before
    sample = items if baseline_seconds is not None else items[: min(baseline_n, n)]
    naive_n, naive = baseline(sample, seconds=baseline_seconds)
    pages_per_s = len(pdfs) / seconds
    return {
        "certificates": n,
        "workers": workers,
        "pdfs": len(pdfs),
        "pdf_bytes": sum(map(len, pdfs)),
        "combined_bytes": len(combined),
        "missing_glyphs": len(missing),
        "pool_start_seconds": round(pool_seconds, 3),
        "seconds": round(seconds, 3),
        "cpu_seconds": round(cpu, 3),
        "pages_per_s": round(pages_per_s, 1),
        "baseline_certificates": naive_n,
        "baseline_pages_per_s": round(naive, 1),
        "speedup": round(pages_per_s / naive, 1),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="certificates to render")
    parser.add_argument(
        "--workers", type=int, default=None, help="processes in the pool (default: CPUs)"
    )
    parser.add_argument(
        "--baseline-n", type=int, default=40, help="certificates for the naive loop"
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=None,
        help="run the naive loop this long (at least 3 certificates) instead of --baseline-n",
    )
    args = parser.parse_args()
    if args.n < 1 or args.baseline_n < 1 or (args.seconds is not None and args.seconds <= 0):
        parser.error("--n and --baseline-n must be at least 1, --seconds more than 0")
    figures = measure_certificates(
        args.n, workers=args.workers, baseline_n=args.baseline_n, baseline_seconds=args.seconds
    )
    report(
        figures,
        f"{figures['certificates']} certificates ({figures['pdf_bytes']:,} bytes as single "
        f"PDFs, {figures['combined_bytes']:,} bytes to print) in {figures['seconds']} s: "
        f"{figures['pages_per_s']} pages/s with {figures['workers']} workers; one document "
        f"per certificate: {figures['baseline_pages_per_s']} pages/s "
        f"(x{figures['speedup']}); load average {figures['load_before']} before, "
        f"{figures['load_after']} after",
    )


if __name__ == "__main__":
    main()
