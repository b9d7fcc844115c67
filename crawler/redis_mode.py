"""Redis mode: several crawler processes, on one or many machines, crawl into one dataset.

Switched on by ``REDIS_URL`` (e.g. ``redis://host:6379/0``); without it nothing here runs
and the crawl needs no server. :class:`RedisModeAddon` wires the components:

* the shared request queue and request dupefilter (scrapy-redis, extended in
  ``crawler/frontier.py`` so that a worker that dies loses nothing);
* the crawl state, the near-duplicate index, the claims of pending articles and the copies
  log in Redis (``crawler/shared_state.py``), and the site boilerplate
  (``pipelines/site_boilerplate.py``);
* :class:`WorkerRegistry`: each worker announces itself with a heartbeat key that expires
  after ``REDIS_WORKER_TIMEOUT`` seconds, so the others can tell when it died.

Settings: ``REDIS_URL`` (empty: embedded mode), ``REDIS_KEY_PREFIX`` (``news``: one
prefix per dataset), ``REDIS_WORKER_TIMEOUT`` (``60`` seconds).
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING

import redis
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.settings import SETTINGS_PRIORITIES

if TYPE_CHECKING:
    from collections.abc import Iterator

    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings, Settings

logger = logging.getLogger(__name__)

DEFAULT_PREFIX = "news"
DEFAULT_WORKER_TIMEOUT = 60.0
# Outermost spider middleware (closest to the engine): sees a callback's whole output.
ACK_MIDDLEWARE_ORDER = 1


class RedisUnavailable(RuntimeError):
    """``REDIS_URL`` is set and its server cannot be used: the crawl must not go on alone."""


def redis_url(settings: BaseSettings) -> str:
    """The ``REDIS_URL`` setting; empty in embedded mode."""
    return str(settings.get("REDIS_URL") or "").strip()


def key_prefix(settings: BaseSettings) -> str:
    prefix = str(settings.get("REDIS_KEY_PREFIX") or DEFAULT_PREFIX).strip()
    if not prefix or any(ch.isspace() for ch in prefix):
        raise NotConfigured(f"REDIS_KEY_PREFIX must be one word, not {prefix!r}")
    return prefix


def connect(url: str) -> redis.Redis:
    """A client of the Redis server at ``url`` (bytes in and out), checked with a ping;
    ``redis.RedisError`` when it cannot be reached."""
    client = redis.Redis.from_url(
        url, socket_timeout=30, socket_connect_timeout=10, health_check_interval=30
    )
    client.ping()
    return client


def unreachable(settings: BaseSettings) -> str | None:
    """Why the Redis server of ``REDIS_URL`` cannot be used, or ``None`` (also in embedded
    mode)."""
    url = redis_url(settings)
    if not url:
        return None
    try:
        connect(url).close()
    except (redis.RedisError, ValueError) as exc:
        return f"cannot reach Redis at {_safe(url)}: {exc}"
    return None


def as_bytes(value: bytes | str) -> bytes:
    """A Redis reply as bytes (the client returns bytes; its type hints say either)."""
    return value if isinstance(value, bytes) else value.encode()


def as_text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _safe(url: str) -> str:
    """The URL without its password."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    return f"{scheme}{sep}{rest}"


# KEYS[1]: the workers set; KEYS[2..]: keys of the previous run, deleted when no worker is
# alive (this one starts a new run). ARGV: the worker, the heartbeat key prefix, the
# heartbeat lifetime in ms. Returns how many other workers are alive.
_JOIN = """
local live = 0
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    if worker ~= ARGV[1] and redis.call('EXISTS', ARGV[2] .. worker) == 1 then
        live = live + 1
    end
end
if live == 0 then
    for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SET', ARGV[2] .. ARGV[1], '1', 'PX', ARGV[3])
return live
"""


