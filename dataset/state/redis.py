"""The crawl state in Redis, for several crawler processes writing one dataset (Redis mode):
the backend :class:`RedisStores`.

The same interfaces as the embedded stores (:mod:`dataset.state.base`), so the stages do not
know which they use; each store is a module of its own:

* :mod:`dataset.state.redis_crawl_state`: stored URLs and content hashes, the committed files;
* :mod:`dataset.state.redis_near_index`: the signatures of stored and of pending texts;
* :mod:`dataset.state.redis_claims`: the articles accepted and not yet committed;
* :mod:`dataset.state.redis_copies` and :mod:`dataset.state.redis_site_boilerplate`;

besides :mod:`dataset.state.redis_registry`, who runs the shared crawl (held by
:class:`RedisStores`), and :mod:`dataset.state.redis_connection`, the client.

Key names start with ``REDIS_KEY_PREFIX`` (one prefix per dataset).
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Self

import redis

from dataset.state.base import LockHeld, StateError, StateOptions, StateStores
from dataset.state.near_index import DEFAULT_THRESHOLD
from dataset.state.redis_claims import RedisClaims
from dataset.state.redis_connection import as_text, connect, safe_url
from dataset.state.redis_copies import RedisCopiesLog
from dataset.state.redis_crawl_state import RedisCrawlState
from dataset.state.redis_near_index import RedisNearIndex
from dataset.state.redis_registry import WorkerRegistry
from dataset.state.redis_site_boilerplate import RedisSiteBoilerplateStore

if TYPE_CHECKING:
    from collections.abc import Iterator

logger = logging.getLogger(__name__)

LOCK_LEASE_SECONDS = 60.0
"""A deployment lock lapses this long after its holder stops renewing it (it renews it every
third of that while it runs): a compaction killed, or stopped, frees it within a minute."""


class RedisStores(StateStores):
    """The crawl state in the Redis server of ``REDIS_URL``, shared by every worker; holds
    this worker's membership of the shared crawl (:attr:`registry`)."""

    shared = True
    errors: tuple[type[Exception], ...] = (redis.RedisError,)

    def __init__(self, registry: WorkerRegistry) -> None:
        self.registry = registry
        self.client = registry.client
        self.prefix = registry.prefix

    @classmethod
    def open(cls, options: StateOptions) -> Self:
        try:
            client = connect(options.redis_url)
        except (redis.RedisError, ValueError) as exc:
            raise StateError(
                f"cannot reach Redis at {safe_url(options.redis_url)}: {exc}"
            ) from None
        return cls(
            WorkerRegistry(client, options.redis_key_prefix, timeout=options.redis_worker_timeout)
        )

    @classmethod
    def unreachable(cls, options: StateOptions) -> str | None:
        try:
            connect(options.redis_url).close()
        except (redis.RedisError, ValueError) as exc:
            return f"cannot reach Redis at {safe_url(options.redis_url)}: {exc}"
        return None

    @classmethod
    def recorded_file_count(cls, options: StateOptions) -> int:
        client = connect(options.redis_url)
        try:
            return int(client.hlen(RedisCrawlState.files_key(options.redis_key_prefix)))
        finally:
            client.close()

    @classmethod
    def place(cls, options: StateOptions) -> str:
        return (
            f"the crawl state in Redis under the keys {options.redis_key_prefix}:*"
            " (REDIS_KEY_PREFIX)"
        )

    def run_id(self) -> str | None:
        return self.registry.run_id()

    def judges_run(self, history_file: str) -> tuple[str, ...] | None:
        """The last worker of the run to write its run history judges the run, on every
        worker's file (named here: however many workers ran, a read of the newest files alone
        could miss some): a worker stopping before the others would judge its own part of the
        run's rows (one that joined late and saw one request fail, a source "failing")."""
        return self.registry.history_written(history_file)

    def crawl_state(self) -> RedisCrawlState:
        return RedisCrawlState(self.client, self.prefix)

    def near_index(self, *, threshold: float = DEFAULT_THRESHOLD) -> RedisNearIndex:
        return RedisNearIndex(self.client, self.prefix, self.registry, threshold=threshold)

    def claims(self) -> RedisClaims:
        return RedisClaims(self.client, self.prefix, self.registry)

    def copies(self) -> RedisCopiesLog:
        return RedisCopiesLog(self.client, self.prefix)

    def site_boilerplate(self) -> RedisSiteBoilerplateStore:
        return RedisSiteBoilerplateStore(self.client, self.prefix)

    @contextmanager
    def lock(self, name: str) -> Iterator[None]:
        """A lock in Redis, for every machine of the deployment, held by a lease of
        :data:`LOCK_LEASE_SECONDS` that a thread renews while the lock is held: a holder that
        dies (killed, or stopped by a signal) frees it within the lease. The holder is named
        beside it, for the message of the one that finds it taken."""
        key = f"{self.prefix}:lock:{name}"
        holder_key = f"{key}:holder"
        lease_ms = int(LOCK_LEASE_SECONDS * 1000)
        # not thread-local: the renewing thread uses the token this one took
        lock = self.client.lock(key, timeout=LOCK_LEASE_SECONDS, thread_local=False)
        if not lock.acquire(blocking=False):
            held_by = self.client.get(holder_key)
            by = f" by {as_text(held_by)}" if held_by else ""
            raise LockHeld(
                f"another {name} of this deployment is running (held{by}; a holder that"
                f" died frees it within {LOCK_LEASE_SECONDS:g} s)"
            )
        since = datetime.now(UTC).isoformat(timespec="seconds")
        holder = f"host {socket.gethostname()}, pid {os.getpid()}, since {since}"
        self.client.set(holder_key, holder, px=lease_ms)
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(LOCK_LEASE_SECONDS / 3):
                try:
                    lock.reacquire()
                    self.client.pexpire(holder_key, lease_ms)
                except redis.RedisError as exc:
                    logger.warning("Cannot renew the %s lock in Redis: %s", name, exc)
                    return

        renewer = threading.Thread(target=renew, name=f"{name}-lock", daemon=True)
        renewer.start()
        try:
            yield
        finally:
            stop.set()
            renewer.join()
            with suppress(redis.RedisError):
                lock.release()
                self.client.delete(holder_key)

    def close(self) -> None:
        """Leave the shared crawl: stop the heartbeat and leave the registry."""
        self.registry.leave()
