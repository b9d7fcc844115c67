"""The process pool that runs :func:`extraction.worker.process_page` off the event loop.

pebble's process pool: a worker that hangs past the timeout or dies is replaced, and only its
own page is lost (``concurrent.futures`` breaks the whole pool). trafilatura is not thread-safe
and keeps caches that grow: the work runs in processes, never threads, and each worker is
replaced after ``max_tasks`` pages (inline, the caches are reset as often).

The workers fork from a small server that imported the extraction library alone and loaded
what every page needs once (:mod:`extraction.worker_preload`): no worker imports Scrapy.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import sys
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import forkserver, popen_forkserver, resource_tracker
from multiprocessing.context import ForkServerContext, ForkServerProcess
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pebble import ProcessExpired, ProcessPool

from extraction.worker import process_page, ready

if TYPE_CHECKING:
    from collections.abc import Callable

    from extraction.worker import Extracted, PageOptions, Rejected

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 60.0
"""Seconds one page may take in a worker."""
DEFAULT_MAX_TASKS = 500
"""Pages after which a worker is replaced (which frees trafilatura's caches)."""
HEALTH_CHECK_SECONDS = 1.0
"""How often a wait for the workers checks that pebble's pool still runs its threads."""
START_ATTEMPTS = 3
"""Times the first task is given when the worker running it dies (a memory limit, a kill)."""
PRELOAD = ("extraction.worker", "extraction.worker_preload")
"""What the fork server imports before it forks any worker."""


def reset_caches() -> None:
    """trafilatura's caches emptied (imported here only when extracting inline)."""
    from trafilatura.meta import reset_caches as reset  # noqa: PLC0415

    reset()


class _PoolStopped(RuntimeError):
    """pebble's pool no longer runs its threads: what it was given never ends."""


class WorkerFailed(Exception):
    """The page's worker hung past the timeout (``timed_out``) or died."""

    def __init__(self, message: str, *, timed_out: bool) -> None:
        super().__init__(message)
        self.timed_out = timed_out


READY_PAUSE = 0.02
"""Seconds each first task takes (:func:`extraction.worker.ready`), so that one worker does
not run them all while another starts."""


class _WorkerProcess(ForkServerProcess):
    """A worker process that does not import the parent's main module.

    multiprocessing makes every process it starts import the parent's ``__main__`` first (by
    path, or by name), so that functions defined there can be unpickled. For ``scrapy crawl``
    that is Scrapy's command line, and with it Scrapy and Twisted, in every worker, each time a
    worker is replaced. A worker runs only what it is sent, imported by name, so the main
    module is hidden from multiprocessing while a worker is launched.
    """

    @staticmethod
    def _Popen(process_obj: Any) -> Any:  # noqa: N802 - multiprocessing's name
        main = sys.modules["__main__"]
        spec = getattr(main, "__spec__", None)
        hidden = {name: main.__dict__.pop(name) for name in ("__file__",) if name in main.__dict__}
        main.__spec__ = None
        # Ctrl-C in a terminal reaches the whole process group. The fork server (started by
        # the first launch, with multiprocessing's resource tracker) ignores it, and so do the
        # workers, but only once they run: before, while the server imports the extraction
        # library (a second), it would die with a KeyboardInterrupt traceback, and the crawl
        # with it. Started with SIGINT (and SIGHUP) blocked (a mask is inherited), they never
        # see one.
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGHUP})
        try:
            return popen_forkserver.Popen(process_obj)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
            main.__spec__ = spec
            main.__dict__.update(hidden)


class _WorkerContext(ForkServerContext):
    """The forkserver start method, with :class:`_WorkerProcess` processes."""

    Process = _WorkerProcess


def _stop_helper_processes() -> None:
    """Stop multiprocessing's fork server (its workers have exited; it would linger until this
    process exits, then exit itself) and resource tracker, and wait for both. ``_stop`` is the
    method multiprocessing's own tests stop them with; a new pool starts them again.

    The fork server is ended with ``SIGTERM`` first: its workers have exited and it holds
    nothing to save, while stopped by closing its pipe it would first tear down its
    interpreter, extraction library included (about 0.3 s of every crawl's exit)."""
    pid = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    for helper in (
        getattr(forkserver, "_forkserver", None),
        getattr(resource_tracker, "_resource_tracker", None),
    ):
        stop = getattr(helper, "_stop", None)
        if stop is not None:
            stop()


def _cwd_gone() -> bool:
    """Whether this process's working directory no longer exists (deleted, or unmounted)."""
    try:
        Path.cwd()
    except FileNotFoundError:
        return True
    return False


def _ignore_interrupts() -> None:
    # Ctrl-C (and a closed terminal's SIGHUP) reaches the whole process group: the crawl
    # process stops gracefully and still needs its workers to finish the pages in flight.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)


