"""The `plenary` command line."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from cli import awards as cli_awards
from cli import backup as cli_backup
from cli.options import (
    EPILOG,
    Subcommands,
    conference_argument,
    database_command,
    listen_options,
)
from cli.serve import serve
from conference.errors import PlenaryError

# The server's stack (aiohttp, SQLAlchemy, Argon2...) is imported by the commands that use
# it: `plenary follow` is a small client, and loading all of it made the command take
# seconds to start on a busy machine (tests/client/test_follow.py counts its imports).
if TYPE_CHECKING:
    from sqlmodel.ext.asyncio.session import AsyncSession

    from conference.models import Account
    from runtime.config import Config


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plenary",
        description="Run hybrid national conferences: sites, delegates, agenda, live speaker "
        "lists, minutes and awards.",
        epilog=EPILOG,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_serving(sub)
    _add_transfer(sub)
    _add_user(sub)
    _add_follow(sub)
    cli_awards.add_parser(sub)
    cli_backup.add_parsers(sub)
    sub.add_parser(
        "config",
        help="list the settings and their environment variables",
        description="List every setting, its environment variable and default.",
    )
    return parser


def _add_serving(sub: Subcommands) -> None:
    """serve, migrate, demo."""
    serve = database_command(
        sub,
        "serve",
        help="run the server",
        description="Run the HTTP and "
        "WebSocket server. Refuses to start on a database that is not migrated.",
    )
    listen_options(serve)
    serve.add_argument(
        "--local",
        action="store_true",
        default=None,
        help="a server on this machine only (a trial): without PLENARY_PUBLIC_URL, links "
        "and QR codes point to http://HOST:PORT (default: PLENARY_PUBLIC_URL is required)",
    )

    database_command(
        sub,
        "migrate",
        help="apply database migrations",
        description="Bring the database schema to the newest version.",
    )

    demo = database_command(
        sub,
        "demo",
        help="create the reference conference and serve it",
        description="Create (once) the reference conference of 35 sites on "
        "the database, print the demo accounts and URLs, and serve it.",
    )
    listen_options(demo)
    demo.add_argument("--no-serve", action="store_true", help="create the data and exit")


def _add_transfer(sub: Subcommands) -> None:
    """import and export of a conference file."""
    importer = database_command(
        sub,
        "import",
        help="create a conference from a YAML or JSON conference file",
        description="Create a conference, its sites, agenda, delegates and awards from a "
        "conference file (docs/conference-file.md). Every problem in the file is listed "
        "with its line, and then nothing is created.",
    )
    importer.add_argument("file", metavar="FILE", help="the file (.yaml, .yml, .json; - for stdin)")
    importer.add_argument(
        "--format", choices=["yaml", "json"], help="default: json for *.json, yaml otherwise"
    )
    importer.add_argument("--dry-run", action="store_true", help="check the file, create nothing")
    importer.add_argument("--organizer", metavar="USERNAME", help="make this account organizer")

    exporter = database_command(
        sub,
        "export",
        help="write a conference to a YAML or JSON conference file",
        description="Write a conference as a conference file that `plenary import` reads back.",
    )
    conference_argument(exporter)
    exporter.add_argument(
        "--format", choices=["yaml", "json"], help="default: from -o's extension, else yaml"
    )
    exporter.add_argument("-o", "--output", metavar="FILE", help="write here, not to stdout")


def _add_user(sub: Subcommands) -> None:
    """user add."""
    user = sub.add_parser("user", help="manage accounts", description="Manage accounts.")
    user_sub = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = database_command(
        user_sub,
        "add",
        help="create an account",
        description="Create an account. The password is read from --password-stdin or asked "
        "for on the terminal.",
    )
    add.add_argument("username")
    add.add_argument("--name", default="", help="display name")
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    add.add_argument(
        "--admin", action="store_true", help="administrator: organizer of every conference"
    )
    add.add_argument("--can-create", action="store_true", help="may create conferences")
    add.add_argument("--conference", help="public id of a conference to give a role in")
    add.add_argument(
        "--role",
        choices=["organizer", "chair", "secretary", "site_operator", "delegate"],
        help="the role in --conference",
    )
    add.add_argument("--site", help="site code (for a site operator)")


def _add_follow(sub: Subcommands) -> None:
    """follow: the live agenda in a terminal."""
    follow = sub.add_parser(
        "follow",
        help="print a conference's live agenda and speaker changes",
        description="Connect to a running server's WebSocket, print what is going on (the "
        "running item, the agenda, the speaker list), then one line per change: items "
        "started and ended, speakers asking, queued and speaking, roll calls, and for the "
        "staff sites connecting. After a dropped connection it reconnects (1 s doubling to "
        "30 s) and resumes where it left off. Ctrl-C stops it. See docs/follow.md.",
        epilog="Exits 1 with a one-line error for a wrong URL, a refused token or an unknown "
        "conference.",
    )
    follow.add_argument(
        "url", metavar="SERVER_URL", help="the server's base URL, e.g. https://plenary.example.vn"
    )
    follow.add_argument(
        "--conference", required=True, metavar="ID", help="the conference's public id"
    )
    follow.add_argument(
        "--token",
        help="API token or session to authenticate with (default: $PLENARY_TOKEN; without "
        "one: anonymous, public conferences only)",
    )
    follow.add_argument(
        "--json", action="store_true", help="print the snapshot and each event as one JSON line"
    )


def _config(args: argparse.Namespace) -> Config:
    from runtime.config import Config

    return Config.from_env(
        database_url=getattr(args, "database_url", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
        # The demo runs on this machine; serve is local only when told (--local).
        local=True if args.command == "demo" else getattr(args, "local", None),
    )


async def _user_add(config: Config, args: argparse.Namespace, password: str) -> str:
    from conference.accounts import create_account, grant_role
    from conference.actors import CLI, Actor
    from conference.db import Database
    from conference.services import get_conference, get_site_by_code

    db = Database(config.database_url)
    try:
        async with db.transaction() as session:
            actor = Actor(CLI)
            account = await create_account(
                session,
                args.username,
                password,
                display_name=args.name,
                is_admin=args.admin,
                can_create_conferences=args.can_create,
                actor=actor,
            )
            if args.conference:
                if not args.role:
                    raise PlenaryError("--conference needs --role", field="role")
                conference = await get_conference(session, args.conference)
                site = None
                if args.site:
                    assert conference.id is not None
                    site = await get_site_by_code(session, conference.id, args.site)
                    if site is None:
                        raise PlenaryError(
                            f"no site {args.site!r} in this conference", field="site"
                        )
                await grant_role(
                    session,
                    account,
                    conference,
                    args.role,
                    site=site,
                    actor=Actor(CLI, conference.id, frozenset({"organizer"})),
                )
            return account.username
    finally:
        await db.dispose()


def _counts_text(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {what.replace('_', ' ')}" for what, n in counts.items())


async def _import(config: Config, args: argparse.Namespace, raw: bytes) -> str:
    from conference.accounts import grant_role
    from conference.actors import CLI, Actor
    from conference.db import Database
    from conference_file import importing
    from server.migrate import ensure_current

    await ensure_current(config.database_url)
    fmt = args.format or importing.format_for_name(args.file)
    # Read in full before any lock: a broken file never holds up the server's writers.
    file = await asyncio.to_thread(importing.read_conference_file, raw, fmt)
    counts = _counts_text(importing.ImportCounts.of(file.plan).model_dump())
    db = Database(config.database_url)
    try:
        if args.dry_run:
            async with db.read() as session:
                await _organizer(session, args.organizer)
                await importing.check_against_database(session, file)
            return f"{args.file} is valid ({counts}); nothing was imported (--dry-run)"
        async with db.transaction() as session:
            account = await _organizer(session, args.organizer)
            conference = await importing.import_conference(session, file, actor=Actor(CLI))
            if account is not None:
                organizer = Actor(CLI, conference.id, frozenset({"organizer"}))
                await grant_role(session, account, conference, "organizer", actor=organizer)
            return f"conference {conference.public_id} imported ({counts})"
    finally:
        await db.dispose()


async def _organizer(session: AsyncSession, username: str | None) -> Account | None:
    from conference.accounts import get_account_by_username

    if not username:
        return None
    account = await get_account_by_username(session, username)
    if account is None:
        raise PlenaryError(f"no account {username!r}", field="organizer")
    return account


def _import_file(config: Config, args: argparse.Namespace) -> int:
    from conference.errors import InvalidInput

    name = "<stdin>" if args.file == "-" else args.file
    try:
        raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    except OSError as exc:
        raise PlenaryError(f"cannot read {name}: {exc.strerror}", field="file") from None
    try:
        print(asyncio.run(_import(config, args, raw)))
    except InvalidInput as exc:
        for problem in exc.details if isinstance(exc.details, list) else []:
            where = f"{name}:{problem.get('line') or '?'}"
            print(
                f"{where}: {problem.get('path') or '(file)'}: {problem['message']}", file=sys.stderr
            )
        print(f"plenary: {exc.message}; nothing was imported", file=sys.stderr)
        return 1
    return 0


async def _export(config: Config, args: argparse.Namespace, fmt: str) -> str:
    from conference.db import Database
    from conference.services import get_conference
    from conference_file import exporting, importing
    from server.migrate import ensure_current

    await ensure_current(config.database_url)
    db = Database(config.database_url)
    try:
        async with db.transaction() as session:
            conference = await get_conference(session, args.conference)
            document = await exporting.export_conference(session, conference)
        return exporting.dump(document, importing.parse_format(fmt))
    finally:
        await db.dispose()


def _export_file(config: Config, args: argparse.Namespace) -> None:
    from conference_file.importing import format_for_name

    fmt = args.format or (format_for_name(args.output) if args.output else "yaml")
    text = asyncio.run(_export(config, args, fmt))
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"conference {args.conference} written to {args.output}")
    else:
        sys.stdout.write(text)


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise PlenaryError("the passwords differ", field="password")
    return first


def _migrate(config: Config, args: argparse.Namespace) -> int | None:
    from conference.db import Database
    from server.migrate import head_revision, upgrade

    asyncio.run(upgrade(config.database_url))
    print(f"database at {head_revision()}: {Database(config.database_url).url.split('@')[-1]}")
    return None


def _demo(config: Config, args: argparse.Namespace) -> int | None:
    from cli.demo import run_demo

    run_demo(config, serve=not args.no_serve)
    return None


def _user(config: Config, args: argparse.Namespace) -> int | None:
    password = _read_password(args)
    name = asyncio.run(_user_add(config, args, password))
    print(f"account {name} created")
    return None


def _settings(config: Config, args: argparse.Namespace) -> int | None:
    from runtime.config import settings_table

    for name, env, default, text in settings_table():
        print(f"{env:28} {name:26} default {default!r:32} {text}")
    return None


# Each command of this server: what it does with the settings and the arguments; an int
# is the exit status (None: 0).
COMMANDS: dict[str, Callable[[Config, argparse.Namespace], int | None]] = {
    "serve": lambda config, args: serve(config),
    "migrate": _migrate,
    "demo": _demo,
    "import": _import_file,
    "export": lambda config, args: _export_file(config, args),
    "user": _user,
    "backup": lambda config, args: print(cli_backup.backup_command(config.database_url, args.file)),
    "restore": lambda config, args: print(
        cli_backup.restore_command(config.database_url, args.file)
    ),
    "awards": lambda config, args: print(cli_awards.render_command(config, args)),
    "config": _settings,
}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command == "follow":
        # A client of another server: none of this server's settings apply.
        from client.follow import run_follow

        token = args.token or os.environ.get("PLENARY_TOKEN")
        return run_follow(args.url, args.conference, token=token, as_json=args.json)
    try:
        config = _config(args)
    except ValueError as exc:
        print(f"plenary: {exc}", file=sys.stderr)
        return 2
    try:
        return COMMANDS[args.command](config, args) or 0
    except PlenaryError as exc:
        where = f" ({exc.field})" if exc.field else ""
        print(f"plenary: {exc.message}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":  # pragma: no cover
    os._exit(main())
