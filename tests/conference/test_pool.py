"""The document pool: an organizer's template that asks for gigabytes, recurses or loops
ends with template_limits in bounded time, the caller's memory does not grow, and the
pool goes on rendering (conference/pool.py)."""

from __future__ import annotations

import asyncio
import resource
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import conference.pool
from conference import documents
from conference.errors import TemplateLimits
from conference.pool import DocumentPool, WorkerLost
from tests.conference.test_documents import badge_context, pdf_text

MB = 1024 * 1024
# The deadline of the hostile renderings here (60 s by default).
SECONDS = 3.0
# How long a refusal may take on a loaded machine: the deadline, and a worker's start.
BOUND = SECONDS + 30
OWN = "{% for item in items %}<p>RIÊNG {{ item }}</p>{% endfor %}"

HOSTILE = {
    # Filters that make a value as large as they are told, in C: past the sandbox's checks.
    "center": "{{ 'x' | center(10**9) }}",
    "indent": "{{ 'x' | indent(10**9, true) }}",
    "format": "{{ '%*s' | format(10**9, 'x') }}",
    "replace": "{{ ('x' * 1000000) | replace('x', 'x' * 1000000) }}",
    "join": "{% set r = range(100000) | list %}{{ r | join('x' * 1000000) }}",
    # A string doubled sixty times (a namespace carries it out of the loop's scope).
    "doubling": "{% set ns = namespace(s='x') %}{% for i in range(60) %}"
    "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s | length }}",
    "recursion": "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}",
    "loop": "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
}


@pytest.fixture(scope="module")
def pool() -> Iterator[DocumentPool]:
    executor = documents.new_pool(1)
    yield executor
    executor.shutdown(wait=True, cancel_futures=True)


def task(source: str) -> dict[str, Any]:
    return {
        "template": "badges.html",
        "context": {"items": ["Huế"]},
        "templates": {"badges.html": source},
    }


def peak_rss() -> int:
    """This process's peak resident memory, in bytes (Linux gives KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@pytest.mark.parametrize("name", list(HOSTILE))
async def test_a_hostile_template_ends_with_template_limits_and_the_pool_recovers(
    pool: DocumentPool, name: str
) -> None:
    before = peak_rss()
    started = time.monotonic()
    with pytest.raises(TemplateLimits) as caught:
        await documents.run_in_pool(
            pool, documents.render_task, task(HOSTILE[name]), seconds=SECONDS
        )
    assert caught.value.code == "template_limits"
    assert time.monotonic() - started < BOUND
    # Nothing of it reached this process.
    assert peak_rss() - before < 100 * MB
    # The pool goes on: the next document renders (in a fresh worker where one was killed).
    out = await documents.run_in_pool(pool, documents.render_task, task(OWN), seconds=60)
    assert "RIÊNG Huế" in pdf_text(out["pdf"])


async def test_only_the_task_at_fault_fails_when_its_worker_is_killed(pool: DocumentPool) -> None:
    hostile = documents.run_in_pool(
        pool, documents.render_task, task(HOSTILE["loop"]), seconds=SECONDS
    )
    # Queued behind it on the one worker: trusted work with no deadline.
    honest = documents.run_in_pool(
        pool, documents.render_task, {"template": "badges.html", "context": badge_context([])}
    )
    own = documents.run_in_pool(pool, documents.render_task, task(OWN), seconds=60)
    results = await asyncio.gather(hostile, honest, own, return_exceptions=True)
    assert isinstance(results[0], TemplateLimits)
    assert isinstance(results[1], dict) and results[1]["pdf"].startswith(b"%PDF")
    assert isinstance(results[2], dict) and "RIÊNG Huế" in pdf_text(results[2]["pdf"])


def _rlimit() -> tuple[int, int]:
    return resource.getrlimit(resource.RLIMIT_AS)


def _die() -> None:
    import os

    os._exit(3)


def test_every_worker_has_its_address_space_capped() -> None:
    small = documents.new_pool(2, memory_mb=700)
    try:
        futures = [small.submit(_rlimit) for _ in range(4)]
        assert {f.result() for f in futures} == {(700 * MB, 700 * MB)}
    finally:
        small.shutdown()
    assert resource.getrlimit(resource.RLIMIT_AS)[0] != 700 * MB  # not this process's


def test_a_worker_lost_under_trusted_work_fails_that_task_only(pool: DocumentPool) -> None:
    with pytest.raises(WorkerLost, match="exit code 3"):
        pool.submit(_die).result()
    assert pool.submit(_rlimit).result()[0] == documents.MEMORY_MB * MB


async def test_untrusted_templates_render_only_where_limits_hold() -> None:
    with ThreadPoolExecutor(1) as threads, pytest.raises(TypeError):
        documents.run_in_pool(threads, documents.render_task, task(OWN), seconds=5)


def test_a_result_too_large_for_the_server_is_refused(
    pool: DocumentPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(conference.pool, "MAX_RESULT_BYTES", 100_000)
    with pytest.raises(TemplateLimits, match="larger than"):
        pool.submit_within(30, bytes, 200_000).result()
    # Trusted work has no such bound, and the pool goes on.
    assert len(pool.submit(bytes, 200_000).result()) == 200_000


def test_a_shut_down_pool_takes_no_more_work() -> None:
    closed = documents.new_pool(1)
    closed.shutdown()
    with pytest.raises(RuntimeError):
        closed.submit(_rlimit)


def test_a_set_in_a_loop_does_not_carry_over_so_only_a_namespace_doubles() -> None:
    """The issue's doubling loop with a plain {% set %} never grows: each pass of a Jinja
    loop starts from the outer value. A namespace carries it (HOSTILE["doubling"])."""
    plain = "{% set s = 'x' %}{% for i in range(60) %}{% set s = s ~ s %}{% endfor %}"
    html = documents.render_html("t.html", {}, templates={"t.html": plain + "{{ s | length }}"})
    assert html == "1"
