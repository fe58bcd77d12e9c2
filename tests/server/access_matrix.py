"""The access matrix: who may call each HTTP route and each WebSocket command.

Written once, here; tests/server/test_access_matrix.py walks every route of the OpenAPI
document and every registered command with every role against it, and checks that
docs/roles.md shows the same tables (`python -m tests.server.access_matrix` prints them).

A row holds one cell per role, in the order of ROLES:
  ok   allowed (the answer is the route's own: a success, or a 4xx about the request
       itself such as 409 or 422, never 401, 403 or 404)
  401  refused: log in first
  403  refused: the caller's role may not do this
  404  refused: the record is out of the caller's sight (a private conference seen
       without a role in it, another site's record, an unknown personal link)
"""

from __future__ import annotations

# "~" stands for /api/v1/conferences/{cid} in the rows below.
CONF = "/api/v1/conferences/{cid}"

ROLES = (
    "organizer",
    "chair",
    "secretary",
    "operator",
    "other_operator",
    "screen",
    "link",
    "anonymous",
)
# How docs/roles.md heads the columns.
HEADINGS = (
    "organizer",
    "chair",
    "secretary",
    "operator, own site",
    "operator, other site",
    "screen",
    "personal link",
    "anonymous",
)

_ROWS: dict[str, str] = {
    "GET /healthz": "ok  ok  ok  ok  ok  ok  ok  ok",
    "GET /metrics": "ok  ok  ok  ok  ok  ok  ok  ok",
    "GET /api/v1/openapi.json": "ok  ok  ok  ok  ok  ok  ok  ok",
    "POST /api/v1/auth/login": "ok  ok  ok  ok  ok  ok  ok  ok",
    "POST /api/v1/auth/logout": "ok  ok  ok  ok  ok  ok  ok  ok",
    "POST /api/v1/auth/logout-everywhere": "ok  ok  ok  ok  ok  ok  ok  ok",
    "GET /api/v1/me": "ok  ok  ok  ok  ok  ok  ok  ok",
    "GET /api/v1/conferences": "ok  ok  ok  ok  ok  ok  ok  ok",
    "POST /api/v1/conferences": "ok  403 403 403 403 403 401 401",
    "GET ~": "ok  ok  ok  ok  ok  ok  404 404",
    "PATCH ~": "ok  403 403 403 403 403 404 404",
    "GET ~/sites": "ok  ok  ok  ok  ok  ok  404 404",
    "POST ~/sites": "ok  403 403 403 403 403 404 404",
    "GET ~/sites/{sid}": "ok  ok  ok  ok  404 ok  404 404",
    "PATCH ~/sites/{sid}": "ok  403 403 403 404 403 404 404",
    "DELETE ~/sites/{sid}": "ok  403 403 403 404 403 404 404",
    "GET ~/live": "ok  ok  ok  ok  ok  ok  404 404",
    "GET /api/v1/delegate/{secret}": "404 404 404 404 404 404 ok  404",
    "GET /api/v1/delegate/{secret}/qr.svg": "404 404 404 404 404 404 ok  404",
    "POST /api/v1/delegate/{secret}/checkin": "404 404 404 404 404 404 ok  404",
    "POST ~/delegates/{did}/reissue": "ok  403 403 403 403 403 404 404",
    "GET ~/delegates/links.csv": "ok  403 403 403 403 403 404 404",
    "GET /api/v1/delegate/{secret}/live": "404 404 404 404 404 404 ok  404",
    "POST /api/v1/delegate/{secret}/speakers": "404 404 404 404 404 404 ok  404",
    "POST /api/v1/delegate/{secret}/speakers/{spid}/withdraw": "404 404 404 404 404 404 ok  404",
    "GET /api/v1/delegate/{secret}/minutes": "404 404 404 404 404 404 403 404",
    "GET ~/delegates": "ok  ok  ok  ok  ok  403 404 404",
    "POST ~/delegates": "ok  403 403 403 403 403 404 404",
    "POST ~/delegates/import": "ok  403 403 403 403 403 404 404",
    "GET ~/delegates/{did}": "ok  ok  ok  ok  404 403 404 404",
    "PATCH ~/delegates/{did}": "ok  403 403 403 404 403 404 404",
    "DELETE ~/delegates/{did}": "ok  403 403 403 404 403 404 404",
    "POST ~/checkins": "ok  403 403 ok  404 403 404 404",
    "GET ~/checkins": "ok  ok  ok  ok  ok  403 404 404",
    "POST ~/checkins/batch": "ok  403 403 ok  404 403 404 404",
    "POST ~/delegates/{did}/checkin/undo": "ok  403 403 ok  404 403 404 404",
    "GET ~/attendance": "ok  ok  ok  ok  ok  403 404 404",
    "GET ~/checkins/conflicts": "ok  ok  403 403 403 403 404 404",
    "POST ~/checkins/conflicts/{chid}/resolve": "ok  403 403 403 403 403 404 404",
    "GET ~/credentials/keys": "ok  403 403 ok  ok  403 404 404",
    "GET ~/sites/{sid}/checkin-code": "ok  403 403 ok  404 403 404 404",
    "GET ~/attendance/export.csv": "ok  ok  ok  ok  ok  403 404 404",
    "GET ~/attendance/export.xlsx": "ok  ok  ok  ok  ok  403 404 404",
    "GET ~/attendance/export.pdf": "ok  ok  ok  ok  ok  403 404 404",
    "GET ~/agenda": "ok  ok  ok  ok  ok  ok  404 404",
    "POST ~/agenda": "ok  403 403 403 403 403 404 404",
    "GET ~/agenda/settings": "ok  ok  ok  ok  ok  ok  404 404",
    "PATCH ~/agenda/settings": "ok  ok  403 403 403 403 404 404",
    "PATCH ~/agenda/{iid}": "ok  403 403 403 403 403 404 404",
    "DELETE ~/agenda/{iid}": "ok  403 403 403 403 403 404 404",
    "POST ~/agenda/order": "ok  403 403 403 403 403 404 404",
    "POST ~/agenda/live": "ok  ok  403 403 403 403 404 404",
    "GET ~/agenda/{iid}/speakers": "ok  ok  ok  ok  ok  ok  404 404",
    "POST ~/agenda/{iid}/speakers": "ok  ok  403 ok  404 403 404 404",
    "POST ~/agenda/{iid}/speakers/next": "ok  ok  403 403 403 403 404 404",
    "POST ~/agenda/{iid}/speakers/order": "ok  ok  403 403 403 403 404 404",
    "POST ~/agenda/{iid}/speakers/open": "ok  ok  403 403 403 403 404 404",
    "POST ~/speakers/{spid}": "ok  ok  403 ok  404 403 404 404",
    "GET ~/speaking-stats": "ok  ok  ok  403 403 403 404 404",
    "GET ~/roll-call": "ok  ok  ok  ok  ok  403 404 404",
    "POST ~/roll-call": "ok  ok  403 403 403 403 404 404",
    "POST ~/roll-call/answer": "ok  ok  403 ok  404 403 404 404",
    "POST ~/roll-call/close": "ok  ok  403 403 403 403 404 404",
    "GET ~/minutes": "ok  ok  ok  403 403 403 404 404",
    "GET ~/minutes/facts": "ok  ok  ok  403 403 403 404 404",
    "POST ~/minutes/sections/{section}": "ok  403 ok  403 403 403 404 404",
    "GET ~/minutes/sections/{section}/revisions": "ok  ok  ok  403 403 403 404 404",
    "GET ~/minutes/sections/{section}/compare": "ok  ok  ok  403 403 403 404 404",
    "PATCH ~/minutes/settings": "ok  403 ok  403 403 403 404 404",
    "POST ~/minutes/finalise": "ok  403 ok  403 403 403 404 404",
    "POST ~/minutes/amendments": "ok  403 ok  403 403 403 404 404",
    "GET ~/minutes/versions": "ok  ok  ok  403 403 403 404 404",
    "GET ~/minutes/export.pdf": "ok  403 ok  403 403 403 404 404",
    "GET ~/minutes/export.docx": "ok  403 ok  403 403 403 404 404",
    "GET ~/awards": "ok  ok  ok  403 403 403 404 404",
    "POST ~/awards/decisions": "ok  403 403 403 403 403 404 404",
    "GET ~/awards/decisions/{did}": "ok  ok  ok  403 403 403 404 404",
    "POST ~/awards/decisions/{did}/awards": "ok  403 403 403 403 403 404 404",
    "PATCH ~/awards/{aid}": "ok  403 403 403 403 403 404 404",
    "POST ~/awards/{aid}/revoke": "ok  403 403 403 403 403 404 404",
    "POST ~/awards/announce": "ok  ok  403 403 403 403 404 404",
    "POST ~/awards/render": "ok  403 403 403 403 403 404 404",
    "GET ~/awards/{aid}/document.pdf": "ok  403 403 403 403 403 404 404",
    "GET ~/awards/{aid}/flag.pdf": "ok  403 403 403 403 403 404 404",
    "GET ~/awards/{aid}/flag.svg": "ok  403 403 403 403 403 404 404",
    "POST ~/awards/decisions/{did}/import": "ok  403 403 403 403 403 404 404",
    "GET ~/awards/kinds": "ok  ok  ok  403 403 403 404 404",
    "POST ~/awards/kinds": "ok  403 403 403 403 403 404 404",
    "PATCH ~/awards/kinds/{key}": "ok  403 403 403 403 403 404 404",
    "DELETE ~/awards/kinds/{key}": "ok  403 403 403 403 403 404 404",
    "GET ~/awards/settings": "ok  ok  ok  403 403 403 404 404",
    "PUT ~/awards/settings": "ok  403 403 403 403 403 404 404",
    "PUT ~/awards/emblem": "ok  403 403 403 403 403 404 404",
    "GET ~/awards/emblem": "ok  ok  ok  403 403 403 ok  ok",
    "DELETE ~/awards/emblem": "ok  403 403 403 403 403 404 404",
    "GET ~/awards/templates": "ok  403 403 403 403 403 404 404",
    "GET ~/awards/templates/{name}": "ok  403 403 403 403 403 404 404",
    "PUT ~/awards/templates/{name}": "ok  403 403 403 403 403 404 404",
    "DELETE ~/awards/templates/{name}": "ok  403 403 403 403 403 ok  ok",
    "GET ~/awards/sample.pdf": "ok  403 403 403 403 403 404 404",
    "GET /api/v1/verify/minutes/{code}": "ok  ok  ok  ok  ok  ok  ok  ok",
    "POST /api/v1/verify/minutes": "ok  ok  ok  ok  ok  ok  ok  ok",
    "GET /api/v1/verify/{code}": "ok  ok  ok  ok  ok  ok  ok  ok",
    "GET ~/delegates/{did}/badge.pdf": "ok  403 403 ok  404 403 404 404",
    "POST ~/badges": "ok  403 403 ok  ok  403 404 404",
    "GET ~/documents": "ok  ok  ok  ok  ok  403 404 404",
    "GET ~/documents/{jobid}": "ok  404 404 ok  404 403 404 404",
    "GET ~/documents/{jobid}/file": "ok  404 404 ok  404 403 404 404",
    "GET ~/tokens": "ok  403 403 403 403 403 404 404",
    "POST ~/tokens": "ok  403 403 403 403 403 404 404",
    "POST ~/tokens/{tid}/revoke": "ok  403 403 403 403 403 404 404",
    "GET ~/members": "ok  403 403 403 403 403 404 404",
    "POST ~/members": "ok  403 403 403 403 403 404 404",
    "POST ~/members/revoke": "ok  403 403 403 403 403 404 404",
    "GET ~/audit": "ok  403 403 403 403 403 404 404",
    "GET /api/v1/accounts": "403 403 403 403 403 403 401 401",
    "POST /api/v1/accounts": "403 403 403 403 403 403 401 401",
    "POST /api/v1/conferences/import": "ok  403 403 403 403 403 401 401",
    "GET ~/export": "ok  403 403 403 403 403 404 404",
    "GET /api/v1/ws": "ok  ok  ok  ok  ok  ok  ok  ok",
}
ROUTES: dict[str, str] = {route.replace(" ~", f" {CONF}"): row for route, row in _ROWS.items()}

