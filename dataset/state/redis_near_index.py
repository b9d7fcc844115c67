"""The near-duplicate index in Redis (:class:`RedisNearIndex`): the MinHash signatures of
stored texts, banded, and of the texts workers accepted and have not committed."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from dataset.state.near_index import DEFAULT_THRESHOLD, Match, band_keys, best_match
from dataset.state.redis_connection import as_bytes, as_text

if TYPE_CHECKING:
    from collections.abc import Iterable

    import redis

    from dataset.state.redis_registry import WorkerRegistry


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
