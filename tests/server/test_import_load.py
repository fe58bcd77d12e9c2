"""Imports never hold up the server: issue 14, "no input starves the server".

A broken 5 MB conference file is refused with its first error (line and column) within
2 s while check-ins on the same server go on; a dry run takes no write lock; numbers of
thousands of digits and deep nesting in a file are named problems, not server errors.
Hostile spreadsheets are refused fast, and logins (Argon2) go on while they are read.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import aiohttp
import pytest
from sqlalchemy import text
from sqlmodel import select

from attendance import credentials
from attendance.importing import XLSX_MEDIA_TYPE
from attendance.schemas import DelegateCreate
from attendance.services import create_delegate
from conference.actors import CLI, Actor
from conference.errors import RateLimited
from conference.models import Conference
from runtime.parsing import ParsePool
from server.keys import config_key, db_key, keyring_key
from server.runtime import parse_pool_key
from tests.conference.test_xlsx import hostile
from tests.conference_file.test_transfer import SMALL
from tests.conftest import PASSWORD, Api, add_account
from tests.server.test_api_checkin import Client, Hall, ledger_rows, make_hall, nonce

IMPORT = "/api/v1/conferences/import"
# What asyncio's default executor (password hashing) has: min(32, CPUs + 4).
DEFAULT_EXECUTOR_THREADS = min(32, (os.cpu_count() or 1) + 4)
FIVE_MB = 5_000_000
HEAD = """\
plenary: 1
conference:
  title: Hội nghị toàn quốc
  starts_on: '2026-12-10'
  ends_on: '2026-12-10'
sites:
- code: TW
  name: Hà Nội
  kind: main