# WebSocket commands (docs/websocket.md). A refusal is the result's error code:
# 401 unauthorized, 403 forbidden, 404 not_found.
COMMANDS: dict[str, str] = {
    "ping": "ok  ok  ok  ok  ok  ok  ok  ok",
    "live/subscribe": "ok  ok  ok  ok  ok  ok  ok  404",
    "live/unsubscribe": "ok  ok  ok  ok  ok  ok  ok  ok",
    "conference/snapshot": "ok  ok  ok  ok  ok  ok  ok  404",
    "presence/beat": "403 403 403 ok  ok  ok  403 404",
    "agenda/move": "ok  ok  403 403 403 403 403 404",
    "speakers/request": "ok  ok  403 ok  404 403 ok  404",
    "speakers/act": "ok  ok  403 ok  404 403 ok  404",
    "speakers/next": "ok  ok  403 403 403 403 403 404",
    "checkin/scan": "ok  403 403 ok  404 403 ok  404",
    "delegates/get": "ok  ok  ok  ok  404 403 403 404",
}


def cells(row: str) -> list[str]:
    return row.split()


def _table(title: str, rows: dict[str, str]) -> str:
    head = f"| {title} | " + " | ".join(HEADINGS) + " |"
    rule = "|---" * (len(HEADINGS) + 1) + "|"
    lines = [head, rule]
    for name, row in rows.items():
        shown = ["yes" if cell == "ok" else cell for cell in cells(row)]
        lines.append(f"| `{name}` | " + " | ".join(shown) + " |")
    return "\n".join(lines)


def markdown_tables() -> list[str]:
    """The two tables as docs/roles.md shows them."""
    return [_table("route", ROUTES), _table("command", COMMANDS)]


if __name__ == "__main__":
    print("\n\n".join(markdown_tables()))
