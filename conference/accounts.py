"""Accounts, Argon2 passwords, browser sessions, API tokens and roles."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from conference.access import note_access_change
from conference.actors import SITE_ROLES, Actor, Principal
from conference.audit import record
from conference.dbtypes import utcnow
from conference.errors import Conflict, InvalidInput, NotFound, Unauthorized
from conference.models import (
    ROLES,
    Account,
    ApiToken,
    BrowserSession,
    Conference,
    Membership,
    Site,
)
from conference.passwords import Passwords, hash_password, verify_password
from conference.queries import flushed_or
from conference.text import has_control, is_public_id, nfc

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,99}$")
MIN_PASSWORD = 10
TOKEN_PREFIX = "plnr_"
GRANTABLE_ROLES = tuple(r for r in ROLES if r != "viewer")


def hash_secret(token: str) -> str:
    """SHA-256 of a high-entropy secret (session cookie, API token)."""
    return hashlib.sha256(token.encode()).hexdigest()


def clean_username(username: str) -> str:
    name = nfc(username).casefold()
    if not USERNAME_RE.match(name):
        raise InvalidInput(
            "a username is 2-100 characters: letters a-z, digits and . _ @ -", field="username"
        )
    return name


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise InvalidInput(f"a password needs at least {MIN_PASSWORD} characters", field="password")


async def create_account(
    session: AsyncSession,
    username: str,
    password: str,
    *,
    display_name: str = "",
    is_admin: bool = False,
    can_create_conferences: bool = False,
    actor: Actor,
) -> Account:
    """Create an account with an Argon2 password hash."""
    name = clean_username(username)
    check_password_strength(password)
    existing = await session.exec(select(Account).where(Account.username == name))
    if existing.one_or_none() is not None:
        raise Conflict(f"the username {name!r} is taken", field="username")
    password_hash = await hash_password(password)
    account = Account(
        username=name,
        display_name=nfc(display_name) or name,
        password_hash=password_hash,
        is_admin=is_admin,
        can_create_conferences=can_create_conferences or is_admin,
    )
    # Another request may take the name between the check and the insert.
    async with flushed_or(session, Conflict(f"the username {name!r} is taken", field="username")):
        session.add(account)
    await record(
        session,
        actor,
        "account.create",
        "account",
        account.public_id,
        {"username": name, "is_admin": is_admin, "can_create_conferences": can_create_conferences},
    )
    return account


async def get_account_by_username(session: AsyncSession, username: str) -> Account | None:
    if has_control(username):
        return None
    name = nfc(username).casefold()
    result = await session.exec(select(Account).where(Account.username == name))
    return result.one_or_none()


async def authenticate(
    session: AsyncSession, username: str, password: str, *, passwords: Passwords | None = None
) -> Account:
    """The account for these credentials, or Unauthorized (the command line, tests; the
    server reads and hashes apart so that no transaction waits on the hash)."""
    account = await get_account_by_username(session, username)
    return await check_password(account, password, passwords)


async def check_password(
    account: Account | None, password: str, passwords: Passwords | None = None
) -> Account:
    """The account if password is its own, else Unauthorized naming neither which part was
    wrong (an unknown name costs the same hash as a known one)."""
    stored = account.password_hash if account is not None else None
    if passwords is not None:
        matches = await passwords.verify(stored, password)
    else:
        matches = await verify_password(stored, password)
    if not matches or account is None or account.disabled:
        raise Unauthorized("wrong username or password")
    return account


async def store_password_hash(session: AsyncSession, account_id: int, password_hash: str) -> None:
    """Replace an account's hash (made again with today's Argon2 parameters)."""
    await session.exec(
        update(Account).where(col(Account.id) == account_id).values(password_hash=password_hash)
    )


def principal_for_account(account: Account, ip: str = "") -> Principal:
    return Principal(
        kind="account",
        name=account.display_name or account.username,
        account_id=account.id,
        is_admin=account.is_admin,
        can_create_conferences=account.can_create_conferences,
        ip=ip,
    )


# --- browser sessions -------------------------------------------------------


async def start_session(
    session: AsyncSession,
    account: Account,
    *,
    ttl: timedelta,
    ip: str = "",
    user_agent: str = "",
    replaces: str | None = None,
) -> tuple[str, BrowserSession]:
    """A new session (the old one, if any, is removed: rotation at login)."""
    if replaces:
        await _forget_session(session, replaces)
    token = secrets.token_urlsafe(32)
    now = utcnow()
    row = BrowserSession(
        token_hash=hash_secret(token),
        account_id=account.id,  # type: ignore[arg-type]
        csrf_token=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + ttl,
        last_seen_at=now,
        ip=ip[:64],
        user_agent=user_agent[:300],
    )
    session.add(row)
    await session.flush()
    return token, row


@dataclass(frozen=True)
class SessionLimits:
    """How long a browser session lives: `idle` without a request, `lifetime` in all;
    its last use is written at most once per `touch` (not on every request)."""

    idle: timedelta
    lifetime: timedelta
    touch: timedelta = timedelta(minutes=1)

    def ended(self, row: BrowserSession, now: datetime) -> bool:
        # created_at + lifetime as well as expires_at: a shortened lifetime applies at once.
        return (
            now >= row.expires_at
            or now >= row.created_at + self.lifetime
            or now >= row.last_seen_at + self.idle
        )

    def due_touch(self, row: BrowserSession, now: datetime) -> bool:
        return now - row.last_seen_at >= self.touch


# The defaults of PLENARY_SESSION_HOURS and PLENARY_SESSION_MAX_HOURS.
DEFAULT_SESSION_LIMITS = SessionLimits(idle=timedelta(hours=12), lifetime=timedelta(hours=168))


async def load_session(
    session: AsyncSession,
    token: str,
    limits: SessionLimits = DEFAULT_SESSION_LIMITS,
    now: datetime | None = None,
) -> tuple[BrowserSession, Account] | None:
    """The live session and its account for a cookie value, or None (unknown, idle too
    long, past its lifetime, or its account disabled)."""
    result = await session.exec(
        select(BrowserSession, Account)
        .join(Account, col(Account.id) == col(BrowserSession.account_id))
        .where(BrowserSession.token_hash == hash_secret(token))
    )
    row = result.one_or_none()
    if row is None:
        return None
    browser_session, account = row
    if limits.ended(browser_session, now or utcnow()) or account.disabled:
        return None
    return browser_session, account


async def touch_session(
    session: AsyncSession, row_id: int, limits: SessionLimits, now: datetime | None = None
) -> bool:
    """Record that a session was used now, unless that was done less than `touch` ago
    (by this request's process or another): one write per session a minute at most."""
    now = now or utcnow()
    result = await session.exec(
        update(BrowserSession)
        .where(
            col(BrowserSession.id) == row_id,
            col(BrowserSession.last_seen_at) <= now - limits.touch,
        )
        .values(last_seen_at=now)
    )
    return bool(result.rowcount)


async def end_session(session: AsyncSession, token: str) -> None:
    """Log out: the session ends at once, also on the sockets that rely on it."""
    note_access_change(session)
    await _forget_session(session, token)


async def _forget_session(session: AsyncSession, token: str) -> None:
    # A login replacing the browser's previous session does not wake every socket.
    await session.exec(
        delete(BrowserSession).where(col(BrowserSession.token_hash) == hash_secret(token))
    )


async def end_all_sessions(session: AsyncSession, account_id: int, *, actor: Actor) -> int:
    """End every browser session of an account (log out everywhere); how many ended."""
    note_access_change(session)
    result = await session.exec(
        delete(BrowserSession).where(col(BrowserSession.account_id) == account_id)
    )
    account = await session.get(Account, account_id)
    await record(
        session,
        actor,
        "account.logout_everywhere",
        "account",
        account.public_id if account is not None else "",
        {"sessions": int(result.rowcount)},
    )
    return int(result.rowcount)


async def purge_expired_sessions(session: AsyncSession, now: datetime | None = None) -> int:
    result = await session.exec(
        delete(BrowserSession).where(col(BrowserSession.expires_at) <= (now or utcnow()))
    )
    return int(result.rowcount)


# --- API tokens ---------------------------------------------------------------


async def issue_token(
    session: AsyncSession,
    conference: Conference,
    name: str,
    role: str,
    *,
    site: Site | None = None,
    actor: Actor,
) -> tuple[str, ApiToken]:
    """A bearer token with one role in conference; the plaintext is shown once."""
    actor.require("organizer")
    name = nfc(name)
    if not name:
        raise InvalidInput("a token needs a name", field="name")
    _check_role_site(role, site)
    plaintext = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        token_hash=hash_secret(plaintext),
        name=name,
        conference_id=conference.id,  # type: ignore[arg-type]
        role=role,
        site_id=site.id if site else None,
        created_by_id=actor.principal.account_id,
    )
    session.add(token)
    await session.flush()
    await record(
        session,
        actor,
        "token.issue",
        "api_token",
        token.public_id,
        {"name": name, "role": role, "site": site.code if site else None},
    )
    return plaintext, token


