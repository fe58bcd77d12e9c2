"""Delegate badges: who gets one, what each says, and how they are laid out.

A badge (105 x 74 mm) carries the conference's title, the delegate's name, title and
unit, their site (điểm cầu) and category, and the QR of their credential. Layouts:
``sheet`` puts eight on an A4 page (2 x 4, with thin lines to cut along) and
``single`` one per badge-sized page (card printers). The data is plain dicts, so that
:mod:`conference.documents` renders it in worker processes.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from typing_extensions import TypedDict

from attendance.credentials import credential_for
from attendance.models import Delegate
from conference.actors import Actor
from conference.errors import InvalidInput, NotFound
from conference.models import Conference, Site
from conference.services import get_site_by_code
from conference.signing import Keyring
from conference.text import fold, is_public_id

TEMPLATE = "badges.html"
KIND = "badges"
PER_PAGE: dict[str, int] = {"sheet": 8, "single": 1}
# Who may print badges: the organizer, and a site operator for their own site.
PRINT_ROLES = ("organizer", "site_operator")
CATEGORY_LABELS = {
    "official": "ĐẠI BIỂU",
    "alternate": "ĐẠI BIỂU DỰ KHUYẾT",
    "guest": "KHÁCH MỜI",
    "staff": "PHỤC VỤ",
}
LABELS = {"site": "Điểm cầu"}
# Signing is quick but not free: let other requests in every so many badges.
YIELD_EVERY = 256

BadgeRow = tuple[Delegate, Site]


@dataclass(frozen=True)
class BadgeScope:
    """What a badge job prints: one site (None: the whole conference) and how many."""

    site: Site | None
    count: int


def text_size(text: str, medium: int, small: int | None = None) -> str:
    """The size class of a text on the badge: "l", "m" or "s" by its length."""
    if len(text) <= medium:
        return "l"
    if small is None or len(text) > small:
        return "s"
    return "m"


class BadgeItem(TypedDict):
    """What one badge shows; the sizes are "l", "m" or "s" (text_size)."""

    name: str
    title: str
    unit: str
    site_name: str
    site_code: str
    category: str
    category_label: str
    name_size: str
    title_size: str
    unit_size: str
    credential: str


class ConferenceTitle(TypedDict):
    title: str


class BadgeContext(TypedDict):
    """The badge template's context (web/templates/documents/badges.html)."""

    conference: ConferenceTitle
    layout: str
    per_page: int
    labels: dict[str, str]
    items: list[BadgeItem]


def badge_item(
    keyring: Keyring,
    conference: Conference,
    delegate: Delegate,
    site: Site,
    valid_days: int,
) -> BadgeItem:
    """What one badge shows, as plain data."""
    return {
        "name": delegate.full_name,
        "title": delegate.title,
        "unit": delegate.unit,
        "site_name": site.name,
        "site_code": site.code,
        "category": delegate.category,
        "category_label": CATEGORY_LABELS.get(delegate.category, delegate.category.upper()),
        # A long name steps down in size rather than lose its end.
        "name_size": text_size(delegate.full_name, 34, 48),
        "title_size": text_size(delegate.title, 60),
        "unit_size": text_size(delegate.unit, 100),
        "credential": credential_for(
            keyring,
            conference.public_id,
            conference.ends_on,
            delegate.public_id,
            delegate.credential_version,
            valid_days,
        ),
    }


async def badge_items(
    keyring: Keyring, conference: Conference, rows: Sequence[BadgeRow], valid_days: int
) -> list[BadgeItem]:
    """The badges of rows, in order."""
    items: list[BadgeItem] = []
    for index, (delegate, site) in enumerate(rows):
        if index and index % YIELD_EVERY == 0:
            await asyncio.sleep(0)
        items.append(badge_item(keyring, conference, delegate, site, valid_days))
    return items


def badge_context(conference: Conference, layout: str, items: list[BadgeItem]) -> BadgeContext:
    """The template's context: the conference, the layout and the badges."""
    return {
        "conference": {"title": conference.title},
        "layout": layout,
        "per_page": PER_PAGE[layout],
        "labels": LABELS,
        "items": items,
    }


