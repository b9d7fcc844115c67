"""A graceful stop (SIGTERM, Ctrl-C) asked while the spider opens or closes.

Scrapy's graceful stop asks each crawler to stop, then stops the reactor as soon as that is
done, and two moments of a crawl take the stop for done too early (Scrapy issue 6916: "ranging
from unexpected log messages to the spider process hanging"):

* while the spider opens (the stores open, the extraction workers start: about 0.6 s from the
  command), the engine does not run yet, and the crawler does nothing;
* while the spider closes (the pipelines write what they hold: the last data file, the crawl
  state; then the run's report), the engine, stopped, waits only until its last requests are
  done, not for the closing, and ends the crawl.

Either way the reactor stopped under the spider: nothing it held was written, no report, and
the process then waited forever for the threads of the extraction pool or of the reactor,
holding the dataset's run lock, so every later crawl gave up on it.

:func:`patient_stop` makes the stop wait for an opening spider to run (then stops it: the
spider closes with the reason ``shutdown``, exit status 1) and for a closing spider to be
closed (a crawl that had finished stays finished).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from scrapy.core.engine import ExecutionEngine
    from scrapy.crawler import Crawler

POLL_SECONDS = 0.02
"""How often a waiting stop looks again."""


def _engine(crawler: Crawler) -> ExecutionEngine | None:
    """The crawler's engine, ``None`` before it has one. Since Scrapy made ``engine`` a late
    attribute (scrapy#7882: reading it earlier raises), it is kept in ``_engine`` until then, as
    Scrapy's docs tell code that runs before the crawl starts to read it; before, ``engine`` was
    ``None`` until then."""
    attributes = vars(crawler)
    if "_engine" in attributes:
        engine: ExecutionEngine | None = attributes["_engine"]
        return engine
    return getattr(crawler, "engine", None)


def _opening(crawler: Crawler) -> bool:
    """Whether the spider is opening: the crawl started (not stopped, its opening not failed)
    and its engine does not run yet."""
    engine = _engine(crawler)
    return crawler.crawling and (engine is None or not engine.running)


def _closing(crawler: Crawler) -> bool:
    """Whether the spider is closing: its engine's slot has begun to close and is not gone
    (the engine drops it once the spider is closed)."""
    slot = getattr(_engine(crawler), "_slot", None)
    return slot is not None and slot.closing is not None


def _done(crawl: Awaitable[None]) -> bool:
    """Whether the crawl has ended (a Deferred with Twisted's reactors, a task with asyncio's)."""
    if isinstance(crawl, Deferred):
        return crawl.called
    done = getattr(crawl, "done", None)
    return done is not None and bool(done())


def patient_stop(crawler: Crawler, crawl: Awaitable[None]) -> None:
    """Make ``crawler``'s graceful stop wait for an opening spider to run, and for a closing
    spider to be closed, before it stops the crawler (``crawl``: what the crawler process's
    ``crawl`` returned; a stop waits for an opening no longer than the crawl runs)."""
    stop = crawler.stop_async

    async def stop_async() -> None:
        from twisted.internet import reactor  # noqa: PLC0415 - the one the crawl installed

        # a closing spider is left to close: stopped now, the engine would end the crawl
        # (and the crawler process the reactor) as soon as the last requests are done
        while (_opening(crawler) and not _done(crawl)) or _closing(crawler):
            await maybe_deferred_to_future(deferLater(reactor, POLL_SECONDS))
        await stop()

    crawler.stop_async = stop_async  # type: ignore[method-assign]
