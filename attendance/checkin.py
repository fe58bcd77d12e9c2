"""Check-in: admitting delegates at a site, once per person, idempotent by client nonce.

Every scan that names a delegate leaves a row in the append-only ledger
(:class:`attendance.models.CheckIn`). The admission itself is one conditional
``UPDATE delegate ... WHERE checked_in_at IS NULL``: of any number of racing
scans, at one site or several, exactly one changes the row; the others read who
won and answer ``already_checked_in`` with where and when. A nonce the ledger
already holds returns its first answer instead of making a second row.

Scans are handled in batches (an offline upload, or single scans grouped by the
server): a batch costs a few statements, whatever its size.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Select, Table, bindparam, func, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col
from sqlmodel import select as orm_select
from sqlmodel.ext.asyncio.session import AsyncSession

from attendance import credentials, selfcheckin
from attendance.credentials import CredentialRefused
from attendance.events import CHECKED_IN, CHECKIN_CONFLICT
from attendance.models import CheckIn, Delegate
from attendance.scans import (
    ALREADY,
    CLOCK_SLACK,
    MAX_BATCH,
    NONCE,
    NONCE_REUSED,
    OFFLINE_MAX_AGE,
    OTHER_SITE,
    SCAN_TIME,
    DelegateRow,
    Outcome,
    Scan,
    event_data,
)
from conference.actors import Actor
from conference.audit import record_many
from conference.bulk import Row, insert_rows
from conference.catalogue import EventType
from conference.dbtypes import new_public_id, utcnow
from conference.errors import Forbidden, InvalidInput, NotFound
from conference.live import append_events, lock_conference
from conference.models import Conference, Site
from conference.rawjson import JsonObject
from conference.signing import Keyring
from conference.text import is_public_id

_delegate: Table = Delegate.__table__  # type: ignore[attr-defined]
_checkin: Table = CheckIn.__table__  # type: ignore[attr-defined]
_d, _c = _delegate.c, _checkin.c
_DELEGATE_COLUMNS = (
    _d.id,
    _d.public_id,
    _d.conference_id,
    _d.site_id,
    _d.full_name,
    _d.title,
    _d.unit,
    _d.category,
    _d.credential_version,
    _d.checked_in_at,
    _d.checkin_site_id,
)
# Core statements built once (their cache keys with them), run on the session's
# connection: a check-in needs a few columns, not table models with their ORM state.
# Each statement is several hops to SQLite's thread and back, so a batch makes few.
# How many are checked in at a site: from ix_delegate_checkin_site alone, without
# visiting the delegate rows.
_CHECKED_IN = (
    select(func.count())
    .select_from(_delegate)
    .where(_d.checkin_site_id == bindparam("site_id"))
    .scalar_subquery()
)
# How many are registered at a site: from ix_delegate_conference_site, likewise.
_REGISTERED = (
    select(func.count())
    .select_from(_delegate)
    .where(_d.conference_id == bindparam("conference_id"), _d.site_id == bindparam("site_id"))
    .scalar_subquery()
)
# How many of a batch's nonces the ledger already holds (uq_checkin_nonce).
_REPLAYED = (
    select(func.count())
    .select_from(_checkin)
    .where(
        _c.conference_id == bindparam("conference_id"),
        _c.nonce.in_(bindparam("nonces", expanding=True)),
    )
    .scalar_subquery()
)


def _batch_statement(registered: bool) -> Select[Any]:
    """What a batch reads in one statement: the counts above (one row, even when no
    delegate matches), then the delegates it names, by public id alone (unique: with
    the conference too, SQLite would rather walk the conference's index)."""
    head = select(
        _CHECKED_IN.label("checked_in"),
        (_REGISTERED if registered else literal_column("0")).label("registered"),
        _REPLAYED.label("replayed"),
    ).subquery("head")
    return select(*head.c, *_DELEGATE_COLUMNS).select_from(
        head.outerjoin(_delegate, _d.public_id.in_(bindparam("public_ids", expanding=True)))
    )


_BATCH = _batch_statement(registered=True)
_BATCH_EXPECTED_SET = _batch_statement(registered=False)
_REPLAYS = (
    select(
        _c.nonce,
        _c.outcome,
        _c.site_id,
        _c.happened_at,
        _c.method,
        _c.offline,
        _c.public_id,
        *_DELEGATE_COLUMNS,
    )
    .join_from(_checkin, _delegate, _d.id == _c.delegate_id)
    .where(
        _c.conference_id == bindparam("conference_id"),
        _c.nonce.in_(bindparam("nonces", expanding=True)),
    )
)
_ADMIT = (
    update(_delegate)
    .where(_d.id.in_(bindparam("ids", expanding=True)), _d.checked_in_at.is_(None))
    .values(
        checked_in_at=bindparam("admitted_at", type_=_d.checked_in_at.type),
        checkin_site_id=bindparam("admitted_site_id", type_=_d.checkin_site_id.type),
    )
    .returning(_d.id)
)
_ADMISSIONS = select(_d.id, _d.checked_in_at, _d.checkin_site_id).where(
    _d.id.in_(bindparam("ids", expanding=True))
)


def check_nonce(nonce: str) -> None:
    if not NONCE.fullmatch(nonce):
        raise InvalidInput("a nonce is 8 to 64 letters, digits, '-' or '_'", field="nonce")


def _refused(scan: Scan, code: str, message: str, delegate: DelegateRow | None = None) -> Outcome:
    return Outcome(scan.nonce, "refused", code, message, delegate)


def check_presence(
    actor: Actor, conference: Conference, site: Site, proof: selfcheckin.SiteProof | None
) -> None:
    """A delegate (a personal link) admits themself only with a current code of site's
    screen: whatever path the scan took, a link alone writes nothing."""
    if actor.delegate_id is None or actor.has("organizer", "site_operator"):
        return
    if proof is None or (proof.conference_id, proof.site_id) != (conference.id, site.id):
        raise selfcheckin.required()


def check_site_access(actor: Actor, site: Site, scans: list[Scan]) -> None:
    """Organizers admit at any site; an operator only at their own (404 for the others);
    a delegate only themself, at the site whose screen code they scanned."""
    if actor.has("organizer"):
        return
    if actor.has("site_operator"):
        if site.id != actor.site_id:
            raise NotFound("no such site in this conference", field="site")
        return
    if actor.delegate_id is not None:
        if any(scan.delegate_id is None for scan in scans):
            raise Forbidden("a delegate checks in only themself")
        return
    actor.require("organizer", "site_operator")


@dataclass
class _Batch:
    """What one batch needs from the database, loaded with a few queries."""

    delegates: dict[str, DelegateRow]
    sites: dict[int, Site]
    # Checked in at the batch's site before it, and expected there.
    present: int
    expected: int
    # Whether the ledger holds some of the batch's nonces already.
    replayed: bool


async def _load(
    session: AsyncSession,
    connection: AsyncConnection,
    conference_id: int,
    public_ids: set[str],
    site: Site,
    nonces: list[str],
) -> _Batch:
    assert site.id is not None
    rows = await connection.execute(
        _BATCH_EXPECTED_SET if site.expected_attendance > 0 else _BATCH,
        {
            "site_id": site.id,
            "conference_id": conference_id,
            "nonces": nonces,
            "public_ids": list(public_ids),
        },
    )
    # The counts repeat on every row; with no delegate matched, they come on one row alone.
    counts, *found = rows.all()
    present, registered, replayed = counts[:3]
    delegates: dict[str, DelegateRow] = {}
    for row in (counts, *found):
        if row[3] is not None:
            delegate = DelegateRow(*row[3:])
            if delegate.conference_id == conference_id:
                delegates[delegate.public_id] = delegate
    site_ids = {d.site_id for d in delegates.values()}
    site_ids |= {d.checkin_site_id for d in delegates.values() if d.checkin_site_id is not None}
    site_ids.discard(site.id)
    return _Batch(
        delegates,
        {site.id: site} | await _sites_by_id(session, site_ids),
        present,
        site.expected_attendance if site.expected_attendance > 0 else registered,
        replayed > 0,
    )


async def _sites_by_id(session: AsyncSession, ids: set[int]) -> dict[int, Site]:
    if not ids:
        return {}
    found = await session.exec(orm_select(Site).where(col(Site.id).in_(ids)))
    return {s.id: s for s in found if s.id is not None}


async def _replays(
    session: AsyncSession, connection: AsyncConnection, conference_id: int, nonces: list[str]
) -> dict[str, Outcome]:
    """Answers for nonces the ledger already holds (a repeated request)."""
    rows = [
        (row[:7], DelegateRow(*row[7:]))
        for row in await connection.execute(
            _REPLAYS, {"conference_id": conference_id, "nonces": nonces}
        )
    ]
    if not rows:
        return {}
    sites = await _sites_by_id(
        session,
        {row[2] for row, _ in rows}
        | {d.site_id for _, d in rows}
        | {d.checkin_site_id for _, d in rows if d.checkin_site_id is not None},
    )
    answers = {}
    for (nonce, result, site_id, happened_at, method, offline, public_id), delegate in rows:
        if result == "ok":
            where, at = sites[site_id], happened_at
        else:
            # Who holds the admission now (the answer the first request got, or newer).
            where = sites.get(delegate.checkin_site_id or site_id, sites[site_id])
            at = delegate.checked_in_at or happened_at
        answers[nonce] = Outcome(
            nonce,
            result,
            delegate=delegate,
            delegate_site=sites[delegate.site_id].code,
            site=where.code,
            site_name=where.name,
            at=at,
            method=method,
            offline=offline,
            replayed=True,
            checkin_id=public_id,
            row_site_id=site_id,
        )
    return answers


@dataclass
class _Call:
    """What one call of check_in is about: the same for every scan of the batch."""

    conference: Conference
    site: Site
    actor: Actor
    method: str
    offline: bool
    override: bool
    note: str
    now: datetime

    @property
    def conference_id(self) -> int:
        assert self.conference.id is not None
        return self.conference.id

    @property
    def site_id(self) -> int:
        assert self.site.id is not None
        return self.site.id


async def check_in(
    session: AsyncSession,
    conference: Conference,
    site: Site,
    scans: list[Scan],
    *,
    actor: Actor,
    keyring: Keyring,
    method: str = "scan",
    offline: bool = False,
    override: bool = False,
    note: str = "",
    now: datetime | None = None,
    proof: selfcheckin.SiteProof | None = None,
) -> list[Outcome]:
    """Admit the delegates of scans at site, in order; one outcome per scan.

    ``override`` (organizers) admits a delegate of another site even where the
    conference does not allow it, and is recorded as such. A delegate checking
    themself in needs ``proof`` that they read this site's screen just now.

    The steps: check the request, resolve each credential, screen out what cannot be
    admitted, decide who may come in here, write the ledger, then the audit entries and
    the live events, in the caller's transaction.
    """
    call = _Call(conference, site, actor, method, offline, override, note, now or utcnow())
    _check_request(call, scans, proof)
    connection = await _take_turn(session, call)
    claimed, badge_versions = _resolve(keyring, call, scans)
    nonces = [scan.nonce for scan in scans]
    batch = await _load(
        session,
        connection,
        call.conference_id,
        {t for t, refusal in claimed if refusal is None and t is not None and is_public_id(t)},
        site,
        nonces,
    )
    replays = (
        await _replays(session, connection, call.conference_id, nonces) if batch.replayed else {}
    )
    outcomes, wanted = _screen(call, scans, claimed, replays)
    pending, repeats = _decide(call, scans, outcomes, wanted, batch, badge_versions)
    won = await _admit(
        connection,
        site,
        [(n, delegate, scan.happened_at or call.now) for n, scan, delegate, _ in pending],
    )
    batch.sites |= await _sites_by_id(
        session,
        {
            delegate.checkin_site_id
            for _, _, delegate, _ in pending
            if delegate.checkin_site_id is not None and delegate.checkin_site_id not in batch.sites
        },
    )
    admitted_at_site = await _write_ledger(session, call, pending, won, batch, outcomes)
    for n, first in repeats.items():
        outcomes[n] = outcomes[first]
    _present(batch, site, outcomes.values(), admitted_at_site)
    # Outcomes made by this call, each once (a nonce repeated inside the batch shares one).
    in_order = (outcomes[n] for n in range(len(scans)))
    fresh = list({id(o): o for o in in_order if not o.replayed}.values())
    await _record_and_emit(session, call, fresh)
    _local_times(call.conference, outcomes.values())
    return [outcomes[n] for n in range(len(scans))]


def _check_request(call: _Call, scans: list[Scan], proof: selfcheckin.SiteProof | None) -> None:
    """Refuse a whole request that cannot be taken, before anything is read or written."""
    check_presence(call.actor, call.conference, call.site, proof)
    check_site_access(call.actor, call.site, scans)
    if call.override:
        call.actor.require("organizer")
    if len(scans) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} scans per upload", field="items")
    for scan in scans:
        check_nonce(scan.nonce)
        if (scan.credential is None) == (scan.delegate_id is None):
            raise InvalidInput("give either a credential or a delegate", field="credential")


