"""Check-in over the WebSocket: a scan, and reading one delegate (site scope as over HTTP)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StrictStr

from attendance import checkin
from attendance.checkin import Scan
from attendance.ledger import visible_delegate
from conference.actors import resolve_actor
from conference.models import Site
from conference.services import get_conference
from server.api_checkin import check_rate_in, count_refusals_in, outcome_json, scan_site
from server.signing import ready_keyring
from server.ws_commands import PublicId, Schema, commands
from server.ws_connection import Connection

Nonce = Annotated[StrictStr, Field(pattern=r"^[A-Za-z0-9_-]{8,64}$")]


class ScanCommand(Schema):
    conference: PublicId
    nonce: Nonce
    credential: Annotated[StrictStr, Field(min_length=1, max_length=400)] | None = None
    delegate: PublicId | None = None
    site: Annotated[StrictStr, Field(min_length=1, max_length=32)] | None = None


class DelegateCommand(Schema):
    conference: PublicId
    delegate: PublicId


@commands.register("checkin/scan", ScanCommand)
async def handle_scan(conn: Connection, msg_id: int, cmd: ScanCommand) -> None:
    """The same check-in as POST .../checkins; a refusal is the error of the result."""
    who = conn.principal
    key = f"a{who.account_id}" if who.account_id is not None else f"t{who.token_id}"
    check_rate_in(conn.app, key)
    async with conn.db.transaction() as session:
        conference = await get_conference(session, cmd.conference)
        actor = await resolve_actor(session, conn.principal, conference)
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
    count_refusals_in(conn.app, key, [outcome])
    error = outcome.error()
    if error is not None:
        raise error
    conn.send_result(msg_id, outcome_json(outcome) | {"present": outcome.present})


@commands.register("delegates/get", DelegateCommand)
async def handle_get(conn: Connection, msg_id: int, cmd: DelegateCommand) -> None:
    """One delegate as check-in shows them; another site's delegate is not_found."""
    async with conn.db.read() as session:
        conference = await get_conference(session, cmd.conference)
        actor = await resolve_actor(session, conn.principal, conference)
        actor.require("organizer", "chair", "secretary", "site_operator")
        delegate = await visible_delegate(session, conference, cmd.delegate, actor)
        site = await session.get(Site, delegate.site_id)
    assert site is not None
    conn.send_result(
        msg_id,
        checkin.delegate_card(delegate, site.code)
        | {"checked_in_at": delegate.checked_in_at.isoformat() if delegate.checked_in_at else None},
    )
