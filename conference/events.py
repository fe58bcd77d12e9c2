"""The core's live events: the conference, its sites and its document jobs."""

from __future__ import annotations

from typing_extensions import TypedDict

from conference.catalogue import Audience, EventType
from conference.schemas import CONTACT_FIELDS, ConferenceData, SiteOut


class ImportedCounts(TypedDict):
    sites: int
    delegates: int
    agenda_items: int
    decisions: int
    awards: int


class ConferenceImported(TypedDict):
    conference: ConferenceData
    counts: ImportedCounts


class SiteGone(TypedDict):
    id: str
    code: str


class DocumentProgress(TypedDict):
    """Enough for a page to show a progress bar; site: the job's site code, if one site's."""

    id: str
    kind: str
    status: str
    done: int
    total: int
    site: str | None


CONFERENCE_CREATED = EventType(
    "conference/created", Audience.EVERYONE, ConferenceData, "a conference was created"
)
CONFERENCE_UPDATED = EventType(
    "conference/updated",
    Audience.EVERYONE,
    ConferenceData,
    "the conference's title, dates, time zone, place or visibility changed",
)
CONFERENCE_IMPORTED = EventType(
    "conference/imported",
    Audience.EVERYONE,
    ConferenceImported,
    "a conference file was imported: what it created",
)
SITE_CREATED = EventType(
    "site/created",
    Audience.SITE_RECORD,
    SiteOut,
    "a connection point was added",
    private=CONTACT_FIELDS,
)
SITE_UPDATED = EventType(
    "site/updated",
    Audience.SITE_RECORD,
    SiteOut,
    "a connection point changed",
    private=CONTACT_FIELDS,
)
SITE_DELETED = EventType(
    "site/deleted", Audience.SITE_RECORD, SiteGone, "a connection point was removed"
)
DOCUMENT_UPDATED = EventType(
    "document/updated",
    Audience.SITE_DOCUMENTS,
    DocumentProgress,
    "a document job (badges, award documents) progressed, finished or failed",
)

EVENTS = (
    CONFERENCE_CREATED,
    CONFERENCE_UPDATED,
    CONFERENCE_IMPORTED,
    SITE_CREATED,
    SITE_UPDATED,
    SITE_DELETED,
    DOCUMENT_UPDATED,
)
