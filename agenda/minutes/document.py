"""The minutes as a document: the facts, the secretary's sections, the book's heading
and the amendments, put together as the plain data the PDF template
(web/templates/documents/minutes.html) and the DOCX builder (agenda/minutes/word.py)
print. Labels are Vietnamese (the record is an official Vietnamese document) and times
are in the conference's time zone.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from typing_extensions import TypedDict

from agenda.minutes.facts import (
    ItemFacts,
    RollCallFacts,
    SiteAttendance,
    SpokenFacts,
    minutes_facts,
)
from agenda.minutes.models import (
    MinutesAmendment,
    MinutesBook,
    MinutesSection,
    conference_rows,
)
from agenda.minutes.text import Block, blocks
from conference.models import Conference

STATUS_LABELS = {
    "planned": "Chưa diễn ra",
    "running": "Đang diễn ra",
    "skipped": "Không thực hiện",
    "done": "",
}
KIND_OF_SPEECH = {"registered": "Tham luận", "point_of_order": "Kiến nghị thủ tục", "request": ""}

# The content: every key always present, labels empty strings where there is nothing to say.


class Header(TypedDict):
    """issuing_body: one line per level, the last one the body itself."""

    issuing_body: list[str]
    document_number: str
    heading: str
    place_date: str
    title: str
    subtitle: str


class Attendance(TypedDict):
    at_label: str
    sites: list[SiteAttendance]
    total_expected: int
    total_present: int


class RollCall(TypedDict):
    """answered of total sites; missing: the names of those that did not answer."""

    started_label: str
    answered: int
    total: int
    missing: list[str]


class Text(TypedDict):
    blocks: list[Block]


class Speech(TypedDict):
    """A speaker under the item they spoke on; kind: empty for a plain request."""

    name: str
    title: str
    unit: str
    site_name: str
    kind: str
    started_label: str
    ended_label: str
    duration_label: str


class Item(TypedDict):
    number: str
    depth: int
    title: str
    presenter: str
    status: str
    status_label: str
    started_label: str
    ended_label: str
    duration_label: str
    speakers: list[Speech]
    blocks: list[Block]
    decisions: list[str]


class SpeakerRow(TypedDict):
    """A line of the list of everyone who spoke, numbered from 1."""

    number: int
    name: str
    title: str
    unit: str
    site_name: str
    item_number: str
    item_title: str
    time_label: str
    duration_label: str


class Decision(TypedDict):
    number: int
    item_number: str
    item_title: str
    text: str


class Award(TypedDict):
    kind_label: str
    recipient: str
    decision_number: str


class Amendment(TypedDict):
    """An amendment as stored or about to be (at: ISO 8601)."""

    number: int
    text: str
    at: str
    by: str


class AmendmentText(TypedDict):
    number: int
    at_label: str
    by: str
    blocks: list[Block]


class Signatory(TypedDict):
    role_label: str
    name: str


class Signatures(TypedDict):
    chair: Signatory
    secretary: Signatory


class Verification(TypedDict):
    code: str
    url: str


class MinutesContent(TypedDict):
    """What the PDF template (web/templates/documents/minutes.html) and the DOCX builder
    print; status: draft or final."""

    status: str
    version: int
    lang: str
    header: Header
    intro: list[str]
    attendance: Attendance
    roll_call: RollCall | None
    opening: Text
    closing: Text
    items: list[Item]
    speakers: list[SpeakerRow]
    decisions: list[Decision]
    awards: list[Award]
    amendments: list[AmendmentText]
    signatures: Signatures
    verification: Verification | None


def _local(moment: str | None, zone: ZoneInfo) -> datetime | None:
    return datetime.fromisoformat(moment).astimezone(zone) if moment else None


def time_label(moment: str | None, zone: ZoneInfo) -> str:
    local = _local(moment, zone)
    return local.strftime("%H:%M") if local else ""


def moment_label(moment: str | None, zone: ZoneInfo) -> str:
    local = _local(moment, zone)
    return local.strftime("%H:%M ngày %d/%m/%Y") if local else ""


def duration_label(seconds: float | None) -> str:
    """5 giây, 7 phút 05 giây, 45 phút, 1 giờ 05 phút."""
    if seconds is None:
        return ""
    total = max(0, round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} giờ {minutes:02d} phút"
    if minutes:
        return f"{minutes} phút {secs:02d} giây" if secs else f"{minutes} phút"
    return f"{secs} giây"


def place_date(place: str, day: date) -> str:
    """ "Hà Nội, ngày 05 tháng 02 năm 2026": days below 10 and months below 3 take a 0."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    text = f"ngày {day.day:02d} tháng {month} năm {day.year}"
    return f"{place}, {text}" if place else text.capitalize()


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


async def _sections(session: AsyncSession, conference_id: int) -> dict[str, MinutesSection]:
    rows = await session.exec(
        select(MinutesSection).where(col(MinutesSection.conference_id) == conference_id)
    )
    return {row.key: row for row in rows}


async def amendments(session: AsyncSession, conference_id: int) -> list[MinutesAmendment]:
    """The amendments made so far, by number."""
    return await conference_rows(session, MinutesAmendment, conference_id, MinutesAmendment.number)


def _speech(s: SpokenFacts, zone: ZoneInfo) -> Speech:
    return {
        "name": s["name"],
        "title": s["title"],
        "unit": s["unit"],
        "site_name": s["site_name"],
        "kind": KIND_OF_SPEECH.get(s["kind"], ""),
        "started_label": time_label(s["started_at"], zone),
        "ended_label": time_label(s["ended_at"], zone),
        "duration_label": duration_label(s["spoken_seconds"]),
    }


