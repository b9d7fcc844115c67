"""The near-duplicate index in Redis (:mod:`dataset.state.redis_near_index`): the texts
workers accepted and have not committed are found while their worker lives."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataset.state.redis_near_index import RedisNearIndex
from tests.redis_server import registry, stop_answering

if TYPE_CHECKING:
    import numpy as np
    from redis import Redis

    from tests.redis_server import RedisTarget


def test_the_near_index_finds_live_pending_texts_and_skips_dead_ones(
    client: Redis, shared_redis: RedisTarget, signatures: tuple[np.ndarray, np.ndarray]
) -> None:
    signature, near = signatures
    first = registry(client, shared_redis.prefix)
    second = registry(client, shared_redis.prefix)
    index_1 = RedisNearIndex(client, shared_redis.prefix, first)
    index_2 = RedisNearIndex(client, shared_redis.prefix, second)
    assert index_2.find(near) is None
    index_1.add_pending("h1", "row-1", signature)
    match = index_2.find(near)
    assert match is not None
    assert match.row_id == "row-1"
    assert match.similarity >= 0.8
    # the worker dies before committing: its text is no original for anyone
    stop_answering(first)
    assert index_2.find(near) is None
    # committed texts are found whoever committed them, and forgotten on removal
    index_2.add_many([("h1", "row-1", signature)])
    found = index_1.find(near)
    assert found is not None
    assert found.content_hash == "h1"
    assert index_1.row_id("h1") == "row-1"
    assert len(index_1) == 1
    # two texts in the same bands (the same signature): one field, two holders
    index_1.add_many([("h2", "row-2", signature)])
    assert client.hlen(f"{shared_redis.prefix}:near:bands:0") == 1
    index_1.remove_many(["h1"])
    found = index_1.find(near)
    assert found is not None
    assert found.content_hash == "h2"
    index_1.remove_many(["h2"])
    assert index_1.find(near) is None
    assert len(index_1) == 0
    assert not client.keys(f"{shared_redis.prefix}:near:bands:*")  # emptied fields go
    second.leave()
