"""Award documents: certificates, flag award documents and the flag's print proof, as PDFs.

Rendering is a pure function of plain data, so that it runs in spawned worker processes
(conference.documents). An award item, as the caller builds it from a decision and one
of its awards (docs/award-templates.md lists what each template shows)::

    {
        "kind": "certificate_of_merit",        # awards.models.AWARD_KINDS
        "kind_label": "BẰNG KHEN",             # "CỜ THI ĐUA", "GIẤY KHEN", ...
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
that PDF once and splits it into one PDF per award with pypdf, attributing pages by each
award's ``<section id="award-N">``: one document per award is many times slower.
"""

from __future__ import annotations

import asyncio
import io
import itertools
import math
import re
import subprocess
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from functools import cache
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, StreamObject

from conference import documents
from conference.documents import MissingGlyphs, Overrides, Progress

TEMPLATES = {
    "emulation_flag": "awards/flag_award.html",
    "certificate_of_merit": "awards/certificate.html",
    "certificate_of_recognition": "awards/certificate.html",
}
DEFAULT_TEMPLATE = "awards/certificate.html"
FLAG_PROOF_HTML = "awards/flag_proof.html"
FLAG_PROOF_SVG = "awards/flag_proof.svg"
ANCHOR = re.compile(r"award-(\d+)")

# The flag: 850 x 650 mm (Vietnamese emulation flags are 4:3 or close), red and gold.
FLAG_WIDTH_MM = 850
FLAG_HEIGHT_MM = 650
FLAG_RED = "#DA251D"
FLAG_GOLD = "#FFCD00"


def template_for(item: Mapping[str, Any]) -> str:
    """The template that renders an award of item's kind."""
    return TEMPLATES.get(str(item.get("kind", "")), DEFAULT_TEMPLATE)


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


def _nfc(value: Any) -> Any:
    """value with every string in NFC: what the PDF's text layer and search expect."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, Mapping):
        return {key: _nfc(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_nfc(item) for item in value]
    return value


# --- bulk: one document per chunk, split per award ------------------------------------------


def award_pages(anchors: Sequence[Sequence[str]], count: int) -> list[int]:
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


# --- cutting and joining PDFs ---------------------------------------------------------------
#
# pypdf's PdfWriter copies a page by cloning every object it reaches, for every page: the
# fonts' width arrays alone are thousands of Python objects. A chunk's awards share their
# fonts, so here each object is read and serialised once per chunk, and each award's PDF
# is put together from those bytes (pypdf parses, this writes: objects, xref, trailer).

# A name in a content stream: what a page's content refers to in its resources.
_NAME = re.compile(rb"/([^\s/\[\]()<>{}%]+)")
# WeasyPrint gives every page of a document the same resources (each image, pattern and
# font of every page); these kinds are pruned to what the page names when cutting.
_PRUNED = ("/XObject", "/Pattern", "/Font", "/ExtGState", "/Shading")


def _write(obj: Any, out: io.BytesIO, number: Callable[[int], int]) -> None:
    """obj in PDF syntax, its references renumbered by number."""
    if isinstance(obj, IndirectObject):
        out.write(b"%d 0 R" % number(obj.idnum))
    elif isinstance(obj, DictionaryObject):
        data = obj._data if isinstance(obj, StreamObject) else None
        out.write(b"<<")
        for key, value in obj.items():
            if data is not None and key == "/Length":
                continue
            key.write_to_stream(out)
            out.write(b" ")
            _write(value, out, number)
        if data is not None:
            out.write(b"/Length %d>>\nstream\n" % len(data))
            out.write(data)
            out.write(b"\nendstream")
        else:
            out.write(b">>")
    elif isinstance(obj, ArrayObject):
        out.write(b"[")
        for value in obj:
            _write(value, out, number)
            out.write(b" ")
        out.write(b"]")
    else:
        obj.write_to_stream(out)


def _references(obj: Any, found: list[int]) -> None:
    """The object numbers obj refers to, directly or through its direct parts."""
    if isinstance(obj, IndirectObject):
        found.append(obj.idnum)
    elif isinstance(obj, DictionaryObject):
        for value in obj.values():
            _references(value, found)
    elif isinstance(obj, ArrayObject):
        for value in obj:
            _references(value, found)


class _Source:
    """One PDF read once: its objects, what each refers to, each one's serialised bytes."""

    def __init__(self, pdf: bytes) -> None:
        self.reader = PdfReader(io.BytesIO(pdf))
        self.header = self.reader.pdf_header.encode("latin-1")
        size: Any = self.reader.trailer["/Size"]
        self.size = int(size)
        info = self.reader.trailer.raw_get("/Info") if "/Info" in self.reader.trailer else None
        self.info: int | None = getattr(info, "idnum", None)
        self._children: dict[int, list[int]] = {}
        self._bytes: dict[int, bytes] = {}

    def children(self, idnum: int) -> list[int]:
        if idnum not in self._children:
            found: list[int] = []
            _references(self.reader.get_object(idnum), found)
            self._children[idnum] = found
        return self._children[idnum]

    def closure(self, roots: Iterable[int], seen: set[int]) -> list[int]:
        """The objects reachable from roots that are not in seen (which grows)."""
        order, stack = [], [r for r in roots if r not in seen]
        seen.update(stack)
        while stack:
            idnum = stack.pop()
            order.append(idnum)
            for child in self.children(idnum):
                if child not in seen:
                    seen.add(child)
                    stack.append(child)
        return order

    def body(self, idnum: int) -> bytes:
        """Object idnum serialised with its own numbers (cached: shared objects recur)."""
        if idnum not in self._bytes:
            out = io.BytesIO()
            _write(self.reader.get_object(idnum), out, int)
            self._bytes[idnum] = out.getvalue()
        return self._bytes[idnum]


