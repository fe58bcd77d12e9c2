"""`plenary backup FILE` and `plenary restore FILE` (cli/sqlite_backup.py, docs/installation.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from cli.options import Subcommands, database_command


def add_parsers(sub: Subcommands) -> None:
    backup = database_command(
        sub,
        "backup",
        help="copy a running SQLite database to a file",
        description="Write a consistent copy of the SQLite database to FILE (a new file), "
        "safe while the server runs and writes: every change committed before the backup "
        "started is in it. SQLite only: on PostgreSQL use pg_dump (docs/installation.md).",
    )
    backup.add_argument("file", metavar="FILE", help="the backup to write (must not exist)")
    restore = database_command(
        sub,
        "restore",
        help="put an SQLite backup back in place of the database",
        description="Replace the SQLite database with the backup FILE, with the server "
        "stopped. FILE must be a plenary database at a schema revision this version knows; "
        "an older one is migrated on the way in. The replaced database is kept as "
        "NAME.before-restore-TIME. Refuses while a process has the database open.",
    )
    restore.add_argument("file", metavar="FILE", help="the backup written by `plenary backup`")


def backup_command(database_url: str, file: str) -> str:
    from cli.sqlite_backup import backup

    done = backup(database_url, Path(file))
    return f"backup written to {done.path} ({done.size} bytes, schema {done.revision})"


def restore_command(database_url: str, file: str) -> str:
    from cli.sqlite_backup import restore

    done = asyncio.run(restore(Path(file), database_url))
    lines = [f"{file} restored to {done.path} (schema {done.revision})"]
    if done.migrated_from:
        lines.append(f"migrated from schema {done.migrated_from}")
    if done.kept:
        lines.append(f"the database it replaced is kept as {done.kept}")
    return "\n".join(lines)
