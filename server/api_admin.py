"""API tokens, members (roles) and the audit log of a conference."""

from __future__ import annotations

from server.http import ApiRoutes

routes = ApiRoutes("administration")
