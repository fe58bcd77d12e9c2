"""`plenary backup` and `plenary restore` of an SQLite database (docs/installation.md).

A backup is SQLite's online backup API in one step: it reads one consistent snapshot of
the database while the server goes on writing (in WAL mode a reader never blocks the
writer), so every transaction committed before it started is in the copy and none is
half in it. A restore checks the file (an SQLite database of plenary, intact, at a
schema revision this code knows), brings a copy of it to the newest schema, and only
then swaps it in; the database it replaces is kept beside it. It refuses while another
process has the database open (a running server). PostgreSQL is backed up with its own
tools (pg_dump, pg_restore).
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from conference.db import normalise_url
from conference.dbtypes import new_public_id
from conference.errors import Conflict, InvalidInput

SQLITE_HEADER = b"SQLite format 3\x00"
PG_DUMP_HINT = (
    "on PostgreSQL use its own tools: pg_dump --format=custom --file=FILE DBNAME while "
    "the server runs, pg_restore --clean --dbname=DBNAME FILE to put it back "
    "(docs/installation.md)"
)


@dataclass(frozen=True)
class Copied:
    """What a backup or a restore did."""

    path: Path
    revision: str
    size: int
    migrated_from: str | None = None
    kept: Path | None = None


def sqlite_path(url: str) -> Path:
    """The file of an SQLite database URL; PostgreSQL and in-memory databases are refused."""
    parsed = make_url(normalise_url(url))
    if not parsed.drivername.startswith("sqlite"):
        raise InvalidInput(
            f"backup and restore work on an SQLite database; {PG_DUMP_HINT}", field="database-url"
        )
    if not parsed.database or parsed.database == ":memory:":
        raise InvalidInput("an in-memory database cannot be backed up", field="database-url")
    return Path(parsed.database)


def _connect(path: Path, *, wait: float = 30.0) -> sqlite3.Connection:
    return sqlite3.connect(path, timeout=wait, isolation_level=None)


def plenary_revision(path: Path) -> str:
    """The schema revision of a plenary database file; refuses anything else."""
    try:
        with path.open("rb") as head:
            header = head.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc.strerror}", field="file") from None
    if header != SQLITE_HEADER:
        raise InvalidInput(f"{path} is not an SQLite database", field="file")
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        try:
            rows = conn.execute("SELECT version_num FROM alembic_version").fetchall()
        except sqlite3.DatabaseError:
            rows = []
        if len(rows) != 1:
            raise InvalidInput(f"{path} is not a plenary database", field="file")
        checked = conn.execute("PRAGMA quick_check").fetchone()
    if checked != ("ok",):
        raise InvalidInput(f"{path} is damaged: {checked[0] if checked else '?'}", field="file")
    return str(rows[0][0])


def _known(revision: str) -> bool:
    from alembic.script import ScriptDirectory

    from server.migrate import alembic_config

    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except Exception:  # alembic's own errors for an unknown or malformed revision
        return False


def _copy(source: Path, target: Path) -> None:
    """Copy with the online backup API: one read transaction, so one consistent state."""
    with closing(_connect(source)) as src, closing(_connect(target)) as dst:
        src.backup(dst)
        # A file of its own: no -wal beside it to lose when it is moved or mailed.
        dst.execute("PRAGMA journal_mode=DELETE")
    with target.open("rb") as written:
        os.fsync(written.fileno())


def backup(url: str, file: Path) -> Copied:
    """Write a consistent copy of the SQLite database at url to file (a new file)."""
    source = sqlite_path(url)
    if not source.exists():
        raise InvalidInput(f"there is no database at {source}", field="database-url")
    plenary_revision(source)
    if file.exists():
        raise Conflict(f"{file} exists already: give the name of a new file")
    partial = file.with_name(f".{file.name}.partial")
    partial.unlink(missing_ok=True)
    # Owner only: the copy holds password hashes, link secrets and the signing keys.
    os.close(os.open(partial, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    try:
        _copy(source, partial)
        revision = plenary_revision(partial)
        os.replace(partial, file)
    finally:
        partial.unlink(missing_ok=True)
    return Copied(file, revision, file.stat().st_size)


def _ensure_unused(target: Path) -> None:
    """Refuse while another process has target open; leave it out of WAL mode (no -wal)."""
    try:
        with closing(_connect(target, wait=0)) as conn:
            mode = conn.execute("PRAGMA journal_mode=DELETE").fetchone()
    except sqlite3.OperationalError:
        mode = None
    if mode != ("delete",):
        raise Conflict(
            f"{target} is in use (a running server?): stop the server, then restore",
            field="database-url",
        )


def _new_epochs(path: Path) -> None:
    """A restore rewinds every conference's live log: a new epoch tells each client to drop
    what it holds and load a snapshot, instead of taking the restored seqs for its own."""
    with closing(_connect(path)) as conn:
        ids = [row[0] for row in conn.execute("SELECT id FROM conference")]
        conn.execute("BEGIN")
        conn.executemany(
            "UPDATE conference SET epoch = ? WHERE id = ?", [(new_public_id(), n) for n in ids]
        )
        conn.execute("COMMIT")


async def restore(file: Path, url: str) -> Copied:
    """Put the backup file in place of the SQLite database at url, migrated to the newest
    schema; the database it replaces is kept as <name>.before-restore-<time>."""
    from server.migrate import head_revision, upgrade

    target = sqlite_path(url)
    revision = plenary_revision(file)
    head = head_revision()
    if not _known(revision):
        raise InvalidInput(
            f"{file} has schema revision {revision}, which this version of plenary does not "
            f"know (it has {head}): restore it with the version that wrote it, or a newer one",
            field="file",
        )
    staged = target.with_name(f".{target.name}.restoring")
    staged.unlink(missing_ok=True)
    try:
        _copy(file, staged)
        if revision != head:
            await upgrade(f"sqlite+aiosqlite:///{staged}")
        _new_epochs(staged)
        final = plenary_revision(staged)
        kept = None
        if target.exists():
            _ensure_unused(target)
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            kept = target.with_name(f"{target.name}.before-restore-{stamp}")
            os.replace(target, kept)
        for leftover in (Path(f"{target}-wal"), Path(f"{target}-shm")):
            leftover.unlink(missing_ok=True)
        os.replace(staged, target)
    finally:
        staged.unlink(missing_ok=True)
    migrated = revision if revision != head else None
    return Copied(target, final, target.stat().st_size, migrated, kept)
