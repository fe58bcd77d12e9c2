"""The translation catalogs: the same keys in every language, and every key used exists."""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from agenda.models import ITEM_KINDS
from server.pages_render import (
    I18N_DIR,
    JS_PREFIX,
    LANGUAGES,
    STATIC_DIR,
    TEMPLATES_DIR,
    load_catalogs,
)

# t("key") in templates and ES modules; dynamic keys ("role." ~ role) are checked below.
USED_KEY = re.compile(r"""\bt\(\s*["']([a-z0-9_.]*[a-z0-9_])["']""")


def catalog(lang: str) -> dict[str, str]:
    data: dict[str, str] = json.loads((I18N_DIR / f"{lang}.json").read_text(encoding="utf-8"))
    return data


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_language_has_the_same_keys() -> None:
    vi, en = catalog("vi"), catalog("en")
    assert set(vi) == set(en), sorted(set(vi) ^ set(en))
    assert set(LANGUAGES) == {"vi", "en"}


def test_placeholders_match_across_languages() -> None:
    vi, en = catalog("vi"), catalog("en")
    for key in vi:
        assert placeholders(vi[key]) == placeholders(en[key]), key


def test_no_empty_strings_and_vietnamese_is_nfc() -> None:
    import unicodedata

    for lang in LANGUAGES:
        for key, text in catalog(lang).items():
            assert text.strip(), (lang, key)
            assert unicodedata.normalize("NFC", text) == text, (lang, key)


def test_every_key_used_exists() -> None:
    keys = set(catalog("vi"))
    sources = [*TEMPLATES_DIR.glob("*.html"), *STATIC_DIR.glob("js/*.js")]
    used: set[str] = set()
    for path in sources:
        used |= set(USED_KEY.findall(path.read_text(encoding="utf-8")))
    assert used, "no t(...) calls found"
    assert used <= keys, sorted(used - keys)
    # Keys the modules read must reach them: only js.* strings are sent to the page.
    for path in STATIC_DIR.glob("js/*.js"):
        for key in USED_KEY.findall(path.read_text(encoding="utf-8")):
            assert key.startswith(JS_PREFIX), (path.name, key)
    for prefix, names in [
        ("role.", ("organizer", "chair", "secretary", "site_operator", "delegate", "viewer")),
        ("js.kind.", ("main", "remote")),
        # The agenda page labels an item's kind with t("js.agenda.kind." ~ kind).
        ("js.agenda.kind.", ITEM_KINDS),
        ("error.", ("404.title", "404.text", "403.title", "403.text")),
        ("lang.", LANGUAGES),
    ]:
        for name in names:
            assert prefix + name in keys


def test_every_key_named_in_the_modules_exists() -> None:
    """Keys in lookup tables (forms.js maps error types to keys), not only in t(...) calls."""
    keys = set(catalog("vi"))
    named = {
        key
        for path in STATIC_DIR.glob("js/*.js")
        for key in re.findall(r"""["'](js\.[a-z0-9_.]*[a-z0-9_])["']""", path.read_text("utf-8"))
    }
    assert {"js.error.too_large", "js.error.choice", "js.error.unknown_field"} <= named
    assert named <= keys, sorted(named - keys)


def test_catalogs_that_differ_are_refused(tmp_path: Path) -> None:
    (tmp_path / "vi.json").write_text(json.dumps({"a": "A", "b": "B"}), encoding="utf-8")
    (tmp_path / "en.json").write_text(json.dumps({"a": "A"}), encoding="utf-8")
    with pytest.raises(ValueError, match="differ in keys"):
        load_catalogs(tmp_path)
    (tmp_path / "en.json").write_text(json.dumps({"a": 1, "b": "B"}), encoding="utf-8")
    with pytest.raises(ValueError, match="strings to strings"):
        load_catalogs(tmp_path)
