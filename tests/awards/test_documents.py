"""Award documents: what a certificate and a flag award say (in Vietnamese, exactly), QR
codes that scan to each award's own address, one PDF per award cut from bulk documents,
long and right-to-left names on one page, layers (what awards of a decision share laid
out once, printing as the whole award does), the flag's print proof, templates an
organizer replaces (in a sandbox), with or without layers, and images: a data: emblem is
drawn, nothing is fetched."""

from __future__ import annotations

import base64
import io
import struct
import subprocess
import tempfile
import unicodedata
import xml.etree.ElementTree as ET
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from jinja2.exceptions import SecurityError, UndefinedError
from PIL import Image, ImageChops
from pypdf import PdfReader
from weasyprint.urls import FatalURLFetchingError

from awards import documents as award_documents
from awards import flag as award_flag
from awards import pdfcut
from awards.documents import render_awards, render_awards_chunk
from conference import documents
from conference.documents import MissingGlyphs
from tests.conference.test_documents import (
    PRINT_DPIS,
    pdf_pages,
    pdf_text,
    scan_pages,
    scan_qr_codes,
)

CERTIFICATE = "awards/certificate.html"
FLAG_AWARD = "awards/flag_award.html"
MM = 72 / 25.4
# Bidi controls poppler puts around right-to-left text it extracts.
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"))


def award(
    name: str = "Văn phòng Tỉnh ủy Quảng Ngãi",
    *,
    kind: str = "certificate_of_merit",
    person: bool = False,
    code: str = "ABCD-EFGH-JKLM",
    **more: Any,
) -> dict[str, Any]:
    """An award's document data, as the awards service makes it."""
    labels = {"emulation_flag": "CỜ THI ĐUA", "certificate_of_recognition": "GIẤY KHEN"}
    recipient = {"kind": "person" if person else "unit", "name": name, "title": "", "unit": ""}
    if person:
        recipient |= {"title": "Phó Chánh Văn phòng", "unit": "Văn phòng Tỉnh ủy Đắk Lắk"}
    return {
        "kind": kind,
        "kind_label": labels.get(kind, "BẰNG KHEN"),
        "awarding_body": "CHÁNH VĂN PHÒNG TRUNG ƯƠNG ĐẢNG",
        "issuing_body": ["ĐẢNG CỘNG SẢN VIỆT NAM"],
        "recipient": recipient,
        "citation": (
            "Đã có thành tích xuất sắc trong công tác văn phòng cấp ủy năm 2026, "
            "góp phần xây dựng Tỉnh ủy Đắk Lắk và Thành ủy Huế vững mạnh."
        ),
        "decision": {"number": "125-QĐ/VPTW", "date_label": "ngày 15 tháng 12 năm 2026"},
        "place_date": "Hà Nội, ngày 15 tháng 12 năm 2026",
        "signer": {"title": "Chánh Văn phòng", "name": "Nguyễn Văn Hùng"},
        "year": 2026,
        "emblem": "",
        "verification": {"code": code, "url": f"https://plenary.example.vn/verify/{code}"},
        "revoked": False,
    } | more


def words(text: str) -> str:
    """text as it is compared: NFC, without bidi controls, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).translate(BIDI_CONTROLS).split())


def chunk(items: list[dict[str, Any]], template: str = CERTIFICATE, **task: Any) -> dict[str, Any]:
    return render_awards_chunk({"template": template, "awards": items, "strict": True} | task)


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A plain PNG of one colour."""
    row = b"\x00" + bytes(rgb) * width

    def part(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + part(b"IHDR", header)
        + part(b"IDAT", zlib.compress(row * height))
        + part(b"IEND", b"")
    )


def raster(pdf: bytes, dpi: int = 60) -> Image.Image:
    """The first page printed at dpi."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "doc.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-png", "-f", "1", "-l", "1", str(source), f"{tmp}/p"],
            check=True,
        )
        (path,) = Path(tmp).glob("p-*.png")
        with Image.open(path) as image:
            return image.convert("RGB")


def coloured_pixels(pdf: bytes, rgb: tuple[int, int, int], dpi: int = 30) -> int:
    """How many pixels of the first page, printed at dpi, are about rgb."""
    data = raster(pdf, dpi).tobytes()
    pixels = zip(data[0::3], data[1::3], data[2::3], strict=True)
    return sum(1 for p in pixels if all(abs(a - b) < 40 for a, b in zip(p, rgb, strict=True)))


@pytest.fixture
def pool(document_pool: ProcessPoolExecutor) -> ProcessPoolExecutor:
    """The session's one rendering worker (starting one costs about a second)."""
    return document_pool


