"""Clients of the live stream, built on websockets: `plenary follow` (and the relay to come).

They speak the WebSocket protocol only and import nothing of the server."""
