"""Administration: a conference's API tokens, members and audit log; the accounts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from conference import accounts
from conference.actors import Actor
from conference.audit import list_entries
from conference.errors import Conflict, Forbidden, NotFound
from conference.live import lock_conference
from conference.models import Account, ApiToken, AuditEntry, Conference, Membership, Site
from conference.services import get_site_by_code


@dataclass(frozen=True)
class Member:
    """One role an account holds in a conference."""

    account: Account
    role: str
    site_code: str | None


def _require_admin(actor: Actor) -> None:
    if not actor.principal.is_admin:
        raise Forbidden("only an administrator may manage accounts")


async def _site_codes(session: AsyncSession, conference_id: int) -> dict[int, str]:
    rows = await session.exec(
        select(Site.id, Site.code).where(col(Site.conference_id) == conference_id)
    )
    return {site_id: code for site_id, code in rows if site_id is not None}


async def _site_named(
    session: AsyncSession, conference: Conference, code: str | None
) -> Site | None:
    """The site with this code in this conference (None for no code), else NotFound."""
    if code is None:
        return None
    assert conference.id is not None
    site = await get_site_by_code(session, conference.id, code)
    if site is None:
        raise NotFound(f"no site {code!r} in this conference", field="site")
    return site


async def _account_named(session: AsyncSession, username: str) -> Account:
    account = await accounts.get_account_by_username(session, username)
    if account is None:
        raise NotFound(f"no account {username!r}", field="username")
    return account


# --- API tokens ---------------------------------------------------------------------


async def list_tokens(
    session: AsyncSession, conference: Conference, *, actor: Actor
) -> list[tuple[ApiToken, str | None]]:
    """The conference's tokens (never their secrets) with their site codes."""
    actor.require("organizer")
    assert conference.id is not None
    codes = await _site_codes(session, conference.id)
    tokens = await accounts.list_tokens(session, conference.id)
    return [(t, codes.get(t.site_id) if t.site_id else None) for t in tokens]


async def issue_token(
    session: AsyncSession,
    conference: Conference,
    name: str,
    role: str,
    site_code: str | None,
    *,
    actor: Actor,
) -> tuple[str, ApiToken, str | None]:
    """A new token; the plaintext is returned here and never again."""
    actor.require("organizer")
    site = await _site_named(session, conference, site_code)
    plaintext, token = await accounts.issue_token(
        session, conference, name, role, site=site, actor=actor
    )
    return plaintext, token, site.code if site else None


async def revoke_token(
    session: AsyncSession, conference: Conference, token_id: str, *, actor: Actor
) -> tuple[ApiToken, str | None]:
    """Revoke one of this conference's tokens (repeating it changes nothing)."""
    actor.require("organizer")
    assert conference.id is not None
    token = await accounts.get_token(session, conference.id, token_id)
    token = await accounts.revoke_token(session, token, actor=actor)
    site = await session.get(Site, token.site_id) if token.site_id else None
    return token, site.code if site else None


# --- members --------------------------------------------------------------------------


async def list_members(
    session: AsyncSession, conference: Conference, *, actor: Actor
) -> list[Member]:
    """Every role held in the conference, by username."""
    actor.require("organizer")
    rows = await session.exec(
        select(Membership, Account, Site)
        .join(Account, col(Account.id) == col(Membership.account_id))
        .outerjoin(Site, col(Site.id) == col(Membership.site_id))
        .where(col(Membership.conference_id) == conference.id)
        .order_by(col(Account.username), col(Membership.role))
    )
    return [Member(account, m.role, site.code if site else None) for m, account, site in rows]


async def grant_member_role(
    session: AsyncSession,
    conference: Conference,
    username: str,
    role: str,
    site_code: str | None,
    *,
    actor: Actor,
) -> Member:
    """Give the account named username a role (a site operator also a site)."""
    actor.require("organizer")
    assert conference.id is not None
    await lock_conference(session, conference.id)
    account = await _account_named(session, username)
    site = await _site_named(session, conference, site_code)
    await accounts.grant_role(session, account, conference, role, site=site, actor=actor)
    return Member(account, role, site.code if site else None)


async def revoke_member_role(
    session: AsyncSession, conference: Conference, username: str, role: str, *, actor: Actor
) -> None:
    """Take a role away; the last organizer stays, so the conference keeps one."""
    actor.require("organizer")
    assert conference.id is not None
    await lock_conference(session, conference.id)
    account = await _account_named(session, username)
    if await accounts.held_role(session, account, conference, role) is None:
        raise NotFound(f"{account.username} does not hold the role {role}", field="role")
    if role == "organizer":
        organizers = await session.exec(
            select(func.count())
            .select_from(Membership)
            .where(
                col(Membership.conference_id) == conference.id,
                col(Membership.role) == "organizer",
            )
        )
        if organizers.one() <= 1:
            raise Conflict("a conference keeps at least one organizer", field="role")
    await accounts.revoke_role(session, account, conference, role, actor=actor)


# --- audit log ---------------------------------------------------------------------------


async def audit_log(
    session: AsyncSession,
    conference: Conference,
    *,
    actor: Actor,
    before: int | None = None,
    limit: int = 100,
) -> list[AuditEntry]:
    """The conference's audit entries, newest first, paged by id."""
    actor.require("organizer")
    assert conference.id is not None
    return await list_entries(session, conference.id, limit=limit, before_id=before)


# --- accounts ------------------------------------------------------------------------------


async def list_accounts(session: AsyncSession, *, actor: Actor) -> list[Account]:
    """Every account, by username."""
    _require_admin(actor)
    return list(await session.exec(select(Account).order_by(col(Account.username))))


async def create_account(
    session: AsyncSession,
    username: str,
    password: str,
    *,
    display_name: str = "",
    can_create_conferences: bool = False,
    actor: Actor,
) -> Account:
    """A new (non-administrator) account."""
    _require_admin(actor)
    return await accounts.create_account(
        session,
        username,
        password,
        display_name=display_name,
        can_create_conferences=can_create_conferences,
        actor=actor,
    )
