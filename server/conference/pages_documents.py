"""What the pages with document job cards (badges, award documents) give their scripts."""

from __future__ import annotations

from conference import jobs
from conference.rawjson import JsonObject
from server.conference.api_documents import DocumentOut
from server.routes import Call

# How many of the latest document jobs a page with job cards shows at first.
RECENT_JOBS = 20


async def recent_jobs(call: Call[None], kind: str) -> list[JsonObject]:
    """The latest document jobs of kind the caller may see, as the API describes them
    (DocumentOut's JSON, for the page's script)."""
    found = await jobs.list_jobs(call.session, call.conference, actor=call.actor, limit=RECENT_JOBS)
    return [
        DocumentOut.of(job, call.conference.public_id).model_dump(mode="json")
        for job in found
        if job.kind == kind
    ]