# --- what the documents say -----------------------------------------------------------------


def test_a_certificate_says_who_why_and_by_which_decision_and_its_qr_verifies_it() -> None:
    item = award("Nguyễn Thị Hồng Nhung", person=True)
    out = chunk([item])
    assert out["pages"] == 1 and out["award_pages"] == [1] and out["missing"] == []
    (pdf,) = out["pdfs"]
    text = words(pdf_text(pdf))
    for expected in (
        "BẰNG KHEN",
        "CHÁNH VĂN PHÒNG TRUNG ƯƠNG ĐẢNG",
        "Nguyễn Thị Hồng Nhung",
        "Phó Chánh Văn phòng, Văn phòng Tỉnh ủy Đắk Lắk",
        words(item["citation"]),
        "Quyết định số 125-QĐ/VPTW, ngày 15 tháng 12 năm 2026",
        "Hà Nội, ngày 15 tháng 12 năm 2026",
        "Nguyễn Văn Hùng",
        "ABCD-EFGH-JKLM",
        "Xác minh: https://plenary.example.vn/verify/ABCD-EFGH-JKLM",
    ):
        assert expected in text, expected
    assert scan_qr_codes(pdf) == ["https://plenary.example.vn/verify/ABCD-EFGH-JKLM"]
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    # A4 landscape.
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (842, 595)


def test_a_flag_award_document_names_the_unit_and_its_qr_verifies_it() -> None:
    item = award("Văn phòng Thành ủy Hải Phòng", kind="emulation_flag", code="FLAG-HPG1-2026")
    assert award_documents.template_for(item) == FLAG_AWARD
    (pdf,) = chunk([item], FLAG_AWARD)["pdfs"]
    text = words(pdf_text(pdf))
    assert "CỜ THI ĐUA" in text
    # The unit's name is set in capitals: the text layer says so too.
    assert "VĂN PHÒNG THÀNH ỦY HẢI PHÒNG" in text
    assert words(item["citation"]) in text and "Quyết định số 125-QĐ/VPTW" in text
    assert scan_qr_codes(pdf) == ["https://plenary.example.vn/verify/FLAG-HPG1-2026"]


# A verification page under a long public address: 100 bytes, QR version 6.
LONG_BASE = "https://hoinghi-toanquoc.vanphongtrunguong.example.vn/xac-minh/van-phong-capuy/verify"


@pytest.mark.parametrize("dpi", PRINT_DPIS)
@pytest.mark.parametrize("template", [CERTIFICATE, FLAG_AWARD])
def test_every_award_code_reads_from_a_low_resolution_print(template: str, dpi: int) -> None:
    items = [
        award("Văn phòng Tỉnh ủy Quảng Ngãi", code="ABCD-EFGH-JKLM"),
        award("Nguyễn Thị Hồng Nhung", person=True, code="MNPQ-RSTV-WXYZ"),
        award("Văn phòng Thành ủy Hải Phòng", code="FLAG-HPG1-2026"),
    ]
    items[2]["verification"]["url"] = f"{LONG_BASE}/FLAG-HPG1-2026"
    assert len(items[2]["verification"]["url"]) == 100
    out = chunk(items, template)
    for item, pdf in zip(items, out["pdfs"], strict=True):
        assert scan_pages(pdf, dpi) == [[item["verification"]["url"]]]


def test_each_kind_has_its_template() -> None:
    assert award_documents.template_for({"kind": "emulation_flag"}) == FLAG_AWARD
    for kind in ("certificate_of_merit", "certificate_of_recognition", "other", "unknown"):
        assert award_documents.template_for({"kind": kind}) == CERTIFICATE
    # A kind a conference defines names its layout.
    flag = {"kind": "co_thi_dua_cum", "layout": "flag_award"}
    assert award_documents.template_for(flag) == FLAG_AWARD
    plain = {"kind": "emulation_flag", "layout": "certificate"}
    assert award_documents.template_for(plain) == CERTIFICATE


def test_a_revoked_award_is_marked_and_text_is_escaped() -> None:
    item = award("<b>Lò</b> & Páo", revoked=True)
    html = documents.render_html(CERTIFICATE, {"awards": [item], "star": award_documents.STAR})
    assert "&lt;b&gt;Lò&lt;/b&gt; &amp; Páo" in html and "<b>Lò" not in html
    text = words(pdf_text(chunk([item])["pdfs"][0]))
    assert "ĐÃ THU HỒI" in text and "<b>Lò</b> & Páo" in text
    assert "ĐÃ THU HỒI" not in words(pdf_text(chunk([award()])["pdfs"][0]))


