"""Checks an event's data against its catalogue entry: the keys its payload type names, no
others, each of its type. Every test's events pass through it (tests/conftest.py)."""

from __future__ import annotations

import json
import types
import typing
from functools import cache
from typing import Any, NotRequired, Required, get_args, get_origin, get_type_hints

from pydantic import BaseModel, TypeAdapter, ValidationError
from typing_extensions import is_typeddict

from conference.catalogue import Catalogue, EventType


@cache
def _adapter(payload: type) -> TypeAdapter[Any]:
    return TypeAdapter(payload)


def _fields(kind: type) -> tuple[dict[str, Any], set[str]]:
    """The fields of a TypedDict or a model, and those that must be present."""
    if is_typeddict(kind):
        hints = get_type_hints(kind, include_extras=True)
        return hints, set(kind.__required_keys__)
    assert issubclass(kind, BaseModel)
    hints = {name: field.annotation for name, field in kind.model_fields.items()}
    return hints, {name for name, field in kind.model_fields.items() if field.is_required()}


def _structured(kind: Any) -> bool:
    return isinstance(kind, type) and (is_typeddict(kind) or issubclass(kind, BaseModel))


def _extra_keys(kind: Any, value: Any, where: str) -> list[str]:
    """Keys the declared type does not name, at any depth."""
    origin = get_origin(kind)
    if origin in (Required, NotRequired):
        return _extra_keys(get_args(kind)[0], value, where)
    if origin in (typing.Union, types.UnionType):
        options = [a for a in get_args(kind) if a is not type(None)]
        return (
            _extra_keys(options[0], value, where) if len(options) == 1 and value is not None else []
        )
    if origin is list and isinstance(value, list):
        (inner,) = get_args(kind)
        return [p for n, v in enumerate(value) for p in _extra_keys(inner, v, f"{where}[{n}]")]
    if _structured(kind) and isinstance(value, dict):
        fields, _ = _fields(kind)
        found = [f"{where}.{key}: not in {kind.__name__}" for key in value if key not in fields]
        for key, inner in fields.items():
            if key in value:
                found.extend(_extra_keys(inner, value[key], f"{where}.{key}"))
        return found
    return []


def payload_problems(catalogue: Catalogue, type_name: str, data: Any) -> list[str]:
    """What is wrong with one event's data; [] when it is what the catalogue declares."""
    event_type: EventType | None = catalogue.get(type_name)
    if event_type is None:
        return [f"{type_name}: not in the event catalogue"]
    problems = _extra_keys(event_type.payload, data, type_name)
    try:
        # JSON as the log stores it and subscribers read it: times are strings there.
        _adapter(event_type.payload).validate_json(json.dumps(data), strict=True)
    except ValidationError as e:
        problems.extend(f"{type_name}: {err['loc']} {err['msg']}" for err in e.errors())
    return problems
