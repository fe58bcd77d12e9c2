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
that PDF once and cuts it into one PDF per award, attributing pages by each award's
``<section id="award-N">``: one document per award is many times slower. A template
that sets ``layered`` is drawn in two layers: what the awards of a decision share (all
but OWN_FIELDS) laid out once per worker as a background page, kept, and drawn under
each award's page as a Form XObject; and each award's own text alone, over it
(docs/award-templates.md, "Layers").
"""

from __future__ import annotations

import asyncio
import io
import itertools
import math
import re
import subprocess
import unicodedata
import zlib
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from concurrent.futures import Executor
from functools import cache
from typing import Any

from jinja2 import Template
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
        if value.isascii():  # an emblem's data: URI may be megabytes
            return value
        return unicodedata.normalize("NFC", value)
    if isinstance(value, Mapping):
        return {key: _nfc(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_nfc(item) for item in value]
    return value


# --- cutting and joining PDFs ---------------------------------------------------------------
#
# pypdf's PdfWriter copies a page by cloning every object it reaches, for every page: the
# fonts' width arrays alone are thousands of Python objects. A chunk's awards share their
# fonts, so here each object is read and serialised once per chunk, and each award's PDF
# is put together from those bytes (pypdf parses, this writes: objects, xref, trailer).
# Each serialised object also notes where its references' numbers are, so that joining
# chunks renumbers bytes instead of reading the chunks' PDFs again (combine).

# A name in a content stream: what a page's content refers to in its resources.
_NAME = re.compile(rb"/([^\s/\[\]()<>{}%]+)")
# WeasyPrint gives every page of a document the same resources (each image, pattern and
# font of every page); these kinds are pruned to what the page names when cutting.
_PRUNED = ("/XObject", "/Pattern", "/Font", "/ExtGState", "/Shading")

# An object in PDF syntax, and where the number of each of its references is in it (start
# and end offsets, flat): what crosses from a worker to be joined with other chunks.
Written = tuple[bytes, tuple[int, ...]]

_names: dict[str, bytes] = {}


def _name(name: str) -> bytes:
    """A name in PDF syntax (escaped as pypdf does it, once per name)."""
    written = _names.get(name)
    if written is None:
        out = io.BytesIO()
        NameObject(name).write_to_stream(out)
        written = out.getvalue()
        if len(_names) < 10_000:
            _names[name] = written
    return written


def _write(obj: Any, out: io.BytesIO, number: Callable[[int], int], refs: list[int]) -> None:
    """obj in PDF syntax, its references renumbered by number; refs gets where they are."""
    if isinstance(obj, NameObject):
        out.write(_name(obj))
    elif isinstance(obj, IndirectObject):
        refs.append(out.tell())
        out.write(b"%d" % number(obj.idnum))
        refs.append(out.tell())
        out.write(b" 0 R")
    elif isinstance(obj, DictionaryObject):
        data = obj._data if isinstance(obj, StreamObject) else None
        out.write(b"<<")
        for key, value in obj.items():
            if data is not None and key == "/Length":
                continue
            out.write(_name(key))
            out.write(b" ")
            _write(value, out, number, refs)
        if data is not None:
            out.write(b"/Length %d>>\nstream\n" % len(data))
            out.write(data)
            out.write(b"\nendstream")
        else:
            out.write(b">>")
    elif isinstance(obj, ArrayObject):
        out.write(b"[")
        for value in obj:
            _write(value, out, number, refs)
            out.write(b" ")
        out.write(b"]")
    else:
        obj.write_to_stream(out)


def _written(obj: Any, number: Callable[[int], int] = int) -> Written:
    """obj serialised, with where its references are."""
    out = io.BytesIO()
    refs: list[int] = []
    _write(obj, out, number, refs)
    return out.getvalue(), tuple(refs)


def _renumbered(written: Written, number: Callable[[int], int]) -> bytes:
    """A serialised object with each of its references renumbered."""
    body, refs = written
    if not refs:
        return body
    pieces, last = [], 0
    for start, end in zip(refs[::2], refs[1::2], strict=True):
        pieces += [body[last:start], b"%d" % number(int(body[start:end]))]
        last = end
    pieces.append(body[last:])
    return b"".join(pieces)


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
        self.pages = list(self.reader.pages)
        self._children: dict[int, list[int]] = {}
        self._written: dict[int, Written] = {}

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

    def written(self, idnum: int) -> Written:
        """Object idnum serialised with its own numbers (once: shared objects recur)."""
        if idnum not in self._written:
            self._written[idnum] = _written(self.reader.get_object(idnum))
        return self._written[idnum]


def _assemble(
    header: bytes, objects: Iterable[tuple[int, bytes]], root: int, info: int | None
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
    contents = page.get_contents()
    data = b"" if contents is None else contents.get_data()
    names = sorted({"/" + name.decode("latin-1") for name in _NAME.findall(data)})
    own = DictionaryObject()
    for key, value in resources.get_object().items():
        if key in _PRUNED:
            entries = value.get_object()
            kept = DictionaryObject()
            for name in names:
                target = dict.get(entries, name)
                if target is not None:
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


# The name a page's resources give its background's Form XObject, and what draws it: in
# its own content stream before the page's, saving and restoring the graphics state.
_BACKGROUND = NameObject("/Background")
_DRAW_BACKGROUND: Written = (b"<</Length 19>>\nstream\nq /Background Do Q\nendstream", ())


class _Cutter:
    """A chunk's PDF cut into PDFs of some of its awards, each with only its own objects.

    An award with a background (awards laid out in layers) draws it under its first page,
    as a Form XObject written once per PDF; the backgrounds' objects are numbered after
    the chunk's own.
    """

    def __init__(
        self, pdf: bytes, pages: Sequence[int], under: Sequence[_Background] | None = None
    ) -> None:
        self.source = _Source(pdf)
        self.pages = list(pages)
        self.firsts = [sum(self.pages[:k]) for k in range(len(self.pages))]
        self.under: Sequence[_Background | None] = under or [None] * len(self.pages)
        size = self.source.size
        self.offsets: dict[_Source, int] = {}
        self.forms: dict[_Background, int] = {}
        for background in self.under:
            if background is not None and background.source not in self.offsets:
                self.offsets[background.source] = size
                size += background.source.size
        for background in self.under:
            if background is not None and background not in self.forms:
                self.forms[background] = size
                size += 1
        self.draw, self.tree, self.catalog = size, size + 1, size + 2
        self.size = size + 3
        self._theirs: dict[tuple[_Source, int], Written] = {}
        self._pages: dict[int, tuple[int, Written, list[int]]] = {}
        self._forms: dict[_Background, Written] = {}

    def _their(self, source: _Source, idnum: int) -> Written:
        """A background's object, numbered as in this chunk's PDFs (once per chunk)."""
        key = (source, idnum)
        if key not in self._theirs:
            offset = self.offsets[source]
            self._theirs[key] = _written(source.reader.get_object(idnum), lambda n: n + offset)
        return self._theirs[key]

    def _form(self, background: _Background) -> Written:
        if background not in self._forms:
            offset = self.offsets[background.source]
            self._forms[background] = background.form(lambda n: n + offset)
        return self._forms[background]

    def _page(self, number: int, background: _Background | None) -> tuple[int, Written, list[int]]:
        """Page number's object number, dictionary and what it refers to in the chunk."""
        if number not in self._pages:
            page = self.source.pages[number]
            own = _page_dict(page, self.tree, _own_resources(page))
            children = _page_references(own)
            if background is not None:
                own = _under(own, self.forms[background], self.draw)
            self._pages[number] = (_idnum(page), _written(own), children)
        return self._pages[number]

    def objects(self, awards: Iterable[int]) -> tuple[list[tuple[int, Written]], list[int]]:
        """The objects of the given awards' pages (once each), and the pages, in order."""
        source = self.source
        objects: list[tuple[int, Written]] = []
        seen: set[int] = set()
        theirs: dict[_Source, set[int]] = {}
        drawn: set[_Background] = set()
        kids = []
        for award in awards:
            background = self.under[award]
            first = self.firsts[award]
            for number in range(first, first + self.pages[award]):
                under = background if number == first else None
                idnum, page, children = self._page(number, under)
                objects.append((idnum, page))
                seen.add(idnum)
                for child in source.closure(children, seen):
                    objects.append((child, source.written(child)))
                kids.append(idnum)
                if under is None or under in drawn:
                    continue
                if not drawn:
                    objects.append((self.draw, _DRAW_BACKGROUND))
                drawn.add(under)
                objects.append((self.forms[under], self._form(under)))
                offset = self.offsets[under.source]
                done = theirs.setdefault(under.source, set())
                for child in under.source.closure(under.references, done):
                    objects.append((child + offset, self._their(under.source, child)))
        return objects, kids

    def build(self, awards: Iterable[int]) -> bytes:
        """One PDF of the given awards' pages, in that order."""
        return self._pdf(*self.objects(awards))

    def _pdf(self, objects: list[tuple[int, Written]], kids: list[int]) -> bytes:
        """A PDF of these objects (and the chunk's information), these pages in order."""
        source = self.source
        numbered = [(idnum, body) for idnum, (body, _) in objects]
        if source.info is not None:
            for child in source.closure([source.info], set()):
                numbered.append((child, source.written(child)[0]))
        numbered += [(self.tree, _pages(kids)), (self.catalog, _catalog(self.tree))]
        return _assemble(source.header, numbered, self.catalog, source.info)

    def cut(self) -> tuple[list[bytes], dict[str, Any]]:
        """One PDF per award, and the chunk as a part to join with others (combine)."""
        pdfs, needs, pages = [], [], []
        objects: dict[int, Written] = {}
        for award in range(len(self.pages)):
            found, kids = self.objects([award])
            pdfs.append(self._pdf(found, kids))
            objects.update(found)
            needs.append([idnum for idnum, _ in found])
            pages.append(kids)
        part = {
            "header": self.source.header,
            "size": self.size,
            "tree": self.tree,
            "objects": objects,
            "needs": needs,
            "pages": pages,
        }
        return pdfs, part


