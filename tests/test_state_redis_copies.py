"""The log of dropped copies in Redis (:mod:`dataset.state.redis_copies`): one JSON entry
per copy and kept row, and the list of earlier versions moved into it."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from dataset.state.redis_copies import RedisCopiesLog

if TYPE_CHECKING:
    import pytest
    from redis import Redis

    from tests.redis_server import RedisTarget


def _copies(client: Redis, log: RedisCopiesLog) -> list[dict[str, Any]]:
    entries = [json.loads(value) for value in client.hvals(log.key)]
    return sorted(entries, key=lambda entry: (entry["url"], entry["kept_id"] or ""))


def test_the_copies_log_keeps_one_json_entry_per_copy(
    client: Redis, shared_redis: RedisTarget
) -> None:
    # a line per copy per run: the log grew with the runs, not with the copies
    log = RedisCopiesLog(client, shared_redis.prefix)
    log.record("https://b/copy", "row-1", "near", 0.75)
    (record,) = _copies(client, log)
    assert (record["url"], record["kept_id"], record["kind"]) == ("https://b/copy", "row-1", "near")
    assert record["similarity"] == 0.75
    assert datetime.fromisoformat(record["seen_at"]).tzinfo is not None
    for _ in range(3):
        log.record("https://b/copy", "row-1", "near", 0.8)
        log.record("https://c/copy", None, "content", 1.0)
    log.record("https://b/copy", "row-2", "near", 0.6)  # a copy of another kept row
    entries = _copies(client, log)
    assert [(e["url"], e["kept_id"], e["similarity"]) for e in entries] == [
        ("https://b/copy", "row-1", 0.8),
        ("https://b/copy", "row-2", 0.6),
        ("https://c/copy", None, 1.0),
    ]
    assert entries[0]["seen_at"] >= record["seen_at"]  # the last time it was dropped


def test_a_copies_list_of_earlier_versions_is_moved_to_one_entry_per_copy(
    client: Redis, shared_redis: RedisTarget, caplog: pytest.LogCaptureFixture
) -> None:
    legacy = f"{shared_redis.prefix}:copies"
    lines = [
        {
            "url": "https://b/copy",
            "kept_id": "row-1",
            "kind": "near",
            "similarity": day / 10,
            "seen_at": f"2026-01-0{day}T00:00:00+00:00",
        }
        for day in (1, 3, 2)
    ]
    client.rpush(legacy, *(json.dumps(line) for line in lines), "not a copies entry")
    with caplog.at_level("INFO", logger="dataset.state.redis_copies"):
        log = RedisCopiesLog(client, shared_redis.prefix)
    assert not client.exists(legacy)
    assert "Moved 4 entries of the copies log" in caplog.text
    assert _copies(client, log) == [lines[1]]  # the latest
    # a worker killed midway, or two at once: moving again leaves the same
    client.rpush(legacy, json.dumps(lines[0]))
    RedisCopiesLog(client, shared_redis.prefix)
    assert _copies(client, log) == [lines[1]]