"""


def yaml_broken_at_the_end() -> str:
    """A 5 MB file of delegates whose last line opens a list it never closes."""
    people = []
    size, n = len(HEAD), 0
    while size < FIVE_MB:
        entry = f"- name: Nguyễn Văn Thành {n}\n  site: TW\n  title: Chánh Văn phòng\n"
        people.append(entry)
        size += len(entry.encode())
        n += 1
    return HEAD + "delegates:\n" + "".join(people) + "agenda: [\n"


def yaml_of_broken_sections() -> str:
    """5 MB of top-level keys, each an unclosed quote (read section by section: quadratic)."""
    return "plenary: 1\n" + "".join(f"k{n}: 'x\n" for n in range(FIVE_MB // 9))


def json_broken_at_the_end() -> str:
    person = {"name": "Nguyễn Văn Thành", "site": "TW", "title": "Chánh Văn phòng"}
    count = FIVE_MB // len(json.dumps(person, ensure_ascii=False, indent=1).encode())
    document = {
        "plenary": 1,
        "conference": {"title": "Hội nghị", "starts_on": "2026-12-10", "ends_on": "2026-12-10"},
        "sites": [{"code": "TW", "name": "Hà Nội", "kind": "main"}],
        "delegates": [{**person, "name": f"{person['name']} {n}"} for n in range(count)],
    }
    return json.dumps(document, ensure_ascii=False, indent=1)[:-3]


async def more_delegates(hall: Hall, count: int) -> list[str]:
    """The badges of count more delegates at HNI."""
    app = hall.app
    badges = []
    async with app[db_key].transaction() as session:
        conference = (
            await session.exec(select(Conference).where(Conference.public_id == hall.cid))
        ).one()
        actor = Actor(CLI, conference.id, frozenset({"organizer"}))
        for n in range(count):
            delegate = await create_delegate(
                session, conference, DelegateCreate(name=f"Đại biểu {n}", site="HNI"), actor=actor
            )
            badges.append(
                credentials.credential_for(
                    app[keyring_key], hall.cid, conference.ends_on, delegate.public_id, 1, 7
                )
            )
    return badges


async def check_in_until(hall: Hall, badges: list[str], done: asyncio.Event) -> list[Any]:
    """Check badges in one after the other until done is set (and at least five)."""
    answers = []
    for badge in badges:
        if done.is_set() and len(answers) >= 5:
            break
        status, body = await hall.operators["HNI"].post(
            hall.url("/checkins"), {"nonce": nonce(), "credential": badge}
        )
        answers.append((status, body.get("outcome") if isinstance(body, dict) else body))
    return answers


@pytest.mark.parametrize(
    ("build", "content_type"),
    [
        (yaml_broken_at_the_end, "application/yaml"),
        (yaml_of_broken_sections, "application/yaml"),
        (json_broken_at_the_end, "application/json"),
    ],
)
async def test_a_broken_5mb_file_is_refused_fast_while_check_ins_go_on(
    client: Client, organizer: Api, build: Any, content_type: str
) -> None:
    hall = await make_hall(client, organizer)
    badges = await more_delegates(hall, 60)
    raw = build().encode()
    assert len(raw) >= FIVE_MB
    last_line = raw.count(b"\n") + 1
    done = asyncio.Event()
    stream = asyncio.create_task(check_in_until(hall, badges, done))
    try:
        started = time.monotonic()
        status, body = await organizer.post(
            IMPORT, data=io.BytesIO(raw), headers={"Content-Type": content_type}
        )
        took = time.monotonic() - started
        done.set()
        answers = await asyncio.wait_for(stream, timeout=60)
    finally:
        stream.cancel()
    assert status == 422, body
    assert body["error"]["code"] == "invalid_format"
    first = body["error"]["details"][0]
    assert first["path"] == "" and "syntax" in first["message"]
    assert isinstance(first["line"], int) and isinstance(first["column"], int)
    assert f"line {first['line']}, column {first['column']}" in first["message"]
    if build is yaml_of_broken_sections:
        assert first["line"] <= 3
    else:
        assert last_line - 2 <= first["line"] <= last_line
    assert took < 2.0, f"the broken file took {took:.2f} s"
    assert answers and all(answer == (200, "ok") for answer in answers), answers
    assert await ledger_rows(hall.app) == len(answers)
    async with hall.app[db_key].read() as session:
        titles = (await session.exec(select(Conference.title))).all()
    assert titles == ["Hội nghị toàn quốc"]  # the hall's only


async def test_a_dry_run_takes_no_write_lock(client: Client, organizer: Api) -> None:
    db = client.app[db_key]
    async with db.transaction() as session:
        # Another writer holds the lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: the table).
        if db.dialect == "postgresql":
            await session.exec(text("LOCK TABLE conference IN EXCLUSIVE MODE"))  # type: ignore[call-overload]
        answer = organizer.post(
            IMPORT + "?dry_run=1", data=SMALL.encode(), headers={"Content-Type": "text/yaml"}
        )
        status, body = await asyncio.wait_for(answer, timeout=10)
    assert status == 200, body
    assert body["valid"] is True and body["counts"]["sites"] == 2
    status, body = await organizer.post(
        IMPORT, data=SMALL.encode(), headers={"Content-Type": "text/yaml"}
    )
    assert status == 201, body


@pytest.mark.parametrize(
    ("raw", "content_type", "path", "words"),
    [
        (
            '{"plenary": 1, "conference": {"title": "T", "starts_on": "2026-12-10", '
            '"ends_on": "2026-12-10"}, "sites": [{"code": "TW", "name": "Hà Nội", '
            '"expected_attendance": 1' + "0" * 5000 + "}]}",
            "application/json",
            "sites[0].expected_attendance",
            "more than 30 digits",
        ),
        (
            "plenary: 1\nconference:\n  title: T\n  starts_on: '2026-12-10'\n"
            "  ends_on: '2026-12-10'\n  speaking_limit_seconds: 9" + "9" * 5000 + "\n",
            "application/yaml",
            "conference.speaking_limit_seconds",
            "more than 30 digits",
        ),
        ("[" * 5000 + "]" * 5000, "application/json", "", "nests more than"),
        ('{"a": ' * 5000 + "1" + "}" * 5000, "application/json", "", "nests more than"),
        ("- " * 5000 + "x\n", "application/yaml", "", "nests more than"),
        ("[" * 5000 + "]" * 5000, "application/yaml", "", "nests more than"),
    ],
)
async def test_huge_numbers_and_deep_nesting_in_a_file_are_named_problems(
    organizer: Api, raw: str, content_type: str, path: str, words: str
) -> None:
    status, body = await organizer.post(
        IMPORT, data=raw.encode(), headers={"Content-Type": content_type}
    )
    assert status == 422, body
    assert body["error"]["code"] == "invalid_format"
    problems = body["error"]["details"]
    assert any(p["path"] == path and words in p["message"] for p in problems), problems


# --- XLSX: a hostile sheet does not hold up logins -------------------------------------


async def timed_login(client: Client, username: str) -> float:
    """Seconds one login takes, from a client of its own (the organizer's cookie stays)."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as session:
        started = time.monotonic()
        async with session.post(
            client.make_url("/api/v1/auth/login"),
            json={"username": username, "password": PASSWORD},
        ) as resp:
            assert resp.status == 200, await resp.text()
        return time.monotonic() - started


# Against a login at its real cost: the point is that hashing has threads of its own.
@pytest.mark.usefixtures("production_passwords")
async def test_hostile_sheets_are_refused_fast_and_logins_go_on(
    client: Client, organizer: Api, conference: dict[str, Any]
) -> None:
    await add_account(client.app[db_key], "secretary")
    baseline = min([await timed_login(client, "secretary") for _ in range(2)])
    raw = hostile()
    url = f"/api/v1/conferences/{conference['id']}/delegates/import"

    async def send() -> tuple[int, Any, float]:
        status, body = await organizer.post(
            url, data=raw, headers={"Content-Type": XLSX_MEDIA_TYPE}
        )
        return status, body, time.monotonic()

    pool, workers = client.app[parse_pool_key], client.app[config_key].parse_workers
    # Every reading thread is held, so the files sent below can only wait in the pool:
    # a login that comes back meanwhile did not need a reading thread. (Timing the login
    # against files being read failed on a busy machine: they were all read first.)
    gate = threading.Event()
    held = [asyncio.create_task(pool.run(gate.wait, 60)) for _ in range(workers)]
    # More hostile uploads at once than the default executor has threads (within what
    # the pool lets wait).
    count = min(DEFAULT_EXECUTOR_THREADS + 2, pool.limit - workers)
    imports = [asyncio.create_task(send()) for _ in range(count)]
    try:
        async with asyncio.timeout(30):
            # A thread pool rings no bell: its count is looked at until every file waits.
            while pool.busy < workers + count:  # noqa: ASYNC110
                await asyncio.sleep(0.005)
        during = await timed_login(client, "secretary")
        still_waiting = sum(not task.done() for task in imports)
        gate.set()
        released = time.monotonic()
        answers = await asyncio.wait_for(asyncio.gather(*imports), timeout=60)
        await asyncio.gather(*held)
    finally:
        gate.set()
        for task in imports:
            task.cancel()
    assert still_waiting == count
    for status, body, _ in answers:
        assert status == 413, body
        assert body["error"]["code"] == "too_large"
        assert body["error"]["details"] == {"limit": "cells"}
    # Once the threads are free, a hostile sheet is refused in seconds.
    assert min(answered for _, _, answered in answers) - released < 5
    assert during < 5 * baseline, f"login {during:.3f} s while files wait, {baseline:.3f} s before"


async def test_the_parse_pool_refuses_files_past_its_limit() -> None:
    release = threading.Event()
    pool = ParsePool(ThreadPoolExecutor(max_workers=1), limit=2)
    try:
        reading = [asyncio.create_task(pool.run(release.wait, 30)) for _ in range(2)]
        async with asyncio.timeout(10):
            while pool.busy < 2:  # noqa: ASYNC110 (the tasks start on the next turns)
                await asyncio.sleep(0)
        with pytest.raises(RateLimited) as excinfo:
            await pool.run(len, b"x")
        assert excinfo.value.code == "rate_limited" and excinfo.value.retry_after > 0
        release.set()
        assert await asyncio.wait_for(asyncio.gather(*reading), timeout=30) == [True, True]
        assert pool.busy == 0
        assert await pool.run(len, b"abc") == 3
    finally:
        release.set()
        pool.executor.shutdown(wait=True)