async def _take_turn(session: AsyncSession, call: _Call) -> AsyncConnection:
    """The connection to write on, once this call holds the conference's turn."""
    if session.new or session.dirty or session.deleted:
        await session.flush()  # the statements below go past the ORM
    connection = await session.connection()
    # Check-ins of a conference take turns: one lock order for every writer (conference,
    # then delegates) means no deadlocks, and the running counts of who is present are
    # exact. SQLite's BEGIN IMMEDIATE already makes every writer take its turn.
    if connection.dialect.name != "sqlite":
        await lock_conference(session, call.conference_id)
    return connection


def _resolve(
    keyring: Keyring, call: _Call, scans: list[Scan]
) -> tuple[list[tuple[str | None, CredentialRefused | None]], dict[int, int]]:
    """Whom each scan names (a badge's signed claims, or the delegate tapped), or why its
    badge is refused; and the badge version each verified badge carries."""
    claimed: list[tuple[str | None, CredentialRefused | None]] = []
    badge_versions: dict[int, int] = {}
    for n, scan in enumerate(scans):
        refusal: CredentialRefused | None = None
        target = scan.delegate_id
        if scan.credential is not None:
            try:
                claims = credentials.verify(
                    keyring, scan.credential, call.conference.public_id, now=call.now
                )
                target, badge_versions[n] = claims.delegate_id, claims.version
            except CredentialRefused as exc:
                refusal = exc
        claimed.append((target, refusal))
    return claimed, badge_versions


