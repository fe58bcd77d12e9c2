"""Validated input and serialised output of agenda items."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, StrictInt, StrictStr

from agenda.models import AgendaItem, ItemKind, SpeakerKind
from conference.rawjson import JsonObject
from conference.schemas import Input, RowOut, SiteCode, Title
from conference.text import clean_text

Presenter = Annotated[StrictStr, AfterValidator(clean_text), Field(max_length=200)]
Minutes = Annotated[StrictInt, Field(ge=0, le=24 * 60)]
Position = Annotated[StrictInt, Field(ge=0, le=1_000_000)]
# Seconds a speaker may speak: 0 means "the conference's limit for the item's kind".
Seconds = Annotated[StrictInt, Field(ge=0, le=4 * 3600)]
PublicRef = Annotated[StrictStr, Field(min_length=1, max_length=32)]


class AgendaItemFields(Input):
    """What an agenda item says, wherever it sits in the agenda."""

    title: Title
    kind: ItemKind = "other"
    planned_start: AwareDatetime | None = None
    duration_minutes: Minutes = 0
    presenter: Presenter = ""
    site: SiteCode | None = None
    speaking_limit_seconds: Seconds = 0


class AgendaTree(AgendaItemFields):
    """An item with the items inside it, in order (as a conference file lists them)."""

    items: list[AgendaTree] = Field(default_factory=list)


class AgendaItemCreate(AgendaItemFields):
    """An item, optionally inside another (parent: its public id).

    presenter_delegate names a delegate who presents (their name is the presenter's
    unless presenter is given too).
    """

    parent: Annotated[StrictStr, Field(max_length=32)] | None = None
    position: Position | None = None
    presenter_delegate: PublicRef | None = None


class AgendaItemUpdate(Input):
    """Fields to change; those left out stay as they are."""

    title: Title | None = None
    kind: ItemKind | None = None
    planned_start: AwareDatetime | None = None
    duration_minutes: Minutes | None = None
    presenter: Presenter | None = None
    site: SiteCode | None = None
    speaking_limit_seconds: Seconds | None = None
    # A delegate who presents; null: none (the presenter stays as free text).
    presenter_delegate: PublicRef | None = None


class AgendaReorder(Input):
    """The new order of the items of one level (all of them, each once)."""

    parent: PublicRef | None = None
    order: Annotated[list[PublicRef], Field(min_length=1, max_length=1000)]


class AgendaItemOut(RowOut):
    id: str
    parent: str | None
    position: int
    title: str
    kind: str
    planned_start: datetime | None
    duration_minutes: int
    presenter: str
    presenter_delegate: str | None
    site: str | None
    speaking_limit_seconds: int
    status: str
    started_at: datetime | None
    ended_at: datetime | None
    speakers_open: bool
    speakers_version: int

    @classmethod
    def of(
        cls,
        item: AgendaItem,
        *,
        parent: str | None,
        site_code: str | None,
        presenter_delegate: str | None = None,
    ) -> AgendaItemOut:
        return cls.from_row(
            item,
            id=item.public_id,
            parent=parent,
            presenter=item.presenter_name,
            presenter_delegate=presenter_delegate,
            site=site_code,
        )


class AgendaList(BaseModel):
    items: list[AgendaItemOut]


def agenda_item_data(
    item: AgendaItem,
    *,
    parent: str | None,
    site_code: str | None,
    presenter_delegate: str | None = None,
) -> JsonObject:
    """AgendaItemOut as JSON, as events and snapshots carry it."""
    return AgendaItemOut.of(
        item, parent=parent, site_code=site_code, presenter_delegate=presenter_delegate
    ).model_dump(mode="json")


ShortName = Annotated[StrictStr, AfterValidator(clean_text), Field(max_length=200)]
Topic = Annotated[StrictStr, AfterValidator(clean_text), Field(max_length=300)]


class SpeakerCreate(Input):
    """Someone asks (or is put down) to speak on an item (the running one if none named).

    A delegate by their public id; the chair may instead give a name (and title, unit,
    site) for a speaker who is not a delegate.
    """

    item: PublicRef | None = None
    delegate: PublicRef | None = None
    name: ShortName = ""
    title: ShortName = ""
    unit: Topic = ""
    site: SiteCode | None = None
    kind: SpeakerKind = "request"
    topic: Topic = ""


SpeakerActionName = Literal["approve", "reject", "withdraw", "call", "finish", "start", "pause"]


class SpeakerAction(Input):
    action: SpeakerActionName
    reason: Topic = ""


class SpeakersReorder(Input):
    """The queue in its new order, made on the list's version (a stale one is refused)."""

    order: Annotated[list[PublicRef], Field(max_length=1000)]
    version: Annotated[StrictInt, Field(ge=0)]


class SpeakersOpen(Input):
    open: bool


class AgendaMove(Input):
    """start (the named item or the next planned), end, skip (named or next), back."""

    action: Literal["start", "end", "skip", "back"]
    item: PublicRef | None = None


class AgendaSettings(Input):
    """How speaker lists behave: seconds per speaker by item kind, fair order of sites."""

    default_speaking_seconds: Annotated[StrictInt, Field(ge=10, le=4 * 3600)] | None = None
    kind_limits: dict[ItemKind, Seconds] | None = None
    fair_order: bool | None = None
