"""Health, metrics, and the OpenAPI document generated from the route table."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient

from conference.db import Database
from server.keys import db_key

META_PATHS = ("/healthz", "/metrics")


def api_routes(app: web.Application) -> set[tuple[str, str]]:
    """(method, path) of every registered API route, HEAD aside (aiohttp adds it to GET)."""
    found = set()
    for route in app.router.routes():
        path = route.resource.canonical if route.resource is not None else ""
        if route.method in ("HEAD", "*") or not (path.startswith("/api/") or path in META_PATHS):
            continue
        found.add((route.method.lower(), path))
    return found


async def test_healthz(client: TestClient[Any, Any], app: web.Application) -> None:
    resp = await client.get("/healthz")
    assert resp.status == 200
    body = await resp.json()
    db: Database = app[db_key]
    assert body == {"status": "ok", "database": db.dialect}
    assert body["database"] in ("sqlite", "postgresql")


async def test_metrics_are_prometheus_text(client: TestClient[Any, Any]) -> None:
    await client.get("/healthz")
    await client.get("/api/v1/conferences/nope")
    resp = await client.get("/metrics")
    assert resp.status == 200
    assert resp.content_type == "text/plain"
    body = await resp.text()
    assert "# TYPE plenary_http_requests_total counter" in body
    assert 'plenary_http_requests_total{method="GET",status="200"}' in body
    assert 'plenary_http_requests_total{method="GET",status="404"} 1' in body
    sample = re.compile(r'^[a-z_]+(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+]+$')
    for line in body.splitlines():
        assert line.startswith("# HELP ") or line.startswith("# TYPE ") or sample.match(line), line


async def test_openapi_document(client: TestClient[Any, Any], app: web.Application) -> None:
    resp = await client.get("/api/v1/openapi.json")
    assert resp.status == 200
    doc = await resp.json()
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["title"] == "plenary" and doc["info"]["version"]
    documented = {
        (method, path) for path, operations in doc["paths"].items() for method in operations
    }
    registered = api_routes(app)
    assert ("post", "/api/v1/conferences/{cid}/tokens") in registered
    assert registered - documented == set(), "routes missing from the OpenAPI document"
    assert documented - registered == set(), "documented routes that do not exist"

    schemas = doc["components"]["schemas"]
    for name in ("ConferenceCreate", "ConferenceUpdate", "SiteCreate", "SiteUpdate", "TokenCreate"):
        assert schemas[name]["type"] == "object"
        assert schemas[name]["additionalProperties"] is False, name
    assert set(schemas["ConferenceCreate"]["required"]) == {"title", "starts_on", "ends_on"}
    assert set(schemas["SiteCreate"]["required"]) == {"code", "name"}

    create = doc["paths"]["/api/v1/conferences"]["post"]
    body_schema = create["requestBody"]["content"]["application/json"]["schema"]
    assert body_schema == {"$ref": "#/components/schemas/ConferenceCreate"}
    # Errors are documented status by status, from the one table of codes; 500 is a bug.
    assert {"201", "400", "401", "403", "404", "422", "429", "503"} <= set(create["responses"])
    assert "500" not in create["responses"] and "default" not in create["responses"]
    assert "invalid_json" in create["responses"]["400"]["description"]
    sites = doc["paths"]["/api/v1/conferences/{cid}/sites"]["post"]["requestBody"]
    assert sites["content"]["application/json"]["schema"]["$ref"].endswith("/SiteCreate")
    params = doc["paths"]["/api/v1/conferences/{cid}/sites/{sid}"]["get"]["parameters"]
    assert {(p["name"], p["in"]) for p in params} == {("cid", "path"), ("sid", "path")}

    operation_ids = [op["operationId"] for ops in doc["paths"].values() for op in ops.values()]
    assert len(operation_ids) == len(set(operation_ids))
    for ops in doc["paths"].values():
        for op in ops.values():
            assert op["summary"] and op["description"].startswith("Needs: ")

    # Every reference resolves.
    refs = re.findall(r'"\$ref": "#/components/schemas/([^"]+)"', await resp.text())
    assert refs and all(ref in schemas for ref in refs)
