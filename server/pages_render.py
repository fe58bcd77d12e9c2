"""Rendering pages: Jinja2, translation catalogs, the page language, security headers."""

from __future__ import annotations

import functools
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from sqlmodel.ext.asyncio.session import AsyncSession
from yarl import URL

from conference.actors import Actor
from conference.errors import Forbidden, NotFound
from conference.models import Conference
from server.auth import browser_session, conference_actor, principal
from server.http import Handler, transaction
from server.keys import config_key, templates_key
from server.pages_static import STATIC_PREFIX, set_static_cache
from server.routes import Call

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
I18N_DIR = WEB_DIR / "i18n"

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"
LANG_COOKIE = "plenary_lang"
LANG_COOKIE_AGE = 365 * 24 * 3600
# Strings the ES modules need travel in the page, under this prefix.
JS_PREFIX = "js."

Catalogs = dict[str, dict[str, str]]
catalogs_key: web.AppKey[Catalogs] = web.AppKey("catalogs_key")


def load_catalogs(directory: Path = I18N_DIR) -> Catalogs:
    """Every language's strings; refuses catalogs whose keys differ."""
    catalogs: Catalogs = {}
    for lang in LANGUAGES:
        strings = json.loads((directory / f"{lang}.json").read_text(encoding="utf-8"))
        if not isinstance(strings, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in strings.items()
        ):
            raise ValueError(f"{lang}.json must map strings to strings")
        catalogs[lang] = strings
    reference = set(catalogs[DEFAULT_LANGUAGE])
    for lang, strings in catalogs.items():
        if set(strings) != reference:
            odd = sorted(set(strings) ^ reference)
            raise ValueError(f"{lang}.json and {DEFAULT_LANGUAGE}.json differ in keys: {odd}")
    return catalogs


def build_environment() -> Environment:
    """Jinja2 over web/templates; every value is HTML-escaped unless marked safe."""
    return Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True)
class Translator:
    """The strings of one language; `t("key", name=...)` fills {name} placeholders."""

    lang: str
    strings: Mapping[str, str]

    def __call__(self, key: str, **values: object) -> str:
        text = self.strings[key]
        return text.format(**values) if values else text

    def for_scripts(self) -> dict[str, str]:
        return {k: v for k, v in self.strings.items() if k.startswith(JS_PREFIX)}

    def day(self, value: date) -> str:
        """Vietnamese pages write 10/12/2026; English ones the unambiguous 2026-12-10."""
        return value.strftime("%d/%m/%Y") if self.lang == "vi" else value.isoformat()

    def dates(self, start: date, end: date) -> str:
        if start == end:
            return self.day(start)
        return self("js.dates.range", start=self.day(start), end=self.day(end))


def choose_language(request: web.Request) -> tuple[str, bool]:
    """The page language and whether it was just chosen (so the cookie is set)."""
    asked = request.query.get("lang")
    if asked in LANGUAGES:
        return asked, True
    kept = request.cookies.get(LANG_COOKIE)
    if kept in LANGUAGES:
        return kept, False
    return DEFAULT_LANGUAGE, False


def translator(request: web.Request) -> Translator:
    lang, _ = choose_language(request)
    return Translator(lang, request.app[catalogs_key][lang])


