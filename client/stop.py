"""How `plenary follow` stops: Ctrl-C (SIGINT) or SIGTERM, promptly, whatever it is doing.

asyncio.run() alone did not guarantee it. It turns SIGINT into one cancellation of the
main task only when SIGINT has Python's default handler; a command that a script starts
in the background (`cmd &`) inherits SIGINT *ignored*, and the follower then sat in its
event loop for ever (tests/server/test_follow.py). And one cancellation is all there is:
if any code on the way swallows it, the task runs on.

So the follower takes both signals itself, whatever it inherited: the first cancels its
work, which closes the connection (websockets' close handshake, bounded by its close
timeout), and starts a timer that ends the process anyway after :data:`GRACE` seconds,
from a thread of its own, so nothing in the event loop can hold it; a second signal ends
it at once. The exit status is 0 in every case: stopping is what was asked for.
"""

from __future__ import annotations

import asyncio
import os
import signal
import threading
from collections.abc import Awaitable, Callable

# How long stopping may take before the process ends anyway (the close handshake is
# bounded at 1 s by the follower's close_timeout).
GRACE = 2.0
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _exit_now() -> None:
    # No flush: each line was flushed as it was printed, and a flush could block on a
    # stdout nobody reads, which is one of the things this exit must not wait for.
    os._exit(0)


def take_stop_signals() -> None:
    """Before the event loop runs: SIGINT raises KeyboardInterrupt even if inherited
    ignored, and SIGTERM too, so a signal during start-up stops the command as well."""

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)


async def run_until_stopped(work: Callable[[], Awaitable[None]], grace: float) -> None:
    """Run work until it ends or a stop signal comes; never longer than grace after one."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    stopping = False

    def stop() -> None:
        nonlocal stopping
        if stopping:
            _exit_now()
        stopping = True
        timer = threading.Timer(grace, _exit_now)
        timer.daemon = True
        timer.start()
        task.cancel()

    for signum in STOP_SIGNALS:
        loop.add_signal_handler(signum, stop)
    try:
        await work()
    except asyncio.CancelledError:
        if not stopping:
            raise
    except Exception:
        if not stopping:
            raise
        # An error on the way out (a connection failing as it closes) is no failure.
    finally:
        for signum in STOP_SIGNALS:
            loop.remove_signal_handler(signum)
        # What asyncio left (SIGTERM's default: death by signal) would not say 0.
        take_stop_signals()
