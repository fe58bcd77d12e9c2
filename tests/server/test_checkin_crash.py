"""`kill -9` of the server in the middle of a stream of check-ins (issue 3).

After the restart every check-in that got a success answer is there, once; a request
that got no answer may or may not be there, never twice; sending every nonce again
makes no second ledger row. A real `plenary serve` process, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import signal
import subprocess
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlmodel import col, select

from attendance.models import CheckIn, Delegate
from attendance.schemas import DelegateCreate
from attendance.services import insert_delegates
from bench.common import delegate_badges, stop_server
from conference.accounts import issue_token
from conference.actors import CLI, Actor
from conference.db import Database
from conference.schemas import ConferenceCreate, SiteCreate
from conference.services import create_conference, create_site
from tests.server.serve_process import start_server

CLIENTS = 6
PER_CLIENT = 150
KILL_AFTER = 60  # successful check-ins before the kill (then a random moment more)

pytestmark = pytest.mark.slow


@dataclass
class Hall:
    cid: str
    token: str
    # delegate public id -> the body that checks them in (badge code or id)
    scans: list[dict[str, str]] = field(default_factory=list)


async def prepare(url: str) -> Hall:
    """A conference from today, one site, its operator's token and the delegates."""
    db = Database(url)
    try:
        async with db.transaction() as session:
            today = date.today()
            conference = await create_conference(
                session,
                ConferenceCreate(
                    title="Hội nghị", starts_on=today, ends_on=today + timedelta(days=1)
                ),
                actor=Actor(CLI),
            )
            assert conference.id is not None
            organizer = Actor(CLI, conference.id, frozenset({"organizer"}))
            site = await create_site(
                session, conference, SiteCreate(code="HNI", name="Hà Nội"), actor=organizer
            )
            assert site.id is not None
            token, _ = await issue_token(
                session, conference, "scanner", "site_operator", site=site, actor=organizer
            )
            await insert_delegates(
                session,
                conference.id,
                {"HNI": site.id},
                [
                    DelegateCreate(name=f"Đại biểu {n:04d}", site="HNI")
                    for n in range(CLIENTS * PER_CLIENT)
                ],
            )
            badges = await delegate_badges(session, conference)
        hall = Hall(conference.public_id, token)
        for n, (did, badge) in enumerate(badges):
            # Half by badge code, half picked by name (the delegate's id).
            hall.scans.append({"delegate": did} if n % 2 else {"credential": badge})
        return hall
    finally:
        await db.dispose()


def nonce() -> str:
    return secrets.token_urlsafe(12)


async def stream_and_kill(
    base: str, hall: Hall, server: subprocess.Popen[bytes]
) -> dict[str, tuple[dict[str, str], int | None, Any]]:
    """Several clients check delegates in; the server is killed after KILL_AFTER successes.

    Returns nonce -> (body sent, status or None when no answer came, answer).
    """
    sent: dict[str, tuple[dict[str, str], int | None, Any]] = {}
    enough = asyncio.Event()
    url = f"{base}/api/v1/conferences/{hall.cid}/checkins"
    headers = {"Authorization": f"Bearer {hall.token}"}

    async def client(http: aiohttp.ClientSession, scans: list[dict[str, str]]) -> None:
        for scan in scans:
            body = {"nonce": nonce(), **scan}
            sent[body["nonce"]] = (body, None, None)
            try:
                async with http.post(url, json=body, headers=headers) as resp:
                    answer = await resp.json()
                    sent[body["nonce"]] = (body, resp.status, answer)
            except (aiohttp.ClientError, TimeoutError):
                return  # the server is gone: this request got no answer
            if sum(1 for _, status, _ in sent.values() if status == 200) >= KILL_AFTER:
                enough.set()

    timeout = aiohttp.ClientTimeout(total=20)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        clients = [
            asyncio.create_task(client(http, hall.scans[n::CLIENTS])) for n in range(CLIENTS)
        ]
        await asyncio.wait_for(enough.wait(), timeout=30)
        # At no particular point of the server's work: mid-transaction, mid-answer...
        await asyncio.sleep(random.uniform(0.05, 0.3))
        os.kill(server.pid, signal.SIGKILL)
        server.wait(10)
        await asyncio.wait_for(asyncio.gather(*clients), timeout=30)
    return sent


async def ledger(url: str) -> tuple[Counter[str], dict[str, str], set[str]]:
    """Rows per nonce, the outcome of each nonce, and the delegates admitted (the
    database holds this one conference)."""
    db = Database(url)
    try:
        async with db.read() as session:
            rows = list(await session.exec(select(CheckIn.nonce, CheckIn.outcome)))
            admitted = set(
                await session.exec(
                    select(Delegate.public_id).where(col(Delegate.checked_in_at).is_not(None))
                )
            )
    finally:
        await db.dispose()
    return Counter(nonce_ for nonce_, _ in rows), dict(rows), admitted


async def test_kill_9_mid_stream_loses_no_answered_checkin(db_url: str, tmp_path: Path) -> None:
    hall = await prepare(db_url)
    log = tmp_path / "server.log"
    server, base = await start_server(db_url, log)
    try:
        sent = await stream_and_kill(base, hall, server)
        answered = {n: v for n, v in sent.items() if v[1] is not None}
        unanswered = set(sent) - set(answered)
        assert all(status == 200 for _, status, _ in answered.values()), answered
        assert len(answered) >= KILL_AFTER
        assert unanswered, "the kill should catch requests in flight"

        server, base = await start_server(db_url, log)
        rows, outcome, admitted = await ledger(db_url)
        for nonce_, (body, _, answer) in answered.items():
            assert rows[nonce_] == 1, (nonce_, body)
            assert outcome[nonce_] == "ok"
            assert answer["checkin"]["delegate"]["id"] in admitted
        assert all(rows[n] <= 1 for n in unanswered)
        print(
            f"{len(answered)} answered, {len(unanswered)} in flight at the kill, "
            f"{sum(rows[n] for n in unanswered)} of those written"
        )
        assert set(rows) <= set(sent)  # nothing the clients did not send

        # Everything again, answered or not: the same answers, no second row.
        url = f"{base}/api/v1/conferences/{hall.cid}/checkins"
        headers = {"Authorization": f"Bearer {hall.token}"}
        async with aiohttp.ClientSession() as http:

            async def again(body: dict[str, str]) -> tuple[int, Any]:
                async with http.post(url, json=body, headers=headers) as resp:
                    return resp.status, await resp.json()

            replies = await asyncio.gather(*(again(body) for body, _, _ in sent.values()))
        for (nonce_, (_, status, answer)), (status_again, answer_again) in zip(
            sent.items(), replies, strict=True
        ):
            assert status_again == 200, (nonce_, answer_again)
            if status == 200:
                assert answer_again["checkin"]["id"] == answer["checkin"]["id"]
        rows, _, admitted = await ledger(db_url)
        assert set(rows) == set(sent)
        assert set(rows.values()) == {1}
        assert len(admitted) == len(sent)
    finally:
        if server.poll() is None:
            stop_server(server, grace=15)
