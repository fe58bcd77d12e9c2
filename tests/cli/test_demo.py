"""`plenary demo`: the reference conference of SCENARIO.md, created exactly once."""

from __future__ import annotations

import asyncio
import json
import unicodedata
from collections import Counter
from datetime import date
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import col, select

from agenda.models import AgendaItem
from attendance.models import Delegate
from awards.models import Award, Decision
from cli.demo import ACCOUNTS, run_demo
from cli.demo_data import FLAGS, PROVINCES, reference_document
from cli.main import main
from conference.accounts import authenticate
from conference.db import Database
from conference.models import Conference, Membership, Site
from runtime.config import Config


def test_the_demo_data_are_deterministic_nfc_and_invented() -> None:
    document = reference_document()
    assert document == reference_document()
    text = json.dumps(document, ensure_ascii=False)
    assert unicodedata.is_normalized("NFC", text)
    names = [d["name"] for d in document["delegates"]]
    assert len(set(names)) == len(names)
    assert all(len(name.split()) == 3 for name in names)
    # Vietnamese letters with their diacritics, not stripped ASCII.
    assert {"Nguyễn", "Trần", "Đặng"} <= {name.split()[0] for name in names}


def test_demo_creates_the_reference_conference_once(
    db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    run_demo(Config(database_url=db_url, port=8181), serve=False)
    first = capsys.readouterr().out
    assert main(["demo", "--no-serve", "--database-url", db_url]) == 0
    second = capsys.readouterr().out
    assert "(created)" in first and "(already there)" in second
    assert "http://127.0.0.1:8181/" in first
    conference_id = asyncio.run(check_database(db_url))
    for out in (first, second):
        assert conference_id in out
        for account in ACCOUNTS:
            assert f"user {account.username}" in out and account.password in out


async def check_database(url: str) -> str:
    db = Database(url)
    try:
        async with db.transaction() as session:
            conference = (await session.exec(select(Conference))).one()
            sites = list(await session.exec(select(Site).order_by(col(Site.position))))
            delegates = list(await session.exec(select(Delegate)))
            items = list(await session.exec(select(AgendaItem)))
            flags = list(
                await session.exec(
                    select(Award.site_id)
                    .join(Decision, col(Decision.id) == col(Award.decision_id))
                    .where(col(Decision.award_kind) == "emulation_flag")
                )
            )
            merits = list(
                await session.exec(
                    select(Award.recipient_kind)
                    .join(Decision, col(Decision.id) == col(Award.decision_id))
                    .where(col(Decision.award_kind) == "certificate_of_merit")
                )
            )
            for account in ACCOUNTS:
                found = await authenticate(session, account.username, account.password)
                roles = list(
                    await session.exec(
                        select(Membership).where(col(Membership.account_id) == found.id)
                    )
                )
                assert [m.role for m in roles] == [account.role]
                site = await session.get(Site, roles[0].site_id) if roles[0].site_id else None
                assert (site.code if site else None) == account.site
    finally:
        await db.dispose()

    assert conference.starts_on == date(2026, 12, 15)
    codes = {site.id: site.code for site in sites}
    assert len(sites) == 35
    assert [s.code for s in sites] == ["TW", *(p.code for p in PROVINCES)]
    assert [s.kind for s in sites] == ["main"] + ["remote"] * 34
    per_site = Counter(codes[d.site_id] for d in delegates)
    assert set(per_site) == set(codes.values())
    assert 25 <= per_site["TW"] <= 35
    assert all(15 <= n <= 25 for code, n in per_site.items() if code != "TW")
    assert all(s.expected_attendance == per_site[s.code] for s in sites)

    kinds = Counter(item.kind for item in items)
    assert kinds["speech"] == 8
    for kind in ("opening", "report", "directive_speech", "awards", "campaign_launch", "closing"):
        assert kinds[kind] == 1, kind
    speech_sites = {codes[i.site_id] for i in items if i.kind == "speech" and i.site_id}
    assert len(speech_sites) == 8 and "TW" not in speech_sites
    hanoi = ZoneInfo("Asia/Ho_Chi_Minh")
    starts = [i.planned_start.astimezone(hanoi) for i in items if i.planned_start]
    assert all(s.date() == conference.starts_on and 7 <= s.hour < 12 for s in starts)

    assert sorted(codes[site_id] for site_id in flags if site_id) == sorted(FLAGS)
    assert {"unit", "person"} <= set(merits)
    return conference.public_id
