"""Writing the conference file: :func:`export_conference` gives a conference as the
document importing.py reads back (the same conference), :func:`dump` as YAML or JSON."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import yaml
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from agenda.models import AgendaItem
from attendance.models import Delegate
from awards.kinds import export_kinds
from awards.models import Decision
from awards.schemas import DecisionCreate
from awards.services import decisions_with_awards
from awards.settings import (
    export_documents,
)
from conference.models import Conference, Site
from conference.rawjson import JsonObject
from conference.schemas import ConferenceCreate, SiteCreate
from conference_file.importing import FORMAT_VERSION
from conference_file.reader import Format

T = TypeVar("T", Site, Delegate, AgendaItem, Decision)

# --- writing --------------------------------------------------------------------------

_FastestDumper: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)

# File keys and the columns they come from, in the order a file lists them.
CONFERENCE_KEYS = {key: key for key in ConferenceCreate.model_fields}
SITE_KEYS = {key: key for key in SiteCreate.model_fields if key != "position"}
DELEGATE_KEYS = dict(
    name="full_name", title="title", unit="unit", site="site_id",
    category="category", phone="phone", email="email",
)  # fmt: skip
# Columns where 0 means "not set" (the conference's default applies): left out.
ZERO_IS_UNSET = frozenset({"speaking_limit_seconds"})
AGENDA_KEYS = dict(
    title="title", kind="kind", planned_start="planned_start",
    duration_minutes="duration_minutes", presenter="presenter_name", site="site_id",
    speaking_limit_seconds="speaking_limit_seconds",
)  # fmt: skip
DECISION_KEYS = {key: key for key in DecisionCreate.model_fields}
AWARD_KEYS = dict(
    recipient_kind="recipient_kind", name="recipient_name", title="recipient_title",
    unit="recipient_unit", site="site_id", citation="citation",
    revoked_at="revoked_at", revoked_reason="revoked_reason", code="verification_code",
)  # fmt: skip


async def export_conference(session: AsyncSession, conference: Conference) -> JsonObject:
    """The conference file of conference: deterministic, without public ids. Raw JSON: its
    entries' keys are the *_KEYS tables above, empty values left out."""
    assert conference.id is not None
    cid = conference.id
    zone = ZoneInfo(conference.timezone)
    sites = (await session.exec(_of(Site, cid).order_by(col(Site.position), col(Site.id)))).all()
    codes = {site.id: site.code for site in sites}

    def entry(row: Any, keys: dict[str, str]) -> JsonObject:
        """Empty values are left out, so that a file says only what is there."""
        out: JsonObject = {}
        for key, attr in keys.items():
            value = getattr(row, attr)
            if attr == "site_id":
                value = codes.get(value)
            elif isinstance(value, datetime):
                value = value.astimezone(zone).isoformat()
            elif isinstance(value, date):
                value = value.isoformat()
            if value not in ("", None) and not (attr in ZERO_IS_UNSET and value == 0):
                out[key] = value
        return out

    order = {site.id: n for n, site in enumerate(sites)}
    delegates = sorted(
        await session.exec(_of(Delegate, cid)),
        key=lambda d: (order.get(d.site_id, len(order)), d.id or 0),
    )
    children: dict[int | None, list[AgendaItem]] = {}
    for item in await session.exec(
        _of(AgendaItem, cid).order_by(col(AgendaItem.position), col(AgendaItem.id))
    ):
        children.setdefault(item.parent_id, []).append(item)

    def agenda(parent_id: int | None) -> list[JsonObject]:
        items = children.get(parent_id, [])
        return [entry(i, AGENDA_KEYS) | ({"items": agenda(i.id)} if i.id in children else {})
                for i in items]  # fmt: skip

    decisions = await decisions_with_awards(session, cid)
    document: JsonObject = {
        "plenary": FORMAT_VERSION,
        "conference": entry(conference, CONFERENCE_KEYS),
        "sites": [entry(site, SITE_KEYS) for site in sites],
        "agenda": agenda(None),
        "delegates": [entry(delegate, DELEGATE_KEYS) for delegate in delegates],
    }
    # The award sections are written only when they say something.
    kinds = await export_kinds(session, cid)
    if kinds:
        document["award_kinds"] = kinds
    document["decisions"] = [
        entry(d, DECISION_KEYS) | {"awards": [entry(a, AWARD_KEYS) for a in awards]}
        for d, awards in decisions
    ]
    looks = await export_documents(session, conference)
    if looks:
        document["award_documents"] = looks
    return document


def _of(table: type[T], conference_id: int) -> SelectOfScalar[T]:
    return select(table).where(col(table.conference_id) == conference_id)


def dump(document: JsonObject, fmt: Format) -> str:
    """The document as text: YAML keeps Vietnamese readable, JSON is indented by 2."""
    if fmt == "json":
        return json.dumps(document, ensure_ascii=False, indent=2) + "\n"
    header = "# plenary conference file (docs/conference-file.md)\n"
    text = yaml.dump(
        document,
        Dumper=_FastestDumper,
        allow_unicode=True,
        sort_keys=False,
        width=10_000,
        default_flow_style=False,
    )
    return header + text