def _screen(
    call: _Call,
    scans: list[Scan],
    claimed: list[tuple[str | None, CredentialRefused | None]],
    replays: dict[str, Outcome],
) -> tuple[dict[int, Outcome], dict[int, str]]:
    """Answer what needs no delegate row: replays, bad times, refused badges, unknown ids.
    Returns those outcomes and, for the other scans, the delegate each one wants."""
    outcomes: dict[int, Outcome] = {}
    wanted: dict[int, str] = {}
    for n, scan in enumerate(scans):
        target, refusal = claimed[n]
        replay = replays.get(scan.nonce)
        if replay is not None:
            assert replay.delegate is not None
            if target == replay.delegate.public_id and replay.row_site_id == call.site.id:
                outcomes[n] = replay
            else:
                # A nonce names one scan: another person or place under it is a client bug,
                # and must neither be admitted nor be told about the first scan.
                outcomes[n] = _refused(
                    scan, NONCE_REUSED, "this nonce was already used for another scan"
                )
        elif scan.happened_at is not None and (
            scan.happened_at > call.now + CLOCK_SLACK
            or scan.happened_at < call.now - OFFLINE_MAX_AGE
        ):
            # One phone with a wrong clock must not hold back the rest of its upload.
            outcomes[n] = _refused(
                scan, SCAN_TIME, "the time of this scan is in the future or more than a week old"
            )
        elif refusal is not None:
            outcomes[n] = _refused(scan, refusal.code, refusal.message)
        elif target is None or not is_public_id(target):
            outcomes[n] = _refused(scan, "not_found", "no such delegate in this conference")
        else:
            wanted[n] = target
            continue
        outcomes[n].target = target or ""
    return outcomes, wanted


