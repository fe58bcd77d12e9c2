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
from datetime import date
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from awards.models import Award, Decision
from awards.services import READ_ROLES
from conference.actors import Actor
from conference.dbtypes import utcnow
from conference.errors import InvalidInput, NotFound
from conference.models import Conference

KIND = "awards"
KIND_LABELS = {
    "emulation_flag": "CỜ THI ĐUA",
    "certificate_of_merit": "BẰNG KHEN",
    "certificate_of_recognition": "GIẤY KHEN",
    "other": "KHEN THƯỞNG",
}
ZIP_TYPE = "application/zip"
COMBINED = "tat-ca-de-in.pdf"


def date_label(day: date) -> str:
    """ "ngày 05 tháng 02 năm 2026" (days below 10 and months below 3 take a 0)."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return f"ngày {day.day:02d} tháng {month} năm {day.year}"


def award_item(
    award: Award, decision: Decision, conference: Conference, verify_base: str
) -> dict[str, Any]:
    """One award as its document prints it."""
    url = f"{verify_base.rstrip('/')}/{award.verification_code}"
    return {
        "kind": decision.award_kind,
        "kind_label": KIND_LABELS.get(decision.award_kind, decision.award_kind.upper()),
        "awarding_body": decision.signer_title.upper(),
        "issuing_body": [conference.organizing_body.upper()] if conference.organizing_body else [],
        "recipient": {
            "kind": award.recipient_kind,
            "name": award.recipient_name,
            "title": award.recipient_title,
            "unit": award.recipient_unit,
        },
        "citation": award.citation,
        "decision": {"number": decision.number, "date_label": date_label(decision.issued_on)},
        "place_date": date_label(decision.issued_on).capitalize(),
        "signer": {"title": decision.signer_title.upper(), "name": decision.signer_name},
        "year": decision.issued_on.year,
        "emblem": "",
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
    session: AsyncSession, award_ids: Sequence[int], pdfs: Sequence[bytes]
) -> None:
    """Note each award's document (its SHA-256 and when) after a rendering."""
    now = utcnow()
    rows = {
        a.id: a for a in await session.exec(select(Award).where(col(Award.id).in_(list(award_ids))))
    }
    for award_id, pdf in zip(award_ids, pdfs, strict=True):
        award = rows.get(award_id)
        if award is None:
            continue
        award.document_sha256 = hashlib.sha256(pdf).hexdigest()
        award.rendered_at = now
        session.add(award)
    await session.flush()
