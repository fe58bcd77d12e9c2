"""The flag itself: its print proof (850 x 650 mm) for its maker, as PDF and SVG.

Lines are broken and sized here, measured in the font, so that both drawings agree.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from typing_extensions import TypedDict

from awards.documents import nfc_all, star_points
from conference import documents
from conference.documents import Overrides

FLAG_PROOF_HTML = "awards/flag_proof.html"
FLAG_PROOF_SVG = "awards/flag_proof.svg"
# The flag: 850 x 650 mm (Vietnamese emulation flags are 4:3 or close), red and gold.
FLAG_WIDTH_MM = 850
FLAG_HEIGHT_MM = 650
FLAG_RED = "#DA251D"
FLAG_GOLD = "#FFCD00"

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


class FlagLine(TypedDict):
    """A line of the flag's text: y its baseline, top its box's top (mm); fit: squeezed."""

    text: str
    size: float
    y: float
    top: float
    fit: bool


class Star(TypedDict):
    cx: float
    cy: float
    r: float


class FlagLayout(TypedDict):
    """The flag's drawing, in mm."""

    width: float
    height: float
    text_width: float
    red: str
    gold: str
    star: Star
    star_points: str
    lines: list[FlagLine]


class FlagContext(TypedDict):
    award: Mapping[str, Any]
    flag: FlagLayout


def flag_layout(item: Mapping[str, Any]) -> FlagLayout:
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
    lines: list[FlagLine] = []

    def add(text: str, size: float, step: float) -> None:
        nonlocal top
        y = round(top + BASELINE * size, 2)
        top_of_box = round(y - BASELINE * size, 2)
        fit = text_width(text, size) > _FLAG_TEXT_WIDTH
        lines.append({"text": text, "size": size, "y": y, "top": top_of_box, "fit": fit})
        top += step

    for text in body:
        add(text, body_size, body_size * 1.25)
    star: Star = {"cx": FLAG_WIDTH_MM / 2, "cy": round(top + gap + radius, 2), "r": radius}
    top += 2 * gap + 2 * radius
    add("TẶNG", to_size, to_size + gap)
    for text in name:
        add(text, name_size, name_size * 1.18)
    top += gap
    add(f"NĂM {item['year']}", year_size, year_size)
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


def _flag_context(item: Mapping[str, Any]) -> FlagContext:
    award = nfc_all(item)
    return {"award": award, "flag": flag_layout(award)}


def render_flag_proof_pdf(
    item: Mapping[str, Any],
    *,
    strict: bool = False,
    templates: Overrides | None = None,
) -> bytes:
    """The print proof of the flag itself (850 x 650 mm) for its maker, as a PDF (in a
    worker of the pool: run_in_pool with documents.template_seconds for a conference's
    templates)."""
    context = _flag_context(item)
    rendered = documents.render_template(
        FLAG_PROOF_HTML, context, strict=strict, templates=templates
    )
    return rendered.pdf


def flag_proof_svg(item: Mapping[str, Any], *, templates: Overrides | None = None) -> str:
    """The same proof as an SVG drawing (850 x 650 mm, text as text)."""
    return documents.render_html(FLAG_PROOF_SVG, _flag_context(item), templates=templates)
