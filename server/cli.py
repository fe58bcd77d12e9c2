"""The `plenary` command line."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import logging
import os
import sys
from collections.abc import Sequence

from aiohttp import web

from conference.accounts import create_account, grant_role
from conference.actors import CLI, Actor
from conference.db import Database
from conference.errors import PlenaryError
from conference.services import get_conference, get_site_by_code
from server.config import Config, settings_table

EPILOG = "Settings come from PLENARY_* environment variables; `plenary config` lists them."


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        help="database URL (default: $PLENARY_DATABASE_URL or sqlite+aiosqlite:///plenary.db)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="plenary",
        description="Run hybrid national conferences: sites, delegates, agenda, live speaker "
        "lists, minutes and awards.",
        epilog=EPILOG,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = sub.add_parser(
        "serve",
        help="run the server",
        description="Run the HTTP and "
        "WebSocket server. Refuses to start on a database that is not migrated.",
        epilog=EPILOG,
    )
    _db_option(serve)
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8080)")

    migrate = sub.add_parser(
        "migrate",
        help="apply database migrations",
        description="Bring the database schema to the newest version.",
        epilog=EPILOG,
    )
    _db_option(migrate)

    demo = sub.add_parser(
        "demo",
        help="create the reference conference and serve it",
        description="Create (once) the reference conference of 35 sites on "
        "the database, print the demo accounts and URLs, and serve it.",
        epilog=EPILOG,
    )
    _db_option(demo)
    demo.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    demo.add_argument("--port", type=int, help="port to listen on (default 8080)")
    demo.add_argument("--no-serve", action="store_true", help="create the data and exit")

    user = sub.add_parser("user", help="manage accounts", description="Manage accounts.")
    user_sub = user.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    add = user_sub.add_parser(
        "add",
        help="create an account",
        description="Create an account. The password is read from --password-stdin or asked "
        "for on the terminal.",
        epilog=EPILOG,
    )
    _db_option(add)
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

    sub.add_parser(
        "config",
        help="list the settings and their environment variables",
        description="List every setting, its environment variable and default.",
    )
    return parser


def _config(args: argparse.Namespace) -> Config:
    return Config.from_env(
        database_url=getattr(args, "database_url", None),
        host=getattr(args, "host", None),
        port=getattr(args, "port", None),
    )


def _serve(config: Config) -> None:
    from server.app import create_app

    logging.basicConfig(
        level=config.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    app = create_app(config)
    dialect = Database(config.database_url).dialect
    print(f"plenary serving on http://{config.host}:{config.port}/ ({dialect})", flush=True)
    web.run_app(app, host=config.host, port=config.port, print=None)


async def _user_add(config: Config, args: argparse.Namespace, password: str) -> str:
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


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise PlenaryError("the passwords differ", field="password")
    return first


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config = _config(args)
    except ValueError as exc:
        print(f"plenary: {exc}", file=sys.stderr)
        return 2
    try:
        if args.command == "serve":
            _serve(config)
        elif args.command == "migrate":
            from server.migrate import head_revision, upgrade

            asyncio.run(upgrade(config.database_url))
            print(
                f"database at {head_revision()}: {Database(config.database_url).url.split('@')[-1]}"
            )
        elif args.command == "demo":
            from server.demo import run_demo

            run_demo(config, serve=not args.no_serve)
        elif args.command == "user":
            password = _read_password(args)
            name = asyncio.run(_user_add(config, args, password))
            print(f"account {name} created")
        elif args.command == "config":
            for name, env, default, text in settings_table():
                print(f"{env:28} {name:26} default {default!r:32} {text}")
    except PlenaryError as exc:
        where = f" ({exc.field})" if exc.field else ""
        print(f"plenary: {exc.message}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":  # pragma: no cover
    os._exit(main())
