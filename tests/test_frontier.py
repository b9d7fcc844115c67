"""The shared frontier's scheduler and acknowledgements, against a real Redis server: a request
leaves a worker's hashes once it needs no more work, and what a dead worker held goes back (the
queue alone: ``test_frontier_queue.py``; the worker registry alone:
``test_state_redis_registry.py``)."""

from __future__ import annotations

from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

import pytest
import scrapy
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from crawler.frontier import (
    DECLARED_DEAD,
    FRONTIER_META,
    FrontierAckMiddleware,
    SharedScheduler,
)
from dataset.state.redis_connection import as_text
from dataset.state.redis_registry import DeclaredDead
from dataset.storage import location_of
from pipelines.signals import commit_requested
from pipelines.state import REDIS_STORES, state_stores
from tests.redis_server import stop_answering

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from redis import Redis
    from scrapy.crawler import Crawler

    from tests.redis_server import RedisTarget


class Spider(scrapy.Spider):
    name = "news"


class Engine:
    """The engine as the scheduler sees it: asked to close the spider, with a reason."""

    def __init__(self) -> None:
        self.closed: list[str] = []

    def close_spider_async(self, *, reason: str) -> None:
        self.closed.append(reason)


def open_scheduler(shared_redis: RedisTarget) -> tuple[Crawler, SharedScheduler]:
    settings = {
        "REDIS_URL": shared_redis.url,
        "REDIS_KEY_PREFIX": shared_redis.prefix,
        "STATE_STORES": REDIS_STORES,
    }
    crawler = get_crawler(Spider, settings_dict=settings)
    crawler.spider = Spider()
    crawler.engine = Engine()  # type: ignore[assignment]
    scheduler = SharedScheduler.from_crawler(crawler)
    scheduler.open(crawler.spider)
    return crawler, scheduler


def test_a_listing_is_done_only_once_its_links_are_queued(shared_redis: RedisTarget) -> None:
    crawler, scheduler = open_scheduler(shared_redis)
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


def closed(crawler: Crawler) -> list[str]:
    engine = crawler.engine
    assert isinstance(engine, Engine)
    return engine.closed


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


def add_requests(scheduler: SharedScheduler, count: int) -> list[str]:
    urls = [f"https://a.example/{n}.html" for n in range(count)]
    for url in urls:
        scheduler.enqueue_request(scrapy.Request(url))
    return urls


def take(scheduler: SharedScheduler) -> scrapy.Request:
    request = scheduler.next_request()
    assert request is not None
    return request


@contextmanager
def workers(
    shared_redis: RedisTarget, count: int
) -> Iterator[list[tuple[Crawler, SharedScheduler]]]:
    opened = [open_scheduler(shared_redis) for _ in range(count)]
    for _, scheduler in opened:
        scheduler.on_start_exhausted()  # its start requests are all queued
    try:
        yield opened
    finally:
        for crawler, scheduler in opened:
            with suppress(DeclaredDead):
                scheduler.close("finished")
            state_stores(crawler).close()


def test_a_worker_taken_for_dead_while_it_lives_stops_and_loses_nothing(
    shared_redis: RedisTarget,
) -> None:
    """A worker paused for longer than its timeout (a machine suspended, a process stopped or
    starved) is taken over by another, which puts its requests back and removes it from the
    registry. When it runs again it must not carry on unregistered: what it took then would be
    put back by no one once it is killed (an article lost per request)."""
    with workers(shared_redis, 2) as [(victim_crawler, victim), (_, survivor)]:
        urls = add_requests(victim, 3)
        take(victim)  # being fetched
        parsed = take(victim)
        victim.queue.parsed(parsed.meta[FRONTIER_META])  # its row not committed yet
        stop_answering(victim.registry)  # paused: its heartbeat expires
        assert survivor.recover_dead_workers() == 2
        # it runs again: its heartbeat thread beats, it asks for a request, and it is killed
        assert victim.registry.beat() is False  # left dead: its claims stay free
        assert not victim.server.exists(victim.registry.heartbeat_key(victim.registry.worker_id))
        assert victim.next_request() is None  # it takes no more
        assert closed(victim_crawler) == [DECLARED_DEAD]
        # it may not commit the rows it holds: the others store them
        assert victim.on_commit_check() is not None
        stop_answering(victim.registry)
        survivor.recover_dead_workers()
        assert sorted(queued_urls(survivor)) == urls  # each once, none lost
        assert not victim.server.exists(*victim.queue.held)


def test_a_damaged_data_file_does_not_stop_a_takeover(
    shared_redis: RedisTarget, tmp_path: Path
) -> None:
    """Taking a dead worker over first records the files it committed and did not record; a
    file that cannot be read (copied in half-way) is left out there, and the takeover goes on
    (it raised: the survivor's idle check or start failed on it)."""
    damaged = tmp_path / "articles" / "fetch_date=2026-01-01" / "part-copied.parquet"
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(b"PAR1")
    with workers(shared_redis, 2) as [(_, victim), (_, survivor)]:
        urls = add_requests(victim, 2)
        take(victim)
        survivor.location = location_of(tmp_path)
        stop_answering(victim.registry)
        assert survivor.recover_dead_workers() == 1
        assert sorted(queued_urls(survivor)) == urls


