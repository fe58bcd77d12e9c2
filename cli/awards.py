"""`plenary awards render`: every award of a conference (or one decision) rendered on
this machine into a ZIP of one PDF per award plus the combined print-ready PDF, with a
progress bar. The same documents as the background job of the API (docs/awards.md)."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from cli.options import Subcommands, conference_argument, database_command

if TYPE_CHECKING:
    from runtime.config import Config

BAR = 30


def add_parser(sub: Subcommands) -> None:
    awards = sub.add_parser("awards", help="award documents", description="Award documents.")
    awards_sub = awards.add_subparsers(dest="awards_command", required=True, metavar="ACTION")
    render = database_command(
        awards_sub,
        "render",
        help="render the award documents to a ZIP file",
        description="Render every award (not revoked) of a conference, or of one decision, "
        "as one PDF per award with its QR code, plus the combined print-ready PDF, into a ZIP "
        "file. Each award's verification code stays what it was.",
    )
    conference_argument(render)
    render.add_argument("--decision", metavar="DECISION_ID", help="only this decision's awards")
    render.add_argument("-o", "--output", metavar="FILE", required=True, help="the ZIP to write")
    render.add_argument(
        "--verify-url",
        metavar="URL",
        help="where the QR codes point, without the code (default: $PLENARY_PUBLIC_URL/verify)",
    )
    render.add_argument("--workers", type=int, help="rendering processes (default: the CPUs)")


class ProgressBar:
    """[#######-------] 12/40 on a terminal (redrawn in place); a line per tenth elsewhere."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.tty = out.isatty()
        self.started = time.monotonic()
        self.shown = -1

    async def __call__(self, done: int, total: int) -> None:
        if self.tty:
            filled = BAR * done // max(1, total)
            line = f"\r[{'#' * filled}{'-' * (BAR - filled)}] {done}/{total}"
            self.out.write(line + ("\n" if done >= total else ""))
        else:
            tenth = 10 * done // max(1, total)
            if tenth == self.shown:
                return
            self.shown = tenth
            self.out.write(f"rendered {done}/{total}\n")
        self.out.flush()


def render_command(config: Config, args: argparse.Namespace) -> str:
    """Render, write the ZIP, and say what was done."""
    started = time.monotonic()
    archive, count, missing = asyncio.run(render_zip(config, args))
    Path(args.output).write_bytes(archive)
    seconds = time.monotonic() - started
    note = f"; no font has {''.join(missing)!r}" if missing else ""
    return f"{count} award documents written to {args.output} in {seconds:.1f} s{note}"


async def render_zip(
    config: Config, args: argparse.Namespace
) -> tuple[bytes, int, tuple[str, ...]]:
    # Here, not at the top: `plenary --help` and `plenary follow` need none of this.
    from awards import documents as award_documents
    from awards import render as award_render
    from conference import documents
    from conference.actors import CLI, Actor
    from conference.db import Database
    from conference.errors import InvalidInput
    from conference.services import get_conference
    from server.migrate import ensure_current

    base = args.verify_url or (
        config.public_url.rstrip("/") + "/verify" if config.public_url else ""
    )
    if not base.startswith(("https://", "http://")):
        raise InvalidInput(
            "the QR codes need the address of the verification page: set PLENARY_PUBLIC_URL "
            "or give --verify-url https://.../verify",
            field="verify-url",
        )
    await ensure_current(config.database_url)
    db = Database(config.database_url)
    try:
        async with db.read() as session:
            conference = await get_conference(session, args.conference)
            actor = Actor(CLI, conference.id, frozenset({"organizer"}))
            batch = await award_render.batch_to_render(
                session, conference, decision_id=args.decision, verify_base=base, actor=actor
            )
        workers = args.workers or config.document_workers
        pool = documents.new_pool(workers, memory_mb=config.document_memory_mb)
        try:
            pdfs, combined, missing = await award_documents.render_awards(
                pool,
                batch.items,
                workers=workers,
                templates=batch.templates,
                progress=ProgressBar(sys.stderr),
                seconds=config.template_seconds,
            )
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        awards = batch.awards
        async with db.transaction() as session:
            await award_render.record_rendered(session, awards, pdfs)
        return award_render.zip_documents(awards, pdfs, combined), len(pdfs), missing
    finally:
        await db.dispose()
