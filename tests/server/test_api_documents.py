"""Badges and background documents over HTTP: one badge now, a site's badges as a job with
progress events, the file, site scoping for operators, refusals, and a restart mid-job."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from sqlalchemy import func
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from attendance.schemas import DelegateCreate
from attendance.services import create_delegate
from conference import jobs
from conference.actors import CLI, Actor
from conference.db import Database
from conference.dbtypes import utcnow
from conference.events import DOCUMENT_UPDATED
from conference.models import AuditEntry, DocumentFile, DocumentJob, LiveEvent
from conference.schemas import SiteCreate
from conference.services import create_site, get_conference, get_site_by_code
from server.keys import db_key
from server.runtime import documents_key
from tests.conference.test_documents import pdf_pages, pdf_text
from tests.conftest import Api, audit_entries, conf_url, new_conference

Client = TestClient[Any, Any]
SITES = (("LCI", "Lào Cai"), ("HN", "Hội trường Trung ương, Hà Nội"))


@pytest.fixture
def app(rendering_app: web.Application) -> web.Application:
    return rendering_app


@pytest.fixture(autouse=True)
def no_missing_glyphs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A badge with a character no font has fails the test, whichever process drew it."""
    with caplog.at_level(logging.WARNING, logger="plenary.documents"):
        yield
    missing = [r.getMessage() for r in caplog.records if "no installed font" in r.getMessage()]
    assert not missing, missing


async def populate(app: web.Application, public_id: str, people: dict[str, int]) -> list[str]:
    """Sites and delegates (people per site code); returns the delegates' public ids."""
    db = app[db_key]
    made = []
    async with db.transaction() as session:
        conference = await get_conference(session, public_id)
        actor = Actor(CLI, conference.id, frozenset({"organizer"}))
        for code, name in SITES:
            await create_site(session, conference, SiteCreate(code=code, name=name), actor=actor)
        for code, count in people.items():
            for n in range(count):
                data = DelegateCreate(
                    name=f"Nguyễn Thị Hằng {code} {n}",
                    title="Phó Chánh Văn phòng",
                    unit=f"Văn phòng Tỉnh ủy {code}",
                    site=code,
                )
                made.append(
                    (await create_delegate(session, conference, data, actor=actor)).public_id
                )
    return made


async def token(organizer: Api, conference: dict[str, Any], role: str, site: str = "") -> Api:
    body: dict[str, Any] = {"name": f"{role} device", "role": role}
    if site:
        body["site"] = site
    status, answer = await organizer.post(conf_url(conference, "/tokens"), body)
    assert status == 201, answer
    api = Api(organizer.client)
    api.bearer = answer["token"]
    return api


async def finished(api: Api, conference: dict[str, Any], job_id: str) -> dict[str, Any]:
    """Poll the job until it is done or failed (at most a minute)."""
    for _ in range(600):
        status, job = await api.get(conf_url(conference, f"/documents/{job_id}"))
        assert status == 200, job
        if job["status"] in ("done", "failed"):
            result: dict[str, Any] = job
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish: {job}")


async def events_of(db: Database, job_id: str) -> list[dict[str, Any]]:
    async with db.read() as session:
        rows = await session.exec(
            select(LiveEvent)
            .where(col(LiveEvent.type) == DOCUMENT_UPDATED.name)
            .order_by(col(LiveEvent.seq))
        )
        return [row.data for row in rows if row.data["id"] == job_id]


# --- one badge now --------------------------------------------------------------------------------


