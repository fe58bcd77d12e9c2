"""The OpenAPI document, generated from the route specs and their pydantic models.

The document and the JSON Schemas in it are raw JSON (conference.rawjson.JsonObject):
built here and served as they are, never read for known keys."""

from __future__ import annotations

import re

from pydantic import BaseModel

from conference.rawjson import JsonObject
from server.http import STATUS_BY_CODE
from server.routes import RouteSpec

REF = "#/components/schemas/{model}"
ERROR_SCHEMA: JsonObject = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "field": {"type": "string"},
                "details": {},
            },
        }
    },
}


def _schema_ref(model: type[BaseModel], schemas: JsonObject, mode: str) -> JsonObject:
    schema = model.model_json_schema(ref_template=REF, mode=mode)  # type: ignore[arg-type]
    for name, sub in schema.pop("$defs", {}).items():
        schemas.setdefault(name, sub)
    schemas.setdefault(model.__name__, schema)
    return {"$ref": REF.format(model=model.__name__)}


def _error_responses() -> JsonObject:
    """Every status an error can have (server.http's one table), each with its codes; a 5xx
    other than 503 is a bug and is documented nowhere."""
    codes: dict[int, list[str]] = {}
    for code, status in STATUS_BY_CODE.items():
        if status < 500 or status == 503:
            codes.setdefault(status, []).append(code)
    return {
        str(status): {
            "description": "error: " + ", ".join(sorted(names)),
            "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}},
        }
        for status, names in sorted(codes.items())
    }


def _slug(path: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", path.lower()).strip("_")


def build_openapi(specs: list[RouteSpec], version: str) -> JsonObject:
    """An OpenAPI 3.1 document for every API route."""
    schemas: JsonObject = {"Error": ERROR_SCHEMA}
    paths: JsonObject = {}
    for spec in specs:
        operation: JsonObject = {
            "summary": spec.summary,
            "description": f"Needs: {spec.role}.",
            "tags": [spec.tag],
            "operationId": f"{spec.method.lower()}_{_slug(spec.path)}",
        }
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in re.findall(r"{(\w+)}", spec.path)
        ]
        params += [
            {
                "name": name,
                "in": "query",
                "required": False,
                "schema": {"type": "string"},
                "description": text,
            }
            for name, text in spec.query.items()
        ]
        if params:
            operation["parameters"] = params
        if spec.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {
                    spec.content_type: {"schema": _schema_ref(spec.body, schemas, "validation")}
                },
            }
        ok: JsonObject = {"description": "success"}
        if isinstance(spec.response, type) and issubclass(spec.response, BaseModel):
            ok["content"] = {
                "application/json": {"schema": _schema_ref(spec.response, schemas, "serialization")}
            }
        operation["responses"] = {str(spec.status): ok, **_error_responses()}
        paths.setdefault(spec.path, {})[spec.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "plenary",
            "version": version,
            "description": "Hybrid national conferences: sites, delegates, agenda, awards.",
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "session": {"type": "apiKey", "in": "cookie", "name": "plenary_session"},
                "bearer": {"type": "http", "scheme": "bearer"},
            },
        },
        "security": [{"session": []}, {"bearer": []}, {}],
    }
