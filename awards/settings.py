"""A conference's award documents: the place and heading they print, the emblem, and the
organizer's replacements of template files (docs/award-templates.md).

Templates are checked here for what needs no rendering (a known file name, Jinja syntax
in the sandbox); the caller renders a sample through the pool before saving one.
"""

from __future__ import annotations

import base64
import io

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from awards.models import AwardSettings, AwardTemplate
from awards.schemas import DocumentSettings, DocumentsRecord
from conference.actors import Actor
from conference.audit import record
from conference.dbtypes import utcnow
from conference.documents import TEMPLATES_DIR
from conference.errors import TOO_LARGE, InvalidInput, NotFound, TemplateLimits
from conference.live import lock_conference
from conference.models import Conference
from conference.queries import conference_row

TEMPLATE_FOLDER = "awards"
TEMPLATE_SUFFIXES = (".html", ".css", ".svg")
MAX_TEMPLATE = 200_000
MAX_EMBLEM = 5_000_000
# The emblem is kept at most this many pixels on its longer side: 500 dpi at 25 mm.
EMBLEM_PIXELS = 500
EMBLEM_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp", "GIF": "image/gif"}
# Decoding an image this large would take the server's memory (a "decompression bomb").
MAX_PIXELS = 25_000_000


def template_names() -> list[str]:
    """The award template files an organizer may replace ("awards/certificate.html", ...)."""
    folder = TEMPLATES_DIR / TEMPLATE_FOLDER
    return sorted(
        f"{TEMPLATE_FOLDER}/{path.name}"
        for path in folder.iterdir()
        if path.is_file() and path.suffix in TEMPLATE_SUFFIXES
    )


def default_source(name: str) -> str:
    """The file shipped with plenary for template name."""
    _known(name)
    return (TEMPLATES_DIR / name).read_text(encoding="utf-8")


def _known(name: str) -> None:
    if name not in template_names():
        raise NotFound(
            f"no award template is called {name!r} (one of {', '.join(template_names())})",
            field="name",
        )


def check_template(name: str, source: str) -> None:
    """InvalidInput unless name is an award template and source compiles in the sandbox."""
    _known(name)
    if len(source.encode()) > MAX_TEMPLATE:
        raise InvalidInput(
            f"a template may have {MAX_TEMPLATE:,} bytes at most", field="source", code=TOO_LARGE
        )
    if "\x00" in source:
        raise InvalidInput("the template holds a NUL character", field="source")
    if name.endswith(".html") or name.endswith(".svg"):
        try:
            SandboxedEnvironment().parse(source)
        except TemplateSyntaxError as exc:
            raise InvalidInput(
                f"line {exc.lineno}: {exc.message or 'Jinja syntax error'}", field="source"
            ) from None
        except RecursionError:
            # Jinja's parser recurses once per nested bracket or block: bounded by the size
            # cap above and by Python's recursion limit, and refused as such.
            raise TemplateLimits(
                "the template nests brackets or blocks too deeply", field="source"
            ) from None


async def settings_of(session: AsyncSession, conference: Conference) -> AwardSettings:
    """The conference's settings (a new, unsaved row when none was saved)."""
    assert conference.id is not None
    found = (
        await session.exec(
            select(AwardSettings).where(col(AwardSettings.conference_id) == conference.id)
        )
    ).first()
    return found or AwardSettings(conference_id=conference.id)


async def overrides_of(session: AsyncSession, conference: Conference) -> dict[str, str]:
    """The organizer's template replacements: name -> source."""
    rows = await session.exec(
        select(AwardTemplate.name, AwardTemplate.source).where(
            col(AwardTemplate.conference_id) == conference.id
        )
    )
    return dict(rows.all())


def emblem_from_data_uri(value: str) -> bytes:
    """The PNG an exported emblem (a data: URI) stands for; InvalidInput if it is none."""
    head, _, data = value.partition(",")
    if not head.startswith("data:image/") or not head.endswith(";base64"):
        raise InvalidInput("the emblem is a data:image/...;base64, URI", field="emblem")
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError:
        raise InvalidInput("the emblem's base64 is broken", field="emblem") from None
    return emblem_png(raw)


async def insert_documents(
    session: AsyncSession, conference_id: int, record: DocumentsRecord, emblem: bytes | None
) -> None:
    """A conference file's award document settings (checked), without audit."""
    session.add(
        AwardSettings(
            conference_id=conference_id,
            place=record.place,
            heading=record.heading,
            emblem=emblem,
            emblem_type="image/png" if emblem else "",
        )
    )
    for name, source in record.templates.items():
        session.add(
            AwardTemplate(
                conference_id=conference_id,
                name=f"{TEMPLATE_FOLDER}/{name}",
                source=source,
                updated_by="conference file",
            )
        )
    await session.flush()


async def export_documents(session: AsyncSession, conference: Conference) -> dict[str, object]:
    """The award document settings as a conference file keeps them (empty ones left out)."""
    row = await settings_of(session, conference)
    out: dict[str, object] = {}
    if row.place:
        out["place"] = row.place
    if row.heading:
        out["heading"] = row.heading
    if row.emblem:
        out["emblem"] = emblem_data_uri(row)
    templates = {
        name.removeprefix(f"{TEMPLATE_FOLDER}/"): source
        for name, source in sorted((await overrides_of(session, conference)).items())
    }
    if templates:
        out["templates"] = templates
    return out


async def template_rows(session: AsyncSession, conference: Conference) -> list[AwardTemplate]:
    """The conference's replaced templates, by name."""
    rows = await session.exec(
        select(AwardTemplate)
        .where(col(AwardTemplate.conference_id) == conference.id)
        .order_by(col(AwardTemplate.name))
    )
    return list(rows)


