"""Who runs the shared crawl (Redis mode): :class:`WorkerRegistry`.

Each worker announces itself with a heartbeat key that expires after ``REDIS_WORKER_TIMEOUT``
seconds, so the others can tell when it died. A worker the others took for dead (it stalled
longer than that) stays dead: its heartbeat is never refreshed again
(:meth:`WorkerRegistry.beat`), so its claims and pending texts stay free.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from datetime import UTC, datetime

import redis

from dataset.state.redis_connection import as_text

logger = logging.getLogger(__name__)


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

    One per crawl process (its :class:`~dataset.state.redis.RedisStores`). The heartbeat is
    refreshed from a thread of its own, so a reactor busy for a moment does not make the worker
    look dead.

    A worker paused for longer than the timeout is taken for dead by the others, who put its
    requests back and release its claims (``crawler/frontier/scheduler.py``). Re-registered as
    if nothing happened, it would commit rows another worker may have accepted since (stored
    twice), and its claims and pending texts would make the others drop copies of articles it
    holds but must not commit (lost). So it is never re-registered: :meth:`beat` leaves it dead
    and says so (:attr:`declared_dead`), and the worker stops.
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
        (``crawler/frontier/scheduler.py``): a worker must not commit after its work was taken
        over."""
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
        over and removes it in one step: ``crawler/frontier/queue.py``)."""
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
