"""Check-in over HTTP: scans, offline uploads, undo, attendance figures, conflicts."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from aiohttp import web
from sqlmodel.ext.asyncio.session import AsyncSession

from attendance import checkin, figures, ledger, selfcheckin
from attendance.scans import OTHER_SITE, Outcome, Scan, delegate_card
from attendance.schemas_checkin import (
    AttendanceOut,
    BatchAnswer,
    CheckinAnswer,
    CheckinBatch,
    CheckinCreate,
    KeysOut,
    LedgerList,
    ResolveInput,
    SiteCodeOut,
    UndoInput,
)
from conference.actors import Actor
from conference.dbtypes import utcnow
from conference.errors import InvalidInput, NotFound, PlenaryError, RateLimited
from conference.models import Conference, Site
from conference.services import get_site, get_site_by_code
from server.auth import conference_actor, principal
from server.http import json_response, parse_body, plain_json_response, transaction
from server.keys import admitted_rkey, checkin_limiter_key, config_key, refused_limiter_key
from server.proxies import client_ip
from server.routes import (
    CHAIR,
    HALL,
    ORGANIZER,
    SITE,
    ApiRoutes,
    Call,
)
from server.runtime import group_commit_key
from server.signing import ready_keyring

routes = ApiRoutes("check-in")

CONF = "/api/v1/conferences/{cid}"


def caller_key(request: web.Request) -> str:
    """Whom the check-in limits count: an account, a token, or else an address."""
    who = principal(request)
    if who.account_id is not None:
        return f"a{who.account_id}"
    if who.token_id is not None:
        return f"t{who.token_id}"
    if who.delegate_id is not None:
        return f"d{who.delegate_id}"
    return f"ip{client_ip(request)}"


def check_rate(request: web.Request, key: str, scans: int = 1) -> None:
    """Refuse a caller over the check-in limit, or one sending many refused codes."""
    check_rate_in(request.app, key, scans)


def check_rate_in(app: web.Application, key: str, scans: int = 1) -> None:
    limiter = app[checkin_limiter_key]
    refused = app[refused_limiter_key]
    wait = max(limiter.blocked(key), refused.blocked(key))
    if wait:
        raise RateLimited(
            f"too many check-in requests; try again in {int(wait) + 1} s", retry_after=wait
        )
    for _ in range(scans):
        limiter.hit(key)


def count_refusals(request: web.Request, key: str, outcomes: list[Outcome]) -> None:
    count_refusals_in(request.app, key, outcomes)


def count_refusals_in(app: web.Application, key: str, outcomes: list[Outcome]) -> None:
    refused = app[refused_limiter_key]
    for outcome in outcomes:
        if outcome.outcome == "refused":
            refused.hit(key)


async def scan_site(
    session: AsyncSession, conference: Conference, actor: Actor, code: str | None
) -> Site:
    """The site a scan happens at: the operator's own, or the one an organizer names."""
    assert conference.id is not None
    if code is None:
        if actor.site_id is None or actor.has("organizer"):
            raise InvalidInput("name the site the check-in happens at", field="site")
        site = await session.get(Site, actor.site_id)
    else:
        site = await get_site_by_code(session, conference.id, code)
    if site is None or (not actor.sees_all_sites and site.id != actor.site_id):
        raise NotFound("no such site in this conference", field="site")
    return site


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    card = (
        delegate_card(outcome.delegate, outcome.delegate_site)
        if outcome.delegate is not None and outcome.outcome != "refused"
        else None
    )
    error = outcome.error()
    return {
        "nonce": outcome.nonce,
        "outcome": outcome.outcome,
        "code": outcome.code or (outcome.outcome if outcome.outcome != "ok" else None),
        "message": outcome.message or (error.message if error is not None else ""),
        "delegate": card,
        "site": outcome.site or None,
        "at": outcome.at.isoformat() if outcome.at else None,
    }


def answer(outcome: Outcome) -> web.Response:
    """200 with the admission, or the outcome's error (raised after the commit)."""
    error = outcome.error()
    if error is not None:
        if outcome.delegate is not None and error.details is not None:
            error.details["delegate"] = delegate_card(outcome.delegate, outcome.delegate_site)
        elif outcome.delegate is not None and outcome.code == OTHER_SITE:
            error.details = {"delegate": delegate_card(outcome.delegate, outcome.delegate_site)}
        raise error
    assert outcome.delegate is not None
    return plain_json_response(
        {
            "outcome": "ok",
            "checkin": {
                "id": outcome.checkin_id,
                "delegate": delegate_card(outcome.delegate, outcome.delegate_site),
                "site": outcome.site,
                "at": outcome.at.isoformat() if outcome.at else None,
                "method": outcome.method,
                "offline": outcome.offline,
            },
            "present": outcome.present,
        }
    )


@routes.post(
    CONF + "/checkins",
    roles=SITE,
    role="site operator (own site) or organizer",
    body=CheckinCreate,
    response=CheckinAnswer,
)
async def create_checkin(request: web.Request) -> web.StreamResponse:
    """Check a delegate in by badge code or by id; the same nonce twice counts once."""
    data = await parse_body(request, CheckinCreate)
    key = caller_key(request)
    check_rate(request, key)
    cid = request.match_info["cid"]
    writer = request.app[group_commit_key]
    keyring = await ready_keyring(request.app)
    method = "manual" if data.override else "scan" if data.credential is not None else "search"
    caller = ("checkin", cid, principal(request), data.site)

    async def resolve(session: AsyncSession) -> tuple[Conference, Actor, Site]:
        conference, actor = await conference_actor(request, session, cid)
        return conference, actor, await scan_site(session, conference, actor, data.site)

    async def write(session: AsyncSession, scans: list[Scan]) -> Sequence[Outcome | PlenaryError]:
        try:
            conference, actor, site = await writer.kept(caller, session, resolve)
        except PlenaryError as exc:
            return [exc] * len(scans)
        return await checkin.check_in(
            session,
            conference,
            site,
            scans,
            actor=actor,
            keyring=keyring,
            method=method,
            override=data.override,
            note=data.note,
        )

    # Written with the scans of the same caller, site and options that arrive meanwhile,
    # by one check_in call, in one transaction with everyone else's (group commit). The
    # caller's lookup is kept a second for this route alone (its key names it).
    group = (caller, method, data.override, data.note)
    outcome = await writer.submit(group, Scan(data.nonce, data.credential, data.delegate), write)
    # The writer keeps the callers it resolved (until access changes): one it held was
    # admitted by this same route's roles when it was resolved.
    request[admitted_rkey] = True
    count_refusals(request, key, [outcome])
    return answer(outcome)