def _under(page: DictionaryObject, form: int, draw: int) -> DictionaryObject:
    """page (a new page dictionary) drawing the Form XObject form before its content."""
    pdf = page.raw_get("/Parent").pdf
    resources = page.get("/Resources")
    if resources is None:
        resources = page[NameObject("/Resources")] = DictionaryObject()
    xobjects = resources.get("/XObject")
    if xobjects is None:
        xobjects = resources[NameObject("/XObject")] = DictionaryObject()
    xobjects[_BACKGROUND] = IndirectObject(form, 0, pdf)
    drawing = ArrayObject([IndirectObject(draw, 0, pdf)])
    contents = page.raw_get("/Contents") if "/Contents" in page else None
    if isinstance(contents, IndirectObject) and isinstance(contents.get_object(), ArrayObject):
        contents = contents.get_object()
    if isinstance(contents, ArrayObject):
        drawing.extend(contents)
    elif contents is not None:
        drawing.append(contents)
    page[NameObject("/Contents")] = drawing
    return page


def split_pdf(pdf: bytes, pages: Sequence[int]) -> list[bytes]:
    """pdf cut into consecutive parts of pages[i] pages each, each with only its resources."""
    return _Cutter(pdf, pages).cut()[0]


def combine(parts: Sequence[Mapping[str, Any]], order: Sequence[tuple[int, int]]) -> bytes:
    """One PDF of the awards in order: (part, award in it) pairs, from chunks' parts.

    A part (_Cutter.cut) holds its chunk's objects written once, and which of them each
    award needs: what a part's awards share (fonts, backgrounds) is written once, and
    nothing is read again, only renumbered past the parts before it.
    """
    offsets = list(itertools.accumulate((part["size"] for part in parts), initial=0))
    tree = offsets[-1]
    catalog = tree + 1
    objects: list[tuple[int, bytes]] = []
    seen: list[set[int]] = [set() for _ in parts]
    kids = []
    for index, award in order:
        part, offset = parts[index], offsets[index]
        their_tree = part["tree"]

        def number(idnum: int, offset: int = offset, their_tree: int = their_tree) -> int:
            return tree if idnum == their_tree else idnum + offset

        for idnum in part["needs"][award]:
            if idnum not in seen[index]:
                seen[index].add(idnum)
                objects.append((idnum + offset, _renumbered(part["objects"][idnum], number)))
        kids += [idnum + offset for idnum in part["pages"][award]]
    objects += [(tree, _pages(kids)), (catalog, _catalog(tree))]
    return _assemble(parts[0]["header"] if parts else b"%PDF-1.7", objects, catalog, None)


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
# award's page draws it as a Form XObject under its own text (_Cutter).