def test_decomposed_input_comes_out_composed() -> None:
    name = unicodedata.normalize("NFD", "Trịnh Thị Huế")
    text = pdf_text(chunk([award(name, person=True)])["pdfs"][0])
    assert "Trịnh Thị Huế" in text


# --- long names, right-to-left names, missing glyphs ----------------------------------------


def test_long_and_right_to_left_names_keep_one_page_each() -> None:
    long_name = ("Văn phòng Tỉnh ủy Quảng Ngãi và Đắk Lắk, " * 8).strip(" ,")
    arabic = "مكتب اللجنة الإقليمية"
    hebrew = "משרד הוועדה"
    items = [
        award(long_name[:300], citation="Đã có thành tích xuất sắc. " * 74),
        award(arabic),
        award(hebrew, person=True),
        award("Nguyễn Thị Hồng Nhung " * 13, kind="emulation_flag"),
    ]
    out = chunk(items[:3])
    assert out["award_pages"] == [1, 1, 1] and out["pages"] == 3
    assert [pdf_pages(pdf) for pdf in out["pdfs"]] == [1, 1, 1]
    assert words(long_name[:60]) in words(pdf_text(out["pdfs"][0]))
    assert arabic in words(pdf_text(out["pdfs"][1]))
    assert hebrew in words(pdf_text(out["pdfs"][2]))
    flag = chunk(items[3:], FLAG_AWARD)
    assert flag["award_pages"] == [1] and flag["pages"] == 1


@pytest.mark.missing_glyphs
def test_a_character_no_font_has_is_refused_in_strict_mode() -> None:
    for character in ("\U0001fae8", "\ue000"):
        with pytest.raises(MissingGlyphs) as excinfo:
            chunk([award(f"Văn phòng {character} Huế")])
        assert excinfo.value.characters == (character,)
        lenient = chunk([award(f"Văn phòng {character} Huế")], strict=False)
        assert lenient["missing"] == [character] and len(lenient["pdfs"]) == 1


# --- bulk: one PDF per award, and all of them in order --------------------------------------


async def test_a_bulk_run_gives_one_pdf_per_award_each_with_its_own_qr(
    pool: ProcessPoolExecutor,
) -> None:
    # Certificates and flags interleaved: rendered by template, returned in input order.
    kinds = ["certificate_of_merit", "emulation_flag", "certificate_of_recognition"]
    items = [
        award(f"Văn phòng Tỉnh ủy số {n} Đắk Lắk", kind=kinds[n % 3], code=f"CODE-{n:04d}-QR")
        for n in range(5)
    ]
    seen: list[tuple[int, int]] = []

    async def progress(done: int, total: int) -> None:
        seen.append((done, total))

    pdfs, combined, missing = await render_awards(
        pool, items, workers=2, progress=progress, strict=True
    )
    assert missing == () and len(pdfs) == 5
    assert [done for done, _ in seen][-1] == 5 and {total for _, total in seen} == {5}
    for item, pdf in zip(items, pdfs, strict=True):
        assert pdf_pages(pdf) == 1
        assert scan_qr_codes(pdf) == [item["verification"]["url"]]
        assert item["recipient"]["name"].upper() in words(pdf_text(pdf)).upper()
    assert pdf_pages(combined) == 5
    text = words(pdf_text(combined)).upper()
    positions = [text.index(f"VĂN PHÒNG TỈNH ỦY SỐ {n} ĐẮK LẮK") for n in range(5)]
    assert positions == sorted(positions)


async def test_a_bulk_run_reports_missing_glyphs_and_refuses_them_strictly(
    pool: ProcessPoolExecutor,
) -> None:
    items = [award("Huế \ue000"), award("Huế")]
    pdfs, _, missing = await render_awards(pool, items, workers=1)
    assert missing == ("\ue000",) and len(pdfs) == 2
    with pytest.raises(MissingGlyphs):
        await render_awards(pool, items, workers=1, strict=True)
    assert await render_awards(pool, [], workers=1) == ([], b"", ())


