"""A graceful stop (SIGTERM, Ctrl-C) asked while the crawl is still opening.

Scrapy's graceful stop asks each crawler to stop, then stops the reactor. A crawler whose
engine does not run yet (its spider is opening: the stores are opened, the extraction workers
start) takes the stop for done (Scrapy issue 6916, "the spider process hanging"): the reactor
stops under the opening spider, no spider is closed and no pipeline either, and the process then
waits forever for the extraction pool's threads, holding the dataset's run lock. A scheduled
job cancelled in that second (about 0.6 s from the command) hung until killed, and every crawl
after it gave up on the lock.

:func:`stop_after_opening` makes such a stop wait until the engine runs (or the opening ended
another way), then stop it as any other: the spider closes with the reason ``shutdown``, what
it holds is written, and the crawl exits with status 1.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.defer import Deferred
from twisted.internet.task import deferLater

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from scrapy.crawler import Crawler

POLL_SECONDS = 0.02
"""How often a stop asked during the opening looks whether the engine runs."""


def _opening(crawler: Crawler) -> bool:
    """Whether the crawl is still opening: started (not stopped, its opening not failed), and
    its engine not running yet."""
    engine = getattr(crawler, "_engine", None)
    return crawler.crawling and (engine is None or not engine.running)


def stop_after_opening(crawler: Crawler, crawl: Awaitable[None]) -> None:
    """Make ``crawler``'s graceful stop, asked while the crawl opens, wait for the engine to
    run before it stops it (``crawl``: what the crawler process's ``crawl`` returned, done
    when the crawl is; a stop waits no longer than that)."""
    stop = crawler.stop_async

    async def stop_async() -> None:
        from twisted.internet import reactor  # noqa: PLC0415 - the one the crawl installed

        while _opening(crawler) and not _done(crawl):
            await maybe_deferred_to_future(deferLater(reactor, POLL_SECONDS))
        await stop()

    crawler.stop_async = stop_async  # type: ignore[method-assign]


def _done(crawl: Awaitable[None]) -> bool:
    """Whether the crawl has ended (a Deferred with Twisted's reactors, a task with asyncio's)."""
    if isinstance(crawl, Deferred):
        return crawl.called
    done = getattr(crawl, "done", None)
    return done is not None and bool(done())