async def test_one_delegates_badge_right_away(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    (pao,) = await populate(app, conference["id"], {"LCI": 1})
    resp = await organizer.client.get(conf_url(conference, f"/delegates/{pao}/badge.pdf"))
    assert resp.status == 200
    assert resp.content_type == "application/pdf"
    assert resp.headers["Content-Disposition"] == (
        'inline; filename="badge-nguyen-thi-hang-lci-0-single.pdf"'
    )
    pdf = await resp.read()
    assert pdf_pages(pdf) == 1
    lines = pdf_text(pdf).splitlines()
    assert "Nguyễn Thị Hằng LCI 0" in lines and "Điểm cầu: Lào Cai (LCI)" in lines
    sheet = await organizer.client.get(
        conf_url(conference, f"/delegates/{pao}/badge.pdf?layout=sheet")
    )
    assert sheet.status == 200 and pdf_pages(await sheet.read()) == 1
    status, body = await organizer.get(
        conf_url(conference, f"/delegates/{pao}/badge.pdf?layout=a3")
    )
    assert status == 422 and body["error"]["field"] == "layout"
    status, body = await organizer.get(conf_url(conference, "/delegates/nobody/badge.pdf"))
    assert status == 404 and body["error"]["code"] == "not_found"


# --- a site's badges in the background ------------------------------------------------------------


async def test_a_sites_badges_as_a_job_with_progress(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    await populate(app, conference["id"], {"LCI": 10, "HN": 2})
    status, job = await organizer.post(conf_url(conference, "/badges"), {"site": "lci"})
    assert status == 202, job
    assert job["status"] == "queued" and job["kind"] == "badges" and job["total"] == 10
    assert job["site"] == "LCI" and job["layout"] == "sheet" and job["download"] is None
    done = await finished(organizer, conference, job["id"])
    assert done["status"] == "done" and done["done"] == done["total"] == 10
    assert done["download"] == conf_url(conference, f"/documents/{job['id']}/file")
    resp = await organizer.client.get(done["download"])
    assert resp.status == 200 and resp.content_type == "application/pdf"
    assert resp.headers["Content-Disposition"] == 'attachment; filename="badges-LCI.pdf"'
    pdf = await resp.read()
    assert pdf_pages(pdf) == 2
    assert done["size"] == len(pdf) and done["sha256"] == hashlib.sha256(pdf).hexdigest()
    text = pdf_text(pdf)
    assert "Nguyễn Thị Hằng LCI 9" in text and "HN" not in text.split()
    status, listing = await organizer.get(conf_url(conference, "/documents"))
    assert status == 200 and [item["id"] for item in listing["items"]] == [job["id"]]
    # The page follows the job through its events: queued, running, progress, done.
    events = await events_of(app[db_key], job["id"])
    statuses = [e["status"] for e in events]
    assert statuses[0] == "queued" and statuses[1] == "running" and statuses[-1] == "done"
    assert len(events) <= 2 + jobs.PROGRESS_STEPS + 1
    assert events[-1] == {
        "id": job["id"],
        "kind": "badges",
        "status": "done",
        "done": 10,
        "total": 10,
        "site": "LCI",
    }
    (audit,) = await audit_entries(app[db_key], col(AuditEntry.action) == "document.create")
    assert audit.target_id == job["id"] and audit.changes["site"] == "LCI"
    # The whole conference, one badge per page.
    status, every = await organizer.post(
        conf_url(conference, "/badges"), {"site": None, "layout": "single"}
    )
    assert status == 202 and every["total"] == 12 and every["site"] is None
    done = await finished(organizer, conference, every["id"])
    resp = await organizer.client.get(done["download"])
    assert resp.headers["Content-Disposition"] == 'attachment; filename="badges-all-single.pdf"'
    assert pdf_pages(await resp.read()) == 12


async def badge_job(session: AsyncSession, cid: str, layout: str) -> DocumentJob:
    """A queued job for one page of badges in layout, as the conference's organizer."""
    found = await get_conference(session, cid)
    actor = Actor(CLI, found.id, frozenset({"organizer"}))
    return await jobs.create_job(
        session,
        found,
        "badges",
        params={"layout": layout},
        total=1,
        filename="x.pdf",
        actor=actor,
    )


async def test_an_unfinished_documents_file_is_a_conflict(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    await populate(app, conference["id"], {"LCI": 1})
    db = app[db_key]
    async with db.transaction() as session:
        running = await badge_job(session, conference["id"], "sheet")
        # Claimed in the same transaction: the runner never sees it queued.
        assert (await jobs.claim_next(session)) is not None
    status, body = await organizer.get(conf_url(conference, f"/documents/{running.public_id}/file"))
    assert status == 409 and body["error"]["code"] == "conflict", body
    async with db.transaction() as session:
        await jobs.fail_job(session, running.id, "the printer caught fire")  # type: ignore[arg-type]
    status, job = await organizer.get(conf_url(conference, f"/documents/{running.public_id}"))
    assert job["status"] == "failed" and job["error"] == "the printer caught fire"
    status, body = await organizer.get(conf_url(conference, f"/documents/{running.public_id}/file"))
    assert status == 409


async def test_a_job_that_cannot_be_rendered_fails_with_a_reason(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    await populate(app, conference["id"], {"LCI": 1})
    async with app[db_key].transaction() as session:
        job = await badge_job(session, conference["id"], "poster")
    app[documents_key].wake()
    done = await finished(organizer, conference, job.public_id)
    assert done["status"] == "failed" and done["error"] == "unknown layout: poster"


# --- who may print what ---------------------------------------------------------------------------


async def test_an_operator_prints_and_sees_only_their_own_site(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    ids = await populate(app, conference["id"], {"LCI": 2, "HN": 1})
    lci_delegate, hn_delegate = ids[0], ids[2]
    operator = await token(organizer, conference, "site_operator", "LCI")
    status, everyone = await organizer.post(conf_url(conference, "/badges"), {})
    assert status == 202
    resp = await operator.client.get(
        conf_url(conference, f"/delegates/{hn_delegate}/badge.pdf"),
        headers={"Authorization": f"Bearer {operator.bearer}"},
    )
    assert resp.status == 404
    resp = await operator.client.get(
        conf_url(conference, f"/delegates/{lci_delegate}/badge.pdf"),
        headers={"Authorization": f"Bearer {operator.bearer}"},
    )
    assert resp.status == 200
    async with app[db_key].read() as session:
        before = (await session.exec(select(func.count()).select_from(DocumentJob))).one()
    status, body = await operator.post(conf_url(conference, "/badges"), {"site": "HN"})
    assert status == 404 and body["error"]["field"] == "site"
    async with app[db_key].read() as session:
        assert (await session.exec(select(func.count()).select_from(DocumentJob))).one() == before
    status, own = await operator.post(conf_url(conference, "/badges"), {"layout": "single"})
    assert status == 202 and own["site"] == "LCI" and own["total"] == 2
    await finished(operator, conference, own["id"])
    status, listing = await operator.get(conf_url(conference, "/documents"))
    assert [item["id"] for item in listing["items"]] == [own["id"]]
    status, body = await operator.get(conf_url(conference, f"/documents/{everyone['id']}"))
    assert status == 404
    status, body = await operator.get(conf_url(conference, f"/documents/{everyone['id']}/file"))
    assert status == 404
    status, listing = await organizer.get(conf_url(conference, "/documents"))
    assert [item["id"] for item in listing["items"]] == [own["id"], everyone["id"]]
    chair = await token(organizer, conference, "chair")
    status, body = await chair.post(conf_url(conference, "/badges"), {})
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, body = await chair.get(conf_url(conference, f"/delegates/{lci_delegate}/badge.pdf"))
    assert status == 403
    # Badges carry credentials: the chair neither lists nor reads the badge jobs.
    status, listing = await chair.get(conf_url(conference, "/documents"))
    assert status == 200 and listing["items"] == []
    for path in (f"/documents/{own['id']}", f"/documents/{own['id']}/file"):
        status, body = await chair.get(conf_url(conference, path))
        assert status == 404 and body["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "want", "code", "field"),
    [
        ({"layout": "poster"}, 422, "invalid_format", "layout"),
        ({"site": "a b"}, 422, "invalid_format", "site"),
        ({"site": 7}, 422, "invalid_format", "site"),
        ({"colour": "red"}, 422, "invalid_format", "colour"),
        ({"site": "XYZ"}, 404, "not_found", "site"),
    ],
)
async def test_bad_orders_are_refused_and_queue_nothing(
    organizer: Api,
    conference: dict[str, Any],
    app: web.Application,
    body: dict[str, Any],
    want: int,
    code: str,
    field: str,
) -> None:
    await populate(app, conference["id"], {"LCI": 1})
    status, answer = await organizer.post(conf_url(conference, "/badges"), body)
    assert status == want and answer["error"]["code"] == code, answer
    assert answer["error"]["field"] == field
    status, listing = await organizer.get(conf_url(conference, "/documents"))
    assert listing["items"] == []


async def test_nothing_to_print_and_unknown_things(
    organizer: Api, conference: dict[str, Any], client: Client
) -> None:
    status, answer = await organizer.post(conf_url(conference, "/badges"), {})
    assert status == 422 and answer["error"]["field"] == "site"
    for path in ("/documents/nosuchjob", "/documents/nosuchjob/file", "/documents/bad%20id!"):
        status, answer = await organizer.get(conf_url(conference, path))
        assert status == 404, path
    stranger: Client = TestClient(client.server)  # its own, empty cookie jar
    try:
        resp = await stranger.get(conf_url(conference, "/documents"))
        assert resp.status == 404
    finally:
        await stranger.session.close()


async def test_the_routes_are_in_the_openapi_document(client: Client) -> None:
    spec = await (await client.get("/api/v1/openapi.json")).json()
    for path in (
        "/api/v1/conferences/{cid}/badges",
        "/api/v1/conferences/{cid}/documents",
        "/api/v1/conferences/{cid}/documents/{jobid}",
        "/api/v1/conferences/{cid}/documents/{jobid}/file",
        "/api/v1/conferences/{cid}/delegates/{did}/badge.pdf",
    ):
        assert path in spec["paths"], path


# --- a restart loses no job -----------------------------------------------------------------------


async def test_a_job_left_running_by_a_stopped_server_is_finished_after_restart(
    aiohttp_client: Callable[[web.Application], Awaitable[Client]],
    app: web.Application,
    db_url: str,
) -> None:
    db = Database(db_url)
    try:
        conference, actor, _ = await new_conference(db, sites=SITES)
        async with db.transaction() as session:
            for n in range(3):
                data = DelegateCreate(name=f"Đặng Quốc Việt {n}", site="HN")
                await create_delegate(session, conference, data, actor=actor)
            site = await get_site_by_code(session, conference.id, "HN")  # type: ignore[arg-type]
            assert site is not None
            job = await jobs.create_job(
                session,
                conference,
                "badges",
                params={"site": "HN", "site_id": site.id, "layout": "sheet"},
                total=3,
                filename="badges-HN.pdf",
                actor=actor,
            )
            # The old server had claimed it and got halfway when it was killed, longer
            # ago than a renderer may go without a heartbeat.
            assert (await jobs.claim_next(session)) is not None
            await jobs.record_progress(session, job.id, 1, 3)  # type: ignore[arg-type]
            row = await session.get(DocumentJob, job.id)
            assert row is not None
            row.heartbeat_at = utcnow() - timedelta(seconds=jobs.STALE_SECONDS + 1)
            session.add(row)
    finally:
        await db.dispose()
    await aiohttp_client(app)  # the new server starts
    db = app[db_key]
    for _ in range(600):
        async with db.read() as session:
            row = await session.get(DocumentJob, job.id)
        assert row is not None
        if row.status == "done":
            break
        await asyncio.sleep(0.1)
    assert row.status == "done" and row.done == row.total == 3
    async with db.read() as session:
        stored = await session.get(DocumentFile, job.id)
    assert stored is not None and pdf_pages(stored.content) == 1
    assert "Đặng Quốc Việt 2" in pdf_text(stored.content)
    statuses = [e["status"] for e in await events_of(db, job.public_id)]
    assert statuses[:3] == ["queued", "running", "running"]
    assert statuses[3:5] == ["queued", "running"] and statuses[-1] == "done"


async def test_a_server_stopping_cleanly_mid_job_puts_it_back_in_the_queue(
    organizer: Api, conference: dict[str, Any], app: web.Application
) -> None:
    await populate(app, conference["id"], {"HN": 400})
    status, job = await organizer.post(conf_url(conference, "/badges"), {"site": "HN"})
    assert status == 202, job
    db = app[db_key]
    for _ in range(600):
        async with db.read() as session:
            row = await session.get(DocumentJob, await _job_id(db, job["id"]))
        assert row is not None
        if row.status == "running":
            break
        await asyncio.sleep(0.05)
    assert row.status == "running" and row.heartbeat_at is not None
    await app[documents_key].close()
    async with db.read() as session:
        row = await session.get(DocumentJob, row.id)
    assert row is not None and (row.status, row.done, row.heartbeat_at) == ("queued", 0, None)
    statuses = [e["status"] for e in await events_of(db, job["id"])]
    assert statuses[:2] == ["queued", "running"] and statuses[-1] == "queued"


async def _job_id(db: Database, public_id: str) -> int:
    async with db.read() as session:
        found = (
            await session.exec(select(DocumentJob.id).where(DocumentJob.public_id == public_id))
        ).one()
    assert found is not None
    return found
