"""`plenary backup` of a running SQLite server and `plenary restore` (issue 14).

The backup is taken by the command, in its own process, while a real `plenary serve`
receives check-ins; restored into a fresh file, it holds every check-in acknowledged
before the backup started and passes the schema check. Restore refuses what is not a
plenary database, a schema newer than the code, and a database in use.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import sys
from contextlib import closing
from pathlib import Path

import aiohttp
import pytest

from cli.main import main
from server.migrate import current_revision, ensure_current, head_revision, upgrade
from tests.server.serve_process import ROOT, start_server
from tests.server.test_checkin_crash import Hall, ledger, nonce, prepare

WAIT = 120.0  # ends a wait that has already failed


async def plenary(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "cli",
        *args,
        cwd=ROOT,
        env=os.environ.copy(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), WAIT)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def check_ins(
    base: str,
    hall: Hall,
    scans: list[dict[str, str]],
    acknowledged: list[str],
    flowing: asyncio.Event,
) -> None:
    """Check scans in one after another; note each acknowledged nonce in order."""
    url = f"{base}/api/v1/conferences/{hall.cid}/checkins"
    headers = {"Authorization": f"Bearer {hall.token}"}
    async with aiohttp.ClientSession() as http:
        for scan in scans:
            key = nonce()
            async with http.post(url, json={"nonce": key, **scan}, headers=headers) as resp:
                answer = await resp.json()
                assert resp.status == 200, answer
            acknowledged.append(key)
            if len(acknowledged) >= 30:
                flowing.set()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
async def test_a_backup_during_checkins_restores_every_acknowledged_one(
    db_url: str, tmp_path: Path
) -> None:
    hall = await prepare(db_url)
    server, base = await start_server(db_url, tmp_path / "server.log")
    acknowledged: list[str] = []
    flowing = asyncio.Event()
    clients = [
        asyncio.create_task(check_ins(base, hall, hall.scans[n::3], acknowledged, flowing))
        for n in range(3)
    ]
    try:
        signal = asyncio.create_task(flowing.wait())
        await asyncio.wait([signal, *clients], timeout=WAIT, return_when=asyncio.FIRST_COMPLETED)
        signal.cancel()
        assert flowing.is_set() and not any(task.done() for task in clients), clients
        before = list(acknowledged)
        copy = tmp_path / "backup.db"
        code, out, err = await plenary("backup", str(copy), "--database-url", db_url)
        assert (code, err) == (0, ""), err
        assert out.startswith(f"backup written to {copy} (") and head_revision() in out
        assert copy.stat().st_mode & 0o077 == 0  # readable by its owner only
        during = len(acknowledged) - len(before)
        assert not any(task.done() for task in clients), "the check-ins stopped"
    finally:
        for task in clients:
            task.cancel()
        await asyncio.gather(*clients, return_exceptions=True)
        server.terminate()
        server.wait(WAIT)
    fresh = f"sqlite+aiosqlite:///{tmp_path / 'fresh.db'}"
    code, out, err = await plenary("restore", str(copy), "--database-url", fresh)
    assert (code, err) == (0, ""), err
    await ensure_current(fresh)  # the restored database passes the schema check
    rows, outcome, _ = await ledger(fresh)
    assert all(rows[key] == 1 and outcome[key] == "ok" for key in before)
    # The live log was rewound: a new epoch makes every client reload a snapshot.
    assert epochs(tmp_path / "fresh.db") != epochs(copy)
    print(f"{len(before)} check-ins before the backup, {during} during it")


def epochs(path: Path) -> list[tuple[int, str]]:
    with closing(sqlite3.connect(path)) as conn:
        return list(conn.execute("SELECT id, epoch FROM conference ORDER BY id"))


def make_file(path: Path, sql: str = "") -> Path:
    with closing(sqlite3.connect(path)) as conn:
        conn.executescript(sql or "CREATE TABLE t (x INTEGER);")
    return path


def test_backup_refuses_postgresql_and_points_at_pg_dump(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1/plenary"
    assert main(["backup", str(tmp_path / "b.db"), "--database-url", url]) == 1
    err = capsys.readouterr().err
    assert "SQLite" in err and "pg_dump" in err
    assert not (tmp_path / "b.db").exists()


def test_backup_never_overwrites_a_file(
    sqlite_template: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    existing = tmp_path / "b.db"
    existing.write_bytes(b"mine")
    url = f"sqlite:///{sqlite_template}"
    assert main(["backup", str(existing), "--database-url", url]) == 1
    assert "exists already" in capsys.readouterr().err
    assert existing.read_bytes() == b"mine"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p.write_bytes(b"not a database at all" * 10), "is not an SQLite database"),
        (lambda p: make_file(p), "is not a plenary database"),
        (
            lambda p: make_file(
                p,
                "CREATE TABLE alembic_version (version_num VARCHAR(32));"
                "INSERT INTO alembic_version VALUES ('9999');",
            ),
            "schema revision 9999, which this version of plenary does not know",
        ),
    ],
    ids=["not_sqlite", "not_plenary", "newer_schema"],
)
def test_restore_refuses_a_file_it_cannot_use_and_changes_nothing(
    make: object,
    message: str,
    sqlite_template: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bad = tmp_path / "bad.db"
    assert callable(make)
    make(bad)
    target = tmp_path / "plenary.db"
    target.write_bytes(sqlite_template.read_bytes())
    before = target.read_bytes()
    assert main(["restore", str(bad), "--database-url", f"sqlite:///{target}"]) == 1
    assert message in capsys.readouterr().err
    assert target.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.db", "plenary.db"]


async def test_restore_migrates_an_older_backup(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    await upgrade(f"sqlite+aiosqlite:///{old}", "0007")
    target = f"sqlite+aiosqlite:///{tmp_path / 'plenary.db'}"
    code, out, err = await plenary("restore", str(old), "--database-url", target)
    assert (code, err) == (0, ""), err
    assert "migrated from schema 0007" in out
    assert await current_revision(target) == head_revision()
    assert await current_revision(f"sqlite+aiosqlite:///{old}") == "0007"  # left as it was


async def test_restore_refuses_while_a_process_has_the_database_open(
    sqlite_template: Path, tmp_path: Path
) -> None:
    target = tmp_path / "plenary.db"
    shutil.copy(sqlite_template, target)
    copy = tmp_path / "backup.db"
    url = f"sqlite+aiosqlite:///{target}"
    assert (await plenary("backup", str(copy), "--database-url", url))[0] == 0
    # What a running server holds: an open connection in WAL mode.
    with closing(sqlite3.connect(target, isolation_level=None)) as server:
        server.execute("PRAGMA journal_mode=WAL")
        server.execute("SELECT count(*) FROM alembic_version").fetchone()
        code, _, err = await plenary("restore", str(copy), "--database-url", url)
        assert code == 1
        assert (
            err == f"plenary: {target} is in use (a running server?): stop the server, "
            "then restore (database-url)\n"
        )
    code, out, err = await plenary("restore", str(copy), "--database-url", url)
    assert (code, err) == (0, ""), err
    kept = [n for n in os.listdir(tmp_path) if n.startswith("plenary.db.before-restore-")]
    assert len(kept) == 1 and f"kept as {tmp_path / kept[0]}" in out


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: plenary {command} [-h] [--database-url DATABASE_URL] FILE")
    assert ("pg_dump" in out) if command == "backup" else ("stopped" in out)