_Pending = tuple[int, Scan, DelegateRow, Site]


def _decide(
    call: _Call,
    scans: list[Scan],
    outcomes: dict[int, Outcome],
    wanted: dict[int, str],
    batch: _Batch,
    badge_versions: dict[int, int],
) -> tuple[list[_Pending], dict[int, int]]:
    """The scans that name a delegate who may come in here, in order (the others get their
    refusal in outcomes), and the scans that repeat a nonce of this batch (they share the
    first one's answer)."""
    pending: list[_Pending] = []
    first_of_nonce: dict[str, int] = {}
    repeats: dict[int, int] = {}
    for n, scan in enumerate(scans):
        if n in outcomes:
            continue
        if scan.nonce in first_of_nonce:
            repeats[n] = first_of_nonce[scan.nonce]
            continue
        delegate = batch.delegates.get(wanted[n])
        refusal = _refusal(call, scan, delegate, batch, badge_versions.get(n))
        if refusal is not None:
            outcomes[n] = refusal
            continue
        assert delegate is not None
        first_of_nonce[scan.nonce] = n
        pending.append((n, scan, delegate, batch.sites[delegate.site_id]))
    return pending, repeats


def _refusal(
    call: _Call,
    scan: Scan,
    delegate: DelegateRow | None,
    batch: _Batch,
    badge_version: int | None,
) -> Outcome | None:
    """Why this delegate may not be admitted here by this actor, or None."""
    by_badge = scan.credential is not None
    if delegate is None:
        if by_badge:
            return _refused(scan, credentials.REVOKED, "this badge was withdrawn")
        return _refused(scan, "not_found", "no such delegate in this conference")
    actor = call.actor
    if actor.delegate_id is not None and not actor.has("organizer", "site_operator"):
        if delegate.id != actor.delegate_id:
            raise Forbidden("a delegate checks in only themself")
    elif not by_badge and not actor.has("organizer") and delegate.site_id != actor.site_id:
        return _refused(scan, "not_found", "no such delegate in this conference")
    if by_badge and badge_version != delegate.credential_version:
        return _refused(
            scan, credentials.REVOKED, "this badge was replaced by a newer one", delegate
        )
    if delegate.site_id != call.site.id and not (
        call.conference.cross_site_checkin or call.override
    ):
        home = batch.sites[delegate.site_id]
        return _refused(
            scan,
            OTHER_SITE,
            f"{delegate.full_name} is registered at {home.name}, not here",
            delegate,
        )
    return None


