"""The server's signing keys as the handlers get them (loaded once, reloaded if missing)."""

from __future__ import annotations

from aiohttp import web

from conference.signing import Keyring, load_keyring
from server.keys import db_key, keyring_key


async def ready_keyring(app: web.Application) -> Keyring:
    """The app's keyring, loading it from the database if the start could not."""
    ring = app[keyring_key]
    if not ring.loaded:
        async with app[db_key].transaction() as session:
            ring.take(await load_keyring(session))
    return ring
