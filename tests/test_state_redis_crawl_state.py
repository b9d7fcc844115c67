"""What the shared dataset holds, in Redis (:mod:`dataset.state.redis_crawl_state`): one
state per key prefix."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataset.state.redis_crawl_state import RedisCrawlState

if TYPE_CHECKING:
    from redis import Redis

    from tests.redis_server import RedisTarget


def test_the_state_is_shared_by_its_key_prefix(client: Redis, shared_redis: RedisTarget) -> None:
    RedisCrawlState(client, shared_redis.prefix).record_file(
        "f.parquet", [("https://a/", None, "h")]
    )
    assert RedisCrawlState(client, shared_redis.prefix).has_url("https://a/")
    other_dataset = RedisCrawlState(client, f"{shared_redis.prefix}-other")
    assert not other_dataset.has_url("https://a/")
    assert other_dataset.recorded_files() == set()