def _entries(
    facts: list[ItemFacts], sections: dict[str, MinutesSection], zone: ZoneInfo
) -> tuple[list[Item], list[SpeakerRow], list[Decision]]:
    """The items as printed, and the lists of every speech and every decision, numbered."""
    items: list[Item] = []
    speakers: list[SpeakerRow] = []
    decisions: list[Decision] = []
    for item in facts:
        section = sections.get(item["item"])
        marked = list(section.decisions) if section else []
        speeches = [_speech(s, zone) for s in item["speakers"]]
        items.append(
            {
                "number": item["number"],
                "depth": min(item["depth"], 1),
                "title": item["title"],
                "presenter": item["presenter"],
                "status": item["status"],
                "status_label": STATUS_LABELS.get(item["status"], ""),
                "started_label": time_label(item["started_at"], zone),
                "ended_label": time_label(item["ended_at"], zone),
                "duration_label": duration_label(item["duration_seconds"])
                if item["ended_at"]
                else "",
                "speakers": speeches,
                "blocks": blocks(section.text) if section else [],
                "decisions": marked,
            }
        )
        for speech in speeches:
            speakers.append(
                {
                    "number": len(speakers) + 1,
                    "name": speech["name"],
                    "title": speech["title"],
                    "unit": speech["unit"],
                    "site_name": speech["site_name"],
                    "item_number": item["number"],
                    "item_title": item["title"],
                    "time_label": f"{speech['started_label']}–{speech['ended_label']}"
                    if speech["ended_label"]
                    else speech["started_label"],
                    "duration_label": speech["duration_label"],
                }
            )
        for text in marked:
            decisions.append(
                {
                    "number": len(decisions) + 1,
                    "item_number": item["number"],
                    "item_title": item["title"],
                    "text": text,
                }
            )
    return items, speakers, decisions


def _intro(
    conference: Conference,
    book: MinutesBook,
    opened_at: str | None,
    sites: int,
    zone: ZoneInfo,
) -> list[str]:
    """The opening lines: when, where and in what form, who chaired, who wrote."""
    intro = [
        f"Thời gian: bắt đầu lúc {moment_label(opened_at, zone)}."
        if opened_at
        else f"Thời gian: ngày {conference.starts_on:%d/%m/%Y}.",
        f"Địa điểm: {conference.venue}; trực tiếp kết hợp trực tuyến, {sites} điểm cầu."
        if conference.venue
        else f"Hình thức: trực tiếp kết hợp trực tuyến, {sites} điểm cầu.",
    ]
    if book.chair_name:
        intro.append(f"Chủ trì: {book.chair_name}.")
    if book.secretary_name:
        intro.append(f"Thư ký: {book.secretary_name}.")
    return intro


def _roll_call(roll: RollCallFacts, zone: ZoneInfo) -> RollCall:
    return {
        "started_label": moment_label(roll["started_at"], zone),
        "answered": len(roll["answered"]),
        "total": len(roll["answered"]) + len(roll["missing"]),
        "missing": [m["site_name"] for m in roll["missing"]],
    }


async def minutes_content(
    session: AsyncSession,
    conference: Conference,
    book: MinutesBook,
    *,
    now: datetime,
    status: str,
    version: int,
    verification: Verification | None,
    pending: list[Amendment] | None = None,
) -> MinutesContent:
    """The document's data, plain JSON: it is stored with each version and read back from
    there; pending: amendments not stored yet."""
    assert conference.id is not None
    zone = ZoneInfo(conference.timezone)
    facts = await minutes_facts(session, conference, now=now)
    sections = await _sections(session, conference.id)
    opened = _local(facts["opened_at"], zone)
    items, speakers, decisions = _entries(facts["items"], sections, zone)
    attendance = facts["attendance"]
    roll = facts["roll_call"]
    stored: list[Amendment] = [
        {"number": a.number, "text": a.text, "at": a.made_at.isoformat(), "by": a.made_by}
        for a in await amendments(session, conference.id)
    ]
    day = opened.date() if opened else conference.starts_on
    content: MinutesContent = {
        "status": status,
        "version": version,
        "lang": "vi",
        "header": {
            "issuing_body": _lines(book.issuing_body or conference.organizing_body),
            "document_number": book.document_number,
            "heading": book.heading,
            "place_date": place_date(book.place, day),
            "title": book.title or "BIÊN BẢN",
            "subtitle": conference.title,
        },
        "intro": _intro(conference, book, facts["opened_at"], len(attendance["sites"]), zone),
        "attendance": {
            "at_label": moment_label(attendance["at"], zone),
            "sites": attendance["sites"],
            "total_expected": attendance["total_expected"],
            "total_present": attendance["total_present"],
        },
        "roll_call": _roll_call(roll, zone) if roll else None,
        "opening": {"blocks": blocks(sections["opening"].text) if "opening" in sections else []},
        "closing": {"blocks": blocks(sections["closing"].text) if "closing" in sections else []},
        "items": items,
        "speakers": speakers,
        "decisions": decisions,
        "awards": [
            {
                "kind_label": a["kind_label"],
                "recipient": a["name"],
                "decision_number": a["decision"],
            }
            for a in facts["awards"]
        ],
        "amendments": [
            {
                "number": a["number"],
                "at_label": moment_label(a["at"], zone),
                "by": a["by"],
                "blocks": blocks(a["text"]),
            }
            for a in stored + (pending or [])
        ],
        "signatures": {
            "chair": {"role_label": "Chủ trì hội nghị", "name": book.chair_name},
            "secretary": {"role_label": "Thư ký hội nghị", "name": book.secretary_name},
        },
        "verification": verification,
    }
    return content
