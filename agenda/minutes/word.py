"""The minutes as a Word document, laid out like the PDF (web/templates/documents/minutes.html).

A4 with the margins of decree 30/2020 (top 20, bottom 20, left 30, right 15 mm), Times
New Roman 13pt as Vietnamese offices use in Word. The content is the same plain data the
PDF template renders: agenda.minutes.document.MinutesContent.

``blocks`` are agenda.minutes.text.blocks() output.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Inches, Length, Mm, Pt
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from PIL import Image

from agenda.minutes.document import (
    Decision,
    Header,
    Item,
    MinutesContent,
    SpeakerRow,
)
from agenda.minutes.text import Block, Run
from conference.qr import qr_png

FONT = "Times New Roman"
CENTER = WD_ALIGN_PARAGRAPH.CENTER
JUSTIFY = WD_ALIGN_PARAGRAPH.JUSTIFY
ROMAN = ("I", "II", "III", "IV", "V", "VI", "VII", "VIII")
TEXT_WIDTH_MM = 165  # A4 less the 30 and 15 mm margins
SPEAKER_COLUMNS = (
    ("STT", 10),
    ("Họ và tên", 45),
    ("Đơn vị", 30),
    ("Điểm cầu", 22),
    ("Nội dung", 21),
    ("Thời gian", 22),
    ("Thời lượng", 15),
)

Container = DocumentObject | _Cell


def _joined(parts: Sequence[Any], sep: str) -> str:
    return sep.join(str(p) for p in parts if p)


def _para(
    where: Container,
    text: str = "",
    *,
    bold: bool = False,
    italic: bool = False,
    size: float | None = None,
    align: Any = None,
    indent: Length | None = None,
) -> Paragraph:
    paragraph = where.add_paragraph()
    if text:
        run = paragraph.add_run(text)
        run.bold, run.italic = bold or None, italic or None
        if size:
            run.font.size = Pt(size)
    if align is not None:
        paragraph.alignment = align
    if indent is not None:
        paragraph.paragraph_format.left_indent = indent
    return paragraph


def _runs(paragraph: Paragraph, runs: Sequence[Run]) -> None:
    for r in runs:
        paragraph.add_run(r["text"]).bold = bool(r["bold"]) or None


def _blocks(where: Container, blocks: Sequence[Block], indent: Length | None) -> None:
    """The secretary's paragraphs and lists (line breaks kept, numbers as written)."""
    for block in blocks:
        if block["type"] == "p":
            paragraph = _para(where, align=JUSTIFY, indent=indent)
            for n, line in enumerate(block["lines"]):
                if n:
                    paragraph.add_run().add_break()
                _runs(paragraph, line)
            continue
        for n, item in enumerate(block["items"]):
            paragraph = _para(where, align=JUSTIFY)
            fmt = paragraph.paragraph_format
            fmt.left_indent = Length(Mm(8) + (indent or 0))
            fmt.first_line_indent = Mm(-5)
            marker = "•" if block["type"] == "ul" else f"{block.get('start', 1) + n}."
            paragraph.add_run(f"{marker}\t")
            fmt.tab_stops.add_tab_stop(fmt.left_indent)
            _runs(paragraph, item)


def _rule(cell: _Cell, width_mm: float, cell_mm: float) -> None:
    """A short centred line under a heading (an empty paragraph's top border, indented)."""
    paragraph = _para(cell)
    borders = OxmlElement("w:pBdr")
    top = OxmlElement("w:top")
    for key, value in (("val", "single"), ("sz", "6"), ("space", "1"), ("color", "000000")):
        top.set(qn(f"w:{key}"), value)
    borders.append(top)
    # First in the empty pPr: the indent and spacing set next go after it, as the schema wants.
    paragraph._p.get_or_add_pPr().append(borders)
    fmt = paragraph.paragraph_format
    fmt.left_indent = fmt.right_indent = Mm((cell_mm - width_mm) / 2)
    fmt.space_after = Pt(2)


