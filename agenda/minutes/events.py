"""The minutes' live events; who receives them follows the minutes' readers."""

from __future__ import annotations

from typing_extensions import TypedDict

from conference.catalogue import Audience, EventType


class SectionSaved(TypedDict):
    """readers: who reads the minutes besides the staff (staff, sites or delegates)."""

    section: str
    revision: int
    by: str
    at: str
    readers: str


class VersionSigned(TypedDict):
    """code: the version's verification code; amendment: its number, None for the original."""

    version: int
    sha256: str
    code: str
    by: str
    at: str
    amendment: int | None
    readers: str


UPDATED = EventType(
    "minutes/updated", Audience.MINUTES, SectionSaved, "a section of the minutes was saved"
)
FINALISED = EventType(
    "minutes/finalised",
    Audience.MINUTES,
    VersionSigned,
    "the minutes were finalised or amended: a new signed version",
)

EVENTS = (UPDATED, FINALISED)
