"""Documents: HTML templates rendered to PDF by WeasyPrint, QR codes, bulk rendering in a pool.

Rendering is a pure function of plain data (a template name and a context of dicts, lists
and strings), so that it runs in worker processes. Bulk output (DESIGN.md section 8) puts
many pages in each WeasyPrint document, renders the chunks in a process pool started with
``spawn`` and joins them with pypdf: one page per document is many times slower.

An ``<img src="{{ text | qr }}">`` in a template is text's QR code (conference/qr.py),
drawn while rendering; ``data:`` URIs of PNG, JPEG and SVG images are drawn too (an
organizer's emblem); documents fetch nothing else. Templates live in
``web/templates/documents``; they refer to fonts by family name ("Noto Sans", "Noto
Serif", installed by scripts/setup.sh), which cover Vietnamese. A character that no
installed font has is drawn as an empty box: WeasyPrint logs it on the ``weasyprint``
logger, and every rendering here reports such characters in ``Rendered.missing``.

A rendering may carry template overrides ({name: source}, e.g. an organizer's own
``awards/certificate.html`` for one conference): they are found before the files, and
the whole rendering then runs in Jinja's sandbox, since organizers are not programmers
we trust with Python.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import gc
import io
import logging
import math
import re
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, NotRequired, TypeVar
from urllib.parse import quote, unquote, unquote_to_bytes

from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    DictLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    Undefined,
    select_autoescape,
)
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment
from typing_extensions import TypedDict

from conference.pool import DocumentPool
from conference.qr import qr_png

TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "web" / "templates" / "documents"
PDF_TYPE = "application/pdf"
# WeasyPrint's warning when no font has a character (since 67.0, Kozea/WeasyPrint#2523);
# the URLFetcher class used below needs 68.0.
NOTDEF_MESSAGE = ".notdef glyph"
# Items per WeasyPrint document when rendering in bulk: big enough that a document's
# fixed costs (stylesheets, fonts, PDF structure) are shared, small enough for progress.
MAX_CHUNK_ITEMS = 192
# The address space a rendering worker may use, in MB (PLENARY_DOCUMENT_MEMORY_MB): a
# chunk of 192 certificates peaks at about 370 MB, so a worker has room to spare.
MEMORY_MB = 1024

log = logging.getLogger("plenary.documents")

T = TypeVar("T")
Progress = Callable[[int, int], Awaitable[None]]
# Template overrides: a template's name (as under web/templates/documents) -> its source.
Overrides = Mapping[str, str]
# A template's context: the names its template reads (each template's own shape, often a
# TypedDict), plain values so that they cross into a worker process.
Context = Mapping[str, object]


class RenderTask(TypedDict):
    """render_task's input; templates: an organizer's sources by template name."""

    template: str
    context: Context
    templates: NotRequired[dict[str, str]]


class RenderedData(TypedDict):
    """A Rendered as plain data, to cross back from a worker process."""

    pdf: bytes
    pages: int
    missing: list[str]


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

    def as_dict(self) -> RenderedData:
        return {"pdf": self.pdf, "pages": self.pages, "missing": list(self.missing)}

    @classmethod
    def of(cls, data: RenderedData) -> Rendered:
        return cls(data["pdf"], data["pages"], tuple(data["missing"]))


# --- QR codes --------------------------------------------------------------------------------

QR_SCHEME = "qr:"
# Pixels per module of a document's QR code (conference/qr.py): with modules of 0.5 mm or
# more, read from pages rendered at 100 and 150 dpi. Vectors read too, but an SVG code
# costs WeasyPrint three times a badge's whole drawing.
QR_SCALE = 4


def qr_url(text: str) -> str:
    """Where a template's <img> finds text's QR code: drawn on demand while rendering."""
    return QR_SCHEME + quote(text, safe="")


def qr_data_uri(text: str) -> str:
    """text's QR code as a data: URI (for HTML outside documents)."""
    return "data:image/png;base64," + base64.b64encode(qr_png(text)).decode("ascii")


