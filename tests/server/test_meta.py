"""Health, metrics, and the OpenAPI document generated from the route table."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from conference.db import Database
from runtime.config import Config
from server.app import create_app
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


METRICS_TOKEN = "metrics-s3cret-token"
Factory = Any


async def _metrics(aiohttp_client: Factory, config: Config, **headers: str) -> tuple[int, Any]:
    client = await aiohttp_client(create_app(config))
    resp = await client.get("/metrics", headers=headers)
    if resp.content_type == "application/json":
        return resp.status, await resp.json()
    return resp.status, await resp.text()


async def test_metrics_refuse_an_address_not_allowed(
    aiohttp_client: Factory, config: Config
) -> None:
    """The test client calls from 127.0.0.1; here only 10.0.0.0/8 may read."""
    far = Config.from_env({}, database_url=config.database_url, metrics_allow=("10.0.0.0/8",))
    status, body = await _metrics(aiohttp_client, far)
    assert (status, body["error"]["code"]) == (403, "forbidden")
    with_token = Config.from_env(
        {"PLENARY_METRICS_TOKEN": METRICS_TOKEN, "PLENARY_METRICS_ALLOW": "10.0.0.0/8"},
        database_url=config.database_url,
    )
    status, body = await _metrics(aiohttp_client, with_token)
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    status, body = await _metrics(aiohttp_client, with_token, Authorization="Bearer wrong")
    assert (status, body["error"]["code"]) == (401, "unauthorized")
    status, body = await _metrics(
        aiohttp_client, with_token, Authorization=f"Bearer {METRICS_TOKEN}"
    )
    assert status == 200 and "plenary_http_requests_total" in body


async def test_metrics_answer_an_allowed_address_and_only_loopback_by_default(
    aiohttp_client: Factory, config: Config
) -> None:
    assert Config().metrics_allow == ("127.0.0.0/8", "::1/128")
    exact = Config.from_env(
        {"PLENARY_METRICS_ALLOW": "192.0.2.1, 127.0.0.1"}, database_url=config.database_url
    )
    assert exact.metrics_allow == ("192.0.2.1/32", "127.0.0.1/32")
    status, body = await _metrics(aiohttp_client, exact)
    assert status == 200 and "plenary_http_requests_total" in body
    nobody = Config.from_env({"PLENARY_METRICS_ALLOW": ""}, database_url=config.database_url)
    status, _ = await _metrics(aiohttp_client, nobody)
    assert status == 403


def test_a_wrong_metrics_address_names_the_variable() -> None:
    with pytest.raises(ValueError, match=r"PLENARY_METRICS_ALLOW.*10\.0\.0\.0/33"):
        Config.from_env({"PLENARY_METRICS_ALLOW": "10.0.0.0/33"})


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
