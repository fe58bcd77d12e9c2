"""Import and export of whole conferences (YAML or JSON files)."""

from __future__ import annotations

from server.http import ApiRoutes

routes = ApiRoutes("transfer")