def _table(document: DocumentObject, header: Sequence[str], widths_mm: Sequence[float]) -> Table:
    """A bordered table whose header row repeats on every page and whose rows do not split."""
    table: Table = document.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    table.autofit = False
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for column, width in zip(table.columns, widths_mm, strict=True):
        column.width = Mm(width)
    for cell, text, width in zip(table.rows[0].cells, header, widths_mm, strict=True):
        cell.width = Mm(width)
        _cell_text(cell, text, bold=True, align=CENTER)
    _row_flag(table.rows[0]._tr, "w:tblHeader")
    return table


def _row_flag(tr: Any, name: str) -> None:
    tr.get_or_add_trPr().append(OxmlElement(name))


def _row(table: Table, values: Sequence[Any], bold: bool = False) -> list[_Cell]:
    row = table.add_row()  # type: ignore[no-untyped-call]
    _row_flag(row._tr, "w:cantSplit")
    for cell, column, value in zip(row.cells, table.columns, values, strict=True):
        cell.width = column.width
        _cell_text(cell, str(value), bold=bold)
    return list(row.cells)


def _cell_text(cell: _Cell, text: str, *, bold: bool = False, align: Any = None) -> None:
    paragraph = cell.paragraphs[0]
    paragraph.alignment = align
    paragraph.paragraph_format.space_after = Pt(0)
    run = paragraph.add_run(text)
    run.bold = bold or None
    run.font.size = Pt(11)


def _field(paragraph: Paragraph, instruction: str) -> None:
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


def _setup(document: DocumentObject, content: MinutesContent) -> None:
    section = document.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    style = document.styles["Normal"]
    font = style.font
    font.name, font.size = FONT, Pt(13)
    style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), FONT)
    fmt = style.paragraph_format
    fmt.space_after, fmt.line_spacing = Pt(3), 1.1
    footer = section.footer.paragraphs[0]
    tabs = footer.paragraph_format.tab_stops
    tabs.add_tab_stop(Inches(3.25), WD_TAB_ALIGNMENT.CLEAR)  # the Footer style's centre tab
    tabs.add_tab_stop(Mm(TEXT_WIDTH_MM), WD_TAB_ALIGNMENT.RIGHT)
    verification = content["verification"]
    if verification is not None:
        mark = f"Phiên bản {content['version']} · Mã xác minh {verification['code']}"
        footer.add_run(mark).font.size = Pt(8)
    footer.add_run("\tTrang ").font.size = Pt(9)
    _field(footer, "PAGE")
    footer.add_run("/").font.size = Pt(9)
    _field(footer, "NUMPAGES")
    if content["status"] == "draft":
        mark = section.header.paragraphs[0]
        mark.alignment = WD_ALIGN_PARAGRAPH.RIGHT
        mark.add_run("DỰ THẢO").bold = True


def _heading(document: DocumentObject, header: Header) -> None:
    table = document.add_table(rows=1, cols=2)
    table.autofit = False
    widths = (70, TEXT_WIDTH_MM - 70)
    left, right = table.rows[0].cells
    for column, cell, width in zip(table.columns, (left, right), widths, strict=True):
        column.width = cell.width = Mm(width)
    lines = header["issuing_body"]
    for n, line in enumerate(lines):
        target = left.paragraphs[0] if n == 0 else left.add_paragraph()
        target.alignment = CENTER
        target.paragraph_format.space_after = Pt(0)
        target.add_run(line.upper()).bold = n == len(lines) - 1 or None
    _rule(left, 20, widths[0])
    _para(left, header["document_number"], align=CENTER)
    for n, line in enumerate(header["heading"].split("\n")):
        target = right.paragraphs[0] if n == 0 else right.add_paragraph()
        target.alignment = CENTER
        target.paragraph_format.space_after = Pt(0)
        target.add_run(line).bold = True
    _rule(right, 50, widths[1])
    _para(right, header["place_date"], italic=True, align=CENTER)