def test_each_cut_pdf_holds_only_its_own_images() -> None:
    items = [award(f"Đơn vị {n}", code=f"CODE-{n:04d}-IMG") for n in range(4)]
    out = chunk(items)
    for pdf in out["pdfs"]:
        reader = PdfReader(io.BytesIO(pdf), strict=True)
        assert len(reader.pages) == 1
        # The page's own QR code, not the chunk's four.
        assert len(reader.pages[0].images) == 1
    # Cutting keeps the files small: the chunk's fonts once each, not every page's images.
    combined = pdfcut.combine([out["part"]], [(0, k) for k in range(4)])
    assert pdf_pages(combined) == 4
    assert max(map(len, out["pdfs"])) < len(combined)


def test_pages_are_attributed_by_the_award_ids() -> None:
    assert award_documents.award_pages([["award-0"], [], ["award-1", "x"], ["award-2"]], 3) == [
        2,
        1,
        1,
    ]
    with pytest.raises(ValueError, match="section"):
        award_documents.award_pages([["award-0"], []], 2)
    with pytest.raises(ValueError, match="new page"):
        award_documents.award_pages([["award-0", "award-1"]], 2)


# --- layers: what awards of a decision share, laid out once ---------------------------------


def whole(item: dict[str, Any], template: str = CERTIFICATE) -> bytes:
    """An award printed whole, alone in its document (as the naive loop does)."""
    context = {"awards": [item], "star": award_documents.STAR}
    return documents.render_template(template, context, strict=True).pdf


def backgrounds_drawn(pdf: bytes) -> list[int | None]:
    """For each page, the object number of the background it draws (None: none)."""
    found: list[int | None] = []
    for page in PdfReader(io.BytesIO(pdf)).pages:
        resources: Any = page["/Resources"]
        xobjects: Any = resources.get_object().get("/XObject")
        drawn = None
        if xobjects is not None and "/Background" in xobjects.get_object():
            drawn = xobjects.get_object().raw_get("/Background").idnum
        found.append(drawn)
    return found


DECISIONS: list[dict[str, Any]] = [
    {},
    {
        "kind": "certificate_of_recognition",
        "kind_label": "GIẤY KHEN",
        "awarding_body": "BAN THƯỜNG VỤ TỈNH ỦY ĐẮK LẮK",
        "issuing_body": ["ĐẢNG BỘ TỈNH ĐẮK LẮK", "TỈNH ỦY ĐẮK LẮK"],
        "decision": {"number": "88-QĐ/TU", "date_label": "ngày 20 tháng 12 năm 2026"},
        "place_date": "Buôn Ma Thuột, ngày 20 tháng 12 năm 2026",
        "signer": {"title": "Bí thư Tỉnh ủy", "name": "Y Thanh Hà Niê Kđăm"},
    },
]


@pytest.mark.parametrize(
    ("template", "kind"), [(CERTIFICATE, "certificate_of_merit"), (FLAG_AWARD, "emulation_flag")]
)
def test_in_layers_an_award_prints_as_it_does_whole(template: str, kind: str) -> None:
    long_name = ("Văn phòng Đảng ủy các cơ quan Đảng tỉnh Quảng Ngãi và Đắk Lắk " * 3).strip()
    items = [
        award("Nguyễn Thị Hồng Nhung", kind=kind, person=True),
        award("Văn phòng Tỉnh ủy Đắk Lắk", kind=kind, revoked=True, code="REVO-KED0-2026"),
        award(
            long_name, citation="Đã có thành tích xuất sắc. " * 60, **DECISIONS[1] | {"kind": kind}
        ),
    ]
    out = chunk(items, template)
    assert out["award_pages"] == [1, 1, 1]
    for item, pdf in zip(items, out["pdfs"], strict=True):
        # Drawn in layers: the page draws a background under its own text...
        (drawn,) = backgrounds_drawn(pdf)
        assert drawn is not None
        # ... and prints the same as the award drawn whole, in a document of its own.
        difference = ImageChops.difference(raster(whole(item, template)), raster(pdf))
        differing = difference.convert("L").point(lambda v: 255 if v > 64 else 0)
        assert differing.histogram()[255] <= 10
        assert scan_qr_codes(pdf) == [item["verification"]["url"]]