def _assemble(
    header: bytes, objects: list[tuple[int, bytes]], root: int, info: int | None
) -> bytes:
    """A PDF file of numbered object bodies, with its cross-reference table and trailer."""
    out = io.BytesIO()
    out.write(header + b"\n%\xe2\xe3\xcf\xd3\n")
    offsets: dict[int, int] = {}
    for idnum, body in objects:
        offsets[idnum] = out.tell()
        out.write(b"%d 0 obj\n" % idnum)
        out.write(body)
        out.write(b"\nendobj\n")
    xref = out.tell()
    size = max(offsets) + 1
    out.write(b"xref\n0 1\n0000000000 65535 f \n")
    numbers = sorted(offsets)
    start = 0
    while start < len(numbers):
        end = start
        while end + 1 < len(numbers) and numbers[end + 1] == numbers[end] + 1:
            end += 1
        out.write(b"%d %d\n" % (numbers[start], end - start + 1))
        for idnum in numbers[start : end + 1]:
            out.write(b"%010d 00000 n \n" % offsets[idnum])
        start = end + 1
    trailer = b"<</Size %d/Root %d 0 R" % (size, root)
    if info is not None:
        trailer += b"/Info %d 0 R" % info
    out.write(b"trailer\n" + trailer + b">>\nstartxref\n%d\n%%%%EOF\n" % xref)
    return out.getvalue()


def _page_dict(page: Any, parent: int, resources: Any) -> Any:
    """page's dictionary under a new parent, with the given resources."""
    copy = DictionaryObject()
    for key, value in page.items():
        copy[NameObject(key)] = value
    copy[NameObject("/Parent")] = IndirectObject(parent, 0, page.indirect_reference.pdf)
    if resources is not None:
        copy[NameObject("/Resources")] = resources
    return copy


def _idnum(page: Any) -> int:
    """The object number of a page read from a file."""
    reference = page.indirect_reference
    if reference is None:
        raise ValueError("the page is not from a PDF file")
    return int(reference.idnum)


def _page_references(page: Any) -> list[int]:
    """What a page refers to, but its parent (the page tree is made anew)."""
    found: list[int] = []
    for key, value in page.items():
        if key != "/Parent":
            _references(value, found)
    return found


