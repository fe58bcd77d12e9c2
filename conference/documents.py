"""Documents: HTML templates rendered to PDF by WeasyPrint, QR codes, bulk rendering in a pool.

Rendering is a pure function of plain data (a template name and a context of dicts, lists
and strings), so that it runs in worker processes. Bulk output (DESIGN.md section 8) puts
many pages in each WeasyPrint document, renders the chunks in a process pool started with
``spawn`` and joins them with pypdf: one page per document is many times slower.

An ``<img src="{{ text | qr }}">`` in a template is text's QR code (conference/qr.py),
drawn while rendering. Templates live in ``web/templates/documents``; they refer to
fonts by family name ("Noto Sans", installed by scripts/setup.sh), which covers
Vietnamese. A character that no installed font has is drawn as an empty box:
WeasyPrint logs it on the ``weasyprint`` logger, and every rendering here reports such
characters in ``Rendered.missing``.
"""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import math
import multiprocessing
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from conference.qr import qr_png

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "web" / "templates" / "documents"
PDF_TYPE = "application/pdf"
# WeasyPrint's warning when no font has a character (since 67.0, Kozea/WeasyPrint#2523);
# the URLFetcher class used below needs 68.0.
NOTDEF_MESSAGE = ".notdef glyph"
# Items per WeasyPrint document when rendering in bulk: big enough that a document's
# fixed costs (stylesheets, fonts, PDF structure) are shared, small enough for progress.
MAX_CHUNK_ITEMS = 192

log = logging.getLogger("plenary.documents")

Progress = Callable[[int, int], Awaitable[None]]


class MissingGlyphs(Exception):
    """A document uses characters that no installed font has."""

    def __init__(self, characters: Sequence[str]) -> None:
        self.characters = tuple(characters)
        listed = ", ".join(f"U+{ord(c):04X}" for c in self.characters)
        super().__init__(f"no installed font has {listed}")


@dataclass(frozen=True)
class Rendered:
    """A PDF with its page count and the characters drawn as empty boxes."""

    pdf: bytes
    pages: int
    missing: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"pdf": self.pdf, "pages": self.pages, "missing": list(self.missing)}

    @classmethod
    def of(cls, data: dict[str, Any]) -> Rendered:
        return cls(data["pdf"], data["pages"], tuple(data["missing"]))


# --- QR codes --------------------------------------------------------------------------------

QR_SCHEME = "qr:"


def qr_url(text: str) -> str:
    """Where a template's <img> finds text's QR code: drawn on demand while rendering."""
    return QR_SCHEME + quote(text, safe="")


def qr_data_uri(text: str) -> str:
    """text's QR code as a data: URI (for HTML outside documents)."""
    return "data:image/png;base64," + base64.b64encode(qr_png(text)).decode("ascii")


# --- HTML to PDF ------------------------------------------------------------------------------


@cache
def environment() -> Environment:
    """Jinja2 over web/templates/documents (one per process; templates do not change)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["qr"] = qr_url
    return env


def render_html(template: str, context: dict[str, Any]) -> str:
    return environment().get_template(template).render(**context)


class _GlyphWatch(logging.Handler):
    """Collects the characters WeasyPrint reports as drawn with the .notdef glyph."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.missing: dict[str, None] = {}

    def emit(self, record: logging.LogRecord) -> None:
        if isinstance(record.msg, str) and record.msg.startswith(NOTDEF_MESSAGE):
            codepoint = record.args[-1] if isinstance(record.args, tuple) else None
            if isinstance(codepoint, int):
                self.missing[chr(codepoint)] = None


