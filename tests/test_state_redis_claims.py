"""Claims in Redis (:mod:`dataset.state.redis_claims`): a claim holds against the other
live workers only, and dies with its worker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataset.state.redis_claims import RedisClaims
from tests.redis_server import registry, stop_answering

if TYPE_CHECKING:
    from redis import Redis

    from tests.redis_server import RedisTarget


def test_a_claim_holds_against_other_live_workers_only(
    client: Redis, shared_redis: RedisTarget
) -> None:
    first = registry(client, shared_redis.prefix)
    second = registry(client, shared_redis.prefix)
    claims_1 = RedisClaims(client, shared_redis.prefix, first)
    claims_2 = RedisClaims(client, shared_redis.prefix, second)
    assert claims_1.claim(["https://a/1", "https://a/canonical"], "h1") is None
    assert claims_1.claim(["https://a/1"], "h1") is None  # its own claim again
    assert claims_2.claim(["https://a/other"], "h1") == "content"
    assert claims_2.claim(["https://a/canonical"], "h9") == "url"
    assert claims_2.claim(["https://a/2"], "h2") is None  # nothing partial was kept...
    assert claims_1.claim(["https://a/3"], "h9") is None  # ...by the refused claims
    # released after the commit: free for the others
    claims_1.release(["https://a/1", "https://a/canonical"], ["h1"])
    assert claims_2.claim(["https://a/1"], "h1") is None
    # a worker that stops answering loses its claims
    stop_answering(second)
    assert claims_1.claim(["https://a/2"], "h2") is None
    # the first worker stops: its claims (a/3, h9, a/2, h2) are released, not the others'
    assert claims_1.release_all(first.worker_id) == 4
    third = registry(client, shared_redis.prefix)
    claims_3 = RedisClaims(client, shared_redis.prefix, third)
    assert claims_3.claim(["https://a/3"], "h9") is None
    assert claims_3.claim(["https://a/2"], "h2") is None
    first.leave()
    third.leave()