def _items(document: DocumentObject, items: Sequence[Item]) -> None:
    for item in items:
        indent = Mm(8) if item["depth"] else None
        title = _para(document, f"{item['number']}. {item['title']}", bold=True, indent=indent)
        title.paragraph_format.keep_with_next = True
        title.paragraph_format.space_before = Pt(6)
        facts = [f"Trình bày: {item['presenter']}"] if item["presenter"] else []
        if item["started_label"]:
            when = f"Bắt đầu {item['started_label']}"
            when += f", kết thúc {item['ended_label']}" if item["ended_label"] else ""
            when += f" ({item['duration_label']})" if item["duration_label"] else ""
            facts.append(when)
        if item["status_label"] and (item["status"] != "done" or not item["started_label"]):
            facts.append(item["status_label"])
        if facts:
            _para(document, ". ".join(facts) + ".", italic=True, indent=indent)
        for s in item["speakers"]:
            text = _joined([s["name"], s["title"], s["unit"]], ", ")
            text += f" — {s['site_name']}" if s["site_name"] else ""
            if s["started_label"]:
                text += f": {_joined([s['started_label'], s['ended_label']], '–')}"
            text += f" ({s['duration_label']})" if s["duration_label"] else ""
            _blocks(document, [{"type": "ul", "items": [[{"text": text, "bold": False}]]}], indent)
        _blocks(document, item["blocks"], indent)
        for decision in item["decisions"]:
            _para(document, f"Quyết định/kết luận: {decision}", bold=True, indent=indent)


def _signatures(document: DocumentObject, content: MinutesContent) -> None:
    if document.paragraphs:  # the last text goes with the signatures, never alone before them
        document.paragraphs[-1].paragraph_format.keep_with_next = True
    table = document.add_table(rows=1, cols=2)
    signatures = content["signatures"]
    for cell, who in zip(
        table.rows[0].cells, (signatures["secretary"], signatures["chair"]), strict=True
    ):
        cell.width = Mm(TEXT_WIDTH_MM / 2)
        role = cell.paragraphs[0]
        role.alignment = CENTER
        role.paragraph_format.space_before = Pt(12)
        role.add_run(who["role_label"].upper()).bold = True
        note = _para(cell, "(Ký, ghi rõ họ tên)", italic=True, size=11, align=CENTER)
        note.paragraph_format.space_after = Mm(25)
        _para(cell, who["name"], bold=True, align=CENTER)
    _row_flag(table.rows[0]._tr, "w:cantSplit")
    verification = content["verification"]
    if verification is not None:
        image = Image.open(io.BytesIO(qr_png(verification["url"])))
        big = io.BytesIO()
        image.resize((image.width * 8, image.height * 8), Image.Resampling.NEAREST).save(big, "PNG")
        picture = _para(document)
        picture.paragraph_format.keep_with_next = True
        picture.add_run().add_picture(io.BytesIO(big.getvalue()), width=Mm(22))
        _para(document, f"Xác minh tại {verification['url']}", size=10)
        _para(
            document,
            f"Mã xác minh {verification['code']} · Phiên bản {content['version']}",
            size=10,
        )


class _Sections:
    """The minutes' numbered sections (I, II, ...), each heading kept with what follows."""

    def __init__(self, document: DocumentObject) -> None:
        self.document = document
        self.roman = iter(ROMAN)

    def start(self, title: str) -> None:
        heading = _para(self.document, f"{next(self.roman)}. {title}", bold=True)
        heading.paragraph_format.space_before = Pt(8)
        heading.paragraph_format.keep_with_next = True