# An item's fields that are each award's own. Every other field (kind, kind_label, the
# bodies, emblem, place_date, signer, year, and any a later version adds) is the same for
# the awards of a decision, and is what a background is made of and keyed on.
OWN_FIELDS = frozenset({"recipient", "citation", "decision", "verification", "revoked"})
# WeasyPrint's positions are CSS px: 96 to the inch.
MM_PER_PX = 25.4 / 96
# How many backgrounds a worker keeps (a conference prints a few kinds of award).
KEPT_BACKGROUNDS = 32


def background_of(item: Mapping[str, Any]) -> dict[str, Any]:
    """What of item a background draws: all but the award's own fields."""
    return {key: value for key, value in item.items() if key not in OWN_FIELDS}


class _Background:
    """A background page laid out once: its drawing as a Form XObject's parts, and the
    height of the spacer that the award layer puts where the background drew."""

    def __init__(self, source: _Source, page: int, spacer: float, missing: Sequence[str]):
        self.source = source
        self.spacer = spacer
        self.missing = tuple(missing)
        drawn = source.pages[page]
        self.box = drawn["/MediaBox"]
        self.resources = _own_resources(drawn)
        content = drawn.get_contents()
        self.content = zlib.compress(b"" if content is None else content.get_data())
        self.references: list[int] = []
        _references(self.resources, self.references)

    def form(self, number: Callable[[int], int]) -> Written:
        """The Form XObject that draws this page, its references numbered by number."""
        out = io.BytesIO()
        refs: list[int] = []
        out.write(b"<</Type/XObject/Subtype/Form/BBox ")
        _write(self.box, out, number, refs)
        out.write(b"/Resources ")
        _write(self.resources, out, number, refs)
        out.write(b"/Filter/FlateDecode/Length %d>>\nstream\n" % len(self.content))
        out.write(self.content)
        out.write(b"\nendstream")
        return out.getvalue(), tuple(refs)


