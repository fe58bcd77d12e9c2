"""Documents: QR codes that scan, Vietnamese text that survives, missing glyphs caught, bulk
rendering in a spawned pool that keeps order and reports progress."""

from __future__ import annotations

import base64
import io
import os
import subprocess
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import qrcode
import qrcode.util
from PIL import Image
from pypdf import PdfReader
from qrcode.constants import ERROR_CORRECT_M
from weasyprint.urls import FatalURLFetchingError

from conference import documents, qr
from conference.documents import MissingGlyphs, Rendered

VIETNAMESE = "Nguyễn Thị Hằng · Đặng Quốc Việt · Lê Thị Ngọc Ẩn · Trịnh Ưng Ỷ"
# Characters no installed font has: an emoji (no colour font) and a private-use one.
NO_FONT_HAS = ("\U0001f9ff", "\ue000")


# --- helpers the other document tests use ----------------------------------------------------


def pdf_text(pdf: bytes) -> str:
    """The PDF's text as poppler's pdftotext reads it (what search and copy give)."""
    done = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-", "-"], input=pdf, capture_output=True, check=True
    )
    return done.stdout.decode("utf-8")


def pdf_pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def scan_qr_codes(pdf: bytes, page: int = 1, dpi: int = 200) -> list[str]:
    """Print the page at dpi and read every QR code on it with zbar, as a scanner would."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "doc.pdf"
        source.write_bytes(pdf)
        prefix = Path(tmp) / "page"
        pages = ["-f", str(page), "-l", str(page)]
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-png", *pages, str(source), str(prefix)], check=True
        )
        (image,) = Path(tmp).glob("page-*.png")
        return read_codes(image)


def _zbar(image: Path) -> list[str]:
    done = subprocess.run(["zbarimg", "--raw", "-q", str(image)], capture_output=True, check=False)
    return done.stdout.decode().splitlines()


def read_codes(image: Path) -> list[str]:
    """The QR codes of a printed page, as zbar reads them: the whole page, then windows of
    a quarter of it (half its width and height, overlapping). On a page of eight badges
    zbar now and then misses one code that it reads alone (about one page in forty at
    200 dpi); a phone looks at one badge at a time. A code the whole page missed is added
    once from the windows; the whole page's list is kept as it is."""
    found = _zbar(image)
    page = Image.open(image)
    width, height = page.size
    extra: list[str] = []
    for top in (0, height // 4, height // 2):
        for left in (0, width // 4, width // 2):
            window = image.with_name(f"{image.stem}-{top}-{left}.png")
            page.crop((left, top, left + width // 2, top + height // 2)).save(window)
            extra += [code for code in _zbar(window) if code not in found and code not in extra]
    return found + extra


# What a phone's camera or a cheap scan of a printed page resolves, about: every QR code of
# every document must read from renders at both (DESIGN.md section 8).
PRINT_DPIS = (100, 150)


def scan_pages(pdf: bytes, dpi: int) -> list[list[str]]:
    """Every page printed at dpi and read with zbar: the codes found on each page."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "doc.pdf"
        source.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(source), f"{tmp}/p"], check=True)
        found = []
        for image in sorted(Path(tmp).glob("p-*.png"), key=lambda p: int(p.stem.split("-")[1])):
            found.append(read_codes(image))
    return found


def badge(name: str = "Nguyễn Thị Hằng", **more: Any) -> dict[str, Any]:
    """A badge's template data, as attendance.badges makes it."""
    return {
        "name": name,
        "title": "Phó Chánh Văn phòng",
        "unit": "Văn phòng Tỉnh ủy Lào Cai",
        "site_name": "Lào Cai",
        "site_code": "LCI",
        "category": "official",
        "category_label": "ĐẠI BIỂU",
        "name_size": "l",
        "title_size": "l",
        "unit_size": "l",
        "credential": "PL1" + base64.b32encode(os.urandom(88)).decode().rstrip("="),
    } | more


def badge_context(items: list[dict[str, Any]], layout: str = "sheet") -> dict[str, Any]:
    return {
        "conference": {"title": "Hội nghị toàn quốc Văn phòng cấp ủy"},
        "layout": layout,
        "per_page": 8 if layout == "sheet" else 1,
        "labels": {"site": "Điểm cầu"},
        "items": items,
    }


@pytest.fixture
def pool(document_pool: ProcessPoolExecutor) -> ProcessPoolExecutor:
    """The session's one rendering worker (starting one costs about a second)."""
    return document_pool


# --- QR codes -----------------------------------------------------------------------------------


def credential_like() -> str:
    return "PL1" + base64.b32encode(os.urandom(88)).decode().rstrip("=")


def test_a_credential_fits_qr_version_6_and_scans() -> None:
    text = credential_like()
    assert len(qr.qr_matrix(text)) == 41  # version 6
    image = Image.open(io.BytesIO(qr.qr_png(text)))
    assert image.mode == "L" and image.size == (49, 49)  # 41 modules and a quiet zone of 4
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "qr.png"
        image.resize((49 * 6, 49 * 6), Image.Resampling.NEAREST).save(path)
        done = subprocess.run(["zbarimg", "--raw", "-q", str(path)], capture_output=True)
    assert done.stdout.decode().strip() == text


def reference_matrix(text: str) -> list[list[bool]]:
    """What the qrcode package draws for text at level M with mask 0."""
    alnum = all(ch in qr.ALPHANUMERIC for ch in text)
    mode = qrcode.util.MODE_ALPHA_NUM if alnum else qrcode.util.MODE_8BIT_BYTE
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0, mask_pattern=0)
    code.add_data(qrcode.util.QRData(text if alnum else text.encode(), mode=mode))
    code.make(fit=True)
    return [[bool(cell) for cell in row] for row in code.modules]


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1",
        "HELLO WORLD",
        "https://example.org/v/abc?x=1",
        "Nguyễn Thị Hằng",
        "ABC123" * 80,  # version 13: version information blocks
        "x" * 300,
        *(credential_like() for _ in range(5)),
    ],
)
def test_every_module_agrees_with_the_qrcode_package(text: str) -> None:
    assert qr.qr_matrix(text) == reference_matrix(text)


def test_text_too_long_for_any_qr_code_is_refused() -> None:
    with pytest.raises(ValueError, match="too long"):
        qr.qr_matrix("x" * 3000)


def test_a_qr_code_travels_in_a_template_as_a_url() -> None:
    assert documents.qr_url("A B/ễ") == "qr:A%20B%2F%E1%BB%85"
    assert documents.qr_data_uri("A").startswith("data:image/png;base64,")
    style = "width: 30mm; image-rendering: pixelated"
    html = f'<p>x</p><img src="qr:A%20B%2F%E1%BB%85" style="{style}">'
    rendered = documents.render_pdf(html)
    codes = scan_qr_codes(rendered.pdf)
    assert codes == ["A B/ễ"]


# --- HTML to PDF --------------------------------------------------------------------------------


def test_vietnamese_comes_out_as_written() -> None:
    html = f"<p style=\"font-family: 'Noto Sans'\">{VIETNAMESE}</p><p><b>{VIETNAMESE}</b></p>"
    rendered = documents.render_pdf(html, strict=True)
    assert rendered.missing == () and rendered.pages == 1
    text = pdf_text(rendered.pdf)
    assert text.count(VIETNAMESE) == 2, text


@pytest.mark.missing_glyphs
@pytest.mark.parametrize("character", NO_FONT_HAS)
def test_a_character_no_font_has_is_caught(character: str) -> None:
    html = f"<p>Nguyễn {character} Hằng</p>"
    assert documents.render_pdf(html).missing == (character,)
    with pytest.raises(MissingGlyphs) as excinfo:
        documents.render_pdf(html, strict=True)
    assert excinfo.value.characters == (character,)
    assert f"U+{ord(character):04X}" in str(excinfo.value)


def test_documents_fetch_nothing_but_qr_codes(tmp_path: Path) -> None:
    secret = tmp_path / "secret.png"
    Image.new("L", (4, 4)).save(secret)
    for url in (f"file://{secret}", "http://127.0.0.1:9/x.png", "data:image/png;base64,AAAA"):
        with pytest.raises(FatalURLFetchingError):
            documents.render_pdf(f'<img src="{url}"><p>x</p>')


def test_the_badge_template_renders_whole_sheets() -> None:
    items = [badge(f"Đại biểu {n}") for n in range(9)]
    sheet = documents.render_template("badges.html", badge_context(items), strict=True)
    assert sheet.pages == 2 == pdf_pages(sheet.pdf)
    single = documents.render_template("badges.html", badge_context(items[:3], "single"))
    assert single.pages == 3
    page = PdfReader(io.BytesIO(single.pdf)).pages[0]
    # 105 x 74 mm in points.
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (298, 210)


def test_badge_text_is_escaped() -> None:
    items = [badge("<b>Lò</b> & Páo", unit="<script>x</script>")]
    html = documents.render_html("badges.html", badge_context(items))
    assert "&lt;b&gt;Lò&lt;/b&gt; &amp; Páo" in html and "<script>" not in html


def test_chunks_are_whole_pages_and_several_per_worker() -> None:
    assert documents.chunk_size(10_000, 2, per_page=8) == 192
    assert documents.chunk_size(100, 2, per_page=8) == 16
    assert documents.chunk_size(3, 2, per_page=8) == 8
    assert documents.chunk_size(10_000, 2) == 192
    assert documents.chunk_size(5, 4) == 1


def test_merging_keeps_the_order() -> None:
    parts = [documents.render_pdf(f"<p>part {n}</p>").pdf for n in range(3)]
    merged = documents.merge_pdfs(parts)
    assert pdf_pages(merged) == 3
    text = pdf_text(merged)
    assert text.index("part 0") < text.index("part 1") < text.index("part 2")
    assert documents.merge_pdfs(parts[:1]) == parts[0]


async def test_bulk_rendering_in_the_pool_keeps_order_and_reports_progress(
    pool: ProcessPoolExecutor,
) -> None:
    items = [badge(f"Đại biểu số {n:02d}") for n in range(40)]
    seen: list[tuple[int, int]] = []

    async def progress(done: int, total: int) -> None:
        seen.append((done, total))

    rendered = await documents.render_in_pool(
        pool,
        "badges.html",
        badge_context([]),
        items,
        per_page=8,
        workers=2,
        progress=progress,
    )
    assert isinstance(rendered, Rendered) and rendered.missing == ()
    assert rendered.pages == 5 == pdf_pages(rendered.pdf)
    # 40 badges in chunks of 8: one progress report per chunk, ending at the total.
    assert [done for done, _ in seen] == [8, 16, 24, 32, 40]
    assert {total for _, total in seen} == {40}
    text = pdf_text(rendered.pdf)
    positions = [text.index(f"Đại biểu số {n:02d}") for n in range(40)]
    assert positions == sorted(positions)
    codes = scan_qr_codes(rendered.pdf, page=5)
    assert sorted(codes) == sorted(item["credential"] for item in items[32:])


@pytest.mark.parametrize("dpi", PRINT_DPIS)
@pytest.mark.parametrize("layout", ["sheet", "single"])
def test_every_badge_code_reads_from_a_low_resolution_print(layout: str, dpi: int) -> None:
    items = [badge(f"Đại biểu số {n:02d}") for n in range(11)]
    rendered = documents.render_template("badges.html", badge_context(items, layout))
    per_page = 8 if layout == "sheet" else 1
    wanted = [items[n : n + per_page] for n in range(0, len(items), per_page)]
    found = scan_pages(rendered.pdf, dpi)
    assert [sorted(codes) for codes in found] == [
        sorted(item["credential"] for item in page) for page in wanted
    ]


def test_a_documents_code_has_four_pixels_per_module() -> None:
    """Scaled down, not up, at 100 dpi: a code of one pixel per module blurs there."""
    text = credential_like()
    one = Image.open(io.BytesIO(qr.qr_png(text)))
    four = Image.open(io.BytesIO(qr.qr_png(text, scale=documents.QR_SCALE)))
    assert documents.QR_SCALE == 4 and four.size == (49 * 4, 49 * 4)
    assert one.resize(four.size, Image.Resampling.NEAREST).tobytes() == four.tobytes()


async def test_a_missing_glyph_in_a_worker_comes_back(pool: ProcessPoolExecutor) -> None:
    items = [badge("Nguyễn \ue000")]
    rendered = await documents.render_in_pool(pool, "badges.html", badge_context([]), items)
    assert rendered.missing == ("\ue000",)