def _own_resources(page: Any) -> Any:
    """page's resources, holding only what its content names."""
    resources = page.get("/Resources")
    if resources is None:
        return None
    names = {b"/" + name for name in _NAME.findall(page.get_contents().get_data())}
    own = DictionaryObject()
    for key, value in resources.get_object().items():
        if key in _PRUNED:
            kept = DictionaryObject()
            for name, target in value.get_object().items():
                if name.encode("latin-1") in names:
                    kept[NameObject(name)] = target
            own[NameObject(key)] = kept
        else:
            own[NameObject(key)] = value
    return own


def _catalog(pages: int) -> bytes:
    return b"<</Type /Catalog/Pages %d 0 R>>" % pages


def _pages(kids: Sequence[int]) -> bytes:
    refs = b" ".join(b"%d 0 R" % kid for kid in kids)
    return b"<</Type /Pages/Count %d/Kids [%s]>>" % (len(kids), refs)


def split_pdf(pdf: bytes, pages: Sequence[int]) -> list[bytes]:
    """pdf cut into consecutive parts of pages[i] pages each, each with only its resources."""
    source = _Source(pdf)
    # The new page tree and catalogue take numbers past the source's.
    tree, catalog = source.size, source.size + 1
    parts, first = [], 0
    for count in pages:
        objects: list[tuple[int, bytes]] = []
        seen: set[int] = set()
        kids = []
        for number in range(first, first + count):
            page = source.reader.pages[number]
            idnum = _idnum(page)
            resources = _own_resources(page)
            own = _page_dict(page, tree, resources)
            out = io.BytesIO()
            _write(own, out, int)
            objects.append((idnum, out.getvalue()))
            seen.add(idnum)
            for child in source.closure(_page_references(own), seen):
                objects.append((child, source.body(child)))
            kids.append(idnum)
        if source.info is not None:
            for child in source.closure([source.info], seen):
                objects.append((child, source.body(child)))
        objects += [(tree, _pages(kids)), (catalog, _catalog(tree))]
        parts.append(_assemble(source.header, objects, catalog, source.info))
        first += count
    return parts


def render_awards_chunk(task: dict[str, Any]) -> dict[str, Any]:
    """The pool's unit of work: awards of one template in one document, split per award.

    task: {"template", "awards": [items], "templates": overrides or None, "strict": bool};
    out: {"pdfs": [one PDF per award], "combined", "pages", "award_pages", "missing"}.
    Plain data both ways, so that it crosses into a spawned worker and back.
    """
    items = [_nfc(item) for item in task["awards"]]
    context = {"awards": items, "star": STAR}
    with documents.collecting_after():
        html = documents.render_html(task["template"], context, templates=task.get("templates"))
        rendered, anchors = documents.render_pdf_pages(html, strict=bool(task.get("strict")))
        pages = award_pages(anchors, len(items))
        pdfs = split_pdf(rendered.pdf, pages)
    return {
        "pdfs": pdfs,
        "combined": rendered.pdf,
        "pages": rendered.pages,
        "award_pages": pages,
        "missing": list(rendered.missing),
    }


def combine(
    parts: Sequence[tuple[bytes, Sequence[int]]], order: Sequence[tuple[int, int]]
) -> bytes:
    """One PDF of the awards in order: (part, award in it) pairs, from each part's pages.

    parts are (PDF of a chunk, pages of each of its awards); what a part's pages share
    (fonts, resources) is written once.
    """
    if len(parts) == 1 and list(order) == [(0, k) for k in range(len(parts[0][1]))]:
        return parts[0][0]
    sources = [_Source(pdf) for pdf, _ in parts]
    offsets = [sum(source.size for source in sources[:k]) for k in range(len(sources))]
    tree = offsets[-1] + sources[-1].size
    catalog = tree + 1
    firsts = [[sum(pages[:k]) for k in range(len(pages))] for _, pages in parts]
    objects: list[tuple[int, bytes]] = []
    seen: list[set[int]] = [set() for _ in sources]
    kids = []
    for part, award in order:
        source, offset = sources[part], offsets[part]

        def number(idnum: int, offset: int = offset) -> int:
            return idnum + offset

        first = firsts[part][award]
        for page_number in range(first, first + parts[part][1][award]):
            page = source.reader.pages[page_number]
            idnum = _idnum(page)
            # number() adds the part's offset to every reference, the new parent's too.
            own = _page_dict(page, tree - offset, None)
            out = io.BytesIO()
            _write(own, out, number)
            objects.append((number(idnum), out.getvalue()))
            seen[part].add(idnum)
            for child in source.closure(_page_references(own), seen[part]):
                out = io.BytesIO()
                _write(source.reader.get_object(child), out, number)
                objects.append((number(child), out.getvalue()))
            kids.append(number(idnum))
    objects += [(tree, _pages(kids)), (catalog, _catalog(tree))]
    return _assemble(sources[0].header, objects, catalog, None)


