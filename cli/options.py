"""What every `plenary` subcommand shares: the epilog and the --database-url option."""

from __future__ import annotations

import argparse
from typing import TypeAlias

EPILOG = "Settings come from PLENARY_* environment variables; `plenary config` lists them."


def database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        help="database URL (default: $PLENARY_DATABASE_URL or sqlite+aiosqlite:///plenary.db)",
    )


# A string: argparse's class takes no type argument at run time.
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def database_command(
    sub: Subcommands, name: str, *, help: str, description: str
) -> argparse.ArgumentParser:
    """A subcommand that works on the database: the shared epilog and --database-url."""
    parser = sub.add_parser(name, help=help, description=description, epilog=EPILOG)
    database_option(parser)
    return parser