async def _write_ledger(
    session: AsyncSession,
    call: _Call,
    pending: list[_Pending],
    won: set[int],
    batch: _Batch,
    outcomes: dict[int, Outcome],
) -> Counter[int]:
    """One ledger row per pending scan (admitted, or who else already was), its outcome
    in outcomes; returns how many were admitted at each site."""
    new_rows: list[Row] = []
    admitted_at_site: Counter[int] = Counter()
    for n, scan, delegate, home in pending:
        at = scan.happened_at or call.now
        if n in won:
            result = "ok"
            admitted_at_site[call.site_id] += 1
            where = call.site
        else:
            # Someone else won (maybe a moment ago, in another transaction): say who.
            assert delegate.checkin_site_id is not None
            where = batch.sites[delegate.checkin_site_id]
            at = delegate.checked_in_at or at
            result = "conflict" if call.offline and where.id != call.site.id else ALREADY
        outcome = Outcome(
            scan.nonce,
            result,
            delegate=delegate,
            delegate_site=home.code,
            site=where.code,
            site_name=where.name,
            at=at,
            method=call.method,
            offline=call.offline,
        )
        # A plain row (the other columns take their defaults): building a table model per
        # scan would cost more than the rest of the scan.
        outcome.checkin_id = new_public_id()
        new_rows.append(
            {
                "public_id": outcome.checkin_id,
                "conference_id": call.conference_id,
                "delegate_id": delegate.id,
                "site_id": call.site_id,
                "nonce": scan.nonce,
                "method": call.method,
                "outcome": result,
                "offline": call.offline,
                "happened_at": scan.happened_at or call.now,
                "recorded_at": call.now,
                "actor_name": call.actor.name,
                "actor_role": call.actor.role,
                "actor_account_id": call.actor.principal.account_id,
                "note": call.note if call.override else "",
            }
        )
        outcomes[n] = outcome
    if new_rows:
        await insert_rows(session, CheckIn, new_rows)
    return admitted_at_site


