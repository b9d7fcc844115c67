"""The CPU-bound work on one page, and the process pool that runs it off the reactor.

:func:`process_page` is a plain function (bytes, URL and header in; a plain dict out): the
extraction, plus the language detection and the near-duplicate signature of the extracted text,
which the later stages reuse when the text reaching them is unchanged (see
:func:`pipelines.language.reusable_language` and
:func:`pipelines.near_duplicates.reusable_signature`). :class:`PagePool` runs it in worker
processes (pebble's process pool: a worker that hangs past the timeout or dies is replaced, and
only its own page is lost), or inline when it has no workers.

trafilatura is not thread-safe and keeps caches that grow: the work runs in processes, never
threads, and each worker is replaced after ``max_tasks`` pages (inline, the caches are reset as
often).
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import signal
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import asdict, dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from pebble import ProcessExpired, ProcessPool
from trafilatura.meta import reset_caches

from pipelines.language import LanguageDetector, precompute_language
from pipelines.near_duplicates import Signer, precompute_signature
from pipelines.normalize import precompute_text

if TYPE_CHECKING:
    from collections.abc import Callable

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class PageOptions:
    """What the worker needs to know besides the page (plain values: they are pickled)."""

    min_text_chars: int = 200
    language: bool = True
    language_seed: int = 0
    language_sample_chars: int = 600
    signature: bool = True


@cache
def _detector(seed: int, sample_chars: int) -> LanguageDetector:
    # One per worker process (loading the profiles takes a while); reused for every page.
    return LanguageDetector(seed=seed, sample_chars=sample_chars)


@cache
def _signer() -> Signer:
    return Signer()


def warm_up(options: PageOptions | None = None) -> None:
    """Make what :func:`process_page` reuses from page to page for ``options`` (by default,
    the default options), so that processes forked afterwards inherit it."""
    options = options or PageOptions()
    if options.language:
        _detector(options.language_seed, options.language_sample_chars)
    if options.signature:
        _signer()


def process_page(
    body: bytes, url: str, content_type: str | None, options: PageOptions
) -> dict[str, Any]:
    """Extract one page. Returns ``{"extraction": {...}, "precomputed": {...}}``, or
    ``{"dropped": <DropItem subclass name>, "message": ...}`` when it is no article."""
    # The extract stage imports this module: import the extraction code when it runs.
    from pipelines.extract import ExtractionError, extract_article  # noqa: PLC0415

    try:
        extraction = extract_article(body, url, content_type, min_text_chars=options.min_text_chars)
    except ExtractionError as exc:
        return {"dropped": exc.drop.__name__, "message": str(exc)}
    text = extraction.text
    precomputed: dict[str, Any] = {}
    if options.language:
        detector = _detector(options.language_seed, options.language_sample_chars)
        precomputed["language"] = precompute_language(text, detector)
    normalized = precompute_text(text)
    precomputed["text"] = normalized
    if options.signature:
        precomputed["signature"] = precompute_signature(normalized["text"], _signer())
    return {"extraction": asdict(extraction), "precomputed": precomputed}


class WorkerFailed(Exception):
    """The page's worker hung past the timeout (``timed_out``) or died."""

    def __init__(self, message: str, *, timed_out: bool) -> None:
        super().__init__(message)
        self.timed_out = timed_out


def _ignore_interrupts() -> None:
    # Ctrl-C reaches the whole process group: the crawl process stops gracefully and still
    # needs its workers to finish the pages in flight.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def usable_cores() -> int:
    """CPU cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class PagePool:
    """Runs :func:`process_page` in ``workers`` processes (inline when ``workers`` is 0).

    At most ``max_pending`` pages are handed to the workers at once; callers beyond that wait
    (the crawl's own limits bound how many wait). ``timeout`` is the longest one page may take.
    """

    def __init__(
        self,
        workers: int,
        *,
        timeout: float = 60.0,
        max_tasks: int = 500,
        max_pending: int | None = None,
        function: Callable[..., dict[str, Any]] = process_page,
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

    def start(self) -> None:
        if self.workers < 1:
            return
        # forkserver: workers are not forked from the crawl process and its threads; they fork
        # from a small server that imported the extraction code and loaded the language
        # profiles once (pipelines/_worker_preload.py).
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__, "pipelines.extract", "pipelines._worker_preload"])
        self._pool = ProcessPool(
            max_workers=self.workers,
            max_tasks=self.max_tasks,
            initializer=_ignore_interrupts,
            context=context,
        )

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool.join(timeout=self.timeout)
            self._pool.stop()
            self._pool.join()
            self._pool = None

    async def run(
        self, body: bytes, url: str, content_type: str | None, options: PageOptions
    ) -> dict[str, Any]:
        """:func:`process_page` for one page; raises :class:`WorkerFailed`."""
        if self._pool is None:
            self._inline_pages += 1
            if self._inline_pages % self.max_tasks == 0:
                reset_caches()
            return self.function(body, url, content_type, options)
        if self._slots is None:  # made here: it belongs to the running event loop
            self._slots = asyncio.Semaphore(self.max_pending)
        async with self._slots:
            future = self._pool.schedule(
                self.function, args=(body, url, content_type, options), timeout=self.timeout
            )
            try:
                return await asyncio.wrap_future(future)
            except FutureTimeout:
                raise WorkerFailed(
                    f"no result after {self.timeout:g} s (worker replaced)", timed_out=True
                ) from None
            except ProcessExpired as exc:
                raise WorkerFailed(
                    f"the worker died (exit code {exc.exitcode}; replaced)", timed_out=False
                ) from None
