"""The HTTP and WebSocket adapters of awards: decisions and awards, their settings and
imports, public verification."""