def local_path(target: str | None, default: str = "/conferences") -> str:
    """target if it is a path on this site (never another host), else default."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    # Browsers drop tabs and newlines from URLs: "/\t/evil.example" would leave the site.
    if any(ch.isspace() or not ch.isprintable() for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def redirect(location: str) -> web.Response:
    """303 See Other: after a form POST the browser fetches location with GET."""
    return web.Response(status=303, headers={"Location": location})


def login_redirect(request: web.Request) -> web.Response:
    """To the login form, coming back here afterwards."""
    return redirect(str(URL("/login").with_query(next=request.rel_url.path_qs)))


async def page_actor(
    request: web.Request, session: AsyncSession, roles: tuple[str, ...]
) -> tuple[Conference, Actor] | None:
    """The conference in the URL and the caller, who holds one of roles; None: log in first."""
    anonymous = not principal(request).authenticated
    try:
        conference, actor = await conference_actor(request, session, request.match_info["cid"])
    except NotFound:
        if anonymous:
            return None
        raise
    if not actor.has(*roles):
        if anonymous:
            return None
        raise Forbidden("this page needs the " + " or ".join(roles) + " role")
    return conference, actor


PageHandler = Callable[[Call[None]], Awaitable[web.StreamResponse]]


def conference_page(roles: tuple[str, ...]) -> Callable[[PageHandler], Handler]:
    """A page of the conference in the URL, for a caller holding one of roles: the handler
    gets the request, its session, the conference and the caller (as an API route's Call,
    with no body); the anonymous log in first."""

    def decorate(handler: PageHandler) -> Handler:
        @functools.wraps(handler)
        async def page(request: web.Request) -> web.StreamResponse:
            async with transaction(request) as session:
                found = await page_actor(request, session, roles)
                if found is None:
                    return login_redirect(request)
                return await handler(Call(request, session, *found, body=None))

        return page

    return decorate


def render(
    request: web.Request, template: str, *, status: int = 200, **context: Any
) -> web.Response:
    """A page from template in the request's language, with the shared layout's context."""
    lang, chosen = choose_language(request)
    t = Translator(lang, request.app[catalogs_key][lang])
    who = principal(request)
    row = browser_session(request)
    page_data = {"lang": lang, "strings": t.for_scripts(), **context.pop("page_data", {})}
    html = (
        request.app[templates_key]
        .get_template(template)
        .render(
            lang=lang,
            t=t,
            user=who if who.authenticated else None,
            csrf_token=row.csrf_token if row is not None else "",
            languages=[
                (code, str(request.rel_url.update_query(lang=code)), code == lang)
                for code in LANGUAGES
            ],
            page_data=page_data,
            **context,
        )
    )
    response = web.Response(text=html, status=status, content_type="text/html")
    if chosen:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=LANG_COOKIE_AGE,
            path="/",
            samesite="Lax",
            httponly=True,
            secure=request.app[config_key].secure_cookies or request.secure,
        )
    return response


def conference_data(conference: Conference) -> dict[str, object]:
    """What a page's scripts know of its conference."""
    return {"id": conference.public_id, "title": conference.title}


def render_page(call: Call[None], template: str, **context: Any) -> web.Response:
    """A conference page: render with the conference in the template's context and in the
    page's data (where page_data does not say more of it)."""
    page_data = {"conference": conference_data(call.conference), **context.pop("page_data", {})}
    return render(
        call.request, template, conference=call.conference, page_data=page_data, **context
    )


def content_security_policy(request: web.Request) -> str:
    host = request.host
    return "; ".join(
        (
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "font-src 'self'",
            f"connect-src 'self' ws://{host} wss://{host}",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "object-src 'none'",
        )
    )


def render_error(request: web.Request, status: int, *, text: str = "") -> web.Response:
    """The error page for status; text is the key of its explanation."""
    return render(
        request, "error.html", status=status, code=status, text=text or f"error.{status}.text"
    )


def set_page_headers(request: web.Request, response: web.StreamResponse) -> None:
    response.headers["Content-Security-Policy"] = content_security_policy(request)
    response.headers["X-Frame-Options"] = "DENY"
    # Pages carry the CSRF token and personal data.
    response.headers["Cache-Control"] = "no-store"


def refused_form_page(request: web.Request) -> web.Response:
    """403 for a form the CSRF or origin check refused, before pages_middleware runs."""
    response = render_error(request, 403, text="error.403.form")
    set_page_headers(request, response)
    return response


@web.middleware
async def pages_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """HTML error pages outside the API, and strict security headers on every HTML page."""
    if request.path.startswith(STATIC_PREFIX):
        response = await handler(request)
        set_static_cache(request, response)
        return response
    if request.path.startswith("/api/"):
        return await handler(request)
    try:
        response = await handler(request)
    except (web.HTTPNotFound, NotFound):
        response = render_error(request, 404)
    except Forbidden:
        response = render_error(request, 403)
    if response.content_type == "text/html":
        set_page_headers(request, response)
    return response
