"""The documentation stays true to the code."""

from __future__ import annotations

import re
from pathlib import Path

from cli.main import build_parser
from runtime.config import settings_table

ROOT = Path(__file__).resolve().parent.parent


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    for name, env, default, _ in settings_table():
        row = next((line for line in text.splitlines() if f"`{env}`" in line), None)
        assert row is not None, f"{env} is missing from docs/configuration.md"
        assert name in row
        assert (default or "(empty)") in row, f"{env}: default {default!r} not in {row!r}"


def test_readme_lists_every_command() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for command in sub.choices:  # type: ignore[union-attr]
        assert re.search(rf"plenary {command}\b", readme), f"README does not mention {command}"


def test_readme_commands_exist_in_makefile() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("demo", "test"):
        assert re.search(rf"^{target}:", makefile, re.M)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in ci


def test_documents_named_in_readme_exist() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for doc in re.findall(r"`(docs/[\w./-]+\.md)`", readme):
        assert (ROOT / doc).is_file(), f"README names {doc}, which does not exist"
