"""What award documents print, from the database: one plain item per award (the shape
awards/documents.py renders), and the record of what was rendered.

A rendering keeps each award's verification code (a correction reprints under the same
code); the SHA-256 of each award's PDF is recorded on the award.
"""

from __future__ import annotations

import hashlib
import io
import re
import unicodedata
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from typing_extensions import TypedDict

from awards.kinds import Kind, conference_kinds, kind_of
from awards.models import Award, Decision, Recipient
from awards.services import READ_ROLES
from awards.settings import emblem_data_uri, overrides_of, settings_of
from conference.actors import Actor
from conference.dbtypes import utcnow
from conference.errors import InvalidInput, NotFound
from conference.models import Conference

KIND = "awards"
ZIP_TYPE = "application/zip"
COMBINED = "tat-ca-de-in.pdf"


def date_label(day: date) -> str:
    """ "ngày 05 tháng 02 năm 2026" (days below 10 and months below 3 take a 0)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


@dataclass(frozen=True)
class Look:
    """What a conference's award documents look like beside each award's own data."""

    kinds: dict[str, Kind]
    place: str = ""
    heading: tuple[str, ...] = ()
    emblem: str = ""
    templates: dict[str, str] = field(default_factory=dict)

    def template_overrides(self) -> dict[str, str] | None:
        return self.templates or None


async def document_look(session: AsyncSession, conference: Conference) -> Look:
    """The kinds, place, heading, emblem and template replacements of conference."""
    row = await settings_of(session, conference)
    heading = tuple(line.upper() for line in row.heading.split("\n") if line)
    if not heading and conference.organizing_body:
        heading = (conference.organizing_body.upper(),)
    return Look(
        kinds=await conference_kinds(session, conference.id),
        place=row.place,
        heading=heading,
        emblem=emblem_data_uri(row),
        templates=await overrides_of(session, conference),
    )


class DecisionLine(TypedDict):
    number: str
    date_label: str


class Signer(TypedDict):
    title: str
    name: str


class Verification(TypedDict):
    code: str
    url: str


class AwardItem(TypedDict):
    """One award as its document prints it (the templates under web/templates/documents/awards)."""

    kind: str
    kind_label: str
    layout: str
    awarding_body: str
    issuing_body: list[str]
    recipient: Recipient
    citation: str
    decision: DecisionLine
    place_date: str
    signer: Signer
    year: int
    emblem: str
    verification: Verification
    revoked: bool


def award_item(award: Award, decision: Decision, look: Look, verify_base: str) -> AwardItem:
    """One award as its document prints it."""
    url = f"{verify_base.rstrip('/')}/{award.verification_code}"
    kind = kind_of(look.kinds, decision.award_kind)
    day = date_label(decision.issued_on)
    return {
        "kind": decision.award_kind,
        "kind_label": kind.label,
        "layout": kind.layout,
        "awarding_body": decision.signer_title.upper(),
        "issuing_body": list(look.heading),
        "recipient": award.recipient(),
        "citation": award.citation,
        "decision": {"number": decision.number, "date_label": date_label(decision.issued_on)},
        "place_date": f"{look.place}, {day}" if look.place else day.capitalize(),
        "signer": {"title": decision.signer_title.upper(), "name": decision.signer_name},
        "year": decision.issued_on.year,
        "emblem": look.emblem,
        "verification": {"code": award.verification_code, "url": url},
        "revoked": award.revoked_at is not None,
    }


async def awards_to_render(
    session: AsyncSession,
    conference: Conference,
    *,
    decision_id: str | None = None,
    actor: Actor,
) -> list[tuple[Award, Decision]]:
    """The awards of a decision (or of the conference) that are not revoked, in order."""
    actor.require(*READ_ROLES)
    query = (
        select(Award, Decision)
        .join(Decision, col(Decision.id) == col(Award.decision_id))
        .where(col(Decision.conference_id) == conference.id, col(Award.revoked_at).is_(None))
        .order_by(col(Decision.issued_on), col(Decision.id), col(Award.position), col(Award.id))
    )
    if decision_id is not None:
        query = query.where(col(Decision.public_id) == decision_id)
    found = [(a, d) for a, d in await session.exec(query)]
    if decision_id is not None and not found:
        exists = (
            await session.exec(
                select(Decision.id).where(
                    col(Decision.conference_id) == conference.id,
                    col(Decision.public_id) == decision_id,
                )
            )
        ).first()
        if exists is None:
            raise NotFound("no such decision in this conference", field="decision")
    if not found:
        raise InvalidInput("there are no awards (not revoked) to render", field="decision")
    return found


@dataclass(frozen=True)
class Batch:
    """Awards to render, each as its document prints it, with the conference's templates."""

    awards: list[Award]
    items: list[AwardItem]
    templates: dict[str, str] | None