async def render_awards(
    pool: Executor,
    items: Sequence[Mapping[str, Any]],
    *,
    workers: int,
    templates: Overrides | None = None,
    progress: Progress | None = None,
    strict: bool = False,
) -> tuple[list[bytes], bytes, tuple[str, ...]]:
    """One PDF per award (in items' order), all of them as one print-ready PDF, and the
    characters no font has (strict raises MissingGlyphs instead).

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
    futures: dict[asyncio.Future[dict[str, Any]], int] = {}
    for number, (template, indexes) in enumerate(chunks):
        task = {
            "template": template,
            "awards": [items[i] for i in indexes],
            "templates": overrides,
            "strict": False,
        }
        futures[loop.run_in_executor(pool, render_awards_chunk, task)] = number
    results: list[dict[str, Any] | None] = [None] * len(chunks)
    done = 0
    try:
        pending = set(futures)
        while pending:
            finished, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for future in finished:
                number = futures[future]
                results[number] = future.result()
                done += len(chunks[number][1])
            if progress is not None:
                await progress(done, len(items))
    finally:
        for future in futures:
            future.cancel()
    pdfs: list[bytes] = [b""] * len(items)
    where: list[tuple[int, int]] = [(0, 0)] * len(items)
    parts: list[tuple[bytes, list[int]]] = []
    missing: dict[str, None] = {}
    for number, ((_, indexes), result) in enumerate(zip(chunks, results, strict=True)):
        assert result is not None
        parts.append((result["combined"], result["award_pages"]))
        missing.update(dict.fromkeys(result["missing"]))
        for position, index in enumerate(indexes):
            pdfs[index] = result["pdfs"][position]
            where[index] = (number, position)
    if strict and missing:
        raise MissingGlyphs(tuple(missing))
    # Joining is CPU work too: in the pool, so that the caller's event loop stays free.
    combined = await loop.run_in_executor(pool, combine, parts, where)
    return pdfs, combined, tuple(missing)


# --- the flag's print proof ------------------------------------------------------------------

FLAG_FONT = "Noto Serif:bold"
# Noto Serif's ascent in em, less the half-leading of a line as high as the font size:
# where an HTML line box of line-height 1 puts the baseline below its top.
BASELINE = 0.888
_FLAG_MARGIN = 45.0
_FLAG_TEXT_WIDTH = 760.0


@cache
def _advances() -> dict[int, float] | None:
    """Noto Serif Bold's advance width of each character, in em (None: font not found)."""
    try:
        from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

        found = subprocess.run(
            ["fc-match", "-f", "%{file}", FLAG_FONT], capture_output=True, check=True, timeout=10
        )
        with TTFont(found.stdout.decode(), lazy=True) as font:
            em = font["head"].unitsPerEm
            metrics = font["hmtx"].metrics
            return {code: metrics[name][0] / em for code, name in font.getBestCmap().items()}
    except (OSError, subprocess.SubprocessError, KeyError, ImportError):
        return None


def text_width(text: str, size: float) -> float:
    """How wide text is in Noto Serif Bold at size (same unit), without kerning."""
    advances = _advances()
    if advances is None:
        return size * 0.72 * len(text)
    return size * sum(advances.get(ord(ch), 0.72) for ch in text)