_kept: OrderedDict[Hashable, _Background | bool] = OrderedDict()


def _frozen(value: Any) -> Hashable:
    """value as a key: dicts and lists as tuples (strings keep their hash once computed)."""
    if isinstance(value, Mapping):
        return tuple(sorted((key, _frozen(item)) for key, item in value.items()))
    if isinstance(value, list | tuple):
        return ("list", *map(_frozen, value))
    key: Hashable = value
    return key


def _keep(key: Hashable, value: _Background | bool) -> None:
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
) -> list[_Background] | None:
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
    found: dict[Hashable, _Background] = {}
    for key in keys:
        kept = _kept.get((template, overrides, key))
        if isinstance(kept, _Background):
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


def _lay_out(html: str, keys: Sequence[Hashable], *, strict: bool) -> dict[Hashable, _Background]:
    """The background layer's pages, one per key, measured."""
    rendered, anchors = documents.render_pdf_anchors(html, strict=strict)
    if award_pages(anchors, len(keys)) != [1] * len(keys):
        raise ValueError("each background must be one page")
    source = _Source(rendered.pdf)
    found = {}
    for index, (key, marks) in enumerate(zip(keys, anchors, strict=True)):
        top, end = marks.get(f"spacer-{index}"), marks.get(f"spacer-{index}-end")
        if top is None or end is None:
            raise ValueError(
                f'a background must mark its spacer: id="spacer-{index}" where it starts, '
                f'id="spacer-{index}-end" where the award\'s own text goes on'
            )
        spacer = round((end[1] - top[1]) * MM_PER_PX, 4)
        found[key] = _Background(source, index, spacer, rendered.missing)
    return found


def render_awards_chunk(task: dict[str, Any]) -> dict[str, Any]:
    """The pool's unit of work: awards of one template in one document, split per award.

    task: {"template", "awards": [items], "templates": overrides or None, "strict": bool};
    out: {"pdfs": [one PDF per award], "part" (to join with other chunks' in combine),
    "pages", "award_pages", "missing"}.
    Plain data both ways, so that it crosses into a spawned worker and back. A layered
    template's backgrounds are laid out once per worker; a template that is not layered
    draws each award whole.
    """
    items = [_nfc(item) for item in task["awards"]]
    templates = task.get("templates")
    strict = bool(task.get("strict"))
    context: dict[str, Any] = {"awards": items, "star": STAR}
    with documents.collecting_after():
        under = backgrounds(task["template"], items, templates=templates, strict=strict)
        if under is not None:
            context |= {"layer": "award", "spacers": [b.spacer for b in under]}
        html = documents.render_html(task["template"], context, templates=templates)
        rendered, anchors = documents.render_pdf_pages(html, strict=strict)
        pages = award_pages(anchors, len(items))
        missing = dict.fromkeys(rendered.missing)
        for background in under or ():
            missing.update(dict.fromkeys(background.missing))
        if strict and missing:
            raise MissingGlyphs(tuple(missing))
        pdfs, part = _Cutter(rendered.pdf, pages, under).cut()
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
    parts: list[dict[str, Any]] = []
    missing: dict[str, None] = {}
    for number, ((_, indexes), result) in enumerate(zip(chunks, results, strict=True)):
        assert result is not None
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
