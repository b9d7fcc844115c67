"""Who runs the shared crawl (:mod:`dataset.state.redis_registry`): the workers of one run
share its id, and a worker tells a lost run from being taken for dead."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataset.state.redis_registry import WorkerRegistry
from tests.redis_server import registry

if TYPE_CHECKING:
    from redis import Redis

    from tests.redis_server import RedisTarget


def test_the_workers_of_one_run_share_its_id(client: Redis, shared_redis: RedisTarget) -> None:
    waiting = WorkerRegistry(client, shared_redis.prefix, timeout=30.0)
    assert waiting.run_id() is None  # not joined yet
    first = registry(client, shared_redis.prefix)
    second = registry(client, shared_redis.prefix)
    run = first.run_id()
    assert run is not None
    assert first.worker_id in run
    assert second.run_id() == run
    first.leave()
    second.leave()
    # nobody is left: the next worker starts a new run
    third = registry(client, shared_redis.prefix)
    assert third.run_id() not in (None, run)
    third.leave()


def test_a_worker_tells_a_lost_run_from_being_taken_for_dead(
    client: Redis, shared_redis: RedisTarget
) -> None:
    # Redis restarted without its data: every worker said the others took it for dead ("the
    # process was paused"), with no other worker there
    taken = registry(client, shared_redis.prefix)
    client.srem(f"{shared_redis.prefix}:workers", taken.worker_id)  # the others took it over
    assert not taken.beat()
    assert taken.declared_dead.is_set()
    assert not taken.state_lost.is_set()
    lost = registry(client, f"{shared_redis.prefix}x")
    for key in client.scan_iter(f"{shared_redis.prefix}x:*"):
        client.delete(key)  # emptied
    assert not lost.beat()
    assert lost.declared_dead.is_set()
    assert lost.state_lost.is_set()
