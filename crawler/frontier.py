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
"""

from __future__ import annotations

import logging
from collections import Counter
from typing import TYPE_CHECKING, Any, Self

import redis
from itemadapter import ItemAdapter
from scrapy import Request, signals
from scrapy.exceptions import DontCloseSpider, NotConfigured
from scrapy.utils.defer import deferred_from_coro
from scrapy_redis import picklecompat
from scrapy_redis.dupefilter import RFPDupeFilter
from scrapy_redis.queue import PriorityQueue
from scrapy_redis.scheduler import Scheduler
from twisted.internet.task import LoopingCall

from dataset.state.redis import RedisStores
from dataset.state.redis_connection import as_bytes, as_text
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
    from collections.abc import AsyncIterator, Iterable

    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.spiders import Spider
    from scrapy.statscollectors import StatsCollector
    from scrapy.utils.request import RequestFingerprinterProtocol

    from dataset.storage import DatasetLocation

logger = logging.getLogger(__name__)

FRONTIER_META = "frontier_id"
"""``Request.meta`` key: the id of the request's entry in this worker's in-flight hash."""

children_yielded = object()
"""Sent by :class:`FrontierAckMiddleware` with ``token`` (the in-flight entry of a response's
request, or :data:`START_PARENT`) and ``count``, the requests it yielded, each tagged with the
token in ``meta[PARENT_META]``: the parent is done once the scheduler has received them all."""
PARENT_META = "frontier_parent"
POLL_INTERVAL = 1.0
"""Seconds between two looks at the shared queue while this worker waits for the others."""
START_PARENT = "start"
DECLARED_DEAD = "declared_dead"
"""The finish reason of a worker that found the others had taken it for dead."""

# KEYS: queue, in-flight hash, id counter, workers set; ARGV: this worker. Pops the first
# request and records it in-flight (as "<score>\n<request>"), in one step; returns {id,
# request}, nil, or -1 when this worker is no longer registered (the others took it for dead:
# no one would put back an entry recorded now).
_POP = """
if redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 0 then return -1 end
local item = redis.call('ZPOPMIN', KEYS[1])
if #item == 0 then return false end
local id = redis.call('INCR', KEYS[3])
redis.call('HSET', KEYS[2], id, item[2] .. '\\n' .. item[1])
return {id, item[1]}
"""
# KEYS: request filter, queue, then the worker's hashes (in flight, done, settled); ARGV: the
# request's fingerprint ('' when it is not filtered), score and data, the entry it replaces (''
# for none). Marks the request seen and queues it unless the filter had it, and forgets the
# entry it replaces (a retry's or a redirect's), in one step; returns 1 when queued, 0 when
# filtered.
_PUSH = """
local new = 1
if ARGV[1] ~= '' then new = redis.call('SADD', KEYS[1], ARGV[1]) end
if new == 1 then redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3]) end
if ARGV[4] ~= '' then
    for i = 3, #KEYS do redis.call('HDEL', KEYS[i], ARGV[4]) end
end
return new
"""
# Puts every entry of a hash back into the queue with its score and deletes the hash; returns
# how many.
_PUT_BACK = """
local function put_back(queue, hash)
    local count = 0
    for _, value in ipairs(redis.call('HVALS', hash)) do
        local cut = string.find(value, '\\n', 1, true)
        redis.call('ZADD', queue, tonumber(string.sub(value, 1, cut - 1)),
            string.sub(value, cut + 1))
        count = count + 1
    end
    redis.call('DEL', hash)
    return count
end
"""
# KEYS: queue, then hashes of entries; puts them all back; returns how many.
_REQUEUE = (
    _PUT_BACK
    + """
