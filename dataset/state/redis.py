"""The crawl state in Redis, for several crawler processes writing one dataset (Redis mode).

The same interfaces as the embedded stores (:mod:`dataset.state.base`), so the stages do not
know which they use:

* :class:`RedisCrawlState`: stored URLs and content hashes, the committed files;
* :class:`RedisNearIndex`: the MinHash signatures of stored texts, banded, and of the texts
  workers accepted and have not committed;
* :class:`RedisClaims`: one process's pending keys are in its memory, but with several
  processes an article accepted by one and not yet committed must be seen by the others. A
  claim is a Redis hash field owned by a worker; a claim whose worker stopped answering (see
  :class:`WorkerRegistry`) is free again, since its rows were never committed;
* :class:`RedisCopiesLog` and :class:`RedisSiteBoilerplateStore`;
* :class:`WorkerRegistry`: each worker announces itself with a heartbeat key that expires
  after ``REDIS_WORKER_TIMEOUT`` seconds, so the others can tell when it died. A worker the
  others took for dead (it stalled longer than that) stays dead: its heartbeat is never
  refreshed again (:meth:`WorkerRegistry.beat`), so its claims and pending texts stay free.

Key names start with ``REDIS_KEY_PREFIX`` (one prefix per dataset).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import threading
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from itertools import chain
from typing import TYPE_CHECKING, Any, Self

import numpy as np
import redis

from dataset.state.base import (
    LockHeld,
    RecoverFiles,
    Rejection,
    StateError,
    StateOptions,
    StateStores,
    file_keys,
    key_digest,
)
from dataset.state.near_index import DEFAULT_THRESHOLD, Match, band_keys, best_match
from extraction.site_boilerplate import LineCounts

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from extraction.site_boilerplate import SiteBoilerplate

logger = logging.getLogger(__name__)

LOCK_LEASE_SECONDS = 60.0
"""A deployment lock lapses this long after its holder stops renewing it (it renews it every
third of that while it runs): a compaction killed, or stopped, frees it within a minute."""


def connect(url: str) -> redis.Redis:
    """A client of the Redis server at ``url`` (bytes in and out), checked with a ping;
    ``redis.RedisError`` when it cannot be reached."""
    client = redis.Redis.from_url(
        url, socket_timeout=30, socket_connect_timeout=10, health_check_interval=30
    )
    client.ping()
    return client


def as_bytes(value: bytes | str) -> bytes:
    """A Redis reply as bytes (the client returns bytes; its type hints say either)."""
    return value if isinstance(value, bytes) else value.encode()


def as_text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def safe_url(url: str) -> str:
    """The URL without its password."""
    scheme, sep, rest = url.partition("://")
    if "@" in rest:
        rest = "***@" + rest.rsplit("@", 1)[1]
    return f"{scheme}{sep}{rest}"


# KEYS[1]: the workers set; KEYS[2]: the run's id; KEYS[3..]: keys of the previous run,
# deleted when no worker is alive (this one starts a new run, with the id ARGV[4]). ARGV: the
# worker, the heartbeat key prefix, the heartbeat lifetime in ms, a new run's id. Returns how
# many other workers are alive.
_JOIN = """
local live = 0
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    if worker ~= ARGV[1] and redis.call('EXISTS', ARGV[2] .. worker) == 1 then
        live = live + 1
    end
end
if live == 0 then
    for i = 3, #KEYS do redis.call('DEL', KEYS[i]) end
    redis.call('SET', KEYS[2], ARGV[4])
else
    redis.call('SET', KEYS[2], ARGV[4], 'NX')
