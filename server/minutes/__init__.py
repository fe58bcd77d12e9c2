"""The HTTP and WebSocket adapters of minutes: API and pages."""