local count = 0
for i = 2, #KEYS do count = count + put_back(KEYS[1], KEYS[i]) end
return count
"""
)
# KEYS: workers set, queue, start flags, then the other worker's hashes; ARGV: this worker, the
# other, the heartbeat key prefix, the heartbeat lifetime in ms. Takes a dead worker over in one
# step: its entries back into the queue, its hashes, membership and start flag gone; and this
# worker's heartbeat refreshed (it evidently runs). Returns how many entries; -1 (nothing done)
# when the other answers again or is no longer registered (taken over by a third); -2 (nothing
# done) when this worker is itself no longer registered. In one step, so that a worker is never
# taken over while its heartbeat is alive, nor left out of the registry with entries recorded
# (they would be put back by no one), and two paused workers cannot take each other over.
_TAKE_OVER = (
    _PUT_BACK
    + """
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return -2 end
if redis.call('SISMEMBER', KEYS[1], ARGV[2]) == 0 then return -1 end
if redis.call('EXISTS', ARGV[3] .. ARGV[2]) == 1 then return -1 end
redis.call('SET', ARGV[3] .. ARGV[1], '1', 'PX', ARGV[4])
local count = 0
for i = 4, #KEYS do count = count + put_back(KEYS[2], KEYS[i]) end
redis.call('SREM', KEYS[1], ARGV[2])
redis.call('HDEL', KEYS[3], ARGV[2])
return count
"""
)
# KEYS: from-hash, to-hash; ARGV: entry ids (none: all). Moves entries; returns how many.
_MOVE = """
local moved = 0
local ids = ARGV
if #ids == 0 then ids = redis.call('HKEYS', KEYS[1]) end
for _, id in ipairs(ids) do
    local value = redis.call('HGET', KEYS[1], id)
    if value then
        redis.call('HSET', KEYS[2], id, value)
        redis.call('HDEL', KEYS[1], id)
        moved = moved + 1
    end
