"""Serving the app: requests aiohttp refuses before any middleware runs answer in the
API's error shape too.

aiohttp's HTTP parser refuses an over-long request line or header, an unknown method
or a malformed head before the application sees the request, and answers with a plain
text 400 and a traceback in the log (aiohttp has no public hook for this: issue 3287).
:class:`JsonErrorHandler` answers those with ``{"error": {"code", "message"}}`` and
logs one line without the request's bytes (a path may carry a personal link's secret).
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import suppress
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import BadHttpMethod, HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler

from conference import errors
from conference.errors import PlenaryError
from server.http import BAD_REQUEST, METHOD_NOT_ALLOWED, REQUEST_HEAD_TOO_LARGE, error_response

log = logging.getLogger("plenary.http")


def parser_error(status: int, exc: BaseException | None) -> PlenaryError:
    """What the client is told of a request refused before routing (or failed outside it)."""
    if isinstance(exc, LineTooLong):
        return PlenaryError(
            "the request line or a header is too long (at most 8190 bytes each)",
            code=REQUEST_HEAD_TOO_LARGE,
        )
    if isinstance(exc, BadHttpMethod):
        return PlenaryError(
            "the request method is not one this server knows", code=METHOD_NOT_ALLOWED
        )
    if status < 500:
        return PlenaryError("the request is not well-formed HTTP", code=BAD_REQUEST)
    if status == 504:
        return PlenaryError("the request took too long", code=errors.UNKNOWN_ERROR)
    return PlenaryError("internal error", code=errors.UNKNOWN_ERROR)


class JsonErrorHandler(RequestHandler):
    """aiohttp's connection handler, answering its own refusals as JSON."""

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        client_error = status < 500 or isinstance(exc, HttpProcessingError)
        if client_error:
            # The client's fault: one line, no traceback, none of the request's bytes.
            log.info("refused a malformed request from %s: %s", request.remote, type(exc).__name__)
        else:
            log.error("unhandled error outside the handlers", exc_info=exc)
        if request.writer.output_size > 0:
            raise ConnectionError("the response had begun: no error can be sent")
        response = error_response(parser_error(status, exc))
        if status >= 500 and response.status < 500:
            response.set_status(status)
        response.force_close()
        return response


class JsonErrorServer(web.Server):
    """web.Server whose connections are JsonErrorHandlers."""

    def __call__(self) -> RequestHandler:
        return JsonErrorHandler(self, loop=self._loop, **self._kwargs)


class JsonErrorRunner(web.AppRunner):
    """web.AppRunner serving through JsonErrorServer."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        return JsonErrorServer(
            server.request_handler,
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            loop=asyncio.get_running_loop(),
            **server._kwargs,
        )


async def _serve(app: web.Application, host: str, port: int, **kwargs: Any) -> None:
    runner = JsonErrorRunner(app, handle_signals=True, **kwargs)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        await asyncio.Event().wait()  # until SIGINT or SIGTERM (GracefulExit)
    finally:
        await runner.cleanup()


def run_server(
    app: web.Application, *, host: str, port: int, access_log_class: type[AbstractAccessLogger]
) -> None:
    """web.run_app for plenary: serve until SIGINT or SIGTERM, then shut down cleanly."""
    with asyncio.Runner() as runner:
        loop = runner.get_loop()
        main = loop.create_task(_serve(app, host, port, access_log_class=access_log_class))
        try:
            loop.run_until_complete(main)
        except (web.GracefulExit, KeyboardInterrupt):
            # As web.run_app does: the app shuts down first, while its background tasks
            # still run; the runner then cancels whatever is left.
            main.cancel()
            with suppress(asyncio.CancelledError):
                loop.run_until_complete(main)