def test_awards_of_two_decisions_in_one_chunk_each_print_their_own_background() -> None:
    items = [
        award(f"Đơn vị số {n} Đắk Lắk", code=f"TWO0-DECS-{n:04d}", **DECISIONS[n % 2])
        for n in range(4)
    ]
    out = chunk(items)
    drawn = []
    for n, (item, pdf) in enumerate(zip(items, out["pdfs"], strict=True)):
        text = words(pdf_text(pdf))
        own, other = award(**DECISIONS[n % 2]), award(**DECISIONS[1 - n % 2])
        for field in ("awarding_body", "kind_label"):
            assert own[field] in text and other[field] not in text, field
        for line in own["issuing_body"]:
            assert line in text
        assert own["place_date"] in text and other["place_date"] not in text
        assert own["signer"]["name"] in text and other["signer"]["name"] not in text
        assert f"Quyết định số {own['decision']['number']}" in text
        assert f"Đơn vị số {n} Đắk Lắk" in text and "TẶNG" in text
        assert scan_qr_codes(pdf) == [item["verification"]["url"]]
        assert pdf_pages(pdf) == 1
        drawn += backgrounds_drawn(pdf)
    assert None not in drawn
    # To print: each background once, under the pages of its decision, awards in order.
    combined = pdfcut.combine([out["part"]], [(0, k) for k in range(4)])
    first, second, third, fourth = backgrounds_drawn(combined)
    assert first == third and second == fourth and first != second
    text = words(pdf_text(combined))
    positions = [text.index(f"Đơn vị số {n} Đắk Lắk") for n in range(4)]
    assert positions == sorted(positions)
    assert text.count("GIẤY KHEN") == 2 and text.count("BẰNG KHEN") == 2


def test_a_background_is_laid_out_once_per_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    documents_made: list[str] = []
    render = documents.render_pdf_anchors

    def counting(html: str, *, strict: bool = False) -> Any:
        documents_made.append(html)
        return render(html, strict=strict)

    monkeypatch.setattr(documents, "render_pdf_anchors", counting)
    own: dict[str, Any] = {"awarding_body": "BAN TỔ CHỨC HỘI NGHỊ LẦN THỨ NHẤT"}
    items = [award(f"Đơn vị {n}", code=f"ONCE-0000-{n:04d}", **own) for n in range(4)]
    first = chunk(items[:2])
    assert len(documents_made) == 2  # the background, then the awards' own text
    second = chunk(items[2:])
    assert len(documents_made) == 3  # the awards' text only: the background was kept
    for pdf in first["pdfs"] + second["pdfs"]:
        assert "BAN TỔ CHỨC HỘI NGHỊ LẦN THỨ NHẤT" in words(pdf_text(pdf))


def test_an_override_gets_its_own_background_not_one_kept_from_the_files() -> None:
    chunk([award()])
    parts = (documents.TEMPLATES_DIR / "awards" / "parts.html").read_text(encoding="utf-8")
    own = parts.replace('<p class="place-date">', '<p class="place-date">Làm tại ')
    out = chunk([award()], templates={"awards/parts.html": own})
    assert "Làm tại Hà Nội, ngày 15" in words(pdf_text(out["pdfs"][0]))
    assert "Làm tại" not in words(pdf_text(chunk([award()])["pdfs"][0]))


@pytest.mark.missing_glyphs
def test_a_missing_glyph_in_a_kept_background_is_reported_every_time() -> None:
    item = award(awarding_body="BAN \ue000 TỔ CHỨC")
    assert chunk([item], strict=False)["missing"] == ["\ue000"]
    assert chunk([item], strict=False)["missing"] == ["\ue000"]
    with pytest.raises(MissingGlyphs):
        chunk([item])


def test_an_organizer_template_that_does_not_split_prints_each_award_whole() -> None:
    # An organizer's copy of the certificate from before layers: it never says layered.
    shipped = (documents.TEMPLATES_DIR / CERTIFICATE).read_text(encoding="utf-8")
    own = shipped.replace("{% set layered = true %}\n", "")
    assert own != shipped
    items = [award(f"Đơn vị số {n}", code=f"WHOL-E000-{n:04d}", **DECISIONS[n]) for n in range(2)]
    out = chunk(items, templates={CERTIFICATE: own})
    for n, (item, pdf) in enumerate(zip(items, out["pdfs"], strict=True)):
        assert backgrounds_drawn(pdf) == [None]
        text = words(pdf_text(pdf))
        assert award(**DECISIONS[n])["awarding_body"] in text and f"Đơn vị số {n}" in text
        assert scan_qr_codes(pdf) == [item["verification"]["url"]]
    combined = pdfcut.combine([out["part"]], [(0, 0), (0, 1)])
    assert pdf_pages(combined) == 2


