"""Raw JSON passing through: the one name for a JSON object whose keys no code here fixes.

`JsonObject` is for JSON that is only carried, stored or handed on, never read for
known keys: an event's data on the wire and in the live log, a stored JSON column
(an audit entry's changes, a job's parameters, a finalised version's content as stored),
a JSON Schema or the OpenAPI document built from them, a conference file before it is
validated, a frame before it is parsed. Where the keys are known, a TypedDict or a
pydantic model names them instead (docs/architecture.md, "Typed shapes").
"""

from __future__ import annotations

from typing import Any

JsonObject = dict[str, Any]
