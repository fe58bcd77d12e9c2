"""What `plenary`'s subcommands share: the epilog, the --database-url option, where a
server listens and which conference a command works on."""

from __future__ import annotations

import argparse
from typing import TypeAlias

EPILOG = "Settings come from PLENARY_* environment variables; `plenary config` lists them."


def database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        help="database URL (default: $PLENARY_DATABASE_URL or sqlite+aiosqlite:///plenary.db)",
    )


def listen_options(parser: argparse.ArgumentParser) -> None:
    """--host and --port, for the commands that serve."""
    parser.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, help="port to listen on (default 8080)")


def conference_argument(parser: argparse.ArgumentParser) -> None:
    """The conference a command works on, by its public id."""
    parser.add_argument("conference", metavar="CONFERENCE_ID", help="the conference's public id")


# A string: argparse's class takes no type argument at run time.
Subcommands: TypeAlias = "argparse._SubParsersAction[argparse.ArgumentParser]"


def database_command(
    sub: Subcommands, name: str, *, help: str, description: str
) -> argparse.ArgumentParser:
    """A subcommand that works on the database: the shared epilog and --database-url."""
    parser = sub.add_parser(name, help=help, description=description, epilog=EPILOG)
    database_option(parser)
    return parser
