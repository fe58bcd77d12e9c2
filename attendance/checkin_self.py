"""A delegate checks themself in: the personal link says who, the site screen's
current code says where (attendance.selfcheckin); both or nothing is written."""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from attendance import checkin, selfcheckin
from attendance.links import delegate_actor
from attendance.models import Delegate
from attendance.scans import Outcome, Scan
from conference.models import Conference, Site
from conference.signing import Keyring


async def self_check_in(
    session: AsyncSession,
    conference: Conference,
    delegate: Delegate,
    home: Site,
    code: str | None,
    nonce: str,
    *,
    keyring: Keyring,
    period: int,
    now: datetime,
    ip: str = "",
) -> Outcome:
    """Admit delegate at the site whose screen shows code now; refused by name without it."""
    site, proof = await selfcheckin.prove_site(
        session, keyring, conference, code, now=now, period=period
    )
    [outcome] = await checkin.check_in(
        session,
        conference,
        site,
        [Scan(nonce, delegate_id=delegate.public_id)],
        actor=delegate_actor(delegate, home, ip),
        keyring=keyring,
        method="self",
        now=now,
        proof=proof,
    )
    return outcome