def build_docx(content: MinutesContent) -> bytes:
    """The minutes as a DOCX file, with the same structure as the PDF."""
    document = Document()
    _setup(document, content)
    _title(document, content)
    sections = _Sections(document)
    sections.start("THÀNH PHẦN THAM DỰ")
    _attendance(document, content)
    sections.start("NỘI DUNG")
    _blocks(document, content["opening"]["blocks"], None)
    _items(document, content["items"])
    sections.start("DANH SÁCH PHÁT BIỂU")
    _speakers(document, content["speakers"])
    sections.start("KẾT LUẬN VÀ QUYẾT ĐỊNH")
    _decisions(document, content["decisions"])
    if content["awards"]:
        sections.start("KHEN THƯỞNG")
        table = _table(document, ("STT", "Hình thức", "Tặng", "Quyết định"), (12, 45, 73, 35))
        for n, a in enumerate(content["awards"], 1):
            _row(table, (n, a["kind_label"], a["recipient"], a["decision_number"]))
    _blocks(document, content["closing"]["blocks"], None)
    if content["amendments"]:
        sections.start("ĐÍNH CHÍNH, BỔ SUNG")
        for change in content["amendments"]:
            by = _joined([change["at_label"], change["by"]], ", ")
            _para(document, f"Sửa đổi số {change['number']} ({by}):", bold=True)
            _blocks(document, change["blocks"], None)
    _signatures(document, content)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def _title(document: DocumentObject, content: MinutesContent) -> None:
    """The heading, the draft mark, the title and subtitle, the opening lines."""
    header = content["header"]
    _heading(document, header)
    if content["status"] == "draft":
        _para(document, "DỰ THẢO", bold=True, align=CENTER).paragraph_format.space_before = Pt(6)
    _para(
        document, header["title"], bold=True, size=14, align=CENTER
    ).paragraph_format.space_before = Pt(12)
    _para(document, header["subtitle"], bold=True, align=CENTER).paragraph_format.space_after = Pt(
        12
    )
    for line in content["intro"]:
        _para(document, line, align=JUSTIFY)


def _attendance(document: DocumentObject, content: MinutesContent) -> None:
    """Who was expected and present at each site, and the roll call."""
    attendance = content["attendance"]
    if attendance["at_label"]:
        _para(document, f"Số liệu lúc {attendance['at_label']}", italic=True, size=11)
    table = _table(document, ("STT", "Điểm cầu", "Dự kiến", "Có mặt"), (12, 97, 28, 28))
    for n, site in enumerate(attendance["sites"], 1):
        _row(table, (n, site["name"], site["expected"], site["present"]))
    _row(table, ("", "Tổng cộng", attendance["total_expected"], attendance["total_present"]), True)
    roll = content["roll_call"]
    if roll is not None:
        text = "Điểm danh" + (f" lúc {roll['started_label']}" if roll["started_label"] else "")
        text += f": {roll['answered']}/{roll['total']} điểm cầu đã báo cáo"
        text += f"; chưa báo cáo: {', '.join(roll['missing'])}" if roll["missing"] else ""
        _para(document, text + ".")


def _speakers(document: DocumentObject, speakers: list[SpeakerRow]) -> None:
    if not speakers:
        _para(document, "Không có", italic=True)
        return
    table = _table(document, [c for c, _ in SPEAKER_COLUMNS], [w for _, w in SPEAKER_COLUMNS])
    for s in speakers:
        item = _joined([s["item_number"], s["item_title"]], ". ")
        row = (s["number"], s["name"], s["unit"], s["site_name"], item, s["time_label"])
        cells = _row(table, (*row, s["duration_label"]))
        if s["title"]:
            title = cells[1].add_paragraph().add_run(s["title"])
            title.italic, title.font.size = True, Pt(9.5)


def _decisions(document: DocumentObject, decisions: list[Decision]) -> None:
    for d in decisions:
        paragraph = _para(document, f"{d['number']}. {d['text']}", align=JUSTIFY)
        where = _joined([d["item_number"], d["item_title"]], ". ")
        if where:
            paragraph.add_run(f" (Mục {where})").italic = True
    if not decisions:
        _para(document, "Không có", italic=True)
