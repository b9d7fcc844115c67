"""The log of dropped copies in Redis (:class:`RedisCopiesLog`): the ``copies`` table of the
embedded mode, one JSON entry per copy and kept row."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import redis

logger = logging.getLogger(__name__)


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
