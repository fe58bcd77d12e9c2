"""Cutting a PDF into parts and joining parts into one PDF, by hand.

pypdf's PdfWriter copies a page by cloning every object it reaches, for every page: the
fonts' width arrays alone are thousands of Python objects. The awards of a chunk share
their fonts, so here each object is read and serialised once per chunk, and each
award's PDF is put together from those bytes (pypdf parses, this writes: objects, xref,
trailer). Each serialised object also notes where its references' numbers are, so that
joining chunks renumbers bytes instead of reading the chunks' PDFs again (combine).
"""

from __future__ import annotations

import io
import itertools
import re
import zlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject, StreamObject
from typing_extensions import TypedDict

# A name in a content stream: what a page's content refers to in its resources.
_NAME = re.compile(rb"/([^\s/\[\]()<>{}%]+)")
# WeasyPrint gives every page of a document the same resources (each image, pattern and
# font of every page); these kinds are pruned to what the page names when cutting.
_PRUNED = ("/XObject", "/Pattern", "/Font", "/ExtGState", "/Shading")

# An object in PDF syntax, and where the number of each of its references is in it (start
# and end offsets, flat): what crosses from a worker to be joined with other chunks.
Written = tuple[bytes, tuple[int, ...]]


class Part(TypedDict):
    """A chunk cut by Cutter.cut, to join with others (combine): its objects written once
    (size: how many numbers they use; tree: its page tree's), and for each award the
    objects it needs and its pages."""

    header: bytes
    size: int
    tree: int
    objects: dict[int, Written]
    needs: list[list[int]]
    pages: list[list[int]]


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


class Source:
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


class Cutter:
    """A chunk's PDF cut into PDFs of some of its awards, each with only its own objects.

    An award with a background (awards laid out in layers) draws it under its first page,
    as a Form XObject written once per PDF; the backgrounds' objects are numbered after
    the chunk's own.
    """

    def __init__(
        self, pdf: bytes, pages: Sequence[int], under: Sequence[Background] | None = None
    ) -> None:
        self.source = Source(pdf)
        self.pages = list(pages)
        self.firsts = [sum(self.pages[:k]) for k in range(len(self.pages))]
        self.under: Sequence[Background | None] = under or [None] * len(self.pages)
        size = self.source.size
        self.offsets: dict[Source, int] = {}
        self.forms: dict[Background, int] = {}
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
        self._theirs: dict[tuple[Source, int], Written] = {}
        self._pages: dict[int, tuple[int, Written, list[int]]] = {}
        self._forms: dict[Background, Written] = {}

    def _their(self, source: Source, idnum: int) -> Written:
        """A background's object, numbered as in this chunk's PDFs (once per chunk)."""
        key = (source, idnum)
        if key not in self._theirs:
            offset = self.offsets[source]
            self._theirs[key] = _written(source.reader.get_object(idnum), lambda n: n + offset)
        return self._theirs[key]

    def _form(self, background: Background) -> Written:
        if background not in self._forms:
            offset = self.offsets[background.source]
            self._forms[background] = background.form(lambda n: n + offset)
        return self._forms[background]

    def _page(self, number: int, background: Background | None) -> tuple[int, Written, list[int]]:
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
        theirs: dict[Source, set[int]] = {}
        drawn: set[Background] = set()
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

    def cut(self) -> tuple[list[bytes], Part]:
        """One PDF per award, and the chunk as a part to join with others (combine)."""
        pdfs, needs, pages = [], [], []
        objects: dict[int, Written] = {}
        for award in range(len(self.pages)):
            found, kids = self.objects([award])
            pdfs.append(self._pdf(found, kids))
            objects.update(found)
            needs.append([idnum for idnum, _ in found])
            pages.append(kids)
        part: Part = {
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
    return Cutter(pdf, pages).cut()[0]


def combine(parts: Sequence[Part], order: Sequence[tuple[int, int]]) -> bytes:
    """One PDF of the awards in order: (part, award in it) pairs, from chunks' parts.

    A part (Cutter.cut) holds its chunk's objects written once, and which of them each
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


class Background:
    """A background page laid out once: its drawing as a Form XObject's parts, and the
    height of the spacer that the award layer puts where the background drew."""

    def __init__(self, source: Source, page: int, spacer: float, missing: Sequence[str]):
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