async def _record_and_emit(session: AsyncSession, call: _Call, fresh: list[Outcome]) -> None:
    """The audit entries and live events of what this call decided (not of replays)."""
    site_code = call.site.code
    entries: list[tuple[str, str, str, JsonObject]] = []
    events: list[tuple[EventType, Mapping[str, Any]]] = []
    for outcome in fresh:
        if outcome.outcome == "ok" and outcome.delegate is not None:
            details = {
                "site": site_code,
                "method": call.method,
                "offline": call.offline,
                "nonce": outcome.nonce,
            }
            action = "checkin.override" if call.override else "checkin.create"
            extra = {"note": call.note} if call.override else {}
            entries.append((action, "delegate", outcome.delegate.public_id, details | extra))
            events.append((CHECKED_IN, event_data(outcome)))
        elif outcome.outcome == "conflict" and outcome.delegate is not None:
            details = {"site": site_code, "admitted_at": outcome.site, "nonce": outcome.nonce}
            entries.append(("checkin.conflict", "delegate", outcome.delegate.public_id, details))
            events.append((CHECKIN_CONFLICT, event_data(outcome) | {"other_site": site_code}))
        elif outcome.outcome == "refused" and call.offline:
            # A door let someone in on a code we refuse: the organizer must see it.
            who = outcome.delegate.public_id if outcome.delegate else outcome.target
            details = {"site": site_code, "code": outcome.code, "nonce": outcome.nonce}
            entries.append(("checkin.refused", "delegate", who, details))
    await record_many(session, call.actor, entries)
    await append_events(session, call.conference_id, events)


def _local_times(conference: Conference, outcomes: Iterable[Outcome]) -> None:
    """The conference's local time of what a refusal names (an admission answers with
    `at` alone)."""
    zone = ZoneInfo(conference.timezone)
    for outcome in outcomes:
        if outcome.at is not None and outcome.outcome != "ok":
            outcome.local_at = outcome.at.astimezone(zone).strftime("%H:%M %d/%m")


async def _admit(
    connection: AsyncConnection, site: Site, candidates: list[tuple[int, DelegateRow, datetime]]
) -> set[int]:
    """Admit the delegates of candidates (scan index, delegate, time) at site; the indexes
    of the scans that won.

    One conditional UPDATE per distinct time (online scans share one): of racing
    scans, in this batch or in other transactions, exactly one changes a row. The
    delegates are left holding who admitted them and when, read again for the losers.
    """
    first: dict[int, tuple[int, datetime]] = {}
    for n, delegate, at in candidates:
        if delegate.checked_in_at is None:
            first.setdefault(delegate.id, (n, at))
    by_time: dict[datetime, list[int]] = {}
    for delegate_id, (_, at) in first.items():
        by_time.setdefault(at, []).append(delegate_id)
    admitted: dict[int, datetime] = {}
    for at, ids in by_time.items():
        result = await connection.execute(
            _ADMIT, {"ids": sorted(ids), "admitted_at": at, "admitted_site_id": site.id}
        )
        admitted |= {row[0]: at for row in result}
    delegates = {d.id: d for _, d, _ in candidates}
    for delegate_id, at in admitted.items():
        delegates[delegate_id].checked_in_at = at
        delegates[delegate_id].checkin_site_id = site.id
    losers = set(delegates) - set(admitted)
    if losers:
        rows = await connection.execute(_ADMISSIONS, {"ids": sorted(losers)})
        for loser_id, checked_in_at, checkin_site_id in rows:
            delegates[loser_id].checked_in_at = checked_in_at
            delegates[loser_id].checkin_site_id = checkin_site_id
    return {first[delegate_id][0] for delegate_id in admitted}


def _present(batch: _Batch, site: Site, outcomes: Any, admitted: Counter[int]) -> None:
    """Fill each ok outcome's running count of people present at its site."""
    # Counted before the admissions: the conference's check-ins take turns, so the
    # count after them is this batch's admissions more.
    running, expected = batch.present, batch.expected
    count = running + admitted[site.id or 0]
    for outcome in outcomes:
        if outcome.outcome == "ok" and not outcome.replayed and outcome.site == site.code:
            running += 1
            outcome.present = {"site": site.code, "checked_in": running, "expected": expected}
        elif not outcome.present:
            outcome.present = {"site": site.code, "checked_in": count, "expected": expected}
