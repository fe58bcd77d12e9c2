"""The HTTP and WebSocket adapters of conference: conferences, accounts and login,
administration, the conference file, document jobs."""
