"""`plenary backup FILE` and `plenary restore FILE` (cli/sqlite_backup.py, docs/installation.md)."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from cli.options import EPILOG, database_option


def add_parsers(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    backup = sub.add_parser(
        "backup",
        help="copy a running SQLite database to a file",
        description="Write a consistent copy of the SQLite database to FILE (a new file), "
        "safe while the server runs and writes: every change committed before the backup "
        "started is in it. SQLite only: on PostgreSQL use pg_dump (docs/installation.md).",
        epilog=EPILOG,
    )
    database_option(backup)
    backup.add_argument("file", metavar="FILE", help="the backup to write (must not exist)")
    restore = sub.add_parser(
        "restore",
        help="put an SQLite backup back in place of the database",
        description="Replace the SQLite database with the backup FILE, with the server "
        "stopped. FILE must be a plenary database at a schema revision this version knows; "
        "an older one is migrated on the way in. The replaced database is kept as "
        "NAME.before-restore-TIME. Refuses while a process has the database open.",
        epilog=EPILOG,
    )
    database_option(restore)
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