OWN_LAYERED = """{% set layered = true %}{% set drawing = layer | default("all") %}
<!doctype html><html lang="vi"><head><meta charset="utf-8"><style>
@page { size: A5 landscape; margin: 10mm }
.award { break-after: page; font-family: "Noto Serif"; height: 120mm; position: relative }
</style></head><body>
{% for award in awards %}{% set n = loop.index0 %}
<section class="award" id="award-{{ n }}">
  {% if drawing == "award" %}<div style="height: {{ spacers[n] }}mm"></div>{% else %}
  {% if drawing == "background" %}<div id="spacer-{{ n }}"></div>{% endif %}
  <p>CƠ QUAN: {{ award.awarding_body }}</p>
  {% if drawing == "background" %}<div id="spacer-{{ n }}-end"></div>{% endif %}
  {% endif %}
  {% if drawing != "background" %}
  <p>NGƯỜI NHẬN: {{ award.recipient.name }}</p>
  <img src="{{ award.verification.url | qr }}" style="width: 30mm; image-rendering: pixelated">
  {% endif %}
</section>
{% endfor %}
</body></html>"""


def test_an_organizer_template_may_split_too() -> None:
    items = [award(f"Đơn vị số {n}", code=f"OWNL-AYER-{n:04d}", **DECISIONS[n]) for n in range(2)]
    out = chunk(items, templates={CERTIFICATE: OWN_LAYERED})
    for n, (item, pdf) in enumerate(zip(items, out["pdfs"], strict=True)):
        assert backgrounds_drawn(pdf) != [None]
        text = words(pdf_text(pdf))
        body = award(**DECISIONS[n])["awarding_body"]
        assert f"CƠ QUAN: {body} NGƯỜI NHẬN: Đơn vị số {n}" in text
        assert scan_qr_codes(pdf) == [item["verification"]["url"]]
        # Whole, as the naive loop and a one-off document print it, the same page.
        context = {"awards": [item], "star": ""}
        alone = documents.render_template(
            CERTIFICATE, context, templates={CERTIFICATE: OWN_LAYERED}
        )
        assert words(pdf_text(alone.pdf)) == text


def test_a_split_template_must_mark_its_spacer_and_keep_to_what_awards_share() -> None:
    unmarked = OWN_LAYERED.replace('<div id="spacer-{{ n }}-end"></div>', "")
    with pytest.raises(ValueError, match="spacer"):
        chunk([award()], templates={CERTIFICATE: unmarked})
    # A background is what the awards of a decision share: an award's own fields are not
    # there to draw.
    nosy = OWN_LAYERED.replace("CƠ QUAN: {{ award.awarding_body }}", "{{ award.recipient.name }}")
    with pytest.raises(UndefinedError, match="recipient"):
        chunk([award()], templates={CERTIFICATE: nosy})


# --- the flag's print proof -----------------------------------------------------------------


def test_the_flag_proof_is_850_by_650_mm_with_the_unit_and_year() -> None:
    item = award("Văn phòng Tỉnh ủy Đắk Lắk", kind="emulation_flag")
    pdf = award_flag.render_flag_proof_pdf(item, strict=True)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert abs(float(box.width) - 850 * MM) <= 1 and abs(float(box.height) - 650 * MM) <= 1
    text = words(pdf_text(pdf))
    assert "VĂN PHÒNG TỈNH ỦY ĐẮK LẮK" in text and "NĂM 2026" in text
    assert "CHÁNH VĂN PHÒNG TRUNG ƯƠNG ĐẢNG" in text and "TẶNG" in text
    # Nothing but the flag is printed: no decision number, no QR code on it.
    assert "125-QĐ/VPTW" not in text
    # The maker's note travels in the metadata instead.
    assert "850 x 650 mm" in str(reader.metadata)
    # A red field with a gold star and gold letters.
    assert coloured_pixels(pdf, (0xDA, 0x25, 0x1D), dpi=5) > 10_000
    assert coloured_pixels(pdf, (0xFF, 0xCD, 0x00), dpi=5) > 500


def test_the_flag_proof_svg_is_the_same_design() -> None:
    item = award("Văn phòng Tỉnh ủy Đắk Lắk", kind="emulation_flag")
    svg = award_flag.flag_proof_svg(item)
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == f"{ns}svg"
    assert root.get("viewBox") == "0 0 850 650"
    assert (root.get("width"), root.get("height")) == ("850mm", "650mm")
    texts = [" ".join(t.itertext()).strip("\u2068\u2069") for t in root.iter(f"{ns}text")]
    # The name is broken into lines as on the PDF.
    assert "VĂN PHÒNG TỈNH ỦY ĐẮK LẮK" in " ".join(texts) and "NĂM 2026" in texts
    assert all(t.get("font-family", "").startswith("Noto Serif") for t in root.iter(f"{ns}g"))
    (star,) = root.iter(f"{ns}polygon")
    points = [tuple(map(float, p.split(","))) for p in star.get("points", "").split()]
    assert len(points) == 10
    # Point up, and the same star as the PDF's.
    layout = award_flag.flag_layout(item)
    assert points[0][1] == min(y for _, y in points)
    assert star.get("points") == layout["star_points"]