async def revoke_token(session: AsyncSession, token: ApiToken, *, actor: Actor) -> ApiToken:
    actor.require("organizer")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        session.add(token)
        await record(
            session, actor, "token.revoke", "api_token", token.public_id, {"name": token.name}
        )
    return token


async def list_tokens(session: AsyncSession, conference_id: int) -> list[ApiToken]:
    query = select(ApiToken).where(ApiToken.conference_id == conference_id)
    return list(await session.exec(query.order_by(col(ApiToken.id))))


async def get_token(session: AsyncSession, conference_id: int, public_id: str) -> ApiToken:
    if not is_public_id(public_id):
        raise NotFound("no such token", field="token")
    query = select(ApiToken).where(
        ApiToken.conference_id == conference_id, ApiToken.public_id == public_id
    )
    token = (await session.exec(query)).one_or_none()
    if token is None:
        raise NotFound("no such token", field="token")
    return token


async def principal_for_token(
    session: AsyncSession, plaintext: str, ip: str = ""
) -> Principal | None:
    """The principal a bearer token stands for, or None if unknown or revoked."""
    if not plaintext.startswith(TOKEN_PREFIX):
        return None
    result = await session.exec(
        select(ApiToken).where(ApiToken.token_hash == hash_secret(plaintext))
    )
    token = result.one_or_none()
    if token is None or token.revoked_at is not None:
        return None
    now = utcnow()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=1):
        token.last_used_at = now
        session.add(token)
    return Principal(
        kind="token",
        name=f"token {token.name}",
        token_id=token.id,
        token_conference_id=token.conference_id,
        token_role=token.role,
        token_site_id=token.site_id,
        ip=ip,
    )


