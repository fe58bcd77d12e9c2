"""Public verification of issued documents: awards by the code printed on them, and
finalised minutes by their code or by the SHA-256 of a PDF (sent whole, or its hash).
Rate-limited per address; an unknown code says nothing but that."""

from __future__ import annotations

import hashlib
import re
from typing import Literal

from aiohttp import web
from typing_extensions import TypedDict

from agenda.minutes.book import MinutesVerification, verification
from awards.verification import AwardVerification, verify_award
from conference.errors import InvalidInput, NotFound, RateLimited
from server.http import json_response, read_body, read_form, read_json
from server.keys import config_key, db_key, verify_limiter_key
from server.proxies import client_ip
from server.routes import ApiRoutes
from server.signing import ready_keyring

routes = ApiRoutes("verify")

VERIFY_MINUTES = "/api/v1/verify/minutes"
CODE = re.compile(r"^[A-Za-z0-9_-]{8,32}$")
SHA256 = re.compile(r"^[0-9a-fA-F]{64}$")
PDF_MAGIC = b"%PDF-"


class Matched(MinutesVerification):
    """A hash that is a finalised version's: the version, as verification tells it."""

    match: Literal[True]


class Unmatched(TypedDict):
    """A hash that is no finalised version's."""

    match: Literal[False]
    sha256: str


MinutesCheck = Matched | Unmatched


def check_verify_rate(request: web.Request) -> None:
    """At most verifications_per_minute per address: codes cannot be tried in bulk."""
    limiter = request.app[verify_limiter_key]
    key = f"verify:{client_ip(request)}"
    wait = limiter.blocked(key)
    if wait:
        raise RateLimited(
            f"too many verifications; try again in {int(wait) + 1} s", retry_after=wait
        )
    limiter.hit(key)


def checked_code(code: str) -> str:
    if not CODE.match(code):
        raise NotFound("no finalised minutes have this code", field="code")
    return code


def checked_hash(value: str) -> str:
    value = value.strip()
    if not SHA256.match(value):
        raise InvalidInput("a SHA-256 is 64 hexadecimal characters", field="sha256")
    return value.lower()


def pdf_hash(data: bytes) -> str:
    if not data.startswith(PDF_MAGIC):
        raise InvalidInput("this file is not a PDF", field="file")
    return hashlib.sha256(data).hexdigest()


async def uploaded_hash(request: web.Request) -> str:
    """The SHA-256 asked about: of a PDF body, of a form's file, or a hash as given."""
    limit = request.app[config_key].max_upload_bytes
    if request.content_type == "application/pdf":
        return pdf_hash(await read_body(request, limit=limit))
    if request.content_type == "application/json":
        body = await read_json(request)
        value = body.get("sha256") if isinstance(body, dict) else None
        if not isinstance(value, str):
            raise InvalidInput('send {"sha256": "..."}', field="sha256")
        return checked_hash(value)
    if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        form = await read_form(request)
        upload = form.get("file")
        if isinstance(upload, web.FileField):
            data = upload.file.read(limit + 1)
            if data:
                return pdf_hash(data)
        value = form.get("sha256")
        if isinstance(value, str) and value.strip():
            return checked_hash(value)
        raise InvalidInput("choose the PDF file, or paste its SHA-256", field="file")
    raise InvalidInput(
        'send the PDF (application/pdf), a form with the file, or {"sha256"} as JSON',
        field="file",
    )


async def verify_code(request: web.Request, code: str) -> MinutesVerification:
    check_verify_rate(request)
    code = checked_code(code)
    async with request.app[db_key].read() as session:
        return await verification(session, await ready_keyring(request.app), code=code)


async def verify_hash(request: web.Request, sha256: str) -> MinutesCheck:
    """The version whose PDF has this hash, or {"match": False, "sha256"}."""
    async with request.app[db_key].read() as session:
        try:
            found = await verification(session, await ready_keyring(request.app), sha256=sha256)
        except NotFound:
            return {"match": False, "sha256": sha256}
    matched: Matched = {"match": True, **found}
    return matched


@routes.get(VERIFY_MINUTES + "/{code}", role="anyone (rate-limited)")
async def by_code(request: web.Request) -> web.StreamResponse:
    """Finalised minutes by the verification code printed on them: which minutes, which version,
    who finalised them and when, superseded or not, signature valid."""
    return json_response(await verify_code(request, request.match_info["code"]))


@routes.post(VERIFY_MINUTES, role="anyone (rate-limited)")
async def by_document(request: web.Request) -> web.StreamResponse:
    """Is this PDF a finalised version of minutes? Send the PDF (application/pdf or a form's file)
    or {"sha256"}; the answer has match true with the version, or false."""
    check_verify_rate(request)
    return json_response(await verify_hash(request, await uploaded_hash(request)))


async def verify_award_code(request: web.Request, code: str) -> AwardVerification:
    check_verify_rate(request)
    async with request.app[db_key].read() as session:
        return await verify_award(session, code)


# Registered last: /api/v1/verify/minutes... above are not award codes.
@routes.get("/api/v1/verify/{code}", role="anyone (rate-limited)")
async def award_by_code(request: web.Request) -> web.StreamResponse:
    """An award by the code printed on it: the award, recipient, decision, issuing body, and
    whether it is valid or revoked (when and why)."""
    return json_response(await verify_award_code(request, request.match_info["code"]))