# --- HTML to PDF ------------------------------------------------------------------------------


def _configure(env: Environment) -> Environment:
    env.filters["qr"] = qr_url
    return env


class _Options(TypedDict):
    """How every environment reads templates (keywords of jinja2.Environment)."""

    autoescape: Callable[[str | None], bool]
    undefined: type[Undefined]
    trim_blocks: bool
    lstrip_blocks: bool


def _options() -> _Options:
    return {
        "autoescape": select_autoescape(["html"], default=True),
        "undefined": StrictUndefined,
        "trim_blocks": True,
        "lstrip_blocks": True,
    }


@cache
def environment() -> Environment:
    """Jinja2 over web/templates/documents (one per process; templates do not change)."""
    return _configure(Environment(loader=FileSystemLoader(TEMPLATES_DIR), **_options()))


# How long an organizer's templates may take to make one document, and a little more per
# award in bulk: past it the pool kills the worker (conference/pool.py).
TEMPLATE_SECONDS = 60.0
TEMPLATE_SECONDS_PER_ITEM = 0.25
# The longest text or list a template may make with * (the sandbox already caps range()).
MAX_PRODUCT = 1_000_000


class _Sandbox(SandboxedEnvironment):
    """Jinja's sandbox, and no * or ** making huge values (a template could fill memory)."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise SecurityError("exponents above 64 are not allowed in templates")
        if operator == "*":
            for sized, times in ((left, right), (right, left)):
                many = isinstance(sized, str | list | tuple) and isinstance(times, int)
                if many and len(sized) * times > MAX_PRODUCT:
                    raise SecurityError(
                        f"a template may not make values of over {MAX_PRODUCT:,} items"
                    )
        return super().call_binop(context, operator, left, right)


@lru_cache(maxsize=16)
def _sandboxed(overrides: tuple[tuple[str, str], ...]) -> Environment:
    # Cached on the sources themselves: a pool worker compiles a conference's overrides once.
    loader: BaseLoader = ChoiceLoader(
        [DictLoader(dict(overrides)), FileSystemLoader(TEMPLATES_DIR)]
    )
    env = _Sandbox(loader=loader, **_options())
    # lipsum(n) makes text as long as it is asked to.
    env.globals.pop("lipsum", None)
    return _configure(env)


def template_seconds(
    templates: Overrides | None, items: int = 1, base: float | None = None
) -> float | None:
    """How long a rendering of items may take: no limit with the shipped templates."""
    if not templates:
        return None
    return (base or TEMPLATE_SECONDS) + TEMPLATE_SECONDS_PER_ITEM * items


def template_environment(templates: Overrides | None = None) -> Environment:
    """The environment for a rendering: the files, or overrides before them in a sandbox."""
    if not templates:
        return environment()
    return _sandboxed(tuple(sorted(templates.items())))


def render_html(template: str, context: Context, *, templates: Overrides | None = None) -> str:
    """template's HTML for context; templates (overrides) are looked up before the files."""
    return template_environment(templates).get_template(template).render(**context)


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


# data:[image type][;base64],DATA: the emblem of an award, given inline by the organizer.
DATA_URI = re.compile(r"data:(image/(?:png|jpeg|svg\+xml))((?:;[\w=.+-]+)*?)(;base64)?,(.*)", re.S)
MAX_DATA_URI_BYTES = 4 * 1024 * 1024
_MAGIC = {"image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",)}