class PagePool:
    """Runs :func:`~extraction.worker.process_page` in ``workers`` processes (inline when
    ``workers`` is 0), awaited from an asyncio event loop.

    At most ``max_pending`` pages are handed to the workers at once (default: twice the
    workers); callers beyond that wait. ``timeout`` is the longest one page may take.

    When the workers cannot start, or cannot be replaced (their fork server died or could not
    be made: a memory or process limit, a signal to the process group), the pages are extracted
    in the calling process instead, and :attr:`failed` says why (logged once, as an error).
    """

    def __init__(
        self,
        workers: int,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        max_tasks: int = DEFAULT_MAX_TASKS,
        max_pending: int | None = None,
        function: Callable[..., Extracted | Rejected] = process_page,
    ) -> None:
        self.workers = workers
        self.function = function
        """What runs for each page: :func:`process_page` (tests pass others)."""
        self.timeout = timeout
        self.max_tasks = max_tasks
        self.max_pending = max_pending or 2 * max(workers, 1)
        self._pool: ProcessPool | None = None
        self._slots: asyncio.Semaphore | None = None
        self._inline_pages = 0
        self._started: Future[None] = Future()
        """Done once the workers run (at once inline)."""
        self._starter: threading.Thread | None = None
        self.failed: str | None = None
        """Why the workers failed, when they did (the pages then run here)."""
        self.started_workers: set[int] = set()
        """The process ids of the workers that have run a task as the pool started."""

    def start(self) -> None:
        """Start the workers, in a thread of their own: the caller does not wait for them.
        When that cannot begin (a process or thread limit), the pages run here, as when the
        workers cannot start: one error, and :attr:`failed` says why."""
        if self.workers < 1:
            self._started.set_result(None)
            return
        try:
            self._launch()
        except Exception as exc:
            if self._pool is None:  # no pool to stop: the resource tracker may run
                self._give_up(exc, "could not start")
                _stop_helper_processes()
            else:
                self._work_here(exc, "could not start")
            if not self._started.done():  # else a page would wait for them for ever
                self._started.set_result(None)

    def _launch(self) -> None:
        """Make pebble's pool and start the thread that starts its workers."""
        # forkserver: workers are not forked from the crawl process and its threads
        context = _WorkerContext()
        context.set_forkserver_preload(list(PRELOAD))
        # The pool's locks start multiprocessing's resource tracker, which ignores SIGINT and
        # SIGTERM; started with SIGHUP blocked too, a closed terminal does not end it (the
        # next one printed a KeyError traceback for every lock the first one knew).
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGHUP})
        try:
            resource_tracker.ensure_running()
            self._pool = ProcessPool(
                max_workers=self.workers,
                max_tasks=self.max_tasks,
                initializer=_ignore_interrupts,
                context=context,
            )
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        # pebble starts the fork server and the workers on the first task it is given, and
        # waits for them there: about a second, while the fork server imports the extraction
        # library. Given by the first page, that task would stall the crawl's event loop for
        # that second; given now from this thread, the workers start while the crawl reads
        # its feeds and sitemaps.
        starter = threading.Thread(
            target=self._start_workers, args=(self._pool,), name="page-pool-start", daemon=True
        )
        starter.start()
        self._starter = starter  # joined as the pool closes: only once it runs

    def _start_workers(self, pool: ProcessPool) -> None:
        try:
            for attempt in range(1, START_ATTEMPTS + 1):
                try:
                    self._wait_started(pool)
                    break
                except ProcessExpired:  # its worker was killed: the pool replaces it
                    if attempt == START_ATTEMPTS:
                        raise
        except Exception as exc:  # the first page sees it, and works here (_work_here)
            self._started.set_exception(exc)
        else:
            self._started.set_result(None)

    def _wait_started(self, pool: ProcessPool) -> None:
        """Give the pool its first tasks and wait until each worker has run one, for up to
        ``timeout``: pebble's manager threads end on an error they do not expect (a worker
        killed as it starts), and a task would then never end. A pool stopped while a worker
        still read what it was started with (a crawl that ended at once: nothing new to
        fetch, a stage that could not open) left that worker without its locks, and its
        traceback in the crawl's output."""
        started = self.started_workers
        waited = 0.0
        while len(started) < self.workers:
            pause = READY_PAUSE if self.workers > 1 else 0.0
            futures = [pool.schedule(ready, args=(pause,)) for _ in range(self.workers)]
            for future in futures:
                while True:
                    try:
                        started.add(future.result(timeout=HEALTH_CHECK_SECONDS))
                        break
                    except FutureTimeout:
                        waited += HEALTH_CHECK_SECONDS
                    if not pool.active:
                        future.cancel()
                        raise RuntimeError("the pool stopped running its workers")
                    if waited >= self.timeout:
                        future.cancel()
                        raise RuntimeError(f"no worker started within {self.timeout:g} s")

    def close(self) -> None:
        """Let the workers finish their pages (for up to ``timeout``), then stop them, and wait
        until every worker process, the fork server and multiprocessing's resource tracker
        have exited: a crawl returns only when every process it started is gone (a scheduler's
        lock around it, or a CPU count of its process tree, sees the whole of it)."""
        if self._starter is not None:
            self._starter.join(self.timeout)  # a pool is not stopped while it starts
            self._starter = None
        if self._pool is not None:
            self._pool.close()
            self._pool.join(timeout=self.timeout)
            self._pool.stop()
            self._pool.join()
            self._pool = None
            _stop_helper_processes()

    def _work_here(self, error: BaseException, what: str) -> None:
        """The workers ``what`` (could not start, could not be replaced): stop what is left of
        them, and work here (once: other pages may have seen the same failure)."""
        pool = self._pool
        if pool is None:
            return
        self._give_up(error, what)
        pool.stop()
        pool.join()
        _stop_helper_processes()

    def _give_up(self, error: BaseException, what: str) -> None:
        """Say why the workers ``what`` (:attr:`failed`, one error line), and have the pages
        run here from now on."""
        cause = error.__cause__ or error
        self.failed = f"{type(cause).__name__}: {cause}".rstrip(": ")
        if isinstance(cause, EOFError):  # what multiprocessing reads from a dead fork server
            self.failed = f"their fork server ended ({self.failed})"
        elif isinstance(cause, FileNotFoundError) and cause.filename is None and _cwd_gone():
            # multiprocessing starts every process in its parent's working directory
            self.failed = f"the working directory was deleted ({self.failed})"
        logger.error(
            "The extraction workers %s (%s): extracting in the crawl process", what, self.failed
        )
        self._pool, self.workers = None, 0

    def _here_instead(self, error: BaseException, function: Callable[..., Any], args: Any) -> Any:
        """``function(*args)`` here, the workers' pool broken by ``error``."""
        self._work_here(error, "could not be replaced")
        return function(*args)

    async def run(
        self, body: bytes, url: str, content_type: str | None, options: PageOptions
    ) -> Extracted | Rejected:
        """:func:`process_page` for one page (:meth:`call`); raises :class:`WorkerFailed`."""
        if self._pool is None:
            self._inline_pages += 1
            if self._inline_pages % self.max_tasks == 0:
                reset_caches()
        result: Extracted | Rejected = await self.call(
            self.function, body, url, content_type, options
        )
        return result

    async def call(self, function: Callable[..., Any], *args: Any) -> Any:
        """``function(*args)`` in a worker (here when there are none), among the pages:
        :func:`extraction.worker.detect_language` asks a worker what its profiles say.
        Raises :class:`WorkerFailed`."""
        if self._pool is not None and not self._started.done():
            with contextlib.suppress(Exception):  # read below
                await asyncio.wrap_future(self._started)
        if self._pool is not None and (error := self._started.exception()) is not None:
            self._work_here(error, "could not start")
        if self._pool is None:
            return function(*args)
        if self._slots is None:  # made here: it belongs to the running event loop
            self._slots = asyncio.Semaphore(self.max_pending)
        async with self._slots:
            if self._pool is None:  # it failed while this page waited
                return function(*args)
            # pebble's pool breaks when a worker that ended cannot be replaced: it refuses
            # new pages (a RuntimeError of its own, before any page runs) and fails those it
            # holds (BrokenProcessPool; a page's own RuntimeError comes through as it is)
            try:
                future = self._pool.schedule(function, args=args, timeout=self.timeout)
            except RuntimeError as exc:
                return self._here_instead(exc, function, args)
            try:
                result: Any = await self._result(future)
            except BrokenProcessPool as exc:  # pages pebble never gave a worker
                return self._here_instead(exc, function, args)
            except _PoolStopped as exc:
                # a worker may be running it still, or have died of it: not run again here,
                # where a page that kills its worker would end the crawl; the next run
                # fetches it again
                self._work_here(exc, "stopped")
                raise WorkerFailed(str(exc), timed_out=False) from None
            except FutureTimeout:
                raise WorkerFailed(
                    f"no result after {self.timeout:g} s (worker replaced)", timed_out=True
                ) from None
            except ProcessExpired as exc:
                raise WorkerFailed(
                    f"the worker died (exit code {exc.exitcode}; replaced)", timed_out=False
                ) from None
            return result

    async def _result(self, future: Future[Any]) -> Any:
        """The result of a task given to the pool; :class:`_PoolStopped` when pebble's pool no
        longer runs its threads (they end on an error they do not expect, such as a worker
        killed as it starts): its tasks would then never end, nor time out."""
        waiting = asyncio.wrap_future(future)
        while True:
            done, _ = await asyncio.wait({waiting}, timeout=HEALTH_CHECK_SECONDS)
            if done:
                return waiting.result()
            pool = self._pool
            if pool is None or not pool.active:
                future.cancel()
                waiting.cancel()
                raise _PoolStopped("the pool stopped running its workers")
