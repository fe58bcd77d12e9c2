"""Check-in over the WebSocket: a scan, and reading one delegate (site scope as over HTTP)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictStr

from attendance import checkin, links
from attendance.checkin_self import self_check_in
from attendance.ledger import visible_delegate
from attendance.scans import Outcome, Scan, delegate_card
from attendance.selfcheckin import CodeRefused, prove_site
from conference.actors import STAFF_ROLES, Actor
from conference.dbtypes import utcnow
from conference.errors import Forbidden, NotFound, Unauthorized
from conference.models import Site
from server.attendance.api_checkin import check_rate_in, count_refusals_in, outcome_json, scan_site
from server.keys import refused_limiter_key
from server.signing import ready_keyring
from server.ws_commands import PublicId, Schema, command, conference_of
from server.ws_connection import Connection

Nonce = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]


class ScanCommand(Schema):
    conference: PublicId
    nonce: Nonce
    credential: Annotated[StrictStr, Field(min_length=1, max_length=400)] | None = None
    delegate: PublicId | None = None
    site: Annotated[StrictStr, Field(min_length=1, max_length=32)] | None = None
    # A delegate's phone: the code on the site's screen (their own check-in needs it).
    code: Annotated[StrictStr, Field(max_length=400)] | None = None


class DelegateCommand(Schema):
    conference: PublicId
    delegate: PublicId


def rate_key(conn: Connection) -> str:
    """Whom the check-in limits count: the personal link, the account or the token of
    this socket (never one key for all the sockets of one kind)."""
    who = conn.principal
    if conn.credential is not None and conn.credential[0] == "link":
        return f"link:{conn.credential[1]}"  # the same budget as the link over HTTP
    if who.account_id is not None:
        return f"a{who.account_id}"
    if who.token_id is not None:
        return f"t{who.token_id}"
    return f"ip{who.ip}"


def rate_gate(conn: Connection) -> None:
    """Every scan counts against the socket's limit, a refused one too (before admission)."""
    check_rate_in(conn.app, rate_key(conn))


@command(
    "checkin/scan",
    ScanCommand,
    roles=("organizer", "site_operator", "delegate"),
    gate=rate_gate,
)
async def handle_scan(conn: Connection, msg_id: int, cmd: ScanCommand, actor: Actor) -> None:
    """The same check-in as POST .../checkins; a refusal is the error of the result.
    From a personal link it is the delegate's self check-in: the screen's code is needed."""
    key = rate_key(conn)
    try:
        if conn.principal.kind == "delegate":
            outcome = await _self_scan(conn, cmd)
        else:
            outcome = await _scan(conn, cmd, actor)
    except CodeRefused:
        conn.app[refused_limiter_key].hit(key)
        raise
    count_refusals_in(conn.app, key, [outcome])
    error = outcome.error()
    if error is not None:
        raise error
    conn.send_result(msg_id, outcome_json(outcome) | {"present": outcome.present})


async def _scan(conn: Connection, cmd: ScanCommand, actor: Actor) -> Outcome:
    async with conn.db.transaction() as session:
        conference = await conference_of(session, actor)
        site = await scan_site(session, conference, actor, cmd.site)
        [outcome] = await checkin.check_in(
            session,
            conference,
            site,
            [Scan(cmd.nonce, cmd.credential, cmd.delegate)],
            actor=actor,
            keyring=await ready_keyring(conn.app),
            method="scan" if cmd.credential is not None else "search",
        )
    return outcome


async def _self_scan(conn: Connection, cmd: ScanCommand) -> Outcome:
    """A personal link's scan: the delegate themself, where the screen's code says."""
    assert conn.credential is not None and conn.credential[0] == "link"
    async with conn.db.transaction() as session:
        try:
            delegate, conference, home = await links.delegate_by_link(session, conn.credential[1])
        except NotFound:
            raise Unauthorized("this personal link is no longer valid") from None
        if conference.public_id != cmd.conference:
            raise NotFound("no such conference", field="conference")
        if cmd.credential is not None or cmd.delegate not in (None, delegate.public_id):
            # Checked after the code: without one, the answer is site_code_required.
            await prove_site(
                session,
                await ready_keyring(conn.app),
                conference,
                cmd.code,
                now=utcnow(),
                period=conn.config.self_checkin_seconds,
            )
            raise Forbidden("a delegate checks in only themself")
        return await self_check_in(
            session,
            conference,
            delegate,
            home,
            cmd.code,
            cmd.nonce,
            keyring=await ready_keyring(conn.app),
            period=conn.config.self_checkin_seconds,
            now=utcnow(),
            ip=conn.principal.ip,
        )


@command("delegates/get", DelegateCommand, roles=(*STAFF_ROLES, "site_operator"))
async def handle_get(conn: Connection, msg_id: int, cmd: DelegateCommand, actor: Actor) -> None:
    """One delegate as check-in shows them; another site's delegate is not_found."""
    async with conn.db.read() as session:
        conference = await conference_of(session, actor)
        delegate = await visible_delegate(session, conference, cmd.delegate, actor)
        site = await session.get(Site, delegate.site_id)
    assert site is not None
    conn.send_result(
        msg_id,
        delegate_card(delegate, site.code)
        | {"checked_in_at": delegate.checked_in_at.isoformat() if delegate.checked_in_at else None},
    )


COMMANDS = (handle_scan, handle_get)
