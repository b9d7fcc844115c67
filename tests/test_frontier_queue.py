"""The shared queue of Redis mode, against a real Redis server: a popped request is in flight
until acknowledged, and the entries of a worker's hashes go back with their priority."""

from __future__ import annotations

from typing import TYPE_CHECKING

import scrapy

from crawler.frontier import FRONTIER_META, ReliableQueue

if TYPE_CHECKING:
    from redis import Redis

    from tests.redis_server import RedisTarget


class Spider(scrapy.Spider):
    name = "news"

    def parse_article(self, response: object) -> None:
        """A callback, to check it survives the queue."""


def queue_of(client: Redis, prefix: str, worker: str) -> ReliableQueue:
    client.sadd(f"{prefix}:workers", worker)  # a registered worker (else it may not pop)
    return ReliableQueue(
        client,
        Spider(),
        f"{prefix}:news:requests",
        in_flight=f"{prefix}:news:in-flight:{worker}",
        done=f"{prefix}:news:done:{worker}",
        settled=f"{prefix}:news:settled:{worker}",
        workers=f"{prefix}:workers",
        worker=worker,
    )


def test_a_popped_request_is_in_flight_until_acknowledged(
    client: Redis, shared_redis: RedisTarget
) -> None:
    queue = queue_of(client, shared_redis.prefix, "w1")
    spider = queue.spider
    queue.push(scrapy.Request("https://a.example/low", priority=0))
    queue.push(
        scrapy.Request(
            "https://a.example/high",
            priority=5,
            callback=spider.parse_article,  # type: ignore[attr-defined]
            cb_kwargs={"source": "a"},
        )
    )
    first = queue.pop()
    assert first is not None
    assert first.url == "https://a.example/high"  # by priority
    assert first.callback == spider.parse_article  # type: ignore[attr-defined]
    assert first.cb_kwargs == {"source": "a"}
    assert len(queue) == 1
    assert client.hlen(queue.in_flight) == 1
    queue.parsed(first.meta[FRONTIER_META])  # fetched and parsed, row not committed yet
    assert client.hlen(queue.in_flight) == 0
    assert client.hlen(queue.done) == 1
    queue.ack([first.meta[FRONTIER_META]])
    assert client.hlen(queue.done) == 0
    second = queue.pop()
    assert second is not None
    assert queue.pop() is None
    assert queue.settle() == 1  # idle: whatever is left is not waited for
    assert queue.busy(queue.in_flight) is False
    assert queue.busy(queue.settled) is True  # and put back if the worker stops or dies


def test_requeue_puts_the_entries_back_with_their_priority(
    client: Redis, shared_redis: RedisTarget
) -> None:
    dead = queue_of(client, shared_redis.prefix, "dead")
    alive = queue_of(client, shared_redis.prefix, "alive")
    dead.push(scrapy.Request("https://a.example/1", priority=3))
    dead.push(scrapy.Request("https://a.example/2", priority=1))
    dead.push(scrapy.Request("https://a.example/3", priority=-2))
    taken = [dead.pop(), dead.pop()]
    assert all(request is not None for request in taken)
    dead.parsed(taken[0].meta[FRONTIER_META])  # type: ignore[union-attr]
    held = [request.url for request in dead.entries([dead.in_flight, dead.done])]
    assert held == ["https://a.example/2", "https://a.example/1"]
    assert alive.requeue([dead.in_flight, dead.done]) == 2
    assert not client.exists(dead.in_flight, dead.done)
    order = []
    while (request := alive.pop()) is not None:
        order.append((request.url, request.priority))
    assert order == [
        ("https://a.example/1", 3),
        ("https://a.example/2", 1),
        ("https://a.example/3", -2),
    ]
