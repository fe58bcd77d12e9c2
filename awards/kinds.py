"""Kinds of award: the four every conference has, and those an organizer defines.

A kind has a key (what a decision names), a name people read (*Bằng khen*), the heading
its documents print (*BẰNG KHEN*) and a layout: the certificate, or the award document
of a flag (whose kinds also get the flag's print proof).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from awards.models import AwardKind, Decision
from awards.schemas import KindChange, KindCreate
from conference.actors import Actor
from conference.audit import record
from conference.errors import Conflict, InvalidInput, NotFound
from conference.live import lock_conference
from conference.models import Conference
from conference.queries import conference_row


@dataclass(frozen=True)
class Kind:
    key: str
    name: str
    label: str
    layout: str
    builtin: bool = False

    def as_dict(self) -> dict[str, str | bool]:
        return {
            "key": self.key,
            "name": self.name,
            "label": self.label,
            "layout": self.layout,
            "builtin": self.builtin,
        }


BUILTIN: dict[str, Kind] = {
    kind.key: kind
    for kind in (
        Kind("emulation_flag", "Cờ thi đua", "CỜ THI ĐUA", "flag_award", True),
        Kind("certificate_of_merit", "Bằng khen", "BẰNG KHEN", "certificate", True),
        Kind("certificate_of_recognition", "Giấy khen", "GIẤY KHEN", "certificate", True),
        Kind("other", "Khen thưởng", "KHEN THƯỞNG", "certificate", True),
    )
}


def of_row(row: AwardKind) -> Kind:
    return Kind(row.key, row.name, row.label, row.layout)


def kind_of(kinds: dict[str, Kind], key: str) -> Kind:
    """The kind named key; one no longer defined reads as its key."""
    return kinds.get(key) or Kind(key, key, key.upper(), "certificate")


async def conference_kinds(session: AsyncSession, conference_id: int | None) -> dict[str, Kind]:
    """Every kind a decision of the conference may name: built-in first, then its own."""
    rows = await session.exec(
        select(AwardKind)
        .where(col(AwardKind.conference_id) == conference_id)
        .order_by(col(AwardKind.position), col(AwardKind.id))
    )
    return BUILTIN | {row.key: of_row(row) for row in rows}


async def require_kind(session: AsyncSession, conference_id: int | None, key: str) -> Kind:
    """The kind key of the conference, or InvalidInput naming the choices."""
    kinds = await conference_kinds(session, conference_id)
    if key not in kinds:
        raise InvalidInput(
            f"unknown kind of award {key!r}: one of {', '.join(kinds)}, or define it first",
            field="award_kind",
        )
    return kinds[key]


async def _row(session: AsyncSession, conference: Conference, key: str) -> AwardKind:
    found = await conference_row(session, AwardKind, conference.id, key=key)
    if found is None:
        if key in BUILTIN:
            raise Conflict(f"{key!r} is a built-in kind: it is not changed", field="key")
        raise NotFound("no such kind of award in this conference", field="key")
    return found


async def create_kind(
    session: AsyncSession, conference: Conference, data: KindCreate, *, actor: Actor
) -> Kind:
    """Define a kind of award for the conference's decisions."""
    actor.require("organizer")
    assert conference.id is not None
    await lock_conference(session, conference.id)
    kinds = await conference_kinds(session, conference.id)
    if data.key in kinds:
        raise Conflict(f"the kind {data.key!r} exists already", field="key")
    highest = await session.exec(
        select(func.max(AwardKind.position)).where(col(AwardKind.conference_id) == conference.id)
    )
    row = AwardKind(
        conference_id=conference.id,
        key=data.key,
        name=data.name,
        label=data.label or data.name.upper(),
        layout=data.layout,
        position=(highest.one() or 0) + 1,
    )
    session.add(row)
    await session.flush()
    await record(session, actor, "award_kind.create", "award_kind", row.key, data.model_dump())
    return of_row(row)


async def update_kind(
    session: AsyncSession, conference: Conference, key: str, data: KindChange, *, actor: Actor
) -> Kind:
    """Rename a kind, change its printed heading or its layout."""
    actor.require("organizer")
    assert conference.id is not None
    await lock_conference(session, conference.id)
    row = await _row(session, conference, key)
    changes = data.given()
    for name, value in changes.items():
        setattr(row, name, value)
    session.add(row)
    await session.flush()
    await record(session, actor, "award_kind.update", "award_kind", key, changes)
    return of_row(row)


async def delete_kind(
    session: AsyncSession, conference: Conference, key: str, *, actor: Actor
) -> None:
    """Remove a kind no decision names."""
    actor.require("organizer")
    assert conference.id is not None
    await lock_conference(session, conference.id)
    row = await _row(session, conference, key)
    used = (
        await session.exec(
            select(func.count())
            .select_from(Decision)
            .where(col(Decision.conference_id) == conference.id, col(Decision.award_kind) == key)
        )
    ).one()
    if used:
        raise Conflict(
            f"{used} decision(s) grant {row.name!r}: the kind stays while they do", field="key"
        )
    await session.delete(row)
    await session.flush()
    await record(session, actor, "award_kind.delete", "award_kind", key, {})


async def insert_kinds(
    session: AsyncSession, conference_id: int, entries: list[KindCreate]
) -> None:
    """A conference file's kinds (checked), without audit."""
    session.add_all(
        AwardKind(
            conference_id=conference_id,
            key=entry.key,
            name=entry.name,
            label=entry.label or entry.name.upper(),
            layout=entry.layout,
            position=position,
        )
        for position, entry in enumerate(entries, start=1)
    )
    await session.flush()


async def export_kinds(session: AsyncSession, conference_id: int | None) -> list[dict[str, str]]:
    """The conference's own kinds as a conference file lists them."""
    kinds = await conference_kinds(session, conference_id)
    return [
        {"key": k.key, "name": k.name, "label": k.label, "layout": k.layout}
        for k in kinds.values()
        if not k.builtin
    ]
