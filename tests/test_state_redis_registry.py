"""Who runs the shared crawl (:mod:`dataset.state.redis_registry`): the first worker of a run
clears the run's keys, the workers of one run share its id, a heartbeat keeps a worker alive
and an expired one makes it dead to the others, and a worker tells a lost run from being taken
for dead."""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataset.state.redis_registry import WorkerRegistry
from tests.redis_server import registry, stop_answering

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


def test_the_first_worker_of_a_run_clears_the_run_keys(
    client: Redis, shared_redis: RedisTarget
) -> None:
    run_key = f"{shared_redis.prefix}:news:dupefilter"
    client.sadd(run_key, "fingerprint-of-the-last-run")
    first = WorkerRegistry(client, shared_redis.prefix, timeout=30)
    assert first.join(run_keys=[run_key]) is True
    assert not client.exists(run_key)
    client.sadd(run_key, "fingerprint-of-this-run")
    second = WorkerRegistry(client, shared_redis.prefix, timeout=30)
    assert second.join(run_keys=[run_key]) is False  # joins the running crawl
    assert client.exists(run_key)
    assert first.others() == ([second.worker_id], [])
    assert second.is_alive(first.worker_id)
    # a worker whose heartbeat expired is dead to the others
    stop_answering(first)
    assert second.others() == ([], [first.worker_id])
    assert not second.is_alive(first.worker_id)
    second.forget(first.worker_id)
    assert second.others() == ([], [])
    second.leave()
    assert not client.sismember(second.workers_key, second.worker_id)
    first.leave()


def test_the_heartbeat_keeps_a_worker_alive_past_its_timeout(
    client: Redis, shared_redis: RedisTarget
) -> None:
    worker = WorkerRegistry(client, shared_redis.prefix, timeout=1.0)
    worker.join(run_keys=[])
    try:
        for _ in range(3):  # 3 s: three times the heartbeat's lifetime
            assert client.exists(worker.heartbeat_key(worker.worker_id))
            worker._stop.wait(1.0)
    finally:
        worker.leave()
    assert not client.exists(worker.heartbeat_key(worker.worker_id))