def test_a_worker_whose_heartbeat_comes_back_is_not_taken_over(
    shared_redis: RedisTarget, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The heartbeat is looked at and the worker taken over in one step: one that beats again
    between the two keeps its requests and its place (taken over, it would go on unregistered,
    and its requests would be fetched twice)."""
    with workers(shared_redis, 2) as [(_, slow), (_, other)]:
        add_requests(slow, 1)
        taken = take(slow)
        stop_answering(slow.registry)
        seen = other.registry.others

        def seen_then_beats() -> tuple[list[str], list[str]]:
            found = seen()
            # the slow worker's heartbeat thread runs just then
            slow.server.set(slow.registry.heartbeat_key(slow.registry.worker_id), b"1", px=30_000)
            return found

        monkeypatch.setattr(other.registry, "others", seen_then_beats)
        assert other.recover_dead_workers() == 0
        assert slow.registry.beat() is True
        assert slow.queue.entries([slow.queue.in_flight])[0].url == taken.url
        assert queued_urls(other) == []


def test_two_paused_workers_cannot_take_each_other_over(shared_redis: RedisTarget) -> None:
    """After a machine suspend every worker's heartbeat has expired: the first to look takes
    the others over (and is alive again in the same step); one taken over may not take anyone
    over (both would then be unregistered, their requests fetched twice), and stops."""
    with workers(shared_redis, 2) as [(first_crawler, first), (second_crawler, second)]:
        urls = add_requests(first, 2)
        kept, lost = take(first), take(second)
        stop_answering(first.registry)
        stop_answering(second.registry)
        assert first.recover_dead_workers() == 1
        first_heartbeat = first.registry.heartbeat_key(first.registry.worker_id)
        assert first.server.exists(first_heartbeat)
        first.server.delete(first_heartbeat)  # even if the first looks dead again at once
        with pytest.raises(DeclaredDead):
            second.recover_dead_workers()
        assert first.registry.beat() is True
        assert [r.url for r in first.queue.entries([first.queue.in_flight])] == [kept.url]
        assert queued_urls(first) == [lost.url]
        assert sorted([kept.url, lost.url]) == urls
        assert closed(first_crawler) == []
        second.on_idle()  # how it learns it while it waits for work
        assert closed(second_crawler) == [DECLARED_DEAD]


def test_the_last_worker_waits_for_rows_a_killed_worker_had_not_committed(
    shared_redis: RedisTarget,
) -> None:
    """A worker killed holding only rows it has not committed (fetched and parsed, nothing in
    flight) looks alive until its heartbeat expires. The other must wait for that, then crawl
    its requests, not end the run (exit 0) with them left in Redis for the next run."""
    with workers(shared_redis, 2) as [(_, victim), (_, survivor)]:
        urls = add_requests(victim, 1)
        parsed = take(victim)
        victim.queue.parsed(parsed.meta[FRONTIER_META])
        victim.registry.stop_heartbeat()  # killed: its heartbeat lives until it expires
        assert survivor._shared_work_left() is True
        victim.server.delete(victim.registry.heartbeat_key(victim.registry.worker_id))
        assert survivor._shared_work_left() is True  # taken over: its request is queued
        assert queued_urls(survivor) == urls


class Committer:
    """A Parquet stage as the scheduler sees it: asked to commit, it says it holds rows until
    :meth:`commit` makes the commit (their entries acknowledged, as by ``articles_committed``)."""

    def __init__(self, crawler: Crawler, scheduler: SharedScheduler) -> None:
        self.scheduler = scheduler
        self.held: list[str] = []
        self.asked = 0
        crawler.signals.connect(self.on_commit_requested, signal=commit_requested)

    def on_commit_requested(self) -> bool:
        self.asked += 1
        if not self.held:
            self.held = [as_text(e) for e in self.scheduler.server.hkeys(self.scheduler.queue.done)]
        return bool(self.held)

    def commit(self) -> None:
        self.scheduler.queue.ack(self.held)
        self.held = []


def test_idle_workers_commit_their_rows_and_do_not_wait_for_each_other(
    shared_redis: RedisTarget,
) -> None:
    """Once nothing is left to fetch, each worker commits what it holds at once, so that the
    others, who wait for the rows of live workers, need not wait for its end. Done entries no
    commit takes (no stage commits before the end) are settled: waited for by no one (two
    idle workers would wait for each other for ever), put back when their worker stops."""
    with workers(shared_redis, 2) as [(writer_crawler, writer), (_, bare)]:
        urls = add_requests(writer, 2)
        for worker in (writer, bare):
            worker.queue.parsed(take(worker).meta[FRONTIER_META])
        committer = Committer(writer_crawler, writer)
        assert bare._shared_work_left() is True  # the writer holds rows
        assert not bare.queue.busy(bare.queue.done)  # nothing commits its own: settled
        assert writer._shared_work_left() is False  # nothing to wait for
        assert committer.asked == 1  # but it commits now, for the other
        assert writer.queue.busy(writer.queue.done)  # (under way: not settled)
        assert bare._shared_work_left() is True
        committer.commit()
        assert bare._shared_work_left() is False
        bare.close("finished")  # what was settled is put back, for the next run
        assert sorted(queued_urls(writer)) == [urls[1]]
