"""The `plenary` command line: help, migrate, user add, and serve refusing a stale schema."""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from awards.schemas import AwardCreate, DecisionCreate
from awards.services import add_award, create_decision
from cli.main import build_parser, main
from conference.accounts import authenticate, get_account_by_username
from conference.db import Database
from conference.errors import StaleSchema
from runtime.config import Config
from server.app import create_app
from server.migrate import current_revision, head_revision
from tests.conference.test_documents import scan_qr_codes
from tests.conftest import PASSWORD, new_conference

ROOT = Path(__file__).resolve().parents[2]


def command_lines(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> list[tuple[str, ...]]:
    """Every command and subcommand the parser knows."""
    found = [prefix]
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                found += command_lines(sub, (*prefix, name))
    return found


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    commands = command_lines(build_parser())
    assert {("serve",), ("migrate",), ("user", "add"), ("config",), ("demo",)} <= set(commands)
    for command in commands:
        with pytest.raises(SystemExit) as excinfo:
            main([*command, "--help"])
        assert excinfo.value.code == 0, command
        out = capsys.readouterr().out
        assert out.startswith("usage: plenary" + "".join(f" {c}" for c in command)), out
        assert "--help" in out


def test_unknown_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as excinfo:
        main(["frobnicate"])
    assert excinfo.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_config_lists_settings(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["config"]) == 0
    out = capsys.readouterr().out
    assert "PLENARY_DATABASE_URL" in out and "PLENARY_MAX_BODY_BYTES" in out
    monkeypatch.setenv("PLENARY_PORT", "eighty")
    assert main(["config"]) == 2
    assert "PLENARY_PORT" in capsys.readouterr().err


def _user_add(url: str, username: str, *extra: str) -> list[str]:
    return ["user", "add", username, "--database-url", url, "--password-stdin", *extra]


def test_migrate_then_user_add(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert main(["migrate", "--database-url", url]) == 0
    assert f"database at {head_revision()}" in capsys.readouterr().out
    assert asyncio.run(current_revision(url)) == head_revision()
    # Migrating twice is harmless.
    assert main(["migrate", "--database-url", url]) == 0

    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    code = main(_user_add(url, "Thu.Ha", "--name", "Trần Thu Hà", "--can-create"))
    assert code == 0, capsys.readouterr().err
    assert "account thu.ha created" in capsys.readouterr().out

    async def check() -> None:
        db = Database(url)
        try:
            async with db.transaction() as session:
                account = await authenticate(session, "thu.ha", PASSWORD)
                assert account.display_name == "Trần Thu Hà"
                assert account.can_create_conferences and not account.is_admin
        finally:
            await db.dispose()

    asyncio.run(check())

    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert main(_user_add(url, "thu.ha")) == 1
    assert "taken" in capsys.readouterr().err


def test_short_password_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert main(["migrate", "--database-url", url]) == 0
    monkeypatch.setattr(sys, "stdin", io.StringIO("short\n"))
    assert main(_user_add(url, "lan")) == 1
    err = capsys.readouterr().err
    assert err.startswith("plenary: ")
    assert "at least 10 characters" in err and "(password)" in err

    async def lookup() -> bool:
        db = Database(url)
        try:
            async with db.transaction() as session:
                return await get_account_by_username(session, "lan") is not None
        finally:
            await db.dispose()

    assert asyncio.run(lookup()) is False


async def test_app_refuses_to_start_on_a_stale_schema(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}"
    server = TestServer(create_app(Config(database_url=url)))
    with pytest.raises(StaleSchema) as excinfo:
        await server.start_server()
    await server.close()
    assert excinfo.value.code == "stale_schema"
    assert "plenary migrate" in excinfo.value.message


def test_serve_refuses_a_stale_schema(tmp_path: Path) -> None:
    database = tmp_path / "empty.db"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "cli", "serve", "--database-url", f"sqlite:///{database}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stderr
    assert "plenary migrate" in result.stderr
    assert "Traceback" not in result.stderr
    assert "serving on" not in result.stdout


def test_awards_render_writes_the_zip_with_a_progress_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'awards.db'}"
    assert main(["migrate", "--database-url", url]) == 0

    async def setup() -> tuple[str, list[str]]:
        db = Database(url)
        try:
            conference, actor, _ = await new_conference(db, title="Hội nghị thi đua")
            async with db.transaction() as session:
                decision = await create_decision(
                    session,
                    conference,
                    DecisionCreate.model_validate(
                        {
                            "number": "7-QĐ/VPTW",
                            "issued_on": "2026-12-15",
                            "issuing_body": "Văn phòng Trung ương Đảng",
                            "signer_name": "Nguyễn Văn Thắng",
                            "signer_title": "Chánh Văn phòng Trung ương Đảng",
                            "award_kind": "certificate_of_merit",
                        }
                    ),
                    actor=actor,
                )
                codes = []
                for name in ("Văn phòng Tỉnh ủy Cà Mau", "Văn phòng Tỉnh ủy Đắk Lắk"):
                    award = await add_award(
                        session,
                        conference,
                        decision,
                        AwardCreate(name=name, citation="Hoàn thành xuất sắc nhiệm vụ"),
                        actor=actor,
                    )
                    codes.append(award.verification_code)
            return conference.public_id, codes
        finally:
            await db.dispose()

    cid, codes = asyncio.run(setup())
    out = tmp_path / "awards.zip"
    base = ["awards", "render", cid, "--database-url", url, "-o", str(out)]
    # Without the verification page's address the QR codes could not point anywhere.
    assert main(base) == 1
    assert "--verify-url" in capsys.readouterr().err
    assert main([*base, "--verify-url", "https://hoinghi.example.vn/verify", "--workers", "1"]) == 0
    captured = capsys.readouterr()
    assert "2 award documents written to" in captured.out
    assert "rendered 2/2" in captured.err
    archive = zipfile.ZipFile(out)
    names = archive.namelist()
    assert names[-1] == "tat-ca-de-in.pdf" and len(names) == 3
    for name, code in zip(names, codes, strict=False):
        assert scan_qr_codes(archive.read(name)) == [f"https://hoinghi.example.vn/verify/{code}"]
    assert main([*base, "--verify-url", "https://x/verify", "--decision", "nosuch"]) == 1
    assert "no such decision" in capsys.readouterr().err
