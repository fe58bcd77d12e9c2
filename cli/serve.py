"""`plenary serve`: refuse a stale schema or a missing public address, then serve.

The server's stack is imported when the command runs, not when the command line is
read: other commands (`plenary follow` above all) start without it."""

from __future__ import annotations

import asyncio
import gc
import logging
from typing import TYPE_CHECKING

from conference.errors import PlenaryError

if TYPE_CHECKING:
    from runtime.config import Config


def check_public_url(config: Config) -> None:
    """Refuse to serve without the address people open, unless told it is local."""
    if not config.public_url and not config.local:
        raise PlenaryError(
            "set PLENARY_PUBLIC_URL to the address people open (https://plenary.example.vn): "
            "personal links and the QR codes printed on badges, certificates and minutes "
            "point to it; for a server on this machine only, use --local "
            "(or PLENARY_LOCAL=1)",
            code="public_url_missing",
        )


def serve(config: Config) -> None:
    """`plenary serve` (and the demo after its data): check, announce, serve until stopped."""
    from conference.db import Database
    from server.access_log import AccessLogger
    from server.app import create_app
    from server.migrate import ensure_current
    from server.serving import run_server

    # Refuse before announcing anything (the app checks again at startup).
    asyncio.run(ensure_current(config.database_url))
    check_public_url(config)
    logging.basicConfig(
        level=config.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    app = create_app(config)
    dialect = Database(config.database_url).dialect
    print(f"plenary serving on http://{config.host}:{config.port}/ ({dialect})", flush=True)
    if not config.public_url:
        print(
            f"plenary: local server: personal links and QR codes point to {config.public_base}",
            flush=True,
        )
    # What exists now (modules, mappers, templates) lives as long as the process: keep it
    # out of the collector's full passes, which otherwise stall every request ~50 ms.
    gc.collect()
    gc.freeze()
    run_server(app, host=config.host, port=config.port, access_log_class=AccessLogger)
