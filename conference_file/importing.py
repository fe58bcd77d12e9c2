"""The conference file: a whole conference as one YAML or JSON document.

:func:`read_conference_file` reads it (docs/conference-file.md describes it) without
the database, and :func:`import_conference` creates what it read; exporting.py writes
it. :mod:`conference_file.reader` reads the
file keeping the line of every value; this module checks what it means, so that
each problem names its path and line, all problems are reported at once, and
nothing is created unless the whole file is valid. Reading is done in full before
any database lock is taken, so a large or broken file never holds up other writers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar, get_args

from pydantic import BaseModel, Field, StrictInt, ValidationError
from sqlmodel.ext.asyncio.session import AsyncSession

from agenda.schemas import AgendaTree
from agenda.services import insert_agenda, planned_start_problem
from attendance.schemas import DelegateCreate
from attendance.services import delegate_key, insert_delegates
from awards.codes import normalise_code
from awards.kinds import BUILTIN as BUILTIN_KINDS
from awards.kinds import insert_kinds
from awards.schemas import DecisionWithAwards, DocumentsRecord, KindCreate
from awards.services import insert_decisions, used_codes, used_decision_numbers
from awards.settings import (
    TEMPLATE_FOLDER,
    check_template,
    emblem_from_data_uri,
    insert_documents,
)
from conference.actors import Actor
from conference.audit import record
from conference.errors import Forbidden, InvalidInput, PlenaryError
from conference.events import CONFERENCE_IMPORTED
from conference.live import append_event
from conference.models import Conference, Site
from conference.rawjson import JsonObject
from conference.schemas import ConferenceCreate, Input, SiteCreate, conference_data
from conference.services import create_conference
from conference.text import nfc
from conference_file.reader import FileReader, Format, Path, path_text

FORMAT_VERSION = 1
FORMATS: tuple[Format, ...] = ("yaml", "json")
MEDIA_TYPES: dict[Format, str] = {"yaml": "application/yaml", "json": "application/json"}
# The sections that are lists of entries, and the others.
LISTS = ("sites", "agenda", "delegates", "award_kinds", "decisions")
SECTIONS = ("plenary", "conference", *LISTS, "award_documents")
MAX_AGENDA_DEPTH = 4

M = TypeVar("M", bound=BaseModel)


# --- the document, as models (they also describe the file in the OpenAPI document) ---


class ConferenceFile(Input):
    """A conference file (version 1)."""

    plenary: Literal[1]
    conference: ConferenceCreate
    sites: list[SiteCreate] = Field(default_factory=list)
    agenda: list[AgendaTree] = Field(default_factory=list)
    delegates: list[DelegateCreate] = Field(default_factory=list)
    award_kinds: list[KindCreate] = Field(default_factory=list)
    decisions: list[DecisionWithAwards] = Field(default_factory=list)
    award_documents: DocumentsRecord | None = None


class ImportCounts(BaseModel):
    sites: StrictInt
    delegates: StrictInt
    agenda_items: StrictInt
    decisions: StrictInt
    awards: StrictInt

    @classmethod
    def of(cls, plan: ConferenceFile) -> ImportCounts:
        def items(entries: list[AgendaTree]) -> int:
            return sum(1 + items(entry.items) for entry in entries)

        return cls(
            sites=len(plan.sites),
            delegates=len(plan.delegates),
            agenda_items=items(plan.agenda),
            decisions=len(plan.decisions),
            awards=sum(len(d.awards) for d in plan.decisions),
        )


def parse_format(value: str) -> Format:
    """yaml or json, else InvalidInput naming the field `format`."""
    lowered = value.strip().lower()
    if lowered == "yaml":
        return "yaml"
    if lowered == "json":
        return "json"
    raise InvalidInput(f"the format is yaml or json, not {value!r}", field="format")


def format_for_name(filename: str) -> Format:
    """json for *.json, else yaml (which reads JSON too)."""
    return "json" if filename.lower().endswith(".json") else "yaml"


# --- checking: what the values mean ---------------------------------------------------


@dataclass
class _Checker(FileReader):
    """Also checks the values against the models and against each other."""

    # (issuing_body, number) -> where the file lists it
    decision_numbers: dict[tuple[str, str], Path] = field(default_factory=dict)
    # verification code -> where the file gives it
    award_codes: dict[str, Path] = field(default_factory=dict)
    # the emblem of award_documents, checked and made a PNG
    emblem: bytes | None = None

    def validate(self, data: Any) -> ConferenceFile | None:
        """The file as models, or None after recording why not."""
        if data is None:
            return None
        if not isinstance(data, dict):
            self.add((), "the file must be a mapping with the sections " + ", ".join(SECTIONS))
            return None
        self._check_head(data)
        conference = None
        if "conference" in data:
            conference = self._model(ConferenceCreate, data["conference"], ("conference",))
        elif "conference" not in self.broken:
            self.add(("conference",), "missing: the conference section is required")
        sections = {name: self._entries(data, name) for name in LISTS}
        sites = [self._model(SiteCreate, raw, p) for p, raw in sections["sites"]]
        agenda = [self._model(AgendaTree, raw, p) for p, raw in sections["agenda"]]
        delegates = [self._model(DelegateCreate, raw, p) for p, raw in sections["delegates"]]
        decisions = [self._model(DecisionWithAwards, raw, p) for p, raw in sections["decisions"]]
        kinds = [self._model(KindCreate, raw, p) for p, raw in sections["award_kinds"]]
        documents = None
        if data.get("award_documents") is not None:
            documents = self._model(DocumentsRecord, data["award_documents"], ("award_documents",))
            if documents is not None:
                self._check_documents(documents)
        self._cross_check(sections)
        if conference is not None:
            for entry, (entry_path, _) in zip(agenda, sections["agenda"], strict=True):
                if entry is not None:
                    self._check_times(conference, entry, entry_path)
        if self.problems or conference is None:
            return None
        return ConferenceFile.model_construct(
            plenary=1,
            conference=conference,
            sites=_present(sites),
            agenda=_present(agenda),
            delegates=_present(delegates),
            award_kinds=_present(kinds),
            decisions=_present(decisions),
            award_documents=documents,
        )

    def _check_head(self, data: JsonObject) -> None:
        """Only known sections, and the format version this server reads."""
        for key in data:
            if key not in SECTIONS:
                self.add((key,), "unknown section (the sections are " + ", ".join(SECTIONS) + ")")
        version = data.get("plenary")
        if "plenary" not in self.broken and (version != FORMAT_VERSION or type(version) is not int):
            self.add(
                ("plenary",),
                "missing: the format version, plenary: 1"
                if version is None
                else f"format version {version!r} is not supported (this server reads 1)",
            )

    def _check_documents(self, documents: DocumentsRecord) -> None:
        path: Path = ("award_documents",)
        if documents.emblem:
            try:
                self.emblem = emblem_from_data_uri(documents.emblem)
            except InvalidInput as exc:
                self.add((*path, "emblem"), exc.message)
        for name, source in documents.templates.items():
            try:
                check_template(f"{TEMPLATE_FOLDER}/{name}", source)
            except PlenaryError as exc:
                self.add((*path, "templates", name), exc.message)

    def _entries(self, data: JsonObject, name: str) -> list[tuple[Path, Any]]:
        raw = data.get(name)
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.add((name,), "must be a list (each entry on a line starting with -)")
            return []
        return [((name, i), item) for i, item in enumerate(raw)]

    def _model(self, model: type[M], raw: Any, path: Path) -> M | None:
        try:
            return model.model_validate(raw)
        except ValidationError as exc:
            for error in exc.errors(include_url=False, include_input=False):
                loc = tuple(error["loc"])
                message = error["msg"].removeprefix("Value error, ")
                kind = error["type"]
                if kind == "extra_forbidden":
                    message = "unknown field (the fields are " + _fields_at(model, loc) + ")"
                elif kind in ("model_type", "dict_type", "model_attributes_type"):
                    message = "must be a mapping of fields (name: value)"
                elif kind == "missing":
                    message = "missing: this field is required"
                self.add((*path, *loc), message)
            return None

    def _cross_check(self, sections: dict[str, list[tuple[Path, Any]]]) -> None:
        """What no single entry shows: codes and names used twice, references to sites
        and kinds that are not in the file, agenda nesting."""
        codes = self._check_sites(sections["sites"])
        known = None if "sites" in self.broken else codes
        self._check_delegates(sections["delegates"], known)
        self._check_agenda(sections["agenda"], known)
        kinds = self._check_kinds(sections["award_kinds"])
        known_kinds = None if "award_kinds" in self.broken else {*BUILTIN_KINDS, *kinds}
        self._check_decisions(sections["decisions"], known, known_kinds)

    def _check_sites(self, sites: list[tuple[Path, Any]]) -> set[str]:
        """Each site code once, one main site; returns the codes."""
        codes: dict[str, Path] = {}
        main: Path | None = None
        for path, raw in sites:
            if not isinstance(raw, dict):
                continue
            code = _code(raw.get("code"))
            if code is not None and code in codes:
                also = path_text(codes[code])
                self.add((*path, "code"), f"the site code {code} is used twice (also {also})")
            elif code is not None:
                codes[code] = path
            if raw.get("kind") == "main":
                if main is not None:
                    first = path_text(main)
                    self.add((*path, "kind"), f"a second main site ({first} is the main site)")
                else:
                    main = path
        return set(codes)

    def _check_delegates(self, delegates: list[tuple[Path, Any]], known: set[str] | None) -> None:
        """Each delegate at a site of the file, listed once there."""
        people: dict[tuple[str, str], Path] = {}
        for path, raw in delegates:
            code = self._site_ref(raw, path, known)
            name = raw.get("name") if isinstance(raw, dict) else None
            if code is not None and isinstance(name, str) and nfc(name):
                key = delegate_key(code, nfc(name))
                if key in people:
                    also = path_text(people[key])
                    self.add(
                        (*path, "name"), f"{nfc(name)} is listed twice at {code} (also {also})"
                    )
                else:
                    people[key] = path

    def _check_agenda(self, agenda: list[tuple[Path, Any]], known: set[str] | None) -> None:
        """Items given from a site of the file, nested at most MAX_AGENDA_DEPTH deep."""
        stack = [(path, raw, 1) for path, raw in agenda]
        while stack:
            path, raw, depth = stack.pop()
            self._site_ref(raw, path, known)
            children = raw.get("items") if isinstance(raw, dict) else None
            if isinstance(children, list) and children:
                if depth >= MAX_AGENDA_DEPTH:
                    self.add((*path, "items"), f"items nest at most {MAX_AGENDA_DEPTH} levels deep")
                    continue
                stack.extend(
                    ((*path, "items", i), item, depth + 1) for i, item in enumerate(children)
                )

    def _check_kinds(self, award_kinds: list[tuple[Path, Any]]) -> set[str]:
        """Each kind of award defined once, none a built-in one; returns their keys."""
        kinds: dict[str, Path] = {}
        for path, raw in award_kinds:
            kind_key = raw.get("key") if isinstance(raw, dict) else None
            if not isinstance(kind_key, str):
                continue
            if kind_key in BUILTIN_KINDS:
                self.add((*path, "key"), f"{kind_key} is a built-in kind of award")
            elif kind_key in kinds:
                also = path_text(kinds[kind_key])
                self.add((*path, "key"), f"the kind {kind_key} is defined twice (also {also})")
            else:
                kinds[kind_key] = path
        return set(kinds)

    def _check_decisions(
        self,
        decisions: list[tuple[Path, Any]],
        known: set[str] | None,
        known_kinds: set[str] | None,
    ) -> None:
        """Each decision of a known kind and listed once; its awards at sites of the file,
        each verification code given once in the whole file."""
        numbers: dict[tuple[str, str], Path] = {}
        award_codes: dict[str, Path] = {}
        for path, raw in decisions:
            if not isinstance(raw, dict):
                continue
            kind = raw.get("award_kind")
            if isinstance(kind, str) and known_kinds is not None and kind not in known_kinds:
                self.add(
                    (*path, "award_kind"),
                    f"unknown kind of award {kind} (define it under award_kinds)",
                )
            number = _decision_key(raw)
            if number is not None and number in numbers:
                also = path_text(numbers[number])
                self.add(
                    (*path, "number"),
                    f"decision {number[1]} of {number[0]} is listed twice (also {also})",
                )
            elif number is not None:
                numbers[number] = path
            awards = raw.get("awards")
            for i, award in enumerate(awards if isinstance(awards, list) else []):
                self._site_ref(award, (*path, "awards", i), known)
                typed = award.get("code") if isinstance(award, dict) else None
                printed = normalise_code(typed) if isinstance(typed, str) else None
                if printed is not None and printed in award_codes:
                    also = path_text(award_codes[printed])
                    self.add(
                        (*path, "awards", i, "code"),
                        f"the verification code {printed} is given twice (also {also})",
                    )
                elif printed is not None:
                    award_codes[printed] = (*path, "awards", i)
        self.decision_numbers = numbers
        self.award_codes = award_codes

    def _site_ref(self, raw: Any, path: Path, known: set[str] | None) -> str | None:
        code = _code(raw.get("site")) if isinstance(raw, dict) else None
        if code is not None and known is not None and code not in known:
            self.add((*path, "site"), f"unknown site code {code} (not among the sites)")
        return code

    def _check_times(self, conference: ConferenceCreate, entry: AgendaTree, path: Path) -> None:
        problem = planned_start_problem(conference, entry.planned_start)
        if problem is not None:
            self.add((*path, "planned_start"), problem)
        for i, child in enumerate(entry.items):
            self._check_times(conference, child, (*path, "items", i))


def _present(items: list[M | None]) -> list[M]:
    return [item for item in items if item is not None]


def _code(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    return nfc(value).upper() or None


def _decision_key(raw: JsonObject) -> tuple[str, str] | None:
    body, number = raw.get("issuing_body"), raw.get("number")
    if isinstance(number, int) and not isinstance(number, bool):
        number = str(number)
    if isinstance(body, str) and isinstance(number, str) and nfc(number):
        return nfc(body), nfc(number)
    return None


def _fields_at(model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    """The field names of the (nested) model that loc[:-1] leads to."""
    for part in loc[:-1]:
        if isinstance(part, str) and part in model.model_fields:
            for arg in get_args(model.model_fields[part].annotation):
                if isinstance(arg, type) and issubclass(arg, BaseModel):
                    model = arg
    return ", ".join(model.model_fields)


@dataclass(frozen=True)
class ReadFile:
    """A conference file read and checked in itself (not yet against the database)."""

    plan: ConferenceFile
    emblem: bytes | None
    checker: _Checker


def read_conference_file(raw: bytes, fmt: Format) -> ReadFile:
    """The file as models, or InvalidInput listing every problem (without the database's).

    Pure computation, the heavy part of an import: callers run it before taking any
    database lock, off the event loop (the server's parse pool).
    """
    checker = _Checker()
    plan = checker.validate(checker.parse(raw, fmt))
    if plan is None:
        raise checker.error()
    return ReadFile(plan, checker.emblem, checker)


async def check_against_database(session: AsyncSession, file: ReadFile) -> None:
    """InvalidInput (with paths and lines) if the file reuses a decision number or an
    award's verification code already in the database."""
    checker = file.checker
    used = await used_decision_numbers(session, checker.decision_numbers)
    problems: list[tuple[Path, str]] = [
        (
            (*checker.decision_numbers[(body, number)], "number"),
            f"decision {number} of {body} already exists (decision numbers are never reused)",
        )
        for body, number in sorted(used)
    ]
    problems += [
        (
            (*checker.award_codes[code], "code"),
            f"the verification code {code} is another award's (leave it out for a new one)",
        )
        for code in sorted(await used_codes(session, checker.award_codes))
    ]
    if problems:
        # A fresh reader with the file's lines: checking twice never reports twice.
        reader = FileReader(lines=checker.lines)
        for path, message in problems:
            reader.add(path, message)
        raise reader.error()


def require_may_create(actor: Actor) -> None:
    if not (actor.principal.is_admin or actor.principal.can_create_conferences):
        raise Forbidden("this account may not create conferences")


async def import_conference(session: AsyncSession, file: ReadFile, *, actor: Actor) -> Conference:
    """Create the conference a read file describes, all of it or (on any problem) nothing."""
    require_may_create(actor)
    await check_against_database(session, file)
    return await create_from_file(session, file.plan, emblem=file.emblem, actor=actor)


async def create_from_file(
    session: AsyncSession, plan: ConferenceFile, *, emblem: bytes | None = None, actor: Actor
) -> Conference:
    """Create a validated file's content; one audit entry and one event for the rows."""
    conference = await create_conference(session, plan.conference, actor=actor)
    assert conference.id is not None
    cid = conference.id
    sites = [
        Site(conference_id=cid, **(s.model_dump() | {"position": _given(s.position, i + 1)}))
        for i, s in enumerate(plan.sites)
    ]
    session.add_all(sites)
    await session.flush()
    site_ids = {site.code: _id(site.id) for site in sites}
    await insert_delegates(session, cid, site_ids, plan.delegates)
    await insert_agenda(session, cid, site_ids, plan.agenda)
    await insert_kinds(session, cid, plan.award_kinds)
    await insert_decisions(session, cid, site_ids, plan.decisions)
    if plan.award_documents is not None:
        await insert_documents(session, cid, plan.award_documents, emblem)
    counts = ImportCounts.of(plan).model_dump()
    organizer = Actor(actor.principal, cid, frozenset({"organizer"}))
    await record(
        session, organizer, "conference.import", "conference", conference.public_id, counts
    )
    await append_event(
        session,
        cid,
        CONFERENCE_IMPORTED,
        {"conference": conference_data(conference), "counts": counts},
    )
    return conference


def _given(value: int | None, default: int) -> int:
    return default if value is None else value


def _id(value: int | None) -> int:
    assert value is not None
    return value
