"""Award documents: certificates, flag award documents and the flag's print proof, as PDFs.

Rendering is a pure function of plain data, so that it runs in spawned worker processes
(conference.documents). An award item, as the caller builds it from a decision and one
of its awards (docs/award-templates.md lists what each template shows)::

    {
        "kind": "certificate_of_merit",        # a built-in kind or the conference's own
        "kind_label": "BẰNG KHEN",             # "CỜ THI ĐUA", "GIẤY KHEN", ...
        "layout": "certificate",               # or "flag_award": which template draws it
        "awarding_body": "CHÁNH VĂN PHÒNG TRUNG ƯƠNG ĐẢNG",
        "issuing_body": ["ĐẢNG CỘNG SẢN VIỆT NAM"],   # lines above it
        "recipient": {"kind": "unit" | "person", "name": str, "title": str, "unit": str},
        "citation": "Đã có thành tích xuất sắc ...",
        "decision": {"number": "125-QĐ/VPTW", "date_label": "ngày 15 tháng 12 năm 2026"},
        "place_date": "Hà Nội, ngày 15 tháng 12 năm 2026",
        "signer": {"title": "CHÁNH VĂN PHÒNG", "name": "Nguyễn Văn A"},
        "year": 2026,
        "emblem": "data:image/png;base64,..." or "",   # "" draws a gold star
        "verification": {"code": "ABCD-EFGH-JKLM", "url": "https://.../v/ABCD-EFGH-JKLM"},
        "revoked": False,
    }

Bulk rendering puts a chunk of awards of one template in each WeasyPrint document, writes
that PDF once and cuts it into one PDF per award, attributing pages by each award's
``<section id="award-N">``: one document per award is many times slower. A template
that sets ``layered`` is drawn in two layers: what the awards of a decision share (all
but OWN_FIELDS) laid out once per worker as a background page, kept, and drawn under
each award's page as a Form XObject; and each award's own text alone, over it
(docs/award-templates.md, "Layers").
"""

from __future__ import annotations

import asyncio
import itertools
import math
import re
import unicodedata
from collections import OrderedDict
from collections.abc import Hashable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from typing import Any, NotRequired

from jinja2 import Template
from typing_extensions import TypedDict

from awards.pdfcut import Background, Cutter, Part, Source, combine
from conference import documents
from conference.documents import MissingGlyphs, Overrides, Progress

# The template of each layout (awards.models.LAYOUTS), and of each built-in kind for an
# item that names no layout.
LAYOUT_TEMPLATES = {
    "certificate": "awards/certificate.html",
    "flag_award": "awards/flag_award.html",
}
TEMPLATES = {
    "emulation_flag": "awards/flag_award.html",
    "certificate_of_merit": "awards/certificate.html",
    "certificate_of_recognition": "awards/certificate.html",
}
DEFAULT_TEMPLATE = "awards/certificate.html"
ANCHOR = re.compile(r"award-(\d+)")


def template_for(item: Mapping[str, Any]) -> str:
    """The template that renders an award: its layout's, else its kind's."""
    layout = LAYOUT_TEMPLATES.get(str(item.get("layout", "")))
    return layout or TEMPLATES.get(str(item.get("kind", "")), DEFAULT_TEMPLATE)


def star_points(cx: float = 50, cy: float = 50, radius: float = 48) -> str:
    """A five-pointed star, point up, as SVG polygon points (outer radius given)."""
    inner = radius * math.sin(math.radians(18)) / math.sin(math.radians(54))
    points = []
    for k in range(10):
        r = radius if k % 2 == 0 else inner
        angle = math.radians(-90 + 36 * k)
        points.append(f"{cx + r * math.cos(angle):.2f},{cy + r * math.sin(angle):.2f}")
    return " ".join(points)


STAR = star_points()


