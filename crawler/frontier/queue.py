"""The shared queue of requests: scrapy-redis's priority queue, whose every pop is recorded in
this worker's in-flight hash until the request needs no more work, and the Lua scripts that
pop, queue, move and put back its entries, each in one step (see :mod:`crawler.frontier`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy_redis import picklecompat
from scrapy_redis.queue import PriorityQueue

from dataset.state.redis_connection import as_bytes
from dataset.state.redis_registry import DeclaredDead

if TYPE_CHECKING:
    from collections.abc import Iterable

    import redis
    from scrapy import Request
    from scrapy.spiders import Spider

FRONTIER_META = "frontier_id"
"""``Request.meta`` key: the id of the request's entry in this worker's in-flight hash."""

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


class ReliableQueue(PriorityQueue):
    """scrapy-redis's priority queue; a pop also records the request in this worker's
    in-flight hash (see :mod:`crawler.frontier`)."""

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
