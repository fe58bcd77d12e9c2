"""What every `plenary` subcommand shares: the epilog and the --database-url option."""

from __future__ import annotations

import argparse

EPILOG = "Settings come from PLENARY_* environment variables; `plenary config` lists them."


def database_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        help="database URL (default: $PLENARY_DATABASE_URL or sqlite+aiosqlite:///plenary.db)",
    )