end
return moved
"""


class SharedDupeFilter(RFPDupeFilter):
    """scrapy-redis's dupefilter with Scrapy's request fingerprints (the ones the rest of the
    crawl uses); the scheduler gives it its key, and marks requests seen in the step that queues
    them (:meth:`ReliableQueue.push_unseen`), not with ``request_seen``."""

    def __init__(
        self,
        server: redis.Redis,
        key: str,
        *,
        fingerprinter: RequestFingerprinterProtocol,
        debug: bool = False,
    ) -> None:
        super().__init__(server, key, debug=debug)
        self.fingerprinter = fingerprinter

    def request_fingerprint(self, request: Request) -> str:
        return self.fingerprinter.fingerprint(request).hex()

    def close(self, reason: str = "") -> None:
        """Keep the fingerprints: other workers are still crawling this run."""


class ReliableQueue(PriorityQueue):
    """scrapy-redis's priority queue; a pop also records the request in this worker's
    in-flight hash (see the module's description)."""

    def __init__(
        self,
        server: redis.Redis,
        spider: Spider,
        key: str,
        *,
        in_flight: str,
        done: str,
        settled: str,
        workers: str,
        worker: str,
    ) -> None:
        super().__init__(server, spider, key, serializer=picklecompat)
        self.in_flight = in_flight
        """Requests being fetched or parsed."""
        self.done = done
        """Requests fetched and parsed whose rows are not committed yet: the other workers
        wait for them (a killed worker's come back once its heartbeat expires)."""
        self.settled = settled
        """Requests no work is known to wait for, never acknowledged (their ends were not
        seen); put back when the worker stops or dies, as the others, but not waited for."""
        self.workers = workers
        """The registry's set of workers: a worker no longer in it may not take requests."""
        self.worker = worker
        self.ids = f"{key}:ids"
        self._pop = server.register_script(_POP)
        self._push = server.register_script(_PUSH)
        self._requeue = server.register_script(_REQUEUE)
        self._take_over = server.register_script(_TAKE_OVER)
        self._move = server.register_script(_MOVE)

    @property
    def held(self) -> list[str]:
        """This worker's hashes of entries."""
        return [self.in_flight, self.done, self.settled]

    def _encode_request(self, request: Request) -> bytes:
        return self.serializer.dumps(request.to_dict(spider=self.spider))

    def push_unseen(
        self, request: Request, *, seen: str, fingerprint: str | None, replaces: str | None
    ) -> bool:
        """Queue a request unless the request filter (the set ``seen``) has its
        ``fingerprint``, which it gets in the same step (``None``: a request not filtered); the
        in-flight entry it ``replaces`` (a retry or a redirect of that request) is forgotten in
        that step too. ``True`` when queued."""
        data = self._encode_request(request)
        keys = [seen, self.key, *self.held]
        args: list[bytes | str | int] = [fingerprint or "", -request.priority, data, replaces or ""]
        return bool(self._push(keys=keys, args=args))

    def pop(self, timeout: int = 0) -> Request | None:
        """The next request, recorded in flight; :class:`DeclaredDead` when the others took
        this worker for dead (its entries were put back: it must take no more)."""
        found = self._pop(
            keys=[self.key, self.in_flight, self.ids, self.workers], args=[self.worker]
        )
        if found == -1:
            raise DeclaredDead
        if not found:
            return None
        entry, data = found
        request = self._decode_request(data)
        request.meta[FRONTIER_META] = str(entry)  # an integer reply
        return request

    def ack(self, entries: Iterable[str]) -> None:
        """Forget entries: their requests need no more work."""
        entries = list(entries)
        if entries:
            with self.server.pipeline(transaction=False) as pipe:
                for hash_key in self.held:
                    pipe.hdel(hash_key, *entries)
                pipe.execute()

    def parsed(self, entry: str) -> None:
        """The request was fetched and parsed; its row awaits a commit."""
        self._move(keys=[self.in_flight, self.done], args=[entry])

    def settle(self) -> int:
        """Settle every in-flight entry (the worker is idle: nothing is being fetched or
        parsed, whatever was not acknowledged), so that the others do not wait for them."""
        return int(self._move(keys=[self.in_flight, self.settled]))

    def settle_done(self) -> int:
        """Settle every done entry: no commit is coming for them (nothing commits rows
        before the end, or none of their rows is held)."""
        return int(self._move(keys=[self.done, self.settled]))

    def requeue(self, hashes: list[str]) -> int:
        """Put the entries of these hashes back into the queue."""
        return int(self._requeue(keys=[self.key, *hashes]))

    def take_over(
        self, worker: str, hashes: list[str], *, heartbeats: str, starting: str, lifetime_ms: int
    ) -> int | None:
        """Take a dead ``worker`` over: put the entries of its ``hashes`` back and remove it
        from the registry and from ``starting``, in one step (see ``_TAKE_OVER``); how many
        entries, ``None`` when it is not dead after all (or taken over already).
        :class:`DeclaredDead` when this worker was itself taken over."""
        keys = [self.workers, self.key, starting, *hashes]
        found = int(self._take_over(keys=keys, args=[self.worker, worker, heartbeats, lifetime_ms]))
        if found == -2:
            raise DeclaredDead
        return None if found < 0 else found

    def entries(self, hashes: list[str]) -> list[Request]:
        """The requests recorded in these hashes of entries."""
        values = [value for key in hashes for value in self.server.hvals(key)]
        return [self._decode_request(as_bytes(value).partition(b"\n")[2]) for value in values]

    def busy(self, hash_key: str) -> bool:
        return bool(self.server.hlen(hash_key))


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
        entry = _entry(response)
        if entry is None:
            return
        if committed:
            self._ack([entry])
        else:
            self._ack([entry], parsed=True)
            self.awaiting_commit[url] = entry

    def on_item_gone(self, item: Any, response: Response | None) -> None:
        entry = _entry(response)
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


def _entry(response: Response | None) -> str | None:
    request = getattr(response, "request", None)
    return request.meta.get(FRONTIER_META) if request is not None else None


class _Children:
    """The requests one parent (a response's in-flight entry, or ``start()``) yields: each is
    tagged with the parent and counted; items are noted."""

    def __init__(self, parent: str | None) -> None:
        self.parent = parent
        self.count = 0
        self.items = False

    def tag(self, output: Any) -> Any:
        if not isinstance(output, Request):
            self.items = True
        elif self.parent is not None:
            output.meta[PARENT_META] = self.parent
            self.count += 1
        return output


class FrontierAckMiddleware:
    """Tells the shared queue when a response needs no more work: once every request its
    callback yielded is in the queue, if it yielded no item (items are acknowledged when their
    row is committed or dropped). Scrapy reads a callback's whole output before it schedules
    the requests in it, so the end of the output is not the moment: each request is tagged
    with its parent, and the scheduler counts them in (:data:`children_yielded`). The same for
    ``start()``: the worker is busy for the others until its start requests are all queued."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _yielded(self, token: str, count: int) -> None:
        self.crawler.signals.send_catch_log(signal=children_yielded, token=token, count=count)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        children = _Children(START_PARENT)
        try:
            async for output in start:
                yield children.tag(output)
        finally:
            self._yielded(START_PARENT, children.count)

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterable[Any]:
        children = _Children(_entry(response))
        try:
            for output in result:
                yield children.tag(output)
        finally:
            self._finish(children)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        children = _Children(_entry(response))
        try:
            async for output in result:
                yield children.tag(output)
        finally:
            self._finish(children)

    def _finish(self, children: _Children) -> None:
        """A response that yielded items is done when their rows are; else once its requests
        are queued."""
        if children.parent is not None and not children.items:
            self._yielded(children.parent, children.count)

    def process_spider_exception(self, response: Response, exception: Exception) -> None:
        self.crawler.signals.send_catch_log(signal=request_done, request=response.request)


def _left_out(name: str, exc: Exception) -> None:
    """A data file that cannot be read, met while dead workers are taken over: left out (the
    dedupe stage named it as an error when the crawl started), the takeover goes on."""
    logger.warning("Left out the data file %s, which cannot be read (%s)", name, exc)
