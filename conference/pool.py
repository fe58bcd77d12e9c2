"""The document pool: worker processes whose memory and time limits really hold.

An organizer's template is untrusted code in a sandbox: Jinja's sandbox stops it reaching
Python, not from asking a C function for a gigabyte (``'x' | center(10**9)``) or from
looping. A signal in the worker cannot interrupt a C call, and a limit checked in the
server's own process would let the server grow. So every worker here is a process
started with ``spawn``:

- its address space is capped (``RLIMIT_AS``, ``memory_mb``) before it loads anything,
  so an allocation past the cap fails there (MemoryError) or ends the worker, never
  the server;
- a task submitted with a deadline (:meth:`DocumentPool.submit_within`) is timed by
  the parent, which kills the worker when the deadline passes, whatever it is doing,
  and starts a fresh one in its place. Only that task fails: the other workers and
  the tasks queued behind it go on.

A task that broke a limit fails with :class:`~conference.errors.TemplateLimits`
(``template_limits``) when it was submitted with a deadline (an organizer's templates);
a worker that dies under trusted work fails its task with :class:`WorkerLost`.
The pool is a :class:`concurrent.futures.Executor`, so ``loop.run_in_executor`` works.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import pickle
import queue
import threading
import traceback
from collections.abc import Callable, Mapping
from concurrent.futures import Executor, Future
from multiprocessing.connection import Connection, wait
from typing import Any

from conference.errors import TemplateLimits

log = logging.getLogger("plenary.documents")

# How long a new worker may take to load WeasyPrint and its fonts.
START_SECONDS = 300.0
# How long a worker asked to stop may take before it is killed.
STOP_SECONDS = 5.0
# The largest result a task with a deadline may send back: what an organizer's templates
# make is read into the server's memory.
MAX_RESULT_BYTES = 256 * 1024 * 1024
_READY = "ready"

_Task = tuple[Future[Any], Callable[..., Any], tuple[Any, ...], Mapping[str, Any], float | None]


class WorkerLost(RuntimeError):
    """A worker process ended while it ran a task (killed, crashed, out of memory)."""


class _RemoteTraceback(Exception):
    """The traceback of an exception raised in a worker, as its cause."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    def __str__(self) -> str:
        return self.text


def _portable(exc: BaseException) -> BaseException:
    """exc if it survives pickling, else a RuntimeError saying what it was."""
    try:
        pickle.loads(pickle.dumps(exc))
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")
    return exc


def serve(conn: Connection, memory_bytes: int, initializer: Callable[[], None] | None) -> None:
    """A worker's main: cap the address space, warm up, then run tasks until told to stop."""
    if memory_bytes > 0:
        import resource

        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    if initializer is not None:
        initializer()
    conn.send(_READY)
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):  # the parent is gone
            return
        if message is None:
            return
        fn, args, kwargs = message
        try:
            reply: tuple[bool, Any, str] = (True, fn(*args, **kwargs), "")
        except BaseException as exc:  # every failure goes back to the caller
            reply = (False, _portable(exc), traceback.format_exc())
        try:
            conn.send(reply)
        except Exception as exc:  # an unpicklable or too large result
            conn.send((False, _portable(exc), traceback.format_exc()))


