"""Uploaded spreadsheets (CSV or XLSX) and the yes/no query flags of the imports."""

from __future__ import annotations

from aiohttp import BodyPartReader, web

from conference import errors
from conference.errors import InvalidInput, PlenaryError
from conference.tables import XLSX_MEDIA_TYPE, Format
from server.http import FORM_ERRORS, UNSUPPORTED_MEDIA_TYPE, InvalidForm, read_body
from server.keys import config_key

# What the declared type says of the content (None: let the content decide).
FORMAT_BY_MEDIA_TYPE: dict[str, Format | None] = {
    "text/csv": "csv",
    "application/csv": "csv",
    "text/x-csv": "csv",
    "application/x-csv": "csv",
    "text/comma-separated-values": "csv",
    "text/tab-separated-values": "csv",
    "text/plain": "csv",
    XLSX_MEDIA_TYPE: "xlsx",
    # Browsers on Windows label .csv files with Excel's old type.
    "application/vnd.ms-excel": None,
    "application/octet-stream": None,
}
TRUE = ("1", "true", "yes")
FALSE = ("", "0", "false", "no")


def query_flag(request: web.Request, name: str) -> bool:
    """A yes/no query parameter (1/0, true/false, yes/no; absent is no)."""
    value = request.query.get(name, "").lower()
    if value not in TRUE + FALSE:
        raise InvalidInput(f"{name} is 1 or 0 (true or false), not {value!r}", field=name)
    return value in TRUE


async def read_upload(request: web.Request) -> tuple[bytes, Format | None]:
    """The file: the raw body, or the first file of a multipart form."""
    limit = request.app[config_key].max_upload_bytes
    kinds = "text/csv or " + XLSX_MEDIA_TYPE
    if request.content_type != "multipart/form-data":
        if request.content_type not in FORMAT_BY_MEDIA_TYPE:
            raise PlenaryError(
                f"send the file as {kinds} (or in a multipart form), not {request.content_type}",
                code=UNSUPPORTED_MEDIA_TYPE,
            )
        raw = await read_body(request, limit=limit)
        return raw, FORMAT_BY_MEDIA_TYPE[request.content_type]
    too_large = PlenaryError(f"the file is larger than {limit} bytes", code=errors.TOO_LARGE)
    if request.content_length is not None and request.content_length > limit:
        raise too_large
    try:
        return await _first_file(request, limit, too_large)
    except FORM_ERRORS as exc:
        raise InvalidForm(f"the form cannot be read: {exc}", field="body") from None


async def _first_file(
    request: web.Request, limit: int, too_large: PlenaryError
) -> tuple[bytes, Format | None]:
    reader = await request.multipart()
    while (part := await reader.next()) is not None:
        if not isinstance(part, BodyPartReader) or not (part.filename or part.name == "file"):
            continue
        data = bytearray()
        while chunk := await part.read_chunk(65_536):
            data.extend(chunk)
            if len(data) > limit:
                raise too_large
        media_type = part.headers.get("Content-Type", "").split(";")[0].strip().lower()
        return bytes(data), FORMAT_BY_MEDIA_TYPE.get(media_type)
    raise InvalidInput("the form holds no file (send it in a field named file)", field="file")
