"""Absolute URLs (personal links, QR codes) come from the settings, never from a request's
Host header; `plenary serve` refuses to start without PLENARY_PUBLIC_URL unless local."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from cli.main import main
from runtime.config import Config
from tests.conftest import Api
from tests.server.stage import make_stage

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = "https://plenary.example.vn"
FORGED = {"Host": "attacker.example", "X-Forwarded-Host": "attacker.example"}
Client = TestClient[Any, Any]
# An address no machine has (TEST-NET-1): a server that gets past its checks fails to bind.
LISTEN = ("--host", "192.0.2.1", "--port", "8080")


LOCAL = "http://127.0.0.1:8080"


@pytest.fixture(params=[PUBLIC, LOCAL])
def config(db_url: str, request: pytest.FixtureRequest) -> Config:
    """Configured with PLENARY_PUBLIC_URL, or a local server without it."""
    if request.param == LOCAL:
        return Config(database_url=db_url, local=True)
    return Config(database_url=db_url, public_url=PUBLIC + "/")


async def _links(client: Client, organizer: Api) -> list[str]:
    """A reissued link, the links export, and where award QR codes point, asked with a
    forged Host header."""
    stage = await make_stage(client, organizer, (("LCI", "Lào Cai"),))
    delegate = stage.delegates["LCI0"]["id"]
    status, reissued = await organizer.post(
        stage.url(f"/delegates/{delegate}/reissue"), headers=FORGED
    )
    assert status == 200, reissued
    status, csv = await organizer.call("GET", stage.url("/delegates/links.csv"), headers=FORGED)
    assert status == 200, csv
    status, settings = await organizer.call("GET", stage.url("/awards/settings"), headers=FORGED)
    assert status == 200, settings
    exported = [cell for line in csv.splitlines() for cell in line.split(",") if "/d/" in cell]
    assert exported
    return [reissued["link"], *exported, settings["verify_base"]]


async def test_a_forged_host_header_does_not_change_the_links(
    client: Client, organizer: Api, config: Config
) -> None:
    base = config.public_base
    assert base in (PUBLIC, LOCAL)
    for link in await _links(client, organizer):
        assert link.startswith(base + "/"), link
        assert "attacker" not in link and "//d/" not in link


@pytest.mark.parametrize(
    ("host", "port", "base"),
    [
        ("127.0.0.1", 8080, "http://127.0.0.1:8080"),
        ("0.0.0.0", 9000, "http://localhost:9000"),
        ("::1", 8080, "http://[::1]:8080"),
    ],
)
def test_a_local_server_links_to_its_own_address(host: str, port: int, base: str) -> None:
    assert Config(host=host, port=port, local=True).public_base == base
    assert Config(host=host, public_url=PUBLIC + "/").public_base == PUBLIC


def _serve(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    url = f"sqlite:///{tmp_path / 'plenary.db'}"
    assert main(["migrate", "--database-url", url]) == 0
    clean = {
        k: v for k, v in os.environ.items() if k not in ("PLENARY_PUBLIC_URL", "PLENARY_LOCAL")
    }
    return subprocess.run(
        [sys.executable, "-m", "cli", "serve", "--database-url", url, *LISTEN, *args],
        cwd=tmp_path,
        env={**clean, "PYTHONPATH": str(ROOT), **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_serve_refuses_to_start_without_the_public_url(tmp_path: Path) -> None:
    result = _serve(tmp_path)
    assert result.returncode == 1, result.stderr
    assert "PLENARY_PUBLIC_URL" in result.stderr and "--local" in result.stderr
    assert "Traceback" not in result.stderr
    assert "serving on" not in result.stdout


def test_serve_local_goes_past_the_check(tmp_path: Path) -> None:
    """With --local (or PLENARY_LOCAL=1) it starts, and only then fails to listen on an
    address this machine does not have."""
    for args, env in ((("--local",), {}), ((), {"PLENARY_LOCAL": "1"})):
        result = _serve(tmp_path, *args, **env)
        assert "PLENARY_PUBLIC_URL" not in result.stderr, result.stderr
        assert "links and QR codes point to http://192.0.2.1:8080" in result.stdout, result.stdout