def wrap(text: str, size: float, width: float) -> list[str]:
    """text in lines no wider than width at size, broken between words where it can."""
    lines: list[str] = []
    for word in text.split():
        if lines and text_width(f"{lines[-1]} {word}", size) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def _fit(text: str, tries: Sequence[tuple[int, Sequence[float]]]) -> tuple[float, list[str]]:
    """The first (size, lines) of tries, as (most lines, sizes), at which text fits.

    Fewer lines first: a name on one line reads better than a bigger one cut in two.
    """
    for most, sizes in tries:
        for size in sizes:
            lines = wrap(text, size, _FLAG_TEXT_WIDTH)
            if len(lines) <= most:
                return size, lines
    return size, lines


_BODY_SIZES = ((1, (34, 30, 26)), (2, (30, 26, 22)), (3, (20,)))
_NAME_SIZES = ((1, (72, 62, 54)), (2, (62, 54, 46, 40)), (3, (44, 38, 32, 27, 23)), (5, (20,)))


def flag_layout(item: Mapping[str, Any]) -> dict[str, Any]:
    """Where the flag's texts and star go, in mm, for its PDF and SVG alike.

    Lines are broken and sized here, measured in the font, so that both drawings agree; a
    line still too wide (one very long word) is marked "fit" and squeezed to the width.
    """
    body_size, body = _fit(str(item["awarding_body"]).upper(), _BODY_SIZES)
    name_size, name = _fit(str(item["recipient"]["name"]).upper(), _NAME_SIZES)
    to_size, year_size = 34.0, 42.0
    gap = 22.0
    text_height = len(body) * body_size * 1.25 + to_size + len(name) * name_size * 1.18 + year_size
    room = FLAG_HEIGHT_MM - 2 * _FLAG_MARGIN - text_height - 4 * gap
    radius = round(max(40.0, min(100.0, room / 2)), 2)
    top = _FLAG_MARGIN + max(0.0, (room - 2 * radius) / 2)
    lines: list[dict[str, Any]] = []

    def add(text: str, size: float, step: float) -> None:
        nonlocal top
        lines.append({"text": text, "size": size, "y": round(top + BASELINE * size, 2)})
        top += step

    for text in body:
        add(text, body_size, body_size * 1.25)
    star = {"cx": FLAG_WIDTH_MM / 2, "cy": round(top + gap + radius, 2), "r": radius}
    top += 2 * gap + 2 * radius
    add("TẶNG", to_size, to_size + gap)
    for text in name:
        add(text, name_size, name_size * 1.18)
    top += gap
    add(f"NĂM {item['year']}", year_size, year_size)
    for line in lines:
        line["top"] = round(line["y"] - BASELINE * line["size"], 2)
        line["fit"] = text_width(line["text"], line["size"]) > _FLAG_TEXT_WIDTH
    return {
        "width": FLAG_WIDTH_MM,
        "height": FLAG_HEIGHT_MM,
        "text_width": _FLAG_TEXT_WIDTH,
        "red": FLAG_RED,
        "gold": FLAG_GOLD,
        "star": star,
        "star_points": star_points(star["cx"], star["cy"], star["r"]),
        "lines": lines,
    }


def _flag_context(item: Mapping[str, Any]) -> dict[str, Any]:
    award = _nfc(item)
    return {"award": award, "flag": flag_layout(award)}


def render_flag_proof_pdf(
    item: Mapping[str, Any], *, strict: bool = False, templates: Overrides | None = None
) -> bytes:
    """The print proof of the flag itself (850 x 650 mm) for its maker, as a PDF."""
    context = _flag_context(item)
    return documents.render_template(
        FLAG_PROOF_HTML, context, strict=strict, templates=templates
    ).pdf


def flag_proof_svg(item: Mapping[str, Any], *, templates: Overrides | None = None) -> str:
    """The same proof as an SVG drawing (850 x 650 mm, text as text)."""
    return documents.render_html(FLAG_PROOF_SVG, _flag_context(item), templates=templates)