async def batch_to_render(
    session: AsyncSession,
    conference: Conference,
    *,
    decision_id: str | None = None,
    verify_base: str,
    actor: Actor,
) -> Batch:
    """The awards of a decision (or the conference) not revoked, ready for the renderer."""
    found = await awards_to_render(session, conference, decision_id=decision_id, actor=actor)
    look = await document_look(session, conference)
    items = [award_item(a, d, look, verify_base) for a, d in found]
    return Batch([a for a, _ in found], items, look.template_overrides())


def file_name(position: int, award: Award) -> str:
    """ "007-van-phong-tinh-uy-lao-cai.pdf": ordered, readable on any system."""
    folded = unicodedata.normalize("NFKD", award.recipient_name.replace("đ", "d").replace("Đ", "D"))
    ascii_name = folded.encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name).strip("-")[:60] or "award"
    return f"{position:03d}-{slug}.pdf"


def zip_documents(awards: Sequence[Award], pdfs: Sequence[bytes], combined: bytes) -> bytes:
    """One PDF per award and the combined print-ready PDF, in one ZIP."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for position, (award, pdf) in enumerate(zip(awards, pdfs, strict=True), start=1):
            archive.writestr(file_name(position, award), pdf)
        archive.writestr(COMBINED, combined)
    return out.getvalue()


async def record_rendered(
    session: AsyncSession, rendered: Sequence[Award], pdfs: Sequence[bytes]
) -> int:
    """Note each award's document (its SHA-256 and when) after a rendering; an award
    corrected or revoked since it was read keeps its previous record (what was rendered
    is no longer what it says). Returns how many were noted."""
    now = utcnow()
    ids = [a.id for a in rendered]
    rows = {a.id: a for a in await session.exec(select(Award).where(col(Award.id).in_(ids)))}
    noted = 0
    for read, pdf in zip(rendered, pdfs, strict=True):
        award = rows.get(read.id)
        if award is None or award.updated_at != read.updated_at or award.revoked_at is not None:
            continue
        noted += 1
        award.document_sha256 = hashlib.sha256(pdf).hexdigest()
        award.rendered_at = now
        session.add(award)
    await session.flush()
    return noted


def sample_items(look: Look, verify_base: str) -> list[AwardItem]:
    """A certificate and a flag award document to try templates and settings on."""
    day = date.today()
    items = []
    for kind, name in (
        ("certificate_of_merit", "Nguyễn Thị Thủy Tiên"),
        ("emulation_flag", "Văn phòng Tỉnh ủy Lào Cai"),
    ):
        decision = Decision(
            conference_id=0,
            number="1-QĐ/MẪU",
            issued_on=day,
            issuing_body="Văn phòng Trung ương Đảng",
            signer_name="Nguyễn Văn Mẫu",
            signer_title="Chánh Văn phòng Trung ương Đảng",
            award_kind=kind,
        )
        award = Award(
            decision_id=0,
            recipient_kind="person" if kind != "emulation_flag" else "unit",
            recipient_name=name,
            recipient_title="Chuyên viên" if kind != "emulation_flag" else "",
            recipient_unit="Văn phòng Tỉnh ủy Lào Cai" if kind != "emulation_flag" else "",
            citation="Đã có thành tích xuất sắc trong công tác văn phòng cấp ủy năm "
            + str(day.year),
            verification_code="MAU0-MAU0-MAU0",
        )
        items.append(award_item(award, decision, look, verify_base))
    return items
