"""Dependencies point one way: server -> {attendance, agenda, awards} -> conference."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOMAINS = ("conference", "attendance", "agenda", "awards")


def imported_modules(path: Path) -> set[str]:
    """Absolute names of every module path imports."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    return imports_in(path.read_text(encoding="utf-8"), package)


def imports_in(source: str, package: str) -> set[str]:
    """Every module source imports, anywhere in it, with relative imports resolved."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".")
                prefix = ".".join(parts[: len(parts) - node.level + 1])
                module = ".".join(p for p in (prefix, node.module or "") if p)
            else:
                module = node.module or ""
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def top_level(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


def modules_of(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


@pytest.mark.parametrize("package", DOMAINS)
def test_domains_import_neither_aiohttp_nor_server(package: str) -> None:
    modules = modules_of(package)
    assert modules, f"{package}/ has no modules"
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            top_level(imported_modules(path)) & {"aiohttp", "server"}
        )
        for path in modules
    }
    assert {path: bad for path, bad in offenders.items() if bad} == {}


def test_the_core_imports_no_other_domain() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            top_level(imported_modules(path)) & {"attendance", "agenda", "awards"}
        )
        for path in modules_of("conference")
    }
    assert {path: bad for path, bad in offenders.items() if bad} == {}


def test_the_checker_sees_hidden_imports() -> None:
    source = (
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n    from aiohttp import web\n"
        "def f():\n    import server.http\n"
        "from .live import LiveHub\n"
        "from ..text import nfc\n"
    )
    found = imports_in(source, "conference.sub")
    assert top_level(found) >= {"aiohttp", "server", "conference"}
    assert {"conference.sub.live", "conference.text.nfc"} <= found


def test_the_import_contracts_hold() -> None:
    """import-linter's contracts in pyproject.toml (layers, no aiohttp in a domain, no
    circles): all of them kept, and none of them dropped from the file unnoticed."""
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(linter), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert re.search(r"Contracts: 4 kept, 0 broken", result.stdout), result.stdout[-2000:]
