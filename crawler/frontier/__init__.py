"""The shared frontier of Redis mode: scrapy-redis's queue and dupefilter, made safe for
workers that die, and a crawl that ends when the shared work is done.

scrapy-redis (0.9.1) gives a Redis priority queue of requests and a Redis set of request
fingerprints, shared by every worker. What it lacks, added here:

* **Nothing is lost when a worker dies.** A request taken from the queue is recorded in the
  worker's *in-flight* hash, atomically with the pop. It leaves it when it needs no more work:
  a listing once its callback's output (the links it found) is queued, an article once its
  row is in a committed data file, or dropped, or its fetch failed for good. When a worker's
  heartbeat expires (``REDIS_WORKER_TIMEOUT``), another takes it over: puts its in-flight
  requests back into the queue and removes it from the registry, in one step; a worker that
  stops cleanly (finished, or SIGTERM) puts back what it had not finished itself. A request is
  marked seen by the request filter and queued in one step: a worker killed between the two
  would leave a link the filter has seen and no queue holds, which the worker that reads its
  listing again (put back) would then filter out, for good.
* **A worker taken for dead while it lives stops.** Paused for longer than the timeout (its
  machine suspended, its process stopped or starved), a worker finds, when it runs again,
  that the others took its work over: its next pop is refused, its heartbeat is not refreshed,
  and it may not commit (:meth:`SharedScheduler.on_commit_check`). It stops without committing
  the rows it holds (finish reason ``declared_dead``): their requests are back in the queue,
  and its claims were released, so another worker may be storing the same articles.
* **The crawl ends when the shared work is done**, not when one worker's queue share is: an
  idle worker waits while the queue has requests, another live worker is fetching or parsing
  (links may still come), or another live worker holds rows it has not committed (killed, its
  requests come back once its heartbeat expires). A worker with nothing left to fetch commits
  its rows at once (:data:`~pipelines.signals.commit_requested`), so that the others need not
  wait for its end.
* **Runs.** The request dupefilter belongs to one run: the first worker to start when no
  other is alive clears it, so start listings are fetched again on every run (by one worker),
  while the queue is kept (what a stopped run left is resumed).
* No deprecation warnings with Scrapy 2.19: the scheduler's methods are this module's.

Requests are stored pickled (as Scrapy's own disk queues store them): the Redis server must be
reachable only by the crawl.

The package, a module per component (Scrapy loads them by the class paths below, which
``crawler.redis_mode`` sets):

* :mod:`~crawler.frontier.queue`: the queue of requests with its in-flight records
  (:class:`ReliableQueue`) and the Lua scripts that change them in one step;
* :mod:`~crawler.frontier.dupefilter`: the request filter (:class:`SharedDupeFilter`);
* :mod:`~crawler.frontier.scheduler`: the scheduler (:class:`SharedScheduler`), which
  acknowledges requests, takes dead workers over and decides when the crawl ends;
* :mod:`~crawler.frontier.ack`: the spider middleware that tells the scheduler when a
  response needs no more work (:class:`FrontierAckMiddleware`).
"""

from crawler.frontier.ack import (
    PARENT_META,
    START_PARENT,
    FrontierAckMiddleware,
    children_yielded,
)
from crawler.frontier.dupefilter import SharedDupeFilter
from crawler.frontier.queue import FRONTIER_META, ReliableQueue
from crawler.frontier.scheduler import DECLARED_DEAD, POLL_INTERVAL, SharedScheduler

__all__ = [
    "DECLARED_DEAD",
    "FRONTIER_META",
    "PARENT_META",
    "POLL_INTERVAL",
    "START_PARENT",
    "FrontierAckMiddleware",
    "ReliableQueue",
    "SharedDupeFilter",
    "SharedScheduler",
    "children_yielded",
]