async def update_settings(
    session: AsyncSession, conference: Conference, data: DocumentSettings, *, actor: Actor
) -> AwardSettings:
    """Change the place and heading the conference's award documents print."""
    actor.require("organizer")
    # The row may not exist yet: two first writers would both insert it.
    await lock_conference(session, conference.id or 0)
    row = await settings_of(session, conference)
    changes = data.given()
    for name, value in changes.items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    session.add(row)
    await session.flush()
    await record(session, actor, "award_settings.update", "conference", conference.public_id,
                 changes)  # fmt: skip
    return row


def emblem_png(content: bytes) -> bytes:
    """The uploaded picture as a PNG of at most EMBLEM_PIXELS a side; InvalidInput if it is
    not a picture (PNG, JPEG, WebP or GIF)."""
    from PIL import Image, UnidentifiedImageError

    if not content:
        raise InvalidInput("the emblem file is empty", field="emblem")
    if len(content) > MAX_EMBLEM:
        raise InvalidInput(
            f"an emblem may have {MAX_EMBLEM // 1_000_000} MB at most", field="emblem",
            code=TOO_LARGE,
        )  # fmt: skip
    try:
        with Image.open(io.BytesIO(content)) as image:
            if image.format not in EMBLEM_TYPES:
                raise InvalidInput(
                    f"the emblem is a {image.format} picture: use PNG, JPEG, WebP or GIF",
                    field="emblem",
                )
            if image.width * image.height > MAX_PIXELS:
                raise InvalidInput("the emblem has too many pixels", field="emblem")
            # verify() reads a whole PNG (a cut-off one fails) but leaves it unusable;
            # a JPEG ends with its EOI marker (WeasyPrint lets Pillow pad cut-off files).
            image.verify()
            if image.format == "JPEG" and not content.rstrip(b"\x00").endswith(b"\xff\xd9"):
                raise InvalidInput("the emblem's file is cut off", field="emblem")
        with Image.open(io.BytesIO(content)) as image:
            # A JPEG decodes straight at a fraction of its size when that is enough.
            image.draft("RGB", (2 * EMBLEM_PIXELS, 2 * EMBLEM_PIXELS))
            image.load()
            picture = image.convert("RGBA")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidInput("the emblem has too many pixels", field="emblem") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError):
        raise InvalidInput(
            "the emblem is not a picture (use PNG, JPEG, WebP or GIF)", field="emblem"
        ) from None
    picture.thumbnail((EMBLEM_PIXELS, EMBLEM_PIXELS))
    out = io.BytesIO()
    picture.save(out, format="PNG", optimize=True)
    return out.getvalue()


async def _store_emblem(
    session: AsyncSession, conference: Conference, png: bytes | None, *, actor: Actor
) -> AwardSettings:
    actor.require("organizer")
    # The row may not exist yet: two first writers would both insert it.
    await lock_conference(session, conference.id or 0)
    row = await settings_of(session, conference)
    row.emblem, row.emblem_type = png, "" if png is None else "image/png"
    row.updated_at = utcnow()
    session.add(row)
    await session.flush()
    return row


async def set_emblem(
    session: AsyncSession, conference: Conference, png: bytes, *, actor: Actor
) -> AwardSettings:
    """Put an emblem on the conference's award documents: png as emblem_png made it."""
    row = await _store_emblem(session, conference, png, actor=actor)
    await record(session, actor, "award_settings.emblem", "conference", conference.public_id,
                 {"bytes": len(png)})  # fmt: skip
    return row


async def remove_emblem(
    session: AsyncSession, conference: Conference, *, actor: Actor
) -> AwardSettings:
    """Back to the drawn emblem (a gold star on red)."""
    row = await _store_emblem(session, conference, None, actor=actor)
    await record(session, actor, "award_settings.emblem_remove", "conference",
                 conference.public_id, {})  # fmt: skip
    return row


def emblem_data_uri(row: AwardSettings) -> str:
    """The emblem as a data: URI for the templates, "" when there is none."""
    if not row.emblem:
        return ""
    return f"data:{row.emblem_type};base64,{base64.b64encode(row.emblem).decode('ascii')}"


async def save_template(
    session: AsyncSession, conference: Conference, name: str, source: str, *, actor: Actor
) -> AwardTemplate:
    """Keep source as the conference's replacement of template name (checked by the
    caller with a sample rendering too)."""
    actor.require("organizer")
    # The row may not exist yet: two first writers would both insert it.
    await lock_conference(session, conference.id or 0)
    check_template(name, source)
    found = await conference_row(session, AwardTemplate, conference.id, name=name)
    assert conference.id is not None
    row = found or AwardTemplate(conference_id=conference.id, name=name, source=source)
    row.source = source
    row.updated_by = actor.name[:200]
    row.updated_at = utcnow()
    session.add(row)
    await session.flush()
    await record(session, actor, "award_template.save", "award_template", name,
                 {"bytes": len(source.encode())})  # fmt: skip
    return row


async def reset_template(
    session: AsyncSession, conference: Conference, name: str, *, actor: Actor
) -> None:
    """Back to the file shipped with plenary."""
    actor.require("organizer")
    # The row may not exist yet: two first writers would both insert it.
    await lock_conference(session, conference.id or 0)
    _known(name)
    found = await conference_row(session, AwardTemplate, conference.id, name=name)
    if found is None:
        raise NotFound("this template is not replaced in this conference", field="name")
    await session.delete(found)
    await session.flush()
    await record(session, actor, "award_template.reset", "award_template", name, {})
