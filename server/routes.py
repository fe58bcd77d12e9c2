"""The route tables of the API: each route declares who may call it, and a route in a
conference gets its caller resolved and admitted before its handler runs.

A conference route's handler takes a ``Call``: the body already validated, the
conference of the path and the caller in it, and the session of the one transaction
(read-only for GET). It returns what the response carries (serialised as JSON with the
declared status) or a response of its own.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from aiohttp import web
from pydantic import BaseModel
from sqlmodel.ext.asyncio.session import AsyncSession

from conference.actors import Actor
from conference.models import Conference
from server.auth import conference_actor
from server.http import Handler, json_response, parse_body, transaction
from server.keys import admitted_rkey, db_key, roles_rkey

# Who may call a route in its conference. ANY_ROLE: any role in it (each caller sees
# what they may).
ANY_ROLE: tuple[str, ...] = ()
ORGANIZER = ("organizer",)
CHAIR = ("organizer", "chair")
STAFF = ("organizer", "chair", "secretary")
HALL = ("organizer", "chair", "secretary", "site_operator")
SITE = ("organizer", "site_operator")

B = TypeVar("B")


@dataclass(frozen=True)
class Call(Generic[B]):
    """A conference route's request, resolved: its body, conference, caller and session."""

    request: web.Request
    session: AsyncSession
    conference: Conference
    actor: Actor
    body: B

    def path(self, name: str) -> str:
        """A named part of the URL path."""
        return self.request.match_info[name]

    @property
    def conference_id(self) -> int:
        """The conference's internal key."""
        assert self.conference.id is not None
        return self.conference.id


CallHandler = Callable[[Call[Any]], Awaitable[Any]]
#: finds a route's conference and its caller in it (refusing whom it must)
Caller = Callable[[web.Request, AsyncSession], Awaitable[tuple[Conference, Actor]]]


async def in_path(request: web.Request, session: AsyncSession) -> tuple[Conference, Actor]:
    """The conference ``{cid}`` of the path and the caller in it, admitted by the route."""
    return await conference_actor(request, session, request.match_info["cid"])


def admitting(handler: Handler, roles: tuple[str, ...]) -> Handler:
    """handler, with the roles it admits declared for conference_actor to enforce."""

    @functools.wraps(handler)
    async def admitted(request: web.Request) -> web.StreamResponse:
        request[roles_rkey] = roles
        response = await handler(request)
        if not request.get(admitted_rkey):
            raise RuntimeError(f"{request.method} {request.path}: the caller was not admitted")
        return response

    return admitted


def in_words(roles: tuple[str, ...]) -> str:
    """The roles as the API document says them."""
    if not roles:
        return "any role in it"
    names = [role.replace("_", " ") for role in roles]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


@dataclass
class RouteSpec:
    """What the OpenAPI document says of one route."""

    method: str
    path: str
    summary: str
    role: str
    body: type[BaseModel] | None = None
    response: Any = None
    status: int = 200
    query: dict[str, str] = field(default_factory=dict)
    tag: str = ""
    content_type: str = "application/json"
    #: the roles the route admits in its conference (ANY_ROLE: any); None: it has no
    #: conference, or decides itself (a personal link, a public verification)
    roles: tuple[str, ...] | None = None


class ApiRoutes:
    """An aiohttp route table whose routes also describe themselves for OpenAPI."""

    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.table = web.RouteTableDef()
        self.specs: list[RouteSpec] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str | None = None,
        role: str | None = None,
        body: type[BaseModel] | None = None,
        response: Any = None,
        status: int = 200,
        query: dict[str, str] | None = None,
        content_type: str = "application/json",
        roles: tuple[str, ...] | None = None,
    ) -> Callable[[Handler], Handler]:
        """Declare a route; roles: who may call it in its conference (role says it in words
        where the names are not enough); the summary is the handler's docstring unless given.

        A route with roles resolves its caller with ``server.auth.conference_actor``, which
        refuses a caller without one of them (forbidden) before the handler goes on.
        """

        def decorate(handler: Handler) -> Handler:
            assert role or roles is not None, f"{path}: say who may call it"
            self.specs.append(
                RouteSpec(
                    method,
                    path,
                    summary or " ".join((handler.__doc__ or "").split()).rstrip("."),
                    role or in_words(roles or ()),
                    body,
                    response,
                    status,
                    query or {},
                    self.tag,
                    content_type,
                    roles,
                )
            )
            served = handler if roles is None else admitting(handler, roles)
            self.table.route(method, path)(served)
            return handler

        return decorate

    def conference(
        self,
        method: str,
        path: str,
        roles: tuple[str, ...] | None,
        *,
        caller: Caller = in_path,
        body: type[BaseModel] | None = None,
        status: int = 200,
        consistent: bool = False,
        **described: Any,
    ) -> Callable[[CallHandler], CallHandler]:
        """Declare a route in a conference, for the roles given.

        ``caller`` finds the conference and the caller (by default: the ``{cid}`` of the
        path and the session or token; None roles: the caller decides, e.g. a personal
        link). The handler's docstring is the route's summary; ``described`` goes to the
        API document as ``route`` takes it (role, response, query). ``consistent``: a
        read that sees one state of the database throughout (a snapshot with its seq).
        """

        def decorate(handler: CallHandler) -> CallHandler:
            async def serve(request: web.Request) -> web.StreamResponse:
                data = None if body is None else await parse_body(request, body)
                opened = (
                    request.app[db_key].consistent_read() if consistent else transaction(request)
                )
                async with opened as session:
                    conference, actor = await caller(request, session)
                    out = await handler(Call(request, session, conference, actor, data))
                    if isinstance(out, web.StreamResponse):
                        return out
                    if status == 204:
                        return web.Response(status=204)
                    return json_response(out, status=status)

            # The served function carries the handler's docstring: the route's summary.
            self.route(method, path, roles=roles, body=body, status=status, **described)(
                functools.wraps(handler)(serve)
            )
            return handler

        return decorate

    def get(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("POST", path, **kw)

    def put(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PUT", path, **kw)

    def patch(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> Callable[[Handler], Handler]:
        return self.route("DELETE", path, **kw)
