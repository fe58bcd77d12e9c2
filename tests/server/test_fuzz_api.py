"""Fuzzing every operation of the OpenAPI document with schemathesis, as an organizer and
as an anonymous caller: no answer is a server error, every answer is what the document
says (status, content type, body schema).

The server runs in the test's event loop; schemathesis (synchronous, on `requests`)
drives it from a worker thread with a fixed seed and a bounded number of examples.
The counts are printed and written to $PLENARY_FUZZ_REPORT when it is set.
"""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import Api

pytestmark = [
    pytest.mark.slow,
    # Fuzzed text reaches the PDFs: characters no font has are expected there.
    pytest.mark.missing_glyphs,
    pytest.mark.parametrize("db_url", ["sqlite"], indirect=True),
]

# Examples per operation and role, per generation mode: 119 operations x 2 roles x
# (positive + negative) stays within about three minutes on a loaded two-core machine.
# PLENARY_FUZZ_EXAMPLES=50 digs deeper by hand.
_N = int(os.environ.get("PLENARY_FUZZ_EXAMPLES", "6"))
EXAMPLES = {GenerationMode.POSITIVE: _N, GenerationMode.NEGATIVE: _N}
# Operations that render a document (a second or more each) get a sixth of the examples.
HEAVY = (".pdf", ".docx", ".xlsx", "/badges", "/awards/render")
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# The WebSocket's handshake is no JSON operation; the stream has its own tests.
SKIPPED = {"GET /api/v1/ws"}
# Logging out the organizer would leave the rest of its run anonymous: these go last.
LAST = ("POST /api/v1/auth/logout-everywhere", "POST /api/v1/auth/logout")


@dataclass
class Tally:
    """What one run did: the lead quotes these numbers."""

    operations: int = 0
    cases: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass
class Caller:
    name: str
    headers: dict[str, str]
    cookies: dict[str, str]
    path_parameters: dict[str, str]


def fuzz(base_url: str, schema_doc: dict[str, Any], caller: Caller, tally: Tally) -> None:
    """Every operation, each with a fixed seed; failures are recorded, not raised."""
    schema = schemathesis.openapi.from_dict(schema_doc)
    session = requests.Session()
    operations = [op.ok() for op in schema.get_all_operations()]
    operations.sort(key=lambda op: LAST.index(op.label) + 1 if op.label in LAST else 0)
    for operation in operations:
        if operation.label in SKIPPED:
            continue
        tally.operations += 1
        names = {p.name for p in operation.path_parameters}
        fixed = {k: v for k, v in caller.path_parameters.items() if k in names}
        started = time.monotonic()
        for mode, count in EXAMPLES.items():
            if mode is GenerationMode.NEGATIVE and not operation.body:
                # Path and query parameters are plain strings: only a body can be made
                # invalid (hypothesis would search for seconds before giving up).
                continue
            count = max(1, count // 6) if operation.path.endswith(HEAVY) else count
            run_operation(base_url, session, operation, mode, count, fixed, caller, tally)
        tally.seconds[operation.label] = time.monotonic() - started


def run_operation(
    base_url: str,
    session: requests.Session,
    operation: Any,
    mode: GenerationMode,
    count: int,
    fixed: dict[str, str],
    caller: Caller,
    tally: Tally,
) -> None:
    seen: set[str] = set()

    @settings(
        max_examples=count,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(operation.as_strategy(generation_mode=mode, path_parameters=fixed or None))
    def one(case: Any) -> None:
        tally.cases += 1
        response = case.call(
            base_url=base_url,
            session=session,
            headers=caller.headers,
            cookies=caller.cookies,
            timeout=60,
        )
        tally.statuses[response.status_code] = tally.statuses.get(response.status_code, 0) + 1
        try:
            case.validate_response(response, checks=CHECKS, headers=caller.headers)
        except (Exception, BaseExceptionGroup) as exc:  # a failed check (FailureGroup)
            key = f"{operation.label} {type(exc).__name__} {response.status_code}"
            if key not in seen:
                seen.add(key)
                curl = case.as_curl_command(base_url=base_url)
                tally.failures.append(f"{caller.name} {mode.value} {key}: {exc}\n  {curl}")

    one()


async def seeded(organizer: Api, cid: str) -> dict[str, str]:
    """A site, a delegate and an agenda item, so fixed ids reach the handlers' depths."""
    base = f"/api/v1/conferences/{cid}"
    status, site = await organizer.post(f"{base}/sites", {"code": "HNI", "name": "Hà Nội"})
    assert status == 201, site
    status, delegate = await organizer.post(
        f"{base}/delegates", {"name": "Nguyễn Văn An", "site": "HNI"}
    )
    assert status == 201, delegate
    status, item = await organizer.post(f"{base}/agenda", {"title": "Khai mạc"})
    assert status == 201, item
    return {"cid": cid, "sid": site["id"], "did": delegate["id"], "iid": item["id"]}


def write_report(path: Path, report: dict[str, Any]) -> None:
    path.write_text(json.dumps(report, indent=2), encoding="utf-8")


async def in_thread(work: Callable[[], None]) -> None:
    """Runs blocking work beside the event loop that serves it (the loop stays free)."""
    done = asyncio.get_running_loop().create_future()

    def target() -> None:
        try:
            work()
        except BaseException as exc:
            done.get_loop().call_soon_threadsafe(done.set_exception, exc)
        else:
            done.get_loop().call_soon_threadsafe(done.set_result, None)

    threading.Thread(target=target, daemon=True).start()
    await done


@pytest.mark.timeout(100 * _N)
async def test_fuzz_every_operation_as_organizer_and_anonymous(
    organizer: Api, conference: dict[str, Any], client: TestClient[Any, Any]
) -> None:
    ids = await seeded(organizer, conference["id"])
    resp = await client.get("/api/v1/openapi.json")
    document = await resp.json()
    base_url = str(client.make_url("")).rstrip("/")
    jar = client.session.cookie_jar.filter_cookies(client.make_url("/"))
    cookies = {name: morsel.value for name, morsel in jar.items()}
    callers = [
        Caller("organizer", {"X-CSRF-Token": organizer.csrf}, cookies, ids),
        Caller("anonymous", {}, {}, {}),
    ]
    tallies = {caller.name: Tally() for caller in callers}
    started = time.monotonic()
    for caller in callers:
        await in_thread(lambda c=caller: fuzz(base_url, document, c, tallies[c.name]))  # type: ignore[misc]
    elapsed = time.monotonic() - started
    report = {
        name: {
            "operations": t.operations,
            "cases": t.cases,
            "failures": len(t.failures),
            "statuses": dict(sorted(t.statuses.items())),
            "slowest": sorted(t.seconds.items(), key=lambda kv: -kv[1])[:5],
        }
        for name, t in tallies.items()
    } | {"seconds": round(elapsed, 1)}
    print("schemathesis:", json.dumps(report))
    if path := os.environ.get("PLENARY_FUZZ_REPORT"):
        write_report(Path(path), report)
    failures = [f for t in tallies.values() for f in t.failures]
    assert not failures, "\n".join(failures[:30])
    assert all(
        t.operations == len(document_operations(document)) - len(SKIPPED) for t in tallies.values()
    )
    assert all(500 not in t.statuses for t in tallies.values())


def document_operations(document: dict[str, Any]) -> list[str]:
    return [f"{m.upper()} {p}" for p, ops in document["paths"].items() for m in ops]