def _fetcher() -> Any:
    """WeasyPrint's URL fetcher for documents: QR codes (qr:TEXT) and nothing else."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class QRFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if not url.startswith(QR_SCHEME):
                raise ValueError(f"documents fetch nothing: {url[:80]}")
            body = qr_png(unquote(url[len(QR_SCHEME) :]))
            return URLFetcherResponse(url, body=body, headers={"Content-Type": "image/png"})

    return QRFetcher(fail_on_errors=True)


def render_pdf(html: str, *, strict: bool = False) -> Rendered:
    """html as a PDF; strict raises MissingGlyphs when a character has no font.

    Documents fetch nothing: an <img src="qr:TEXT"> is drawn here, anything else fails.
    """
    from weasyprint import HTML

    watch = _GlyphWatch()
    logger = logging.getLogger("weasyprint")
    logger.addHandler(watch)
    try:
        document = HTML(string=html, url_fetcher=_fetcher()).render()
        pdf = document.write_pdf()
    finally:
        logger.removeHandler(watch)
    missing = tuple(watch.missing)
    if strict and missing:
        raise MissingGlyphs(missing)
    assert isinstance(pdf, bytes)
    return Rendered(pdf, len(document.pages), missing)


def render_template(template: str, context: dict[str, Any], *, strict: bool = False) -> Rendered:
    """A document template rendered to PDF (in this process)."""
    return render_pdf(render_html(template, context), strict=strict)


def render_task(task: dict[str, Any]) -> dict[str, Any]:
    """The pool's unit of work: {"template", "context"} in, {"pdf", "pages", "missing"} out.

    Plain data both ways, so that it crosses into a spawned worker and back.
    """
    return render_template(task["template"], task["context"]).as_dict()


def merge_pdfs(parts: Sequence[bytes]) -> bytes:
    """The pages of parts, in order, as one PDF."""
    if len(parts) == 1:
        return parts[0]
    from pypdf import PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(io.BytesIO(part))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- the pool -----------------------------------------------------------------------------------


def _warm_up() -> None:
    """Load WeasyPrint, Pango and the fonts once per worker, before the first task."""
    render_pdf("<p style=\"font-family: 'Noto Sans'\">Ạ<b>ạ</b></p>")


def new_pool(workers: int) -> ProcessPoolExecutor:
    """A pool of rendering processes, started with spawn (no copy of the server's state)."""
    return ProcessPoolExecutor(
        max_workers=max(1, workers),
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_warm_up,
    )


def chunk_size(items: int, workers: int, *, per_page: int = 1) -> int:
    """Items per WeasyPrint document: whole pages, several chunks per worker for progress."""
    pages = math.ceil(items / per_page)
    wanted = math.ceil(pages / max(1, workers * 4))
    pages_per_chunk = max(1, min(MAX_CHUNK_ITEMS // per_page, wanted))
    return pages_per_chunk * per_page


async def render_in_pool(
    pool: Executor,
    template: str,
    context: dict[str, Any],
    items: Sequence[dict[str, Any]],
    *,
    key: str = "items",
    per_page: int = 1,
    workers: int = 1,
    progress: Progress | None = None,
) -> Rendered:
    """Render template once per chunk of items (context[key]) in pool, and join the chunks.

    progress(done, total) is awaited as chunks finish, in whatever order they finish.
    """
    loop = asyncio.get_running_loop()
    size = chunk_size(len(items), workers, per_page=per_page)
    chunks = [items[start : start + size] for start in range(0, len(items), size)] or [[]]
    futures: dict[asyncio.Future[dict[str, Any]], int] = {}
    for index, chunk in enumerate(chunks):
        task = {"template": template, "context": {**context, key: list(chunk)}}
        futures[loop.run_in_executor(pool, render_task, task)] = index
    results: list[Rendered | None] = [None] * len(chunks)
    done = 0
    try:
        pending = set(futures)
        while pending:
            finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for future in finished:
                index = futures[future]
                results[index] = Rendered.of(future.result())
                done += len(chunks[index])
            if progress is not None:
                await progress(done, len(items))
    finally:
        for future in futures:
            future.cancel()
    parts = [r for r in results if r is not None]
    # Joining is CPU work too: in the pool, so that the caller's event loop stays free.
    if len(parts) == 1:
        pdf = parts[0].pdf
    else:
        pdf = await loop.run_in_executor(pool, merge_pdfs, [p.pdf for p in parts])
    missing = dict.fromkeys(ch for part in parts for ch in part.missing)
    return Rendered(pdf, sum(p.pages for p in parts), tuple(missing))
