"""The HTTP and WebSocket adapters of agenda: the agenda, the live meeting (HTTP and
WebSocket), the chair, agenda and screen pages."""
