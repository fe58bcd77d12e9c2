"""Accounts, passwords, browser sessions, API tokens, roles and who may see what."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func
from sqlmodel import select

from conference import accounts
from conference.actors import ANONYMOUS, CLI, Actor, resolve_actor
from conference.db import Database
from conference.dbtypes import utcnow
from conference.errors import Conflict, Forbidden, InvalidInput, NotFound, Unauthorized
from conference.models import Account, AuditEntry, BrowserSession, Conference, Site
from tests.conftest import PASSWORD, add_account

ORGANIZER = Actor(CLI, roles=frozenset({"organizer"}))


async def new_conference(db: Database, *, public: bool = False) -> tuple[Conference, Site]:
    async with db.transaction() as session:
        conference = Conference(
            title="Hội nghị",
            starts_on=date(2026, 12, 10),
            ends_on=date(2026, 12, 11),
            public=public,
        )
        session.add(conference)
        await session.flush()
        assert conference.id is not None
        site = Site(conference_id=conference.id, code="HNI", name="Hà Nội")
        session.add(site)
    return conference, site


async def test_passwords_are_hashed_and_checked(db: Database) -> None:
    account = await add_account(db, "Lan")
    assert account.username == "lan"
    assert account.password_hash.startswith("$argon2id$")
    assert PASSWORD not in account.password_hash
    async with db.transaction() as session:
        assert (await accounts.authenticate(session, "LAN", PASSWORD)).id == account.id
    messages = []
    for username, password in (("lan", PASSWORD + "x"), ("ghost", PASSWORD)):
        with pytest.raises(Unauthorized) as excinfo:
            async with db.transaction() as session:
                await accounts.authenticate(session, username, password)
        messages.append(excinfo.value.message)
    assert messages[0] == messages[1]
    async with db.transaction() as session:
        row = await session.get(Account, account.id)
        assert row is not None
        row.disabled = True
        session.add(row)
    with pytest.raises(Unauthorized):
        async with db.transaction() as session:
            await accounts.authenticate(session, "lan", PASSWORD)


async def test_create_account_refuses(db: Database) -> None:
    for username, password, field in (
        ("a", PASSWORD, "username"),
        ("lan nguyen", PASSWORD, "username"),
        ("-lan", PASSWORD, "username"),
        ("x" * 101, PASSWORD, "username"),
        ("lan", "short", "password"),
        ("lan", " " * 9, "password"),
    ):
        with pytest.raises(InvalidInput) as excinfo:
            async with db.transaction() as session:
                await accounts.create_account(session, username, password, actor=Actor(CLI))
        assert excinfo.value.field == field, username
    async with db.transaction() as session:
        assert (await session.exec(select(func.count()).select_from(Account))).one() == 0


async def test_usernames_are_unique_ignoring_case(db: Database) -> None:
    await add_account(db, "lan")
    with pytest.raises(Conflict) as excinfo:
        async with db.transaction() as session:
            await accounts.create_account(session, "LAN", PASSWORD, actor=Actor(CLI))
    assert excinfo.value.field == "username"


async def test_sessions_rotate_and_expire(db: Database) -> None:
    account = await add_account(db, "lan")
    async with db.transaction() as session:
        first, row = await accounts.start_session(session, account, ttl=timedelta(hours=1))
    assert row.token_hash != first and len(row.csrf_token) >= 24
    async with db.transaction() as session:
        second, _ = await accounts.start_session(
            session, account, ttl=timedelta(hours=1), replaces=first
        )
        assert await accounts.load_session(session, first) is None
        loaded = await accounts.load_session(session, second)
        assert loaded is not None and loaded[1].id == account.id
        expired, _ = await accounts.start_session(session, account, ttl=timedelta(seconds=-1))
        assert await accounts.load_session(session, expired) is None
    async with db.transaction() as session:
        assert await accounts.purge_expired_sessions(session) == 1
        await accounts.end_session(session, second)
        assert (await session.exec(select(func.count()).select_from(BrowserSession))).one() == 0


async def test_api_tokens(db: Database) -> None:
    conference, site = await new_conference(db)
    other, _ = await new_conference(db)
    assert conference.id is not None and other.id is not None
    actor = Actor(CLI, conference.id, frozenset({"organizer"}))
    async with db.transaction() as session:
        plaintext, token = await accounts.issue_token(
            session, conference, "cổng vào", "site_operator", site=site, actor=actor
        )
    assert plaintext.startswith(accounts.TOKEN_PREFIX)
    assert token.token_hash == accounts.hash_secret(plaintext) != plaintext
    async with db.transaction() as session:
        principal = await accounts.principal_for_token(session, plaintext)
        assert principal is not None
        assert (principal.token_role, principal.token_site_id) == ("site_operator", site.id)
        assert await accounts.principal_for_token(session, plaintext + "x") is None
        assert await accounts.principal_for_token(session, plaintext[5:]) is None
        with pytest.raises(NotFound):
            await accounts.get_token(session, other.id, token.public_id)
        found = await accounts.get_token(session, conference.id, token.public_id)
        await accounts.revoke_token(session, found, actor=actor)
    async with db.transaction() as session:
        assert await accounts.principal_for_token(session, plaintext) is None
    chair = Actor(CLI, conference.id, frozenset({"chair"}))
    with pytest.raises(Forbidden):
        async with db.transaction() as session:
            await accounts.issue_token(session, conference, "x", "chair", actor=chair)
    for role, bound, field in (("site_operator", None, "site"), ("chair", site, "site")):
        with pytest.raises(InvalidInput) as excinfo:
            async with db.transaction() as session:
                await accounts.issue_token(session, conference, "x", role, site=bound, actor=actor)
        assert excinfo.value.field == field
    async with db.transaction() as session:
        actions = (await session.exec(select(AuditEntry.action))).all()
    assert actions == ["token.issue", "token.revoke"]


async def test_roles_decide_what_a_principal_sees(db: Database) -> None:
    conference, site = await new_conference(db)
    public, _ = await new_conference(db, public=True)
    account = await add_account(db, "lan")
    admin = await add_account(db, "root", admin=True)
    lan = accounts.principal_for_account(account)
    async with db.transaction() as session:
        with pytest.raises(NotFound):
            await resolve_actor(session, lan, conference)
        with pytest.raises(NotFound):
            await resolve_actor(session, ANONYMOUS, conference)
        assert (await resolve_actor(session, ANONYMOUS, public)).roles == {"viewer"}
        root = await resolve_actor(session, accounts.principal_for_account(admin), conference)
        assert root.has("organizer")
        with pytest.raises(InvalidInput) as excinfo:
            await accounts.grant_role(session, account, conference, "king", actor=ORGANIZER)
        assert excinfo.value.field == "role"
        with pytest.raises(InvalidInput) as excinfo:
            await accounts.grant_role(
                session, account, conference, "site_operator", actor=ORGANIZER
            )
        assert excinfo.value.field == "site"
        for _ in range(2):  # granting twice is one grant
            await accounts.grant_role(
                session, account, conference, "site_operator", site=site, actor=ORGANIZER
            )
    async with db.transaction() as session:
        operator = await resolve_actor(session, lan, conference)
        assert operator.roles == {"site_operator"}
        assert (operator.site_id, operator.site_code) == (site.id, "HNI")
        assert not operator.sees_all_sites
        with pytest.raises(Forbidden):
            operator.require("organizer", "chair")
        await accounts.revoke_role(session, account, conference, "site_operator", actor=ORGANIZER)
    async with db.transaction() as session:
        with pytest.raises(NotFound):
            await resolve_actor(session, lan, conference)
        actions = (
            await session.exec(
                select(AuditEntry.action).where(AuditEntry.action != "account.create")
            )
        ).all()
    assert actions == ["role.grant", "role.revoke"]


async def test_moving_an_operator_to_another_site_is_audited(db: Database) -> None:
    conference, hni = await new_conference(db)
    assert conference.id is not None
    account = await add_account(db, "lan")
    async with db.transaction() as session:
        hcm = Site(conference_id=conference.id, code="HCM", name="TP. Hồ Chí Minh")
        session.add(hcm)
        await session.flush()
        for site in (hni, hcm):
            await accounts.grant_role(
                session, account, conference, "site_operator", site=site, actor=ORGANIZER
            )
    async with db.transaction() as session:
        operator = await resolve_actor(session, accounts.principal_for_account(account), conference)
        entries = (
            await session.exec(select(AuditEntry).where(AuditEntry.action == "role.grant"))
        ).all()
    assert operator.site_code == "HCM"
    assert [e.changes["site"] for e in entries] == ["HNI", "HCM"]


async def test_sessions_of_a_disabled_account_stop(db: Database) -> None:
    account = await add_account(db, "lan")
    async with db.transaction() as session:
        token, _ = await accounts.start_session(session, account, ttl=timedelta(hours=1))
        row = await session.get(Account, account.id)
        assert row is not None
        row.disabled = True
        session.add(row)
    async with db.transaction() as session:
        assert await accounts.load_session(session, token) is None
        assert await accounts.purge_expired_sessions(session, utcnow()) == 0


async def test_a_username_taken_after_the_check_is_refused_as_taken(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another request may take the name between the check and the insert: the unique
    index refuses it in a savepoint, and the transaction goes on."""
    real_hash = accounts.hash_password
    async with db.transaction() as session:

        async def hash_meanwhile(password: str) -> str:
            # The check has found the name free; now someone takes it.
            session.add(Account(username="pao", display_name="Lò Văn Páo", password_hash="x"))
            await session.flush()
            return await real_hash(password)

        monkeypatch.setattr(accounts, "hash_password", hash_meanwhile)
        with pytest.raises(Conflict) as excinfo:
            await accounts.create_account(session, "Pao", PASSWORD, actor=Actor(CLI))
        assert (excinfo.value.field, str(excinfo.value)) == (
            "username",
            "the username 'pao' is taken",
        )
        monkeypatch.undo()
        # The refusal left the transaction usable (on PostgreSQL too).
        await accounts.create_account(session, "pao2", PASSWORD, actor=Actor(CLI))
    async with db.read() as session:
        names = list(await session.exec(select(Account.username).order_by(Account.username)))
        audited = list(await session.exec(select(AuditEntry.target_id)))
    assert names == ["pao", "pao2"]
    # Only the account that was made is in the audit log.
    assert len(audited) == 1
