"""What the shared dataset holds, in Redis (:class:`RedisCrawlState`): stored URLs and
content hashes, the committed files."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from dataset.state.base import RecoverFiles, Rejection, file_keys, key_digest
from dataset.state.redis_connection import as_text

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    import redis


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