def data_image(url: str) -> tuple[str, bytes]:
    """The type and bytes of a data: URI of a PNG, JPEG or SVG image; ValueError otherwise."""
    match = DATA_URI.fullmatch(url)
    if match is None:
        raise ValueError("only PNG, JPEG and SVG images may be given as data: URIs")
    kind, _, is_base64, payload = match.groups()
    if len(payload) > MAX_DATA_URI_BYTES * 4 // 3 + 4:
        raise ValueError("the image is too large")
    try:
        body = base64.b64decode(payload, validate=True) if is_base64 else unquote_to_bytes(payload)
    except (binascii.Error, ValueError) as error:
        raise ValueError("the data: URI is not valid base64") from error
    if kind == "image/svg+xml":
        head = body[:1024].lstrip(b"\xef\xbb\xbf \t\r\n")
        if not (head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in body)):
            raise ValueError("the data: URI is not an SVG image")
    elif not body.startswith(_MAGIC[kind]):
        raise ValueError(f"the data: URI is not a {kind} image")
    return kind, body


def _fetcher() -> Any:
    """WeasyPrint's URL fetcher for documents: QR codes (qr:TEXT), data: images, nothing else."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class QRFetcher(URLFetcher):  # type: ignore[misc]
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith(QR_SCHEME):
                body = qr_png(unquote(url[len(QR_SCHEME) :]), scale=QR_SCALE)
                return URLFetcherResponse(url, body=body, headers={"Content-Type": "image/png"})
            if url.startswith("data:"):
                kind, body = data_image(url)
                return URLFetcherResponse(url, body=body, headers={"Content-Type": kind})
            raise ValueError(f"documents fetch nothing: {url[:80]}")

    return QRFetcher(fail_on_errors=True)


# Where each anchor is on its page: its element's border box, (left, top[, right, bottom])
# in CSS px from the page's top left corner (WeasyPrint 70 gives all four).
Anchors = dict[str, tuple[float, ...]]


def render_pdf_anchors(html: str, *, strict: bool = False) -> tuple[Rendered, list[Anchors]]:
    """html as a PDF, and for each page where the elements with an id starting on it are.

    Pages are attributed to parts of a document by those ids (WeasyPrint's anchors), and
    parts of a page measured by their positions.
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
    anchors = [dict(page.anchors) for page in document.pages]
    return Rendered(pdf, len(document.pages), missing), anchors


def render_pdf_pages(html: str, *, strict: bool = False) -> tuple[Rendered, list[list[str]]]:
    """html as a PDF, and for each page the ids of the elements that start on it."""
    rendered, anchors = render_pdf_anchors(html, strict=strict)
    return rendered, [list(page) for page in anchors]


def render_pdf(html: str, *, strict: bool = False) -> Rendered:
    """html as a PDF; strict raises MissingGlyphs when a character has no font.

    Documents fetch nothing: an <img src="qr:TEXT"> is drawn here, and so is a data: URI
    of a PNG, JPEG or SVG image; anything else fails.
    """
    return render_pdf_pages(html, strict=strict)[0]


def render_template(
    template: str,
    context: Context,
    *,
    strict: bool = False,
    templates: Overrides | None = None,
) -> Rendered:
    """A document template rendered to PDF (in this process); templates are overrides."""
    return render_pdf(render_html(template, context, templates=templates), strict=strict)


@contextmanager
def collecting_after() -> Iterator[None]:
    """Pause Python's cycle collector while a document is made, and collect once after.

    For the pool's units of work. A document's boxes all live until its PDF is written, so
    collections during the rendering walk them again and again and free little: about a
    fifth of a bulk rendering's time.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


def render_task(task: RenderTask) -> RenderedData:
    """The pool's unit of work: {"template", "context"[, "templates"]} in, {"pdf", "pages",
    "missing"} out.

    Plain data both ways, so that it crosses into a spawned worker and back; "templates"
    maps template names to an organizer's sources, rendered in the sandbox.
    """
    with collecting_after():
        rendered = render_template(
            task["template"], task["context"], templates=task.get("templates")
        )
    return rendered.as_dict()


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
    render_pdf(
        "<p style=\"font-family: 'Noto Sans'\">Ạ<b>ạ</b></p>"
        "<p style=\"font-family: 'Noto Serif'\">Ạ<b>ạ</b><i>ạ</i></p>"
    )
    # What is loaded now lives as long as the worker: out of the collector's way.
    gc.collect()
    gc.freeze()


def new_pool(workers: int, *, memory_mb: int = MEMORY_MB) -> DocumentPool:
    """A pool of rendering processes, started with spawn (no copy of the server's state),
    each capped at memory_mb (PLENARY_DOCUMENT_MEMORY_MB; 0: no cap)."""
    return DocumentPool(workers, memory_mb=memory_mb, initializer=_warm_up)


def run_in_pool(
    pool: Executor, fn: Callable[..., T], /, *args: Any, seconds: float | None = None
) -> asyncio.Future[T]:
    """fn(*args) in pool, awaitable; with seconds (an organizer's templates) the worker is
    killed when they pass and the task fails with TemplateLimits.

    Untrusted work needs a DocumentPool, the only pool that can enforce the limits.
    """
    if seconds is None:
        return asyncio.wrap_future(pool.submit(fn, *args))
    if not isinstance(pool, DocumentPool):
        raise TypeError("an organizer's templates render only in a DocumentPool")
    return asyncio.wrap_future(pool.submit_within(seconds, fn, *args))


def chunk_size(items: int, workers: int, *, per_page: int = 1) -> int:
    """Items per WeasyPrint document: whole pages, several chunks per worker for progress."""
    pages = math.ceil(items / per_page)
    wanted = math.ceil(pages / max(1, workers * 4))
    pages_per_chunk = max(1, min(MAX_CHUNK_ITEMS // per_page, wanted))
    return pages_per_chunk * per_page


async def gather_chunks(
    futures: Sequence[asyncio.Future[T]], sizes: Sequence[int], progress: Progress | None
) -> list[T]:
    """The results of the chunks' futures, in their order.

    progress(done, total) is awaited as chunks finish, in whatever order they finish (sizes:
    the items of each chunk); if one fails, those still running are cancelled.
    """
    index_of = {future: index for index, future in enumerate(futures)}
    results: dict[int, T] = {}
    done, total = 0, sum(sizes)
    try:
        pending = set(futures)
        while pending:
            finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for future in finished:
                index = index_of[future]
                results[index] = future.result()
                done += sizes[index]
            if progress is not None:
                await progress(done, total)
    finally:
        for future in futures:
            future.cancel()
    return [results[index] for index in range(len(futures))]


async def render_in_pool(
    pool: Executor,
    template: str,
    context: Context,
    items: Sequence[Any],
    *,
    key: str = "items",
    per_page: int = 1,
    workers: int = 1,
    progress: Progress | None = None,
    templates: Overrides | None = None,
) -> Rendered:
    """Render template once per chunk of items (context[key]) in pool, and join the chunks.

    progress(done, total) is awaited as chunks finish, in whatever order they finish;
    templates are overrides (rendered in the sandbox).
    """
    loop = asyncio.get_running_loop()
    size = chunk_size(len(items), workers, per_page=per_page)
    chunks = [items[start : start + size] for start in range(0, len(items), size)] or [[]]
    futures: list[asyncio.Future[RenderedData]] = []
    for chunk in chunks:
        task: RenderTask = {"template": template, "context": {**context, key: list(chunk)}}
        if templates:
            task["templates"] = dict(templates)
        seconds = template_seconds(templates, len(chunk))
        futures.append(run_in_pool(pool, render_task, task, seconds=seconds))
    results = await gather_chunks(futures, [len(chunk) for chunk in chunks], progress)
    parts = [Rendered.of(result) for result in results]
    # Joining is CPU work too: in the pool, so that the caller's event loop stays free.
    if len(parts) == 1:
        pdf = parts[0].pdf
    else:
        pdf = await loop.run_in_executor(pool, merge_pdfs, [p.pdf for p in parts])
    missing = dict.fromkeys(ch for part in parts for ch in part.missing)
    return Rendered(pdf, sum(p.pages for p in parts), tuple(missing))