class _Slot:
    """One worker process and the thread that feeds it tasks from the pool's queue."""

    def __init__(self, pool: DocumentPool, number: int) -> None:
        self.pool = pool
        self.process: Any = None
        self.conn: Connection | None = None
        self.thread = threading.Thread(
            target=self._run, name=f"plenary-document-slot-{number}", daemon=True
        )

    # --- the worker process ------------------------------------------------------------

    def _start(self) -> None:
        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=serve,
            args=(child, self.pool.memory_mb * 1024 * 1024, self.pool.initializer),
            name="plenary-document-worker",
            daemon=True,
        )
        process.start()
        child.close()
        self.process, self.conn = process, parent
        ready = wait([parent, process.sentinel], timeout=START_SECONDS)
        if parent in ready:
            try:
                if parent.recv() == _READY:
                    return
            except (EOFError, OSError):
                pass
        code = self._end()
        raise WorkerLost(
            f"a document worker did not start (with {self.pool.memory_mb} MB of memory, "
            f"exit code {code})"
        )

    def _end(self) -> int | None:
        """Kill the worker (if it runs) and forget it; its exit code."""
        process, conn = self.process, self.conn
        self.process = self.conn = None
        if conn is not None:
            conn.close()
        if process is None:
            return None
        if process.is_alive():
            process.kill()
        process.join()
        code: int | None = process.exitcode
        process.close()
        return code

    def _stop(self) -> None:
        if self.conn is not None and self.process is not None:
            with contextlib.suppress(OSError):
                self.conn.send(None)
            self.process.join(STOP_SECONDS)
        self._end()

    # --- the tasks ------------------------------------------------------------------------

    def _run(self) -> None:
        try:
            while True:
                task = self.pool.tasks.get()
                if task is None:
                    return
                future = task[0]
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    ok, value = self._call(task)
                except BaseException as exc:  # the future must always be settled
                    ok, value = False, exc
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
                if self.process is None:
                    self._replace()
        finally:
            self._stop()

    def _replace(self) -> None:
        """A fresh worker for the one just ended, warm before the next task comes."""
        try:
            self._start()
        except WorkerLost:
            log.warning("a document worker could not be started again", exc_info=True)

    def _call(self, task: _Task) -> tuple[bool, Any]:
        _future, fn, args, kwargs, seconds = task
        if self.process is None:
            self._start()
        assert self.conn is not None and self.process is not None
        try:
            self.conn.send((fn, args, kwargs))
        except (OSError, EOFError):
            return False, self._lost(seconds)
        ready = wait([self.conn, self.process.sentinel], timeout=seconds)
        if self.conn in ready:
            limit = MAX_RESULT_BYTES if seconds is not None else None
            try:
                message = self.conn.recv_bytes(limit)
            except EOFError:
                return False, self._lost(seconds)
            except OSError:  # cut off by the worker's end, or longer than the limit
                self.process.join(1)
                if self.process.exitcode is not None:
                    return False, self._lost(seconds)
                self._end()  # left unread: the worker still waits to send it
                return False, TemplateLimits(
                    f"the document is larger than {MAX_RESULT_BYTES // 1024 // 1024} MB"
                )
            ok, value, remote = pickle.loads(message)
            if ok:
                return True, value
            return False, self._failed(value, remote, seconds)
        if not ready:
            self._end()
            log.warning("a document worker was stopped after %g s", seconds)
            return False, TemplateLimits(
                f"the templates took longer than {seconds:g} s (PLENARY_TEMPLATE_SECONDS)"
            )
        return False, self._lost(seconds)

    def _failed(self, exc: BaseException, remote: str, seconds: float | None) -> BaseException:
        if isinstance(exc, MemoryError):
            # What is left of a worker that ran out is not worth keeping.
            self._end()
            if seconds is not None:
                return self.pool.out_of_memory()
        if seconds is not None and isinstance(exc, RecursionError):
            return TemplateLimits("the templates nest or recurse too deeply")
        exc.__cause__ = _RemoteTraceback(remote)
        return exc

    def _lost(self, seconds: float | None) -> BaseException:
        code = self._end()
        if seconds is not None:
            return self.pool.out_of_memory(f" (the worker ended with code {code})")
        return WorkerLost(f"a document worker ended while rendering (exit code {code})")


class DocumentPool(Executor):
    """Worker processes, each capped at memory_mb (0: no cap), fed from one queue.

    initializer runs once in each new worker (warm-up); a worker killed at a deadline
    or lost is replaced by the next task that its slot takes.
    """

    def __init__(
        self,
        workers: int,
        *,
        memory_mb: int = 0,
        initializer: Callable[[], None] | None = None,
    ) -> None:
        self.memory_mb = memory_mb
        self.initializer = initializer
        self.tasks: queue.SimpleQueue[_Task | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._closed = False
        self._slots = [_Slot(self, n) for n in range(max(1, workers))]
        for slot in self._slots:
            slot.thread.start()

    def out_of_memory(self, why: str = "") -> TemplateLimits:
        return TemplateLimits(
            f"the templates need more than the {self.memory_mb} MB a document may use "
            f"(PLENARY_DOCUMENT_MEMORY_MB){why}"
        )

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        """Run fn(*args, **kwargs) in a worker, with no deadline (trusted work)."""
        return self._put(fn, args, kwargs, None)

    def submit_within(
        self, seconds: float, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Future[Any]:
        """Run fn in a worker; past seconds the worker is killed and the task fails with
        TemplateLimits, as it does when it breaks the memory cap (untrusted templates)."""
        return self._put(fn, args, kwargs, seconds)

    def _put(
        self, fn: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any],
        seconds: float | None,
    ) -> Future[Any]:  # fmt: skip
        future: Future[Any] = Future()
        with self._lock:
            if self._closed:
                raise RuntimeError("the document pool is shut down")
            self.tasks.put((future, fn, args, kwargs, seconds))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        """Stop the workers once the queued tasks are done (cancelled with cancel_futures)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if cancel_futures:
                while True:
                    try:
                        task = self.tasks.get_nowait()
                    except queue.Empty:
                        break
                    if task is not None:
                        task[0].cancel()
            for _ in self._slots:
                self.tasks.put(None)
        if wait:
            for slot in self._slots:
                slot.thread.join()