end
redis.call('SADD', KEYS[1], ARGV[1])
redis.call('SET', ARGV[2] .. ARGV[1], '1', 'PX', ARGV[3])
return live
"""
# KEYS[1]: the workers set; KEYS[2]: this worker's heartbeat key; ARGV: the worker, the
# heartbeat lifetime in ms. Refreshes the heartbeat of a worker still registered; one the others
# removed (took for dead, and took its work over) is left dead. Returns 1, or 0 when removed;
# -1 when the run's id (KEYS[3]) is gone: Redis lost the run (restarted without its data).
_BEAT = """
if redis.call('EXISTS', KEYS[3]) == 0 then return -1 end
if redis.call('SISMEMBER', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('SET', KEYS[2], '1', 'PX', ARGV[2])
return 1
"""

# KEYS[1]: the workers set; KEYS[2]: the hash of the run's workers that wrote their run history
# (worker -> its file's name, empty when it had no row); ARGV: this worker, the heartbeat prefix,
# the hash's lifetime in s, this worker's file. Adds this worker to the hash; returns false when
# another live worker is missing from it, else (this one is the run's last) every file in it.
_HISTORY_WRITTEN = """
redis.call('HSET', KEYS[2], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[3])
for _, worker in ipairs(redis.call('SMEMBERS', KEYS[1])) do
    if worker ~= ARGV[1] and redis.call('EXISTS', ARGV[2] .. worker) == 1
            and redis.call('HEXISTS', KEYS[2], worker) == 0 then
        return false
    end
end
return redis.call('HVALS', KEYS[2])
"""
HISTORY_WRITTEN_LIFETIME = 7 * 24 * 3600
"""Seconds the hash of a run's workers that wrote their run history is kept."""


class DeclaredDead(Exception):
    """The other workers took this one for dead (its heartbeat had expired: the process was
    stopped, starved or its machine suspended for longer than ``REDIS_WORKER_TIMEOUT``), put
    its requests back into the queue and released its claims: it must stop without committing
    what it holds, since another worker may be storing the same articles."""

    def __init__(self) -> None:
        super().__init__("the other workers took this one for dead and took its work over")


class WorkerRegistry:
    """This worker's membership of the shared crawl: an id, a heartbeat, and who else runs.

    One per crawl process (its :class:`RedisStores`). The heartbeat is refreshed from a thread
    of its own, so a reactor busy for a moment does not make the worker look dead.

    A worker paused for longer than the timeout is taken for dead by the others, who put its
    requests back and release its claims (``crawler/frontier.py``). Re-registered as if nothing
    happened, it would commit rows another worker may have accepted since (stored twice), and
    its claims and pending texts would make the others drop copies of articles it holds but
    must not commit (lost). So it is never re-registered: :meth:`beat` leaves it dead and says
    so (:attr:`declared_dead`), and the worker stops.
    """

    def __init__(self, client: redis.Redis, prefix: str, *, timeout: float) -> None:
        self.client = client
        self.prefix = prefix
        self.timeout = timeout
        self.worker_id = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.workers_key = f"{prefix}:workers"
        self.run_key = f"{prefix}:run"
        self.heartbeat_prefix = f"{prefix}:worker:"
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._join = client.register_script(_JOIN)
        self._beat_script = client.register_script(_BEAT)
        self._history_written = client.register_script(_HISTORY_WRITTEN)
        self.joined = False
        self.state_lost = threading.Event()
        """Set when Redis no longer holds the run this worker joined (restarted without its
        data, or emptied): its work is gone rather than taken over."""
        self.declared_dead = threading.Event()
        """Set once this worker learns (from either thread) that the others took it for dead;
        never unset. The shared scheduler looks at it when idle."""

    def heartbeat_key(self, worker: str) -> str:
        return f"{self.heartbeat_prefix}{worker}"

    def join(self, run_keys: list[str]) -> bool:
        """Announce this worker and start its heartbeat; ``True`` when no other worker is
        alive: this one starts a new run, and ``run_keys`` (what belongs to one run) are
        deleted first, atomically."""
        new_run = f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{self.worker_id}"
        others = int(
            self._join(
                keys=[self.workers_key, self.run_key, *run_keys],
                args=[self.worker_id, self.heartbeat_prefix, int(self.timeout * 1000), new_run],
            )
        )
        self.joined = True
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
                if not self.beat():
                    return  # dead for the others: nothing to refresh any more
            except redis.RedisError as exc:  # the next beat tries again
                logger.warning("Cannot refresh this worker's heartbeat in Redis: %s", exc)

    def beat(self) -> bool:
        """Refresh this worker's heartbeat; ``False`` (and nothing refreshed) once the others
        took it for dead. Called by the heartbeat thread, and before a commit
        (``crawler/frontier.py``): a worker must not commit after its work was taken over."""
        if self.declared_dead.is_set():
            return False
        if not self.joined:
            return True  # no heartbeat yet: nothing to refresh
        alive = self._beat_script(
            keys=[self.workers_key, self.heartbeat_key(self.worker_id), self.run_key],
            args=[self.worker_id, int(self.timeout * 1000)],
        )
        if alive == -1:
            self.state_lost.set()
        if alive != 1:
            self.mark_declared_dead()
        return alive == 1

    def mark_declared_dead(self) -> None:
        """Record that the others took this worker for dead: it beats no more."""
        self.declared_dead.set()

    def run_id(self) -> str | None:
        """The id of the run this worker joined (every worker of one run reads the same);
        ``None`` before it joined."""
        if not self.joined:
            return None
        value = self.client.get(self.run_key)
        return as_text(value) if value else None

    def history_written(self, history_file: str) -> tuple[str, ...] | None:
        """Record that this worker wrote its run history (``history_file``; empty when it had
        no row); ``None`` while another live worker of the run has not, else (this one is the
        last: the run's rows are all written) the files of the run's other workers."""
        run = self.run_id() or "none"
        files = self._history_written(
            keys=[self.workers_key, f"{self.prefix}:history-files:{run}"],
            args=[self.worker_id, self.heartbeat_prefix, HISTORY_WRITTEN_LIFETIME, history_file],
        )
        if files is None:
            return None
        return tuple(sorted({as_text(name) for name in files} - {"", history_file}))

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
        """Remove a worker from the registry (the shared scheduler takes a dead worker's work
        over and removes it in one step: ``crawler/frontier.py``)."""
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


# urls: digest -> newest fetch time; the newer of two times wins (ISO strings sort as times).
_RECORD_FILE = """
for i = 3, #ARGV, 2 do
    local current = redis.call('HGET', KEYS[1], ARGV[i])
    if not current or ARGV[i + 1] > current then
        redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    end
end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
return 1
"""


class RedisCrawlState(RecoverFiles):
    """:class:`~dataset.state.embedded.CrawlState` in Redis: what the shared dataset holds."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._urls = f"{prefix}:state:urls"
        self._hashes = f"{prefix}:state:hashes"
        self._files = self.files_key(prefix)
        self._rejected = f"{prefix}:state:rejected"
        self._record = client.register_script(_RECORD_FILE)

    @staticmethod
    def files_key(prefix: str) -> str:
        """The key of the hash of recorded data files (name -> rows)."""
        return f"{prefix}:state:files"

    def close(self) -> None:
        """Nothing to release: the client belongs to the caller."""

    def has_url(self, url: str) -> bool:
        return bool(self._redis.hexists(self._urls, key_digest(url)))

    def has_content(self, content_hash: str) -> bool:
        digest: Any = key_digest(content_hash)  # bytes are fine; the hints say str
        return bool(self._redis.sismember(self._hashes, digest))

    def stored_at(self, url: str) -> datetime | None:
        value = self._redis.hget(self._urls, key_digest(url))
        return datetime.fromisoformat(as_text(value)) if value else None

    def rejected(self, url: str) -> Rejection | None:
        value = self._redis.hget(self._rejected, key_digest(url))
        return Rejection.unpack(as_text(value)) if value else None

    def remember_rejected(self, urls: Iterable[str], reason: str, at: datetime) -> None:
        value = Rejection(reason, at).pack()
        mapping: Any = dict.fromkeys((key_digest(url) for url in urls), value)
        if mapping:
            self._redis.hset(self._rejected, mapping=mapping)

    def recorded_files(self) -> set[str]:
        return {as_text(name) for name in self._redis.hkeys(self._files)}

    def record_file(self, name: str, keys: Iterable[Sequence[Any]]) -> None:
        """Record a committed file and its rows' keys (URLs keep their newest fetch time)."""
        keys = list(keys)
        newest, hashes = file_keys(keys)
        with self._redis.pipeline(transaction=True) as pipe:
            if hashes:
                pipe.sadd(self._hashes, *hashes)
            args: list[Any] = [name, len(keys)]
            for digest, fetched in newest.items():
                args += [digest, fetched or ""]
            self._record(keys=[self._urls, self._hashes, self._files], args=args, client=pipe)
            pipe.execute()

    def replace_files(self, removed: Iterable[str], added: Iterable[tuple[str, int]]) -> None:
        removed, added = list(removed), list(added)
        with self._redis.pipeline(transaction=True) as pipe:
            if removed:
                pipe.hdel(self._files, *removed)
            for name, rows in added:
                pipe.hset(self._files, name, rows)
            pipe.execute()


# A claim is free when unowned, owned by the caller, or owned by a worker whose heartbeat
# key is gone. KEYS[1]: claims hash; KEYS[2]: the caller's set of claims; ARGV[1]: the
# caller; ARGV[2]: heartbeat key prefix; ARGV[3..]: the keys to claim. Returns the position
# (1-based) of the first key held by another live worker, or 0 once all are claimed.
_CLAIM = """
for i = 3, #ARGV do
    local owner = redis.call('HGET', KEYS[1], ARGV[i])
    if owner and owner ~= ARGV[1] and redis.call('EXISTS', ARGV[2] .. owner) == 1 then
        return i - 2
    end
end
for i = 3, #ARGV do
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[1])
    redis.call('SADD', KEYS[2], ARGV[i])
end
return 0
"""
# Release the caller's claims on these keys (ARGV[2..]); others' claims are left alone.
_RELEASE = """
for i = 2, #ARGV do
    if redis.call('HGET', KEYS[1], ARGV[i]) == ARGV[1] then
        redis.call('HDEL', KEYS[1], ARGV[i])
    end
    redis.call('SREM', KEYS[2], ARGV[i])
end
return 1
"""


class RedisClaims:
    """Keys (URLs, content hashes) of articles accepted by one worker and not yet committed,
    shared so that no other worker accepts the same article meanwhile."""

    def __init__(self, client: redis.Redis, prefix: str, registry: WorkerRegistry) -> None:
        self._redis = client
        self._registry = registry
        self._claims = f"{prefix}:claims"
        self._claim = client.register_script(_CLAIM)
        self._release = client.register_script(_RELEASE)

    def _owned(self, worker: str) -> str:
        return f"{self._claims}:of:{worker}"

    def claim(self, urls: Iterable[str], content_hash: str) -> str | None:
        """Claim an article's URLs and content hash for this worker; what another live worker
        holds already (``"url"`` or ``"content"``), or ``None`` when all are claimed."""
        urls = list(dict.fromkeys(urls))
        keys = [b"u" + key_digest(url) for url in urls] + [b"c" + key_digest(content_hash)]
        me = self._registry.worker_id
        position = int(
            self._claim(
                keys=[self._claims, self._owned(me)],
                args=[me, self._registry.heartbeat_prefix, *keys],
            )
        )
        if position == 0:
            return None
        return "content" if position > len(urls) else "url"

    def release(self, urls: Iterable[str], content_hashes: Iterable[str]) -> None:
        """Release this worker's claims (its rows are committed, or the article dropped)."""
        keys = [b"u" + key_digest(url) for url in urls if url]
        keys += [b"c" + key_digest(value) for value in content_hashes if value]
        if keys:
            me = self._registry.worker_id
            self._release(keys=[self._claims, self._owned(me)], args=[me, *keys])

    def release_all(self, worker: str | None = None) -> int:
        """Release every claim of ``worker`` (it stopped, or stopped answering; default: this
        worker)."""
        worker = worker or self._registry.worker_id
        owned = self._owned(worker)
        keys = list(self._redis.smembers(owned))
        if keys:
            self._release(keys=[self._claims, owned], args=[worker, *keys])
        self._redis.delete(owned)
        return len(keys)


# The bands: one Redis hash per band number, its fields the band keys, each holding the
# comma-separated content hashes of the texts with that band (mostly one): a tenth of the memory
# of one set per band key. KEYS: the band hashes; ARGV: the content hash, then one field per key.
_ADD_BANDS = """
for i = 1, #KEYS do
    local holders = redis.call('HGET', KEYS[i], ARGV[i + 1])
    if not holders then
        redis.call('HSET', KEYS[i], ARGV[i + 1], ARGV[1])
    elseif not string.find(',' .. holders .. ',', ',' .. ARGV[1] .. ',', 1, true) then
        redis.call('HSET', KEYS[i], ARGV[i + 1], holders .. ',' .. ARGV[1])
    end
end
return 1
"""
_REMOVE_BANDS = """
for i = 1, #KEYS do
    local holders = redis.call('HGET', KEYS[i], ARGV[i + 1])
    if holders then
        local kept = {}
        for holder in string.gmatch(holders, '[^,]+') do
            if holder ~= ARGV[1] then table.insert(kept, holder) end
        end
        if #kept == 0 then
            redis.call('HDEL', KEYS[i], ARGV[i + 1])
        else
            redis.call('HSET', KEYS[i], ARGV[i + 1], table.concat(kept, ','))
        end
    end
end
return 1
"""
# KEYS: the band hashes; ARGV: one field per key. Returns each field's holders (or false).
_FIND_BANDS = """
local found = {}
for i = 1, #KEYS do
    found[i] = redis.call('HGET', KEYS[i], ARGV[i])
end
return found
"""


def _pack(row_id: str, signature: np.ndarray, owner: str) -> bytes:
    return b"\0".join((row_id.encode(), owner.encode(), signature.astype(np.uint32).tobytes()))


def _unpack(value: bytes) -> tuple[str, str, bytes]:
    row_id, owner, signature = value.split(b"\0", 2)
    return row_id.decode(), owner.decode(), signature


class RedisNearIndex:
    """:class:`~dataset.state.embedded.NearDuplicateIndex` in Redis, shared by workers.

    Besides the stored texts it holds the texts workers accepted and have not committed
    (:meth:`add_pending`), each with its worker, so that a near-copy processed by another
    worker meanwhile is found; an entry whose worker stopped answering is skipped.
    """

    def __init__(
        self,
        client: redis.Redis,
        prefix: str,
        registry: WorkerRegistry,
        *,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> None:
        self._redis = client
        self._registry = registry
        self._signatures = f"{prefix}:near:signatures"
        self._band_prefix = f"{prefix}:near:bands:"
        self.threshold = threshold
        self._add_bands = client.register_script(_ADD_BANDS)
        self._remove_bands = client.register_script(_REMOVE_BANDS)
        self._find_bands = client.register_script(_FIND_BANDS)

    def close(self) -> None:
        """Nothing to release: the client belongs to the caller."""

    def __len__(self) -> int:
        return int(self._redis.hlen(self._signatures))

    def _bands(self, signature: np.ndarray) -> tuple[list[str], list[bytes]]:
        """The band hashes (one per band) and the signature's field in each."""
        keys = band_keys(signature)
        return [f"{self._band_prefix}{i}" for i in range(len(keys))], keys

    def row_id(self, content_hash: str) -> str | None:
        value = self._redis.hget(self._signatures, content_hash)
        return _unpack(as_bytes(value))[0] if value else None

    def find(self, signature: np.ndarray) -> Match | None:
        """The most similar stored (or live pending) text at or above the threshold."""
        hash_keys, fields = self._bands(signature)
        holders = self._find_bands(keys=hash_keys, args=fields)
        candidates = {h for value in holders if value for h in as_bytes(value).split(b",")}
        if not candidates:
            return None
        hashes = sorted(candidates)
        values = self._redis.hmget(self._signatures, hashes)
        stored = []
        for content_hash, value in zip(hashes, values, strict=True):
            if value is None:
                continue
            row_id, owner, raw = _unpack(as_bytes(value))
            if owner and not self._registry.is_alive(owner):
                continue  # accepted by a worker that died before committing it
            stored.append((as_text(content_hash), row_id, raw))
        return best_match(signature, stored, self.threshold)

    def _store(self, entries: Iterable[tuple[str, str, np.ndarray]], owner: str) -> None:
        entries = list(entries)
        if not entries:
            return
        # a pending text being committed has its bands already: only its owner changes
        known = self._redis.hmget(self._signatures, [h for h, _, _ in entries])
        with self._redis.pipeline(transaction=False) as pipe:
            pipe.hset(
                self._signatures,
                mapping={h: _pack(row_id, sig, owner) for h, row_id, sig in entries},
            )
            for (content_hash, _, signature), found in zip(entries, known, strict=True):
                if found is None:
                    hash_keys, fields = self._bands(signature)
                    self._add_bands(keys=hash_keys, args=[content_hash, *fields], client=pipe)
            pipe.execute()

    def add_many(self, entries: Iterable[tuple[str, str, np.ndarray]]) -> None:
        """Store committed ``(content_hash, row_id, signature)`` entries."""
        self._store(entries, owner="")

    def add(self, content_hash: str, row_id: str, signature: np.ndarray) -> None:
        self.add_many([(content_hash, row_id, signature)])

    def add_pending(self, content_hash: str, row_id: str, signature: np.ndarray) -> None:
        """Publish a text this worker accepted and has not committed yet."""
        self._store([(content_hash, row_id, signature)], owner=self._registry.worker_id)

    def remove_many(self, content_hashes: Iterable[str]) -> None:
        hashes = list(content_hashes)
        if not hashes:
            return
        values = self._redis.hmget(self._signatures, hashes)
        with self._redis.pipeline(transaction=False) as pipe:
            for content_hash, value in zip(hashes, values, strict=True):
                if value is None:
                    continue
                signature = np.frombuffer(_unpack(as_bytes(value))[2], dtype=np.uint32)
                hash_keys, fields = self._bands(signature)
                self._remove_bands(keys=hash_keys, args=[content_hash, *fields], client=pipe)
            pipe.hdel(self._signatures, *hashes)
            pipe.execute()


# KEYS[1]: the copies hash; ARGV: pairs of a field (the copy's URL and kept row) and its JSON
# entry. An entry replaces the field's unless that one was seen later (ISO times in UTC sort
# as times).
_RECORD_COPIES = """
for i = 1, #ARGV, 2 do
    local current = redis.call('HGET', KEYS[1], ARGV[i])
    if not current or cjson.decode(ARGV[i + 1])['seen_at'] >= cjson.decode(current)['seen_at']
    then
        redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
    end
end
return 1
"""
LEGACY_COPIES_BATCH = 1000
"""Entries of an older copies log moved into the hash per round trip."""


class RedisCopiesLog:
    """The dropped copies (URL, kept row id, how it matched, when last dropped), as a Redis
    hash of JSON entries, one per copy and kept row: the ``copies`` table of the embedded mode.

    The log was a list, with one line per copy per run (each run fetched a copy again): the
    first log opened on such a list moves its lines into the hash (the latest of each copy and
    kept row), then deletes it. Moving is idempotent, so workers doing it at once, or one
    killed midway and the next that does it again, leave the same hash."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self.key = f"{prefix}:copies:latest"
        self.legacy_key = f"{prefix}:copies"
        """The list an older version kept the log in."""
        self._record = client.register_script(_RECORD_COPIES)
        if self._redis.exists(self.legacy_key):
            self._move_legacy()

    @staticmethod
    def field(url: str, kept_id: str | None) -> str:
        """The hash field of a copy and kept row."""
        return json.dumps([url, kept_id])

    def _move_legacy(self) -> None:
        start = 0
        while lines := self._redis.lrange(self.legacy_key, start, start + LEGACY_COPIES_BATCH - 1):
            args: list[Any] = []
            for line in lines:
                try:
                    entry = json.loads(line)
                    args += [self.field(entry["url"], entry.get("kept_id")), json.dumps(entry)]
                except (ValueError, KeyError, TypeError):
                    continue  # not a copies entry: nothing to keep of it
            if args:
                self._record(keys=[self.key], args=args)
            start += len(lines)
        self._redis.delete(self.legacy_key)
        logger.info("Moved %d entries of the copies log into one per copy kept", start)

    def record(self, url: str, kept_id: str | None, kind: str, similarity: float) -> None:
        entry = {
            "url": url,
            "kept_id": kept_id,
            "kind": kind,
            "similarity": similarity,
            "seen_at": datetime.now(UTC).isoformat(),
        }
        self._record(keys=[self.key], args=[self.field(url, kept_id), json.dumps(entry)])

    def close(self) -> None:
        """Nothing to release: the client belongs to the caller."""


# KEYS[1]: a site's line counts; ARGV[1]: the most kept. Past it, the counts at or below the
# count of the (max/2 + 1)-th most frequent line are deleted, so at most max/2 stay (as
# SiteBoilerplate.forget_rarest does in memory). Returns how many were deleted.
_TRIM_LINES = """
local most = tonumber(ARGV[1])
if redis.call('HLEN', KEYS[1]) <= most then return 0 end
local all = redis.call('HGETALL', KEYS[1])
local counts = {}
for i = 2, #all, 2 do table.insert(counts, tonumber(all[i])) end
table.sort(counts, function(a, b) return a > b end)
local floor = counts[math.floor(most / 2) + 1]
local removed = 0
for i = 1, #all, 2 do
    if tonumber(all[i + 1]) <= floor then
        redis.call('HDEL', KEYS[1], all[i])
        removed = removed + 1
    end
end
return removed
"""


class RedisSiteBoilerplateStore:
    """:class:`~dataset.state.embedded.SqliteSiteBoilerplateStore` in Redis: every worker adds
    the pages and line counts it saw (increments, so no worker overwrites another's), and
    reads back what all of them saw when it saves."""

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self._redis = client
        self._pages = f"{prefix}:boilerplate:pages"
        self._sites = f"{prefix}:boilerplate:sites"
        self._lines_prefix = f"{prefix}:boilerplate:lines:"
        self._trim = client.register_script(_TRIM_LINES)

    def close(self) -> None:
        """Nothing to release: the client belongs to the caller."""

    def first_visit(self, url: str) -> bool:
        """Record a page; ``False`` when some worker counted it before."""
        digest: Any = key_digest(url)
        return bool(self._redis.sadd(self._pages, digest))

    def load(self, learner: SiteBoilerplate, name: str) -> None:
        if name in learner.sites:
            return
        self._read(learner, name)

    def _read(self, learner: SiteBoilerplate, name: str) -> None:
        site = learner.site(name)
        with self._redis.pipeline(transaction=False) as pipe:
            pipe.hget(self._sites, name)
            pipe.hgetall(self._lines_prefix + name)
            pages, lines = pipe.execute()
        # what this worker counted and has not saved yet stays on top
        site.pages = int(pages or 0) + site.pages_added
        stored = ((as_bytes(digest), int(count)) for digest, count in lines.items())
        site.counts = LineCounts(chain(stored, site.added.items()))  # the pairs of a line add up
        if len(site.counts) > learner.max_lines:
            learner.forget_rarest(site)

    def save(self, learner: SiteBoilerplate) -> int:
        """Add what every site learnt since the last save, then read back what all workers
        learnt of every site in memory; returns how many sites were saved."""
        changed = [(name, site) for name, site in learner.sites.items() if site.dirty]
        if changed:
            with self._redis.pipeline(transaction=True) as pipe:
                for name, site in changed:
                    pipe.hincrby(self._sites, name, site.pages_added)
                    for digest, added in site.added.items():
                        field: Any = digest  # binary field names are fine; the hints say str
                        pipe.hincrby(self._lines_prefix + name, field, added)
                pipe.execute()
        for name, _ in changed:
            # bounded in Redis as in memory: past max_lines, the rarest are forgotten
            self._trim(keys=[self._lines_prefix + name], args=[learner.max_lines])
        for site in learner.sites.values():
            site.dirty = site.rewrite = False
            site.added, site.pages_added = {}, 0
        for name in list(learner.sites):  # what the other workers learnt meanwhile
            self._read(learner, name)
        return len(changed)


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
