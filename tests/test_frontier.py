"""The shared frontier's queue and the worker registry, against a real Redis server: a popped
request is in flight until acknowledged, and what a dead worker held goes back."""

from __future__ import annotations

from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

import pytest
import scrapy
from redis import Redis
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.frontier import FRONTIER_META, FrontierAckMiddleware, ReliableQueue, SharedScheduler
from dataset.state.redis import WorkerRegistry
from pipelines.setting import SettingError
from pipelines.state import (
    REDIS_KEY_PREFIX,
    REDIS_STORES,
    REDIS_URL,
    state_problem,
    state_stores,
)
from tests.redis_server import free_port, stop_answering

if TYPE_CHECKING:
    from collections.abc import Iterator

    from scrapy.crawler import Crawler

    from tests.redis_server import RedisTarget


class Spider(scrapy.Spider):
    name = "news"

    def parse_article(self, response: object) -> None:
        """A callback, to check it survives the queue."""


@pytest.fixture
def client(shared_redis: RedisTarget) -> Iterator[Redis]:
    connection = Redis.from_url(shared_redis.url)
    yield connection
    connection.close()


def queue_of(client: Redis, prefix: str, worker: str) -> ReliableQueue:
    return ReliableQueue(
        client,
        Spider(),
        f"{prefix}:news:requests",
        in_flight=f"{prefix}:news:in-flight:{worker}",
        done=f"{prefix}:news:done:{worker}",
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
    assert queue.settle() == 1  # idle: whatever is left counts as parsed
    assert queue.busy(queue.in_flight) is False


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


def test_settings_and_an_unreachable_server() -> None:
    settings = scrapy.settings.Settings({"REDIS_URL": " "})
    assert REDIS_URL.read(settings) == ""
    assert state_problem(settings) is None  # embedded mode needs no server
    assert REDIS_KEY_PREFIX.read(settings) == "news"
    settings = scrapy.settings.Settings(
        {
            "REDIS_URL": f"redis://user:secret@127.0.0.1:{free_port()}/0",
            "STATE_STORES": REDIS_STORES,
        }
    )
    problem = state_problem(settings)
    assert problem is not None
    assert "cannot reach Redis at redis://***@127.0.0.1:" in problem
    assert "secret" not in problem
    with pytest.raises(SettingError, match="one word"):
        REDIS_KEY_PREFIX.read(scrapy.settings.Settings({"REDIS_KEY_PREFIX": "two words"}))


def test_a_listing_is_done_only_once_its_links_are_queued(shared_redis: RedisTarget) -> None:
    settings = {
        "REDIS_URL": shared_redis.url,
        "REDIS_KEY_PREFIX": shared_redis.prefix,
        "STATE_STORES": REDIS_STORES,
    }
    crawler = get_crawler(Spider, settings_dict=settings)
    crawler.spider = Spider()
    scheduler = SharedScheduler.from_crawler(crawler)
    scheduler.open(crawler.spider)
    middleware = FrontierAckMiddleware.from_crawler(crawler)
    try:
        scheduler.enqueue_request(scrapy.Request("https://a.example/section/"))
        listing = scheduler.next_request()
        assert listing is not None
        response = HtmlResponse(listing.url, body=b"<html></html>", request=listing)
        links = [scrapy.Request(f"https://a.example/{n}.html") for n in range(3)]
        # Scrapy reads the callback's whole output before it schedules the requests in it
        output = list(middleware.process_spider_output(response, iter(links)))
        assert output == links
        assert scheduler.queue.busy(scheduler.queue.in_flight)  # the links are not queued yet
        for link in output[:-1]:
            scheduler.enqueue_request(link)
        assert scheduler.queue.busy(scheduler.queue.in_flight)
        scheduler.enqueue_request(output[-1])
        assert not scheduler.queue.busy(scheduler.queue.in_flight)  # now nothing is lost
        assert len(scheduler.queue) == 3
        # a page that yields nothing is done at once
        page = scheduler.next_request()
        assert page is not None
        empty = HtmlResponse(page.url, body=b"<html></html>", request=page)
        assert list(middleware.process_spider_output(empty, iter([]))) == []
        assert not scheduler.queue.busy(scheduler.queue.in_flight)
    finally:
        scheduler.close("finished")
        state_stores(crawler).close()


def open_scheduler(shared_redis: RedisTarget) -> tuple[Crawler, SharedScheduler]:
    settings = {
        "REDIS_URL": shared_redis.url,
        "REDIS_KEY_PREFIX": shared_redis.prefix,
        "STATE_STORES": REDIS_STORES,
    }
    crawler = get_crawler(Spider, settings_dict=settings)
    crawler.spider = Spider()
    scheduler = SharedScheduler.from_crawler(crawler)
    scheduler.open(crawler.spider)
    return crawler, scheduler


class Killed(BaseException):
    """The worker's process ends here (SIGKILL): nothing after it runs."""


@contextmanager
def killed_after(client: Redis, commands: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The worker dies once the server has answered ``commands`` of its commands."""
    answered = 0
    real = client.execute_command

    def execute(*args: Any, **options: Any) -> Any:
        nonlocal answered
        reply = real(*args, **options)
        answered += 1
        if answered == commands:
            raise Killed
        return reply

    with monkeypatch.context() as patch, suppress(Killed):
        patch.setattr(client, "execute_command", execute)
        yield


def queued_urls(scheduler: SharedScheduler) -> list[str]:
    members = scheduler.server.zrange(scheduler.queue.key, 0, -1)
    return [scheduler.queue._decode_request(member).url for member in members]


def test_a_worker_killed_while_queueing_a_link_leaves_it_to_the_others(
    shared_redis: RedisTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Killed after any of its Redis commands, a worker queueing a link leaves it queued, or
    not seen by the request filter: the worker that reads the listing again (put back, as it
    was in flight) then queues it. Seen and not queued, the link was filtered out for good (a
    crawl lost one article so)."""
    crawler, scheduler = open_scheduler(shared_redis)
    try:
        for commands in range(1, 4):
            link = scrapy.Request(f"https://a.example/{commands}.html")
            with killed_after(scheduler.server, commands, monkeypatch):
                scheduler.enqueue_request(link)
            scheduler.enqueue_request(link.copy())  # the listing read again
            assert queued_urls(scheduler).count(link.url) == 1, f"killed after {commands}"
            assert scheduler.df.request_seen(link)
    finally:
        scheduler.close("finished")
        state_stores(crawler).close()


def test_a_retry_replaces_its_request_in_flight_in_one_step(
    shared_redis: RedisTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    crawler, scheduler = open_scheduler(shared_redis)
    try:
        scheduler.enqueue_request(scrapy.Request("https://a.example/1.html"))
        taken = scheduler.next_request()
        assert taken is not None
        retry = taken.replace(dont_filter=True)  # as RetryMiddleware makes it
        with killed_after(scheduler.server, 1, monkeypatch):
            assert scheduler.enqueue_request(retry)
        # queued, and no longer in flight: fetched once more, not twice
        assert queued_urls(scheduler) == [taken.url]
        assert not scheduler.queue.busy(scheduler.queue.in_flight)
    finally:
        scheduler.close("finished")
        state_stores(crawler).close()