class WorkerRegistry:
    """This worker's membership of the shared crawl: an id, a heartbeat, and who else runs.

    One per crawler (:meth:`for_crawler`). The heartbeat is refreshed from a thread of its own,
    so a reactor busy for a moment does not make the worker look dead.
    """

    def __init__(self, client: redis.Redis, prefix: str, *, timeout: float) -> None:
        self.client = client
        self.prefix = prefix
        self.timeout = timeout
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.workers_key = f"{prefix}:workers"
        self.heartbeat_prefix = f"{prefix}:worker:"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._join = client.register_script(_JOIN)

    @classmethod
    def for_crawler(cls, crawler: Crawler) -> WorkerRegistry:
        """The crawler's registry (made by the first component that asks; the crawler holds
        it); ``NotConfigured`` in embedded mode, :class:`RedisUnavailable` when the server
        cannot be reached."""
        found: WorkerRegistry | None = getattr(crawler, "news_worker_registry", None)
        if found is not None:
            return found
        settings = crawler.settings
        url = redis_url(settings)
        if not url:
            raise NotConfigured("REDIS_URL is not set")
        timeout = settings.getfloat("REDIS_WORKER_TIMEOUT", DEFAULT_WORKER_TIMEOUT)
        if timeout < 1:
            raise NotConfigured(f"REDIS_WORKER_TIMEOUT must be at least 1 second, not {timeout}")
        try:
            client = connect(url)
        except (redis.RedisError, ValueError) as exc:
            raise RedisUnavailable(f"cannot reach Redis at {_safe(url)}: {exc}") from None
        registry = cls(client, key_prefix(settings), timeout=timeout)
        crawler.news_worker_registry = registry  # type: ignore[attr-defined]
        crawler.signals.connect(registry.leave, signal=signals.engine_stopped)
        return registry

    def heartbeat_key(self, worker: str) -> str:
        return f"{self.heartbeat_prefix}{worker}"

    def join(self, run_keys: list[str]) -> bool:
        """Announce this worker and start its heartbeat; ``True`` when no other worker is
        alive: this one starts a new run, and ``run_keys`` (what belongs to one run) are
        deleted first, atomically."""
        others = int(
            self._join(
                keys=[self.workers_key, *run_keys],
                args=[self.worker_id, self.heartbeat_prefix, int(self.timeout * 1000)],
            )
        )
        if self._thread is None:
            self._thread = threading.Thread(target=self._beat, name="redis-heartbeat", daemon=True)
            self._thread.start()
        logger.info(
            "Worker %s joined the shared crawl (%d other workers alive)", self.worker_id, others
        )
        return others == 0

    def _beat(self) -> None:
        interval = self.timeout / 4
        while not self._stop.wait(interval):
            try:
                self.client.set(
                    self.heartbeat_key(self.worker_id), b"1", px=int(self.timeout * 1000)
                )
            except redis.RedisError as exc:  # the next beat tries again
                logger.warning("Cannot refresh this worker's heartbeat in Redis: %s", exc)

    def is_alive(self, worker: str) -> bool:
        return worker == self.worker_id or bool(self.client.exists(self.heartbeat_key(worker)))

    def others(self) -> tuple[list[str], list[str]]:
        """The other registered workers: ``(alive, dead)``."""
        workers = sorted(as_text(w) for w in self.client.smembers(self.workers_key))
        workers = [w for w in workers if w != self.worker_id]
        with self.client.pipeline(transaction=False) as pipe:
            for worker in workers:
                pipe.exists(self.heartbeat_key(worker))
            flags = pipe.execute()
        alive = [w for w, flag in zip(workers, flags, strict=True) if flag]
        dead = [w for w, flag in zip(workers, flags, strict=True) if not flag]
        return alive, dead

    def forget(self, worker: str) -> None:
        """Remove a dead worker from the registry (after its work was taken over)."""
        self.client.srem(self.workers_key, worker)

    def stop_heartbeat(self) -> None:
        """Stop refreshing this worker's heartbeat: it expires after the timeout."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def leave(self) -> None:
        """Stop the heartbeat and leave the registry (the crawl of this worker is over)."""
        self.stop_heartbeat()
        try:
            with self.client.pipeline(transaction=True) as pipe:
                pipe.delete(self.heartbeat_key(self.worker_id))
                pipe.srem(self.workers_key, self.worker_id)
                pipe.execute()
        except redis.RedisError as exc:
            logger.warning("Cannot leave the worker registry (expires by itself): %s", exc)


class RedisModeAddon:
    """Turns Redis mode on when ``REDIS_URL`` is set: the shared scheduler and dupefilter,
    and the spider middleware that tells the queue which requests are done."""

    def update_settings(self, settings: Settings) -> None:
        if not redis_url(settings):
            return
        # over the project's embedded defaults; a SCHEDULER or DUPEFILTER_CLASS given on the
        # command line or by a spider stays
        for name, value in (
            ("SCHEDULER", "crawler.frontier.SharedScheduler"),
            ("DUPEFILTER_CLASS", "crawler.frontier.SharedDupeFilter"),
        ):
            if (settings.getpriority(name) or 0) <= SETTINGS_PRIORITIES["project"]:
                settings.set(name, value, priority="project")
        from crawler.frontier import FrontierAckMiddleware  # noqa: PLC0415 (imports scrapy-redis)

        settings.set_in_component_priority_dict(
            "SPIDER_MIDDLEWARES", FrontierAckMiddleware, ACK_MIDDLEWARE_ORDER
        )


class LockHeld(RuntimeError):
    """Another worker or command of the deployment holds the lock."""


@contextmanager
def deployment_lock(settings: BaseSettings, name: str, *, hours: float = 6.0) -> Iterator[None]:
    """Hold the lock ``name`` for every machine of a Redis-mode deployment (nothing to do in
    embedded mode, where a file lock serves). :class:`LockHeld` when another holds it; the
    lock lapses after ``hours`` if its holder dies."""
    url = redis_url(settings)
    if not url:
        yield
        return
    client = connect(url)
    lock = client.lock(f"{key_prefix(settings)}:lock:{name}", timeout=hours * 3600)
    if not lock.acquire(blocking=False):
        raise LockHeld(f"another {name} of this deployment is running (lock in Redis)")
    try:
        yield
    finally:
        with suppress(redis.RedisError):
            lock.release()
