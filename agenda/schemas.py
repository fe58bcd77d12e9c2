"""Validated input and serialised output of agenda items."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, Field, StrictInt, StrictStr

from agenda.models import AgendaItem
from conference.schemas import Input, SiteCode, Title
from conference.text import clean_text

# Kept equal to agenda.models.ITEM_KINDS (a test checks it).
ItemKind = Literal[
    "opening",
    "report",
    "speech",
    "discussion",
    "directive_speech",
    "awards",
    "campaign_launch",
    "break",
    "closing",
    "session",
    "other",
]
Presenter = Annotated[StrictStr, AfterValidator(clean_text), Field(max_length=200)]
Minutes = Annotated[StrictInt, Field(ge=0, le=24 * 60)]
Position = Annotated[StrictInt, Field(ge=0, le=1_000_000)]


class AgendaItemFields(Input):
    """What an agenda item says, wherever it sits in the agenda."""

    title: Title
    kind: ItemKind = "other"
    planned_start: AwareDatetime | None = None
    duration_minutes: Minutes = 0
    presenter: Presenter = ""
    site: SiteCode | None = None


class AgendaTree(AgendaItemFields):
    """An item with the items inside it, in order (as a conference file lists them)."""

    items: list[AgendaTree] = Field(default_factory=list)


class AgendaItemCreate(AgendaItemFields):
    """An item, optionally inside another (parent: its public id)."""

    parent: Annotated[StrictStr, Field(max_length=32)] | None = None
    position: Position | None = None


class AgendaItemOut(BaseModel):
    id: str
    parent: str | None
    position: int
    title: str
    kind: str
    planned_start: datetime | None
    duration_minutes: int
    presenter: str
    site: str | None

    @classmethod
    def of(cls, item: AgendaItem, *, parent: str | None, site_code: str | None) -> AgendaItemOut:
        return cls(
            id=item.public_id,
            parent=parent,
            position=item.position,
            title=item.title,
            kind=item.kind,
            planned_start=item.planned_start,
            duration_minutes=item.duration_minutes,
            presenter=item.presenter_name,
            site=site_code,
        )


def agenda_item_data(
    item: AgendaItem, *, parent: str | None, site_code: str | None
) -> dict[str, Any]:
    return AgendaItemOut.of(item, parent=parent, site_code=site_code).model_dump(mode="json")
