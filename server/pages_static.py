"""Static files under versioned URLs: cached for a year when the version matches.

Pages link `/static/<path>?v=<version>`, the version being the start of the file's
SHA-256, so a deploy changes the URL of every file it changes. ES modules import
each other by plain relative URLs ("./live.js"); an import map could version them,
but it is an inline script, which the pages' policy (script-src 'self') blocks. A
request without the current version is therefore revalidated every time: a module
imported by a cached entry module is never older than the deploy.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from server.keys import static_versions_key

STATIC_PREFIX = "/static/"
VERSION_LENGTH = 12
LONG_CACHE = "public, max-age=31536000, immutable"
SHORT_CACHE = "no-cache"


def file_version(path: Path) -> str:
    """The first 12 hex digits of the file's SHA-256."""
    return hashlib.sha256(path.read_bytes()).hexdigest()[:VERSION_LENGTH]


def file_versions(directory: Path) -> dict[str, str]:
    """The version of every file under directory, by its path relative to it."""
    return {
        path.relative_to(directory).as_posix(): file_version(path)
        for path in sorted(directory.rglob("*"))
        if path.is_file()
    }


@dataclass(frozen=True)
class StaticUrl:
    """`static_url("css/plenary.css")` in templates: the file's URL with its version."""

    versions: Mapping[str, str]

    def __call__(self, path: str) -> str:
        version = self.versions.get(path)
        if version is None:
            # A typo in a template fails the page (and its test), not the browser later.
            raise LookupError(f"no static file {path!r}")
        return f"{STATIC_PREFIX}{path}?v={version}"


def set_static_cache(request: web.Request, response: web.StreamResponse) -> None:
    """A long cache only for the current version of the file; a stale or missing v revalidates."""
    wanted = request.query.get("v")
    current = request.app[static_versions_key].get(request.match_info.get("filename", ""))
    exact = wanted is not None and wanted == current
    response.headers["Cache-Control"] = LONG_CACHE if exact else SHORT_CACHE