# --- roles ----------------------------------------------------------------------


def _check_role_site(role: str, site: Site | None) -> None:
    if role not in GRANTABLE_ROLES:
        raise InvalidInput(
            f"unknown role {role!r}; one of {', '.join(GRANTABLE_ROLES)}", field="role"
        )
    if role in SITE_ROLES and site is None:
        raise InvalidInput(f"a {role.replace('_', ' ')} is bound to one site", field="site")
    if role not in SITE_ROLES and site is not None:
        raise InvalidInput("only a site operator or a screen is bound to a site", field="site")


async def grant_role(
    session: AsyncSession,
    account: Account,
    conference: Conference,
    role: str,
    *,
    site: Site | None = None,
    actor: Actor,
) -> Membership:
    """Give account a role in conference (idempotent; moving an operator is audited)."""
    _check_role_site(role, site)
    site_id = site.id if site else None
    membership = await held_role(session, account, conference, role)
    if membership is not None and membership.site_id == site_id:
        return membership
    if membership is None:
        membership = Membership(
            account_id=account.id,  # type: ignore[arg-type]
            conference_id=conference.id,  # type: ignore[arg-type]
            role=role,
        )
    membership.site_id = site_id
    session.add(membership)
    await session.flush()
    await record(
        session,
        actor,
        "role.grant",
        "account",
        account.public_id,
        {"role": role, "site": site.code if site else None},
        conference_id=conference.id,
    )
    return membership


async def held_role(
    session: AsyncSession, account: Account, conference: Conference, role: str
) -> Membership | None:
    """The membership by which account holds role in conference, if it does."""
    query = select(Membership).where(
        col(Membership.account_id) == account.id,
        col(Membership.conference_id) == conference.id,
        col(Membership.role) == role,
    )
    return (await session.exec(query)).one_or_none()


async def revoke_role(
    session: AsyncSession, account: Account, conference: Conference, role: str, *, actor: Actor
) -> None:
    result = await session.exec(
        delete(Membership).where(
            col(Membership.account_id) == account.id,
            col(Membership.conference_id) == conference.id,
            col(Membership.role) == role,
        )
    )
    if result.rowcount:
        await record(
            session,
            actor,
            "role.revoke",
            "account",
            account.public_id,
            {"role": role},
            conference_id=conference.id,
        )
