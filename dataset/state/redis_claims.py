"""Claims in Redis (:class:`RedisClaims`): one process's pending keys are in its memory, but
with several processes an article accepted by one and not yet committed must be seen by the
others. A claim is a Redis hash field owned by a worker; a claim whose worker stopped answering
(see :class:`~dataset.state.redis_registry.WorkerRegistry`) is free again, since its rows were
never committed."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataset.state.base import key_digest

if TYPE_CHECKING:
    from collections.abc import Iterable

    import redis

    from dataset.state.redis_registry import WorkerRegistry


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