def test_a_long_unit_name_on_the_flag_is_wrapped_to_fit() -> None:
    name = "Văn phòng Đảng ủy các cơ quan Đảng tỉnh Quảng Ngãi và Đắk Lắk"
    layout = award_flag.flag_layout(award(name, kind="emulation_flag"))
    lines = [line for line in layout["lines"] if line["size"] == layout["lines"][2]["size"]]
    assert len(lines) >= 2
    for line in layout["lines"]:
        assert award_flag.text_width(line["text"], line["size"]) <= 760 or line["fit"]
        assert 0 < line["y"] < 650
    ys = [line["y"] for line in layout["lines"]]
    assert ys == sorted(ys)


# --- templates an organizer replaces --------------------------------------------------------


OWN_CERTIFICATE = """<!doctype html><html lang="vi"><head><meta charset="utf-8"><style>
@page { size: A5 landscape; margin: 10mm }
.award { break-after: page; font-family: "Noto Serif" }
</style></head><body>
{% for award in awards %}
<section class="award" id="award-{{ loop.index0 }}">
  <p>MẪU RIÊNG CỦA HỘI NGHỊ: {{ award.recipient.name }}</p>
  <img src="{{ award.verification.url | qr }}" style="width: 30mm; image-rendering: pixelated">
</section>
{% endfor %}
</body></html>"""


def test_an_organizer_template_replaces_the_file() -> None:
    templates = {CERTIFICATE: OWN_CERTIFICATE}
    out = chunk([award("Văn phòng Tỉnh ủy Huế"), award("Đắk Lắk")], templates=templates)
    assert out["award_pages"] == [1, 1]
    assert "MẪU RIÊNG CỦA HỘI NGHỊ: Văn phòng Tỉnh ủy Huế" in words(pdf_text(out["pdfs"][0]))
    assert scan_qr_codes(out["pdfs"][1]) == ["https://plenary.example.vn/verify/ABCD-EFGH-JKLM"]
    # A5 landscape, as the organizer's template says.
    page = PdfReader(io.BytesIO(out["pdfs"][0])).pages[0]
    assert round(float(page.mediabox.width)) == 595
    # Without overrides, the file again.
    assert "MẪU RIÊNG" not in pdf_text(chunk([award()])["pdfs"][0])


def test_an_organizer_can_replace_a_part_the_templates_include() -> None:
    parts = (documents.TEMPLATES_DIR / "awards" / "parts.html").read_text(encoding="utf-8")
    own = parts.replace("Quyết định số", "Theo Quyết định số")
    out = chunk([award()], templates={"awards/parts.html": own})
    assert "Theo Quyết định số 125-QĐ/VPTW" in words(pdf_text(out["pdfs"][0]))


async def test_overrides_travel_to_the_pool(pool: ProcessPoolExecutor) -> None:
    pdfs, _, _ = await render_awards(
        pool, [award("Huế")], workers=1, templates={CERTIFICATE: OWN_CERTIFICATE}
    )
    assert "MẪU RIÊNG CỦA HỘI NGHỊ: Huế" in words(pdf_text(pdfs[0]))
    # A refusal in a worker comes back as itself.
    with pytest.raises(SecurityError):
        await render_awards(
            pool, [award()], workers=1, templates={CERTIFICATE: "{{ star.__class__ }}"}
        )
    with pytest.raises(FatalURLFetchingError):
        await render_awards(pool, [award(emblem="http://127.0.0.1:9/e.png")], workers=1)


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ awards.__class__.__base__ }}",
        "{{ star.__class__ }}",
        "{% set f = cycler.__init__.__globals__ %}{{ f }}",
        "{{ awards[0].items.__self__.__class__ }}",
    ],
)
def test_an_organizer_template_cannot_reach_python(source: str) -> None:
    with pytest.raises(SecurityError):
        chunk([award()], templates={CERTIFICATE: source})