def nfc_all(value: Any) -> Any:
    """value with every string in NFC: what the PDF's text layer and search expect."""
    if isinstance(value, str):
        if value.isascii():  # an emblem's data: URI may be megabytes
            return value
        return unicodedata.normalize("NFC", value)
    if isinstance(value, Mapping):
        return {key: nfc_all(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [nfc_all(item) for item in value]
    return value


# --- bulk: one document per chunk, split per award ------------------------------------------


def award_pages(anchors: Sequence[Iterable[str]], count: int) -> list[int]:
    """How many pages each of count awards has, from the ids starting on each page."""
    starts: dict[int, int] = {}
    for page, names in enumerate(anchors):
        for name in names:
            match = ANCHOR.fullmatch(name)
            if match is not None:
                starts.setdefault(int(match[1]), page)
    order = [starts.get(index) for index in range(count)]
    if any(page is None for page in order):
        raise ValueError('each award must be a <section class="award" id="award-N">')
    firsts = [page for page in order if page is not None]
    if any(b <= a for a, b in itertools.pairwise(firsts)) or (firsts and firsts[0]):
        raise ValueError("each award must start a new page, in order")
    ends = [*firsts[1:], len(anchors)]
    return [end - first for first, end in zip(firsts, ends, strict=True)]


# --- layers: what awards share, drawn once ---------------------------------------------------
#
# Laying out a certificate is most of its cost (about 1 ms per box, docs/performance.md),
# and most of a certificate is the same for every award of a decision. A template that
# sets ``layered`` draws that part alone (layer "background") and each award's own text
# alone (layer "award"); the background is laid out once per process and kept, and each
# award's page draws it as a Form XObject under its own text (Cutter).

# An item's fields that are each award's own. Every other field (kind, kind_label, the
# bodies, emblem, place_date, signer, year, and any a later version adds) is the same for
# the awards of a decision, and is what a background is made of and keyed on.
OWN_FIELDS = frozenset({"recipient", "citation", "decision", "verification", "revoked"})
# WeasyPrint's positions are CSS px: 96 to the inch.
MM_PER_PX = 25.4 / 96
# How many backgrounds a worker keeps (a conference prints a few kinds of award).
KEPT_BACKGROUNDS = 32


def background_of(item: Mapping[str, Any]) -> dict[str, object]:
    """What of item a background draws: all but the award's own fields."""
    return {key: value for key, value in item.items() if key not in OWN_FIELDS}


_kept: OrderedDict[Hashable, Background | bool] = OrderedDict()


def _frozen(value: Any) -> Hashable:
    """value as a key: dicts and lists as tuples (strings keep their hash once computed)."""
    if isinstance(value, Mapping):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, list | tuple):
        return ("list", *map(_frozen, value))
    key: Hashable = value
    return key


def _keep(key: Hashable, value: Background | bool) -> None:
    _kept[key] = value
    _kept.move_to_end(key)
    while len(_kept) > KEPT_BACKGROUNDS:
        _kept.popitem(last=False)


def backgrounds(
    template: str,
    items: Sequence[Mapping[str, Any]],
    *,
    templates: Overrides | None = None,
    strict: bool = False,
) -> list[Background] | None:
    """Each item's background, laid out now or kept from before; None if the template
    does not draw in layers (then each award is drawn whole)."""
    overrides = tuple(sorted((templates or {}).items()))
    layered_key: Hashable = (template, overrides)
    layered = _kept.get(layered_key)
    if layered is False:
        return None
    source = documents.template_environment(templates).get_template(template)
    if layered is None:
        layered = _is_layered(source)
        _keep(layered_key, layered)
        if not layered:
            return None
    keys = [_frozen(background_of(item)) for item in items]
    found: dict[Hashable, Background] = {}
    for key in keys:
        kept = _kept.get((template, overrides, key))
        if isinstance(kept, Background):
            found[key] = kept
    wanted = [key for key in dict.fromkeys(keys) if key not in found]
    if wanted:
        firsts = {key: index for index, key in reversed(list(enumerate(keys)))}
        drawn = [background_of(items[firsts[key]]) for key in wanted]
        html = source.render(awards=drawn, star=STAR, layer="background")
        found |= _lay_out(html, wanted, strict=strict)
    for key, background in found.items():
        _keep((template, overrides, key), background)
    return [found[key] for key in keys]


def _is_layered(template: Template) -> bool:
    """Whether template sets layered (at its top level), rendered with no award.

    A template that fails so is taken as not layered: drawn whole, it fails or not as
    it always did.
    """
    try:
        module = template.make_module({"awards": [], "star": STAR, "layer": "background"})
    except Exception:  # an organizer's template may fail in any way Jinja can
        return False
    return getattr(module, "layered", None) is True


def _lay_out(html: str, keys: Sequence[Hashable], *, strict: bool) -> dict[Hashable, Background]:
    """The background layer's pages, one per key, measured."""
    rendered, anchors = documents.render_pdf_anchors(html, strict=strict)
    if award_pages(anchors, len(keys)) != [1] * len(keys):
        raise ValueError("each background must be one page")
    source = Source(rendered.pdf)
    found = {}
    for index, (key, marks) in enumerate(zip(keys, anchors, strict=True)):
        top, end = marks.get(f"spacer-{index}"), marks.get(f"spacer-{index}-end")
        if top is None or end is None:
            raise ValueError(
                f'a background must mark its spacer: id="spacer-{index}" where it starts, '
                f'id="spacer-{index}-end" where the award\'s own text goes on'
            )
        spacer = round((end[1] - top[1]) * MM_PER_PX, 4)
        found[key] = Background(source, index, spacer, rendered.missing)
    return found


class ChunkTask(TypedDict):
    """render_awards_chunk's input: awards of one template, with the overrides."""

    template: str
    awards: list[Mapping[str, Any]]
    templates: dict[str, str] | None
    strict: bool


class ChunkDone(TypedDict):
    """render_awards_chunk's output: one PDF per award, and the chunk as a part."""

    pdfs: list[bytes]
    part: Part
    pages: int
    award_pages: list[int]
    missing: list[str]


class _ChunkContext(TypedDict):
    awards: list[Any]
    star: str
    layer: NotRequired[str]
    spacers: NotRequired[list[float]]


def render_awards_chunk(task: ChunkTask) -> ChunkDone:
    """The pool's unit of work: awards of one template in one document, split per award.

    task: {"template", "awards": [items], "templates": overrides or None, "strict": bool};
    out: {"pdfs": [one PDF per award], "part" (to join with other chunks' in combine),
    "pages", "award_pages", "missing"}.
    Plain data both ways, so that it crosses into a spawned worker and back. A layered
    template's backgrounds are laid out once per worker; a template that is not layered
    draws each award whole.
    """
    items = [nfc_all(item) for item in task["awards"]]
    templates = task.get("templates")
    strict = bool(task.get("strict"))
    context: _ChunkContext = {"awards": items, "star": STAR}
    with documents.collecting_after():
        under = backgrounds(task["template"], items, templates=templates, strict=strict)
        if under is not None:
            context["layer"] = "award"
            context["spacers"] = [b.spacer for b in under]
        html = documents.render_html(task["template"], context, templates=templates)
        rendered, anchors = documents.render_pdf_pages(html, strict=strict)
        pages = award_pages(anchors, len(items))
        missing = dict.fromkeys(rendered.missing)
        for background in under or ():
            missing.update(dict.fromkeys(background.missing))
        if strict and missing:
            raise MissingGlyphs(tuple(missing))
        pdfs, part = Cutter(rendered.pdf, pages, under).cut()
    return {
        "pdfs": pdfs,
        "part": part,
        "pages": rendered.pages,
        "award_pages": pages,
        "missing": list(missing),
    }


async def render_awards(
    pool: Executor,
    items: Sequence[Mapping[str, Any]],
    *,
    workers: int,
    templates: Overrides | None = None,
    progress: Progress | None = None,
    strict: bool = False,
    seconds: float | None = None,
) -> tuple[list[bytes], bytes, tuple[str, ...]]:
    """One PDF per award (in items' order), all of them as one print-ready PDF, and the
    characters no font has (strict raises MissingGlyphs instead).

    An organizer's templates get seconds (documents.TEMPLATE_SECONDS by default), and a
    little more per award, for each chunk: then the pool kills the worker and the chunk
    fails with TemplateLimits (so does one that breaks the pool's memory cap).

    Awards are grouped by template and rendered in chunks in pool, concurrently;
    progress(done, total) is awaited as chunks finish.
    """
    if not items:
        return [], b"", ()
    loop = asyncio.get_running_loop()
    groups: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        groups.setdefault(template_for(item), []).append(index)
    size = documents.chunk_size(len(items), workers)
    chunks = [
        (template, indexes[start : start + size])
        for template, indexes in groups.items()
        for start in range(0, len(indexes), size)
    ]
    overrides = dict(templates) if templates else None
    futures: list[asyncio.Future[ChunkDone]] = []
    for template, indexes in chunks:
        task: ChunkTask = {
            "template": template,
            "awards": [items[i] for i in indexes],
            "templates": overrides,
            "strict": False,
        }
        limit = documents.template_seconds(templates, len(indexes), seconds)
        futures.append(documents.run_in_pool(pool, render_awards_chunk, task, seconds=limit))
    sizes = [len(indexes) for _, indexes in chunks]
    results = await documents.gather_chunks(futures, sizes, progress)
    pdfs: list[bytes] = [b""] * len(items)
    where: list[tuple[int, int]] = [(0, 0)] * len(items)
    parts: list[Part] = []
    missing: dict[str, None] = {}
    for number, ((_, indexes), result) in enumerate(zip(chunks, results, strict=True)):
        parts.append(result["part"])
        missing.update(dict.fromkeys(result["missing"]))
        for position, index in enumerate(indexes):
            pdfs[index] = result["pdfs"][position]
            where[index] = (number, position)
    if strict and missing:
        raise MissingGlyphs(tuple(missing))
    # Joining is CPU work too: in the pool, so that the caller's event loop stays free.
    combined = await loop.run_in_executor(pool, combine, parts, where)
    return pdfs, combined, tuple(missing)
