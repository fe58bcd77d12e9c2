"""Raw JSON passing through: the one name for a JSON object whose keys no code here fixes.

`JsonObject` is for JSON that is carried, stored or handed on, and read, if at all,
without trusting any key to be there: an event's data on the wire and in the live log,
a stored JSON column (an audit entry's changes, a job's parameters, a finalised minutes
version's content as stored), a JSON Schema or the OpenAPI document built from them,
the conference file (read before it is validated, or written), a frame before it is
parsed; and a pydantic model already dumped to JSON (`model_dump(mode="json")`) on its
way to the wire or the log, whose keys the model names. Where code reads known keys, a
TypedDict or a pydantic model names them instead (docs/architecture.md, "Typed shapes").
"""

from __future__ import annotations

from typing import Any

JsonObject = dict[str, Any]