def test_an_organizer_template_without_award_ids_is_refused() -> None:
    source = OWN_CERTIFICATE.replace(' id="award-{{ loop.index0 }}"', "")
    with pytest.raises(ValueError, match="award-N"):
        chunk([award()], templates={CERTIFICATE: source})


def test_overrides_do_not_leak_into_later_renderings() -> None:
    documents.render_html(CERTIFICATE, {"awards": [], "star": ""}, templates={CERTIFICATE: "x"})
    html = documents.render_html(CERTIFICATE, {"awards": [award()], "star": ""})
    assert 'id="award-0"' in html


# --- images: a data: emblem is drawn, nothing is fetched ------------------------------------


def test_a_data_emblem_is_drawn_in_place_of_the_star() -> None:
    blue = png(8, 8, (0, 0, 255))
    emblem = "data:image/png;base64," + base64.b64encode(blue).decode()
    with_emblem = chunk([award(emblem=emblem)])["pdfs"][0]
    sizes = {(image.image.width, image.image.height) for image in _images(with_emblem)}
    assert (8, 8) in sizes
    assert coloured_pixels(with_emblem, (0, 0, 255)) > 50
    plain = chunk([award()])["pdfs"][0]
    assert coloured_pixels(plain, (0, 0, 255)) == 0
    # The gold star when there is no emblem.
    assert coloured_pixels(plain, (0xFF, 0xCD, 0x00)) > 20


def test_an_svg_emblem_is_drawn() -> None:
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" width="10" height="10">'
        '<rect width="10" height="10" fill="#00f"/></svg>'
    )
    emblem = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    pdf = chunk([award(emblem=emblem)])["pdfs"][0]
    assert coloured_pixels(pdf, (0, 0, 255)) > 50


def _images(pdf: bytes) -> list[Any]:
    return list(PdfReader(io.BytesIO(pdf)).pages[0].images)


@pytest.mark.parametrize(
    "emblem",
    [
        "http://127.0.0.1:9/emblem.png",
        "https://example.org/emblem.png",
        "file:///etc/hostname",
        "data:text/html;base64,PGI+eDwvYj4=",
        "data:image/png;base64," + base64.b64encode(b"GIF89a not a png").decode(),
        "data:image/jpeg;base64,%%%%",
        "data:image/svg+xml;base64," + base64.b64encode(b"<html></html>").decode(),
    ],
)
def test_an_emblem_from_elsewhere_is_refused(emblem: str) -> None:
    with pytest.raises(FatalURLFetchingError):
        chunk([award(emblem=emblem)])


def test_an_svg_emblem_cannot_fetch_either(tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    secret.write_bytes(png(4, 4, (0, 0, 255)))
    svg = (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10" width="10" height="10">'
        f'<image href="file://{secret}" width="10" height="10"/></svg>'
    )
    emblem = "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()
    # WeasyPrint gives up on an SVG whose parts fail to load: the emblem is left out.
    pdf = chunk([award(emblem=emblem)])["pdfs"][0]
    assert len(_images(pdf)) == 1  # the QR code
    assert coloured_pixels(pdf, (0, 0, 255)) == 0


def test_data_images_are_checked_for_what_they_claim() -> None:
    kind, body = documents.data_image(
        "data:image/png;base64," + base64.b64encode(png(1, 1, (0, 0, 0))).decode()
    )
    assert kind == "image/png" and body.startswith(b"\x89PNG")
    kind, body = documents.data_image(
        "data:image/svg+xml;charset=utf-8,%3Csvg%20xmlns%3D%22x%22%2F%3E"
    )
    assert kind == "image/svg+xml" and body == b'<svg xmlns="x"/>'
    for bad in ("data:image/gif;base64,R0lGODlh", "data:image/png,abc", "data:,x"):
        with pytest.raises(ValueError):
            documents.data_image(bad)


async def test_any_document_task_may_carry_overrides(pool: ProcessPoolExecutor) -> None:
    own = "{% for item in items %}<p>RIÊNG {{ item }}</p>{% endfor %}"
    task = {"template": "badges.html", "context": {"items": ["Huế"]}}
    out = documents.render_task(task | {"templates": {"badges.html": own}})
    assert "RIÊNG Huế" in pdf_text(out["pdf"])
    rendered = await documents.render_in_pool(
        pool, "badges.html", {}, ["Đắk Lắk", "Huế"], templates={"badges.html": own}
    )
    assert words(pdf_text(rendered.pdf)) == "RIÊNG Đắk Lắk RIÊNG Huế"
