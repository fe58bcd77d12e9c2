"""The HTTP and WebSocket adapters of attendance: delegates, their personal page,
check-in (HTTP and WebSocket), reports, badges."""
