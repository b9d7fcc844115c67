"""The scheduler of Redis mode: Scrapy's scheduler on the shared queue and request filter,
which acknowledges requests as their work ends (the spider middleware's counts, items scraped,
dropped and committed), takes dead workers over, and keeps an idle worker waiting while the
shared work is not done (see :mod:`crawler.frontier`).
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import TYPE_CHECKING, Any, Self

import redis
from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis.scheduler import Scheduler
from twisted.internet.task import LoopingCall

from crawler.frontier.ack import PARENT_META, START_PARENT, children_yielded, response_entry
from crawler.frontier.dupefilter import SharedDupeFilter
from crawler.frontier.queue import FRONTIER_META, ReliableQueue
from dataset.state.redis import RedisStores
from dataset.state.redis_connection import as_text
from dataset.state.redis_registry import DeclaredDead, WorkerRegistry
from pipelines.locations import OUTPUT_DIR, dataset_location
from pipelines.signals import articles_committed, commit_check, commit_requested, request_done
from pipelines.state import state_stores
from pipelines.stats import (
    FRONTIER_DEAD_WORKERS,
    FRONTIER_DECLARED_DEAD,
    FRONTIER_REDIS_ERROR,
    FRONTIER_REQUEUED,
    FRONTIER_REQUEUED_ON_CLOSE,
)

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.spiders import Spider
    from scrapy.statscollectors import StatsCollector

    from dataset.storage import DatasetLocation

logger = logging.getLogger(__name__)

POLL_INTERVAL = 1.0
"""Seconds between two looks at the shared queue while this worker waits for the others."""
DECLARED_DEAD = "declared_dead"
"""The finish reason of a worker that found the others had taken it for dead."""


class SharedScheduler(Scheduler):
    """The scheduler of Redis mode (set by :class:`crawler.redis_mode.RedisModeAddon`)."""

    def __init__(
        self,
        crawler: Crawler,
        registry: WorkerRegistry,
        dupefilter: SharedDupeFilter,
        stores: RedisStores,
    ) -> None:
        super().__init__(server=registry.client, persist=True, dupefilter=dupefilter)
        self.crawler = crawler
        self.registry = registry
        self.stats: StatsCollector | None = crawler.stats
        self.claims = stores.claims()
        self.state = stores.crawl_state()
        self.location: DatasetLocation | None = None
        """The dataset (``OUTPUT_DIR``): its files a dead worker committed are recorded before
        its requests are put back."""
        self.queue: ReliableQueue
        self.failed = False
        """The worker is stopping: Redis could not be reached, or the others took it for
        dead."""
        self.declared_dead = False
        """The others took this worker for dead and its work over: it commits nothing more."""
        self._poll: LoopingCall | None = None
        """While waiting for the other workers: wakes the engine every ``POLL_INTERVAL``."""
        self.awaiting_commit: dict[str, str] = {}
        """URL of a scraped row -> its request's in-flight entry, until the row is committed."""
        self.children_expected: dict[str, int] = {}
        """Parent token -> requests its callback (or start()) yielded, once it has ended."""
        self.children_queued: Counter[str] = Counter()
        """Parent token -> its requests the scheduler has received so far."""
        self.committed_first: set[str] = set()
        """URLs of rows committed before their item was announced as scraped (the row that
        fills a file is committed within the Parquet stage's ``process_item``)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        stores = state_stores(crawler)
        if not isinstance(stores, RedisStores):
            raise NotConfigured(
                "the shared scheduler needs the crawl state in Redis (STATE_STORES="
                "dataset.state.redis.RedisStores, which REDIS_URL sets)"
            )
        registry = stores.registry
        dupefilter = SharedDupeFilter(
            registry.client,
            # the spider's name is not known yet: the key is completed in open()
            f"{registry.prefix}:%(spider)s:dupefilter",
            fingerprinter=crawler.request_fingerprinter,
            debug=crawler.settings.getbool("DUPEFILTER_DEBUG"),
        )
        scheduler = cls(crawler, registry, dupefilter, stores)
        if OUTPUT_DIR.read(crawler.settings):
            scheduler.location = dataset_location(crawler.settings)
        for handler, signal in (
            (scheduler.on_idle, signals.spider_idle),
            (scheduler.on_item_scraped, signals.item_scraped),
            (scheduler.on_item_gone, signals.item_dropped),
            (scheduler.on_item_gone, signals.item_error),
            (scheduler.on_request_done, request_done),
            (scheduler.on_children_yielded, children_yielded),
            (scheduler.on_articles_committed, articles_committed),
            (scheduler.on_commit_check, commit_check),
        ):
            crawler.signals.connect(handler, signal=signal)
        return scheduler

    def _key(self, name: str, worker: str | None = None) -> str:
        key = f"{self.registry.prefix}:{self.spider.name}:{name}"
        return f"{key}:{worker}" if worker else key

    def _held(self, worker: str) -> list[str]:
        """A worker's hashes of entries (:attr:`ReliableQueue.held`)."""
        return [self._key(name, worker) for name in ("in-flight", "done", "settled")]

    def open(self, spider: Spider) -> None:
        self.spider = spider
        me = self.registry.worker_id
        in_flight, done, settled = self._held(me)
        self.queue = ReliableQueue(
            self.server,
            spider,
            self._key("requests"),
            in_flight=in_flight,
            done=done,
            settled=settled,
            workers=self.registry.workers_key,
            worker=me,
        )
        self.df.key = self.df.key % {"spider": spider.name}
        self.starting = self._key("starting")
        if self.registry.join(run_keys=[self.df.key]):
            logger.info("No other worker is running: a new run begins (request filter cleared)")
        self.server.hset(self.starting, me, b"1")
        self.recover_dead_workers()  # DeclaredDead here (paused since it joined): it fails
        if len(self.queue):
            logger.info("Joining a crawl with %d requests queued", len(self.queue))

    def close(self, reason: str) -> None:
        if self._poll is not None and self._poll.running:
            self._poll.stop()
        try:
            self._put_back_unfinished()
        except redis.RedisError as exc:
            logger.error(
                "Cannot put the unfinished requests back into the shared queue (%s): the "
                "next worker takes them over once this one's heartbeat has expired",
                exc,
            )

    def _put_back_unfinished(self) -> None:
        self.on_start_exhausted()
        if logger.isEnabledFor(logging.DEBUG):
            for request in self.queue.entries(self.queue.held):
                logger.debug("Unfinished, put back into the queue: %s", request)
        left = self.queue.requeue(self.queue.held)
        if left:
            self._inc(FRONTIER_REQUEUED_ON_CLOSE.name, left)
            logger.info("Put %d unfinished requests back into the shared queue", left)

    def enqueue_request(self, request: Request) -> bool:
        parent = request.meta.pop(PARENT_META, None)
        try:
            return self._enqueue(request)
        finally:
            if parent is not None:
                self.children_queued[parent] += 1
                self._parent_done(parent)

    def _enqueue(self, request: Request) -> bool:
        # a retry or a redirect hands its request's entry back: it carries on as this one
        handed_back = request.meta.pop(FRONTIER_META, None)
        fingerprint = None if request.dont_filter else self.df.request_fingerprint(request)
        try:
            queued = self.queue.push_unseen(
                request, seen=self.df.key, fingerprint=fingerprint, replaces=handed_back
            )
        except redis.RedisError as exc:
            self._redis_failed(exc)
            return False
        if queued:
            self._inc("scheduler/enqueued/redis")
        else:
            self.df.log(request, self.spider)
        return queued

    def next_request(self) -> Request | None:
        if self.failed:
            return None
        try:
            request = self.queue.pop()
        except DeclaredDead:
            self._declared_dead()
            return None
        except redis.RedisError as exc:
            self._redis_failed(exc)
            return None
        if request is not None:
            self._inc("scheduler/dequeued/redis")
        return request

    def __len__(self) -> int:
        """Requests in the shared queue (0 once Redis is lost)."""
        if self.failed:
            return 0
        try:
            return len(self.queue)
        except redis.RedisError as exc:
            self._redis_failed(exc)
            return 0

    def has_pending_requests(self) -> bool:
        return len(self) > 0

    def _redis_failed(self, exc: redis.RedisError) -> None:
        """Redis is gone: stop this worker (what it accepted is committed on the way out; its
        unfinished requests stay recorded in Redis for the next worker)."""
        self._inc(FRONTIER_REDIS_ERROR.name)
        if self.failed:
            return
        self.failed = True
        logger.error("Lost the shared queue in Redis, stopping this worker: %s", exc)
        self._close_spider("redis_error")

    def _declared_dead(self) -> None:
        """The others took this worker for dead (it was paused for longer than
        ``REDIS_WORKER_TIMEOUT``) and its work over: they put its requests back into the queue
        and released its claims, so another worker may be storing the articles it holds. It
        stops without committing anything more (:meth:`on_commit_check`); what it would have
        stored, the others store. It is not registered again: see
        :class:`~dataset.state.redis_registry.WorkerRegistry`."""
        self.registry.mark_declared_dead()
        if self.declared_dead:
            return
        self.declared_dead = True
        self._inc(FRONTIER_DECLARED_DEAD.name)
        if self.registry.state_lost.is_set():
            logger.error(
                "Redis no longer holds this run (restarted without its data, or emptied): "
                "stopping without committing the articles it holds (the next run fetches them "
                "again, and records what was committed)"
            )
        else:
            logger.error(
                "The other workers took this one for dead (no heartbeat for %g s: the process "
                "was paused, starved or its machine suspended) and put its requests back into "
                "the queue: stopping without committing the articles it holds (the others "
                "store them)",
                self.registry.timeout,
            )
        if not self.failed:
            self.failed = True
            self._close_spider(DECLARED_DEAD)

    def _close_spider(self, reason: str) -> None:
        deferred_from_coro(self.crawler.engine.close_spider_async(reason=reason))

    def on_commit_check(self) -> str | None:
        """Asked by the Parquet stage before it writes rows (a write may commit a file): why
        this worker may not commit, or ``None``. A worker the others took for dead may not
        (see :meth:`_declared_dead`). Asked of Redis each time, refreshing the heartbeat on
        the way, since the heartbeat thread may not have run since a pause; with Redis gone,
        what the worker holds is committed on its way out, as before."""
        if not self.failed:
            try:
                if not self.registry.beat():
                    self._declared_dead()
            except redis.RedisError as exc:
                self._redis_failed(exc)
        if self.declared_dead:
            if self.registry.state_lost.is_set():
                return "Redis no longer holds this run (the next run fetches these articles)"
            return (
                "the other workers took this one for dead and put its requests back into the "
                "queue (they store these articles)"
            )
        return None

    def _inc(self, key: str, count: int = 1) -> None:
        if self.stats is not None:
            self.stats.inc_value(key, count)

    # --- acknowledgements --------------------------------------------------------------------

    def _ack(self, entries: list[str], *, parsed: bool = False) -> None:
        """Acknowledge entries (or mark one parsed); with Redis gone the worker stops, and
        the entries stay in flight for the next worker."""
        if not entries or self.failed:
            return
        try:
            if parsed:
                self.queue.parsed(entries[0])
            else:
                self.queue.ack(entries)
        except redis.RedisError as exc:
            self._redis_failed(exc)

    def on_children_yielded(self, token: str, count: int) -> None:
        self.children_expected[token] = count
        self._parent_done(token)

    def _parent_done(self, token: str) -> None:
        """Acknowledge a parent once all the requests it yielded are queued (or filtered)."""
        expected = self.children_expected.get(token)
        if expected is None or self.children_queued[token] < expected:
            return
        del self.children_expected[token]
        self.children_queued.pop(token, None)
        if token == START_PARENT:
            self.on_start_exhausted()
        else:
            self._ack([token])

    def on_start_exhausted(self) -> None:
        if not self.failed:
            try:
                self.server.hdel(self.starting, self.registry.worker_id)
            except redis.RedisError as exc:
                self._redis_failed(exc)

    def on_request_done(self, request: Request) -> None:
        entry = request.meta.get(FRONTIER_META)
        if entry is not None:
            self._ack([entry])

    def on_item_scraped(self, item: Any, response: Response | None) -> None:
        url = ItemAdapter(item)["url"]
        committed = url in self.committed_first
        self.committed_first.discard(url)
        entry = response_entry(response)
        if entry is None:
            return
        if committed:
            self._ack([entry])
        else:
            self._ack([entry], parsed=True)
            self.awaiting_commit[url] = entry

    def on_item_gone(self, item: Any, response: Response | None) -> None:
        entry = response_entry(response)
        if entry is not None:
            self._ack([entry])

    def on_articles_committed(self, file: str, keys: list[tuple[Any, ...]]) -> None:
        entries = []
        for url, *_ in keys:
            entry = self.awaiting_commit.pop(url, None)
            if entry is None:
                self.committed_first.add(url)
            else:
                entries.append(entry)
        self._ack(entries)

    # --- the shared end of the crawl ---------------------------------------------------------

    def recover_dead_workers(self) -> int:
        """Take over the workers whose heartbeat expired: put their unfinished requests back
        into the queue, remove them from the registry, and free their claims.
        :class:`DeclaredDead` when this worker was itself taken over."""
        _, dead = self.registry.others()
        if dead and self.location is not None:
            # a worker killed between committing a file and recording its rows: record them
            # now, or the requests put back would store those articles a second time
            files = self.state.recover(self.location, unreadable=_left_out)
            if files:
                logger.warning("Recorded %d data files a dead worker committed", len(files))
        recovered = 0
        for worker in dead:
            count = self.queue.take_over(
                worker,
                self._held(worker),
                heartbeats=self.registry.heartbeat_prefix,
                starting=self.starting,
                lifetime_ms=int(self.registry.timeout * 1000),
            )
            if count is None:
                continue  # it answers again, or another worker took it over meanwhile
            released = self.claims.release_all(worker)
            recovered += count
            self._inc(FRONTIER_DEAD_WORKERS.name)
            self._inc(FRONTIER_REQUEUED.name, count)
            logger.warning(
                "Worker %s stopped answering: %d of its requests put back into the queue, "
                "%d claims released",
                worker,
                count,
                released,
            )
        return recovered

    def on_idle(self) -> None:
        """Close only when the shared work is done: nothing queued, and no other live worker
        still reading its start requests, fetching or parsing, or holding rows it has not
        committed."""
        if self.failed:
            return
        try:
            if not self.registry.beat():  # taken over while it was paused
                raise DeclaredDead
            busy = self._shared_work_left()
        except DeclaredDead:
            self._declared_dead()
            return
        except redis.RedisError as exc:
            self._redis_failed(exc)
            return
        if busy:
            if self._poll is None:  # look at the queue every second, not every 5 s
                self._poll = LoopingCall(self._wake_engine)
                self._poll.start(POLL_INTERVAL, now=False)
            raise DontCloseSpider

    def _wake_engine(self) -> None:
        """Ask the engine for its next request now: Scrapy looks at an idle scheduler only
        every 5 s, while the other workers may queue work any moment (this uses the engine's
        private ``_slot``; without it, the 5 s heartbeat still does)."""
        nextcall = getattr(getattr(self.crawler.engine, "_slot", None), "nextcall", None)
        if nextcall is not None:
            nextcall.schedule()

    def _shared_work_left(self) -> bool:
        """Whether this idle worker must wait. While something is queued, or another live
        worker reads its start requests, fetches or parses, more requests may come. Once not,
        the rows the live workers hold are all that is left: this one commits its own now, and
        waits until the others' are committed. A worker killed holding rows it had not
        committed still looks alive until its heartbeat expires; then its requests are put
        back, and crawled. Without that wait, the last worker would end the run (exit 0) with
        those articles left in Redis for the next run."""
        self.queue.settle()
        self.recover_dead_workers()
        if len(self.queue):
            return True
        alive, _ = self.registry.others()
        starting = {as_text(worker) for worker in self.server.hkeys(self.starting)}
        if any(
            worker in starting or self.queue.busy(self._key("in-flight", worker))
            for worker in alive
        ):
            return True
        self._commit_held()
        return any(self.queue.busy(self._key("done", worker)) for worker in alive)

    def _commit_held(self) -> None:
        """Ask for this worker's rows to be committed now (:data:`commit_requested`), since the
        others wait for them; the commit acknowledges their entries. When no stage answers
        that it holds rows (none commits before the end, or the rows are committed already),
        no commit is coming for the done entries left: they are settled, since two idle
        workers must not wait for each other's for ever. (The worker is idle: no item is on
        its way to the Parquet stage.)"""
        if not self.queue.busy(self.queue.done):
            return
        answers = self.crawler.signals.send_catch_log(signal=commit_requested)
        if not any(answer is True for _, answer in answers):
            self.queue.settle_done()


def _left_out(name: str, exc: Exception) -> None:
    """A data file that cannot be read, met while dead workers are taken over: left out (the
    dedupe stage named it as an error when the crawl started), the takeover goes on."""
    logger.warning("Left out the data file %s, which cannot be read (%s)", name, exc)