@routes.post(
    CONF + "/checkins/batch",
    roles=SITE,
    role="site operator (own site) or organizer",
    body=CheckinBatch,
    response=BatchAnswer,
)
async def upload_batch(request: web.Request) -> web.StreamResponse:
    """Upload scans made offline, with the times they happened; conflicts are flagged."""
    data = await parse_body(request, CheckinBatch)
    key = caller_key(request)
    # Every item counts: an upload is no way around the limits of single scans.
    check_rate(request, key, len(data.items))
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        site = await scan_site(session, conference, actor, data.site)
        scans = [
            Scan(item.nonce, item.credential, item.delegate, item.happened_at)
            for item in data.items
        ]
        outcomes = await checkin.check_in(
            session,
            conference,
            site,
            scans,
            actor=actor,
            keyring=await ready_keyring(request.app),
            offline=True,
        )
    count_refusals(request, key, outcomes)
    return json_response({"results": [outcome_json(o) for o in outcomes]})


@routes.get(
    CONF + "/checkins",
    roles=HALL,
    response=LedgerList,
    query={"site": "site code", "outcome": "ok | already_checked_in | conflict", "limit": "1-500"},
)
async def list_checkins(request: web.Request) -> web.StreamResponse:
    """Latest check-ins, newest first (an operator: at or of their site)."""
    limit = _int_query(request, "limit", 50, 1, 500)
    async with transaction(request) as session:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
        site = None
        if "site" in request.query:
            site = await scan_site(session, conference, actor, request.query["site"])
        rows = await ledger.list_checkins(
            session,
            conference,
            actor=actor,
            site=site,
            outcome=request.query.get("outcome"),
            limit=limit,
        )
        return json_response({"items": [row.data() for row in rows]})


@routes.conference(
    "POST",
    CONF + "/delegates/{did}/checkin/undo",
    SITE,
    role="site operator (own site) or organizer",
    body=UndoInput,
)
async def undo_checkin(call: Call[UndoInput]) -> object:
    """Take back a delegate's admission (recorded, with the reason)."""
    delegate, site, present = await ledger.undo_checkin(
        call.session, call.conference, call.path("did"), call.body.reason, actor=call.actor
    )
    return {"delegate": delegate.public_id, "site": site.code, "present": present}


@routes.conference(
    "GET",
    CONF + "/attendance",
    HALL,
    role="organizer, chair, secretary, site operator (own site)",
    response=AttendanceOut,
)
async def read_attendance(call: Call[None]) -> object:
    """Checked in / expected per site and the total, with the live seq they reflect."""
    rows, conflicts = await figures.attendance(call.session, call.conference, actor=call.actor)
    return {
        "seq": call.conference.last_seq,
        "epoch": call.conference.epoch,
        "sites": [row.data() for row in rows],
        "total": figures.totals(rows),
        "conflicts": conflicts,
    }


@routes.conference("GET", CONF + "/checkins/conflicts", CHAIR, response=LedgerList)
async def list_conflicts(call: Call[None]) -> object:
    """Offline admissions of people already admitted at another site, not yet resolved."""
    rows = await ledger.open_conflicts(call.session, call.conference, actor=call.actor)
    return {"items": [row.data() for row in rows]}


@routes.conference(
    "POST", CONF + "/checkins/conflicts/{chid}/resolve", ORGANIZER, body=ResolveInput
)
async def resolve_conflict(call: Call[ResolveInput]) -> object:
    """Keep the admission as it is, or move it to the conflicting site."""
    row = await ledger.resolve_conflict(
        call.session,
        call.conference,
        call.path("chid"),
        call.body.keep,
        call.body.note,
        actor=call.actor,
    )
    return row.data()


@routes.conference("GET", CONF + "/credentials/keys", SITE, response=KeysOut)
async def credential_keys(call: Call[None]) -> object:
    """Public keys that verify badge codes offline (Ed25519, raw, base64)."""
    keys = (await ready_keyring(call.request.app)).public_keys()
    return {"keys": {str(k): base64.b64encode(v).decode() for k, v in keys.items()}}


@routes.conference(
    "GET",
    CONF + "/sites/{sid}/checkin-code",
    SITE,
    role="organizer or the site's operator",
    response=SiteCodeOut,
)
async def site_checkin_code(call: Call[None]) -> object:
    """The site screen's current self check-in code (changes every period)."""
    site = await get_site(call.session, call.conference, call.path("sid"), actor=call.actor)
    checkin.check_site_access(call.actor, site, [])
    period = call.request.app[config_key].self_checkin_seconds
    code, expires = selfcheckin.site_code(
        await ready_keyring(call.request.app),
        call.conference.public_id,
        site.public_id,
        now=utcnow(),
        period=period,
    )
    return {"code": code, "expires_at": expires.isoformat(), "period": period}


def _int_query(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(f"{name} must be a whole number", field=name) from None
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}", field=name)
    return value