def badge_filename(site_code: str | None, layout: str, delegate_name: str = "") -> str:
    """badges-HN.pdf, badges-all.pdf, badges-HN-single.pdf: safe in any download dialog."""
    if delegate_name:
        stem = f"badge-{_slug(delegate_name)}"
    else:
        stem = f"badges-{_slug(site_code, fold_case=False) if site_code else 'all'}"
    return f"{stem}{'' if layout == 'sheet' else '-' + layout}.pdf"


def _slug(text: str, *, fold_case: bool = True) -> str:
    plain = fold(text) if fold_case else text
    return re.sub(r"[^A-Za-z0-9]+", "-", plain).strip("-")[:60] or "x"


# --- who is printed --------------------------------------------------------------------------


async def badge_rows(
    session: AsyncSession, conference: Conference, *, site_id: int | None = None
) -> list[BadgeRow]:
    """The delegates of one site (or all), by site order then name."""
    assert conference.id is not None
    query = (
        select(Delegate, Site)
        .join(Site, col(Site.id) == col(Delegate.site_id))
        .where(col(Delegate.conference_id) == conference.id)
    )
    if site_id is not None:
        query = query.where(col(Delegate.site_id) == site_id)
    query = query.order_by(
        col(Site.position), col(Site.id), col(Delegate.name_folded), col(Delegate.id)
    )
    return [(delegate, site) for delegate, site in await session.exec(query)]


async def delegate_badge_row(
    session: AsyncSession, conference: Conference, delegate_id: str, *, actor: Actor
) -> BadgeRow:
    """One delegate whose badge the actor may print (an operator: their own site's only)."""
    actor.require(*PRINT_ROLES)
    missing = NotFound("no such delegate in this conference", field="delegate")
    if not is_public_id(delegate_id):
        raise missing
    query = (
        select(Delegate, Site)
        .join(Site, col(Site.id) == col(Delegate.site_id))
        .where(
            col(Delegate.conference_id) == conference.id,
            col(Delegate.public_id) == delegate_id,
        )
    )
    if not actor.has("organizer"):
        query = query.where(col(Delegate.site_id) == actor.site_id)
    found = (await session.exec(query)).first()
    if found is None:
        raise missing
    delegate, site = found
    return delegate, site


async def badge_scope(
    session: AsyncSession, conference: Conference, site_code: str | None, *, actor: Actor
) -> BadgeScope:
    """Which site a badge job for actor covers, and how many badges; refuses an empty one.

    An operator prints their own site only: no code means theirs, another site's code
    is not found (they learn nothing about it).
    """
    actor.require(*PRINT_ROLES)
    assert conference.id is not None
    site: Site | None = None
    if not actor.has("organizer"):
        site = await session.get(Site, actor.site_id) if actor.site_id is not None else None
        if site is None or (site_code is not None and site.code != site_code.upper()):
            raise NotFound(f"no site {site_code or ''} in this conference".strip(), field="site")
    elif site_code is not None:
        site = await get_site_by_code(session, conference.id, site_code)
        if site is None:
            raise NotFound(f"no site {site_code} in this conference", field="site")
    query = select(func.count()).where(col(Delegate.conference_id) == conference.id)
    if site is not None:
        query = query.where(col(Delegate.site_id) == site.id)
    count = (await session.exec(query)).one()
    if not count:
        where = f"at {site.code}" if site is not None else "in this conference"
        raise InvalidInput(f"there are no delegates {where} to print badges for", field="site")
    return BadgeScope(site, count)


async def badge_counts(session: AsyncSession, conference: Conference) -> dict[int, int]:
    """How many badges each site has to print, by site id."""
    rows = await session.exec(
        select(Delegate.site_id, func.count())
        .where(col(Delegate.conference_id) == conference.id)
        .group_by(col(Delegate.site_id))
    )
    return {site_id: count for site_id, count in rows}
