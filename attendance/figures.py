"""Attendance figures: per site checked in / expected, and the national total."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, func, select
from sqlmodel.ext.asyncio.session import AsyncSession
from typing_extensions import TypedDict

from attendance.models import CheckIn, Delegate
from conference.actors import Actor
from conference.models import Conference, Site


class SiteFiguresData(TypedDict):
    """A site's attendance as the API shows it."""

    id: str
    code: str
    name: str
    kind: str
    expected: int
    registered: int
    checked_in: int


@dataclass
class SiteFigures:
    site: Site
    registered: int
    checked_in: int

    @property
    def expected(self) -> int:
        return self.site.expected_attendance or self.registered

    def data(self) -> SiteFiguresData:
        return {
            "id": self.site.public_id,
            "code": self.site.code,
            "name": self.site.name,
            "kind": self.site.kind,
            "expected": self.expected,
            "registered": self.registered,
            "checked_in": self.checked_in,
        }


async def attendance(
    session: AsyncSession, conference: Conference, *, actor: Actor
) -> tuple[list[SiteFigures], int]:
    """Figures per site the actor may see (in site order), and the open conflicts count."""
    actor.require("organizer", "chair", "secretary", "site_operator")
    assert conference.id is not None
    query = select(Site).where(col(Site.conference_id) == conference.id)
    if not actor.sees_all_sites:
        query = query.where(col(Site.id) == actor.site_id)
    sites = list(await session.exec(query.order_by(col(Site.position), col(Site.id))))
    registered = dict(
        (
            await session.exec(
                select(Delegate.site_id, func.count())
                .where(col(Delegate.conference_id) == conference.id)
                .group_by(col(Delegate.site_id))
            )
        ).all()
    )
    present = dict(
        (
            await session.exec(
                select(Delegate.checkin_site_id, func.count())
                .where(col(Delegate.conference_id) == conference.id)
                .where(col(Delegate.checkin_site_id).is_not(None))
                .group_by(col(Delegate.checkin_site_id))
            )
        ).all()
    )
    conflicts = 0
    if actor.sees_all_sites:
        resolved = select(CheckIn.ref_id).where(
            col(CheckIn.conference_id) == conference.id, col(CheckIn.action) == "resolve"
        )
        conflicts = int(
            (
                await session.exec(
                    select(func.count())
                    .select_from(CheckIn)
                    .where(col(CheckIn.conference_id) == conference.id)
                    .where(col(CheckIn.outcome) == "conflict")
                    .where(col(CheckIn.id).not_in(resolved))
                )
            ).one()
        )
    figures = [
        SiteFigures(site, int(registered.get(site.id or 0, 0)), int(present.get(site.id or 0, 0)))
        for site in sites
    ]
    return figures, conflicts


def totals(figures: list[SiteFigures]) -> dict[str, int]:
    return {
        "expected": sum(f.expected for f in figures),
        "registered": sum(f.registered for f in figures),
        "checked_in": sum(f.checked_in for f in figures),
    }
