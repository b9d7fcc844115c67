"""Redis mode end to end: several ``scrapy crawl news`` processes with one ``REDIS_URL`` crawl
one local site of 500 articles into one dataset.

Every article is stored exactly once, no URL is fetched twice (the site server's log), the
work is split, and a worker killed with SIGKILL loses nothing: the others take over its
requests once its heartbeat expires.
"""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from redis import Redis

from dataset.run_history import per_run, read_runs
from dataset.storage import location_of
from demo.site import Response, base_url, serve
from tests.conftest import FAST_SETTINGS, ROOT, dataset_rows
from tests.newssite import NewsSite
from tests.redis_server import RedisTarget, free_port, start_redis

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


ARTICLES = 500
COPIES = 30
# Paths each worker fetches for itself: Scrapy's robots.txt middleware reads robots.txt once
# per process.
PER_WORKER_PATHS = {"/robots.txt"}
ARTICLE_LATENCY = 0.05


class SlowNewsSite(NewsSite):
    """Article pages answer after ``ARTICLE_LATENCY`` seconds, as a real site's do: the crawl
    lasts long enough for every worker to take a share (each fetches two pages at a time)."""

    def resolve(self, path: str, base_url: str) -> Response:
        if path.startswith(("/2024/", "/syndicated/")):
            time.sleep(ARTICLE_LATENCY)
        return super().resolve(path, base_url)


def build_site() -> NewsSite:
    """500 articles listed in sitemaps, feeds and section pages, plus 30 syndicated copies
    (the same page under another URL, listed in a sitemap of their own)."""
    site = SlowNewsSite()
    for listed_in, count in (
        ("news-sitemap", 200),
        ("archive-sitemap", 100),
        ("rss", 100),
        ("atom", 50),
        ("world-1", 20),
        ("world-2", 20),
        ("tag", 10),
    ):
        site.add(listed_in, count)
    assert len(site.articles) == ARTICLES
    copies = []
    for article in site.articles[:COPIES]:
        path = f"/syndicated/{article.number}.html"
        site.routes[path] = Response(
            200, {"Content-Type": "text/html; charset=utf-8"}, article.html()
        )
        copies.append(path)
    site.routes["/copies-sitemap.xml"] = Response(
        200,
        {"Content-Type": "application/xml"},
        (
            '<?xml version="1.0" encoding="UTF-8"?><urlset '
            'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(f"<url><loc>BASE{path}</loc></url>" for path in copies)
            + "</urlset>"
        ).encode(),
    )
    return site


@pytest.fixture(scope="module")
def big_site() -> NewsSite:
    return build_site()


@pytest.fixture(scope="module")
def site_server(big_site: NewsSite) -> Iterator[Any]:
    with serve(big_site) as running:  # type: ignore[arg-type]
        base = base_url(running)
        sitemap = big_site.routes["/copies-sitemap.xml"]
        big_site.routes["/copies-sitemap.xml"] = Response(
            sitemap.status, sitemap.headers, sitemap.body.replace(b"BASE", base.encode())
        )
        yield running


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    log_file: Path

    @property
    def log(self) -> str:
        return self.log_file.read_text(encoding="utf-8") if self.log_file.exists() else ""


def start_worker(out: Path, server: Any, redis: RedisTarget, name: str, *extra: str) -> Worker:
    base = base_url(server)
    command = [sys.executable, "-m", "scrapy", "crawl", "news"]
    command += ["-a", f"sites={base}/", "-a", f"sitemaps={base}/copies-sitemap.xml"]
    settings = (
        f"OUTPUT_DIR={out}",
        *FAST_SETTINGS,
        f"REDIS_URL={redis.url}",
        f"REDIS_KEY_PREFIX={redis.prefix}",
        "EXTRACT_WORKERS=0",
        # small files: commits happen during the crawl, as in a long crawl
        "PARQUET_FILE_ROWS=40",
        "PARQUET_ROW_GROUP_ROWS=10",
        *extra,
    )
    for setting in settings:
        command += ["-s", setting]
    log_file = out.parent / f"{out.name}-{name}.log"
    with log_file.open("w", encoding="utf-8") as log:  # the log, and anything printed
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    return Worker(process, log_file)


def wait_all(workers: list[Worker], timeout: float = 240) -> None:
    """Wait for the workers to end; kill them all when one takes longer than ``timeout``."""
    deadline = time.monotonic() + timeout
    try:
        for worker in workers:
            worker.process.wait(timeout=max(deadline - time.monotonic(), 1))
    finally:
        for worker in workers:
            if worker.process.poll() is None:
                worker.process.kill()
                worker.process.wait()


def reports(out: Path) -> dict[int, dict[str, Any]]:
    """The crawl reports of the workers, by process id."""
    found = {}
    for path in (out / "state" / "crawls").glob("*.json"):
        report = json.loads(path.read_text(encoding="utf-8"))
        found[report["pid"]] = report
    return found


def article_counts(out: Path, big_site: NewsSite) -> Counter[int]:
    """How many rows hold each article's text (identified by its title)."""
    by_title = {article.title: article.number for article in big_site.articles}
    return Counter(by_title[row["title"]] for row in dataset_rows(out))


def check_complete(out: Path, big_site: NewsSite) -> None:
    counts = article_counts(out, big_site)
    missing = sorted(set(range(ARTICLES)) - set(counts))
    doubled = sorted(number for number, count in counts.items() if count > 1)
    assert not missing, f"{len(missing)} articles missing: {missing[:10]}"
    assert not doubled, f"{len(doubled)} articles stored twice: {doubled[:10]}"
    rows = dataset_rows(out)
    assert len(rows) == ARTICLES
    assert len({row["url"] for row in rows}) == ARTICLES


def fetched_twice(requested: list[str]) -> dict[str, int]:
    counts = Counter(path for path in requested if path not in PER_WORKER_PATHS)
    return {path: count for path, count in counts.items() if count > 1}


@dataclass
class SharedCrawl:
    """A crawl by several workers to its end, and what it left: the site's log, the reports,
    the run history and Redis's keys as they were when the workers had exited."""

    out: Path
    redis: RedisTarget
    workers: list[Worker]
    requested: list[str]
    reports: dict[int, dict[str, Any]]
    history: Any
    left_in_redis: dict[str, int]


def crawl_together(
    count: int, out: Path, server: Any, redis: RedisTarget, *extra: str
) -> SharedCrawl:
    before = len(server.requested)
    started = [start_worker(out, server, redis, f"w{n}", *extra) for n in range(count)]
    wait_all(started)
    client = Redis.from_url(redis.url)
    left = {
        "queued requests": client.zcard(f"{redis.prefix}:news:requests"),
        "in-flight keys": len(client.keys(f"{redis.prefix}:news:in-flight:*")),
        "done keys": len(client.keys(f"{redis.prefix}:news:done:*")),
        "claims": client.hlen(f"{redis.prefix}:claims"),
        "workers": client.scard(f"{redis.prefix}:workers"),
    }
    history = read_runs(location_of(out))
    return SharedCrawl(out, redis, started, server.requested[before:], reports(out), history, left)


@pytest.fixture(scope="module")
def two_workers(
    tmp_path_factory: pytest.TempPathFactory, site_server: Any, redis_url: str
) -> SharedCrawl:
    """Two workers to the end: the split test asserts on it, then the compaction test
    compacts its dataset (one crawl for both, a crawl of 500 articles takes ~15 s)."""
    redis = RedisTarget(redis_url, f"t{secrets.token_hex(4)}")
    return crawl_together(2, tmp_path_factory.mktemp("two-workers") / "out", site_server, redis)


@pytest.fixture(scope="module")
def three_workers(
    tmp_path_factory: pytest.TempPathFactory, site_server: Any, redis_url: str
) -> SharedCrawl:
    redis = RedisTarget(redis_url, f"t{secrets.token_hex(4)}")
    return crawl_together(3, tmp_path_factory.mktemp("three-workers") / "out", site_server, redis)


@pytest.mark.parametrize("crawl_name", ["two_workers", "three_workers"])
def test_workers_split_the_work_and_store_every_article_once(
    crawl_name: str, big_site: NewsSite, request: pytest.FixtureRequest
) -> None:
    crawl: SharedCrawl = request.getfixturevalue(crawl_name)
    workers = len(crawl.workers)
    for worker in crawl.workers:
        assert worker.process.returncode == 0, worker.log[-3000:]
    requested = crawl.requested

    check_complete(crawl.out, big_site)
    assert not fetched_twice(requested)
    assert sum(path.startswith("/2024/") for path in requested) == ARTICLES
    # each syndicated copy was fetched once, and dropped as a duplicate of its original
    assert sum(path.startswith("/syndicated/") for path in requested) == COPIES
    by_worker = crawl.reports
    assert len(by_worker) == workers
    pages = [report["stats"].get("news/fetch/pages", 0) for report in by_worker.values()]
    assert sum(pages) == ARTICLES + COPIES
    # every worker took part, none did most of it (a worker started last on a busy machine
    # may find little left)
    assert min(pages) >= 1, f"a worker took no share: {pages}"
    assert max(pages) <= 0.8 * sum(pages), f"the work was not split: {pages}"
    # (as the same content, or as a near-copy of the original pending in another worker)
    duplicates = sum(
        value
        for report in by_worker.values()
        for key, value in report["stats"].items()
        if key.startswith("news/dedupe/duplicate/")
    )
    assert duplicates == COPIES
    for report in by_worker.values():
        assert report["finish_reason"] == "finished"
    # the run history: a row per worker, one run, summed to what the dataset holds
    history = crawl.history
    assert history.num_rows == workers  # one source, the site
    (run,) = per_run(history)
    assert run["workers"] == workers
    assert run["stored"] == ARTICLES
    assert run["fetched"] == ARTICLES + COPIES
    assert run["dropped"] == {"DuplicateArticle": COPIES}
    # nothing left behind in Redis: no queued or in-flight request, no claim, no worker
    assert crawl.left_in_redis == dict.fromkeys(crawl.left_in_redis, 0)


def test_a_second_run_fetches_listings_again_and_no_stored_article(
    tmp_path: Path, site_server: Any, big_site: NewsSite, shared_redis: RedisTarget
) -> None:
    out = tmp_path / "out"
    first = [start_worker(out, site_server, shared_redis, f"a{n}") for n in range(2)]
    wait_all(first)
    first_reports = reports(out)
    before = len(site_server.requested)
    second = [start_worker(out, site_server, shared_redis, f"b{n}") for n in range(2)]
    wait_all(second)
    for worker in (*first, *second):
        assert worker.process.returncode == 0, worker.log[-3000:]
    requested = site_server.requested[before:]
    second_reports = [report for pid, report in reports(out).items() if pid not in first_reports]

    def total(found: Any, stat: str) -> int:
        return sum(report["stats"].get(stat, 0) for report in found)

    # a new run: the start listings once more (by one worker), and no stored page; of each
    # article and its syndicated copy, the one fetched first was stored, the other dropped:
    # remembered as a copy when its original was committed by then, else fetched again now
    # (and remembered then), as in embedded mode
    assert "/sitemap_index.xml" in requested
    assert "/rss.xml" in requested
    stored = {urlsplit(row["url"]).path for row in dataset_rows(out)}
    assert not stored & set(requested)
    remembered = total(first_reports.values(), "news/incremental/rejected_remembered/Copy")
    fetched = sum(path.startswith(("/2024/", "/syndicated/")) for path in requested)
    assert fetched == COPIES - remembered
    assert total(second_reports, "news/incremental/rejected_remembered/Copy") == fetched
    assert total(second_reports, "news/incremental/rejected_pages/Copy") == remembered
    assert not fetched_twice(requested)
    check_complete(out, big_site)


KILL_TIMEOUT = 8
"""``REDIS_WORKER_TIMEOUT`` of the workers one of which the tests kill."""


def wait_until_it_holds_work(
    server: Any, before: int, shared_redis: RedisTarget, worker: Worker
) -> None:
    """Until 120 articles are fetched and ``worker`` holds requests in flight or done (rows not
    committed), at most 120 s: the moment to kill or pause it mid-crawl."""
    client = Redis.from_url(shared_redis.url)
    held = f"{shared_redis.prefix}:news:*:*-{worker.process.pid}-*"  # its in-flight or done
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        articles = sum(p.startswith("/2024/") for p in server.requested[before:])
        if articles >= 120 and client.keys(held):
            break
        time.sleep(0.01)


def test_a_killed_worker_loses_nothing(
    tmp_path: Path, site_server: Any, big_site: NewsSite, shared_redis: RedisTarget
) -> None:
    out = tmp_path / "out"
    before = len(site_server.requested)
    # short, for a short test, but not so short that a worker extracting inline on a loaded
    # machine (the GIL held by lxml, no heartbeat) is taken for dead while it lives: it would
    # then stop, declared dead (seen at 3 s under CI load; the default is 60)
    timeout = (f"REDIS_WORKER_TIMEOUT={KILL_TIMEOUT}",)
    victim, survivor = (
        start_worker(out, site_server, shared_redis, name, *timeout)
        for name in ("victim", "survivor")
    )
    # kill the victim mid-crawl, while it has requests in flight and rows not committed
    wait_until_it_holds_work(site_server, before, shared_redis, victim)
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait(timeout=10)
    wait_all([survivor])
    assert survivor.process.returncode == 0, survivor.log[-3000:]
    assert "stopped answering" in survivor.log
    assert "put back into the queue" in survivor.log

    check_complete(out, big_site)
    report = next(iter(reports(out).values()))  # the victim wrote none
    assert len(reports(out)) == 1
    assert report["stats"].get("news/frontier/dead_workers") == 1
    assert report["stats"].get("news/frontier/requeued", 0) >= 1


def wait_for_articles(server: Any, before: int, count: int) -> None:
    deadline = time.monotonic() + 120
    while sum(p.startswith("/2024/") for p in server.requested[before:]) < count:
        assert time.monotonic() < deadline, "the crawl does not progress"
        time.sleep(0.05)


def test_a_worker_killed_alone_is_taken_over_by_a_restart(
    tmp_path: Path, site_server: Any, big_site: NewsSite, shared_redis: RedisTarget
) -> None:
    out = tmp_path / "out"
    before = len(site_server.requested)
    timeout = (f"REDIS_WORKER_TIMEOUT={KILL_TIMEOUT}",)
    victim = start_worker(out, site_server, shared_redis, "victim", *timeout)
    wait_for_articles(site_server, before, 150)
    victim.process.send_signal(signal.SIGKILL)
    victim.process.wait(timeout=10)
    # restarted at once, while the dead worker still looks alive: the restart waits for its
    # heartbeat to expire, then takes its requests over
    restart = start_worker(out, site_server, shared_redis, "restart", *timeout)
    wait_all([restart])
    assert restart.process.returncode == 0, restart.log[-3000:]
    assert "stopped answering" in restart.log
    check_complete(out, big_site)


def test_a_worker_started_later_joins_the_crawl(
    tmp_path: Path, site_server: Any, big_site: NewsSite, shared_redis: RedisTarget
) -> None:
    out = tmp_path / "out"
    before = len(site_server.requested)
    first = start_worker(out, site_server, shared_redis, "first")
    wait_for_articles(site_server, before, 100)
    late = start_worker(out, site_server, shared_redis, "late")
    wait_all([first, late])
    for worker in (first, late):
        assert worker.process.returncode == 0, worker.log[-3000:]
    assert "Joining a crawl with" in late.log
    check_complete(out, big_site)
    assert not fetched_twice(site_server.requested[before:])
    pages = sorted(report["stats"].get("news/fetch/pages", 0) for report in reports(out).values())
    assert pages[0] >= 25, f"the late worker took no share: {pages}"


def test_an_unreachable_redis_stops_the_crawl_at_once(tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    command = [sys.executable, "-m", "scrapy", "crawl", "news", "-a", "urls=https://a.org/1"]
    url = f"redis://user:secret@127.0.0.1:{port}/0"
    command += ["-s", f"OUTPUT_DIR={tmp_path}", "-s", f"REDIS_URL={url}"]
    completed = subprocess.run(
        command,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 2
    assert "Traceback" not in completed.stderr
    # one line, the last one, saying why (Scrapy's usage error)
    (line,) = [line for line in completed.stderr.splitlines() if "cannot reach Redis" in line]
    assert line == completed.stderr.strip().splitlines()[-1]
    assert line.split("error: ", 1)[1].startswith(
        f"cannot reach Redis at redis://***@127.0.0.1:{port}/0: "
    )
    assert "secret" not in completed.stderr + completed.stdout
    assert not (tmp_path / "articles").exists() or not any((tmp_path / "articles").iterdir())


def test_losing_redis_stops_the_worker_cleanly(
    tmp_path: Path, site_server: Any, big_site: NewsSite
) -> None:
    server, url = start_redis(tmp_path / "redis")
    out = tmp_path / "out"
    before = len(site_server.requested)
    try:
        worker = start_worker(out, site_server, RedisTarget(url, "gone"), "worker")
        wait_for_articles(site_server, before, 100)
    finally:
        server.kill()
        server.wait()
    wait_all([worker])
    assert worker.process.returncode == 1
    assert "Lost the shared queue in Redis, stopping this worker" in worker.log
    assert "Traceback" not in worker.log  # one line per problem
    (report,) = reports(out).values()
    assert report["finish_reason"] == "redis_error"
    assert report["stats"]["news/frontier/redis_error"] >= 1
    # what was committed is readable, and stored once
    rows = dataset_rows(out)
    assert len({row["url"] for row in rows}) == len(rows)


def test_compact_updates_the_shared_state_and_runs_once_per_deployment(
    two_workers: SharedCrawl, big_site: NewsSite
) -> None:
    out, shared_redis = two_workers.out, two_workers.redis
    for worker in two_workers.workers:
        assert worker.process.returncode == 0, worker.log[-3000:]
    client = Redis.from_url(shared_redis.url)
    files_key = f"{shared_redis.prefix}:state:files"
    assert client.hlen(files_key) >= 12  # files of 40 rows

    def compact() -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "scrapy", "compact", "--target-rows", "1000"]
        for setting in (
            f"OUTPUT_DIR={out}",
            f"REDIS_URL={shared_redis.url}",
            f"REDIS_KEY_PREFIX={shared_redis.prefix}",
        ):
            command += ["-s", setting]
        return subprocess.run(
            command, cwd=ROOT, capture_output=True, text=True, timeout=240, check=False
        )

    lock = client.lock(f"{shared_redis.prefix}:lock:compaction", timeout=60)
    assert lock.acquire(blocking=False)  # another machine compacts
    refused = compact()
    lock.release()
    assert refused.returncode == 3  # another run holds the dataset
    assert "another compaction of this deployment is running" in refused.stderr

    completed = compact()
    assert completed.returncode == 0, completed.stderr[-3000:]
    files = {
        path.relative_to(out / "articles").as_posix()
        for path in (out / "articles").rglob("*.parquet")
    }
    assert len(files) == 1
    assert {name.decode() for name in client.hkeys(files_key)} == files
    check_complete(out, big_site)


def test_a_worker_stopped_with_sigterm_hands_its_work_back(
    tmp_path: Path, site_server: Any, big_site: NewsSite, shared_redis: RedisTarget
) -> None:
    out = tmp_path / "out"
    before = len(site_server.requested)
    stopped, other = (
        start_worker(out, site_server, shared_redis, name) for name in ("stopped", "other")
    )
    wait_for_articles(site_server, before, 150)
    stopped.process.send_signal(signal.SIGTERM)
    wait_all([stopped, other])
    assert other.process.returncode == 0, other.log[-3000:]
    # it finished what it had started and put back anything it had not: nothing for the other
    # worker to take over
    assert "stopped answering" not in other.log
    check_complete(out, big_site)
    by_pid = reports(out)
    assert by_pid[stopped.process.pid]["finish_reason"] == "shutdown"


def test_a_worker_paused_past_its_timeout_stops_and_loses_nothing(
    tmp_path: Path, site_server: Any, big_site: NewsSite, shared_redis: RedisTarget
) -> None:
    """A worker paused for longer than ``REDIS_WORKER_TIMEOUT`` (SIGSTOP, as a suspended
    machine or a frozen container) is taken over by the other. When it runs again it finds
    that out and stops (exit status 1, finish reason ``declared_dead``) without committing
    what it holds: the other stores those articles, each once."""
    out = tmp_path / "out"
    before = len(site_server.requested)
    timeout = (f"REDIS_WORKER_TIMEOUT={KILL_TIMEOUT}",)
    paused, survivor = (
        start_worker(out, site_server, shared_redis, name, *timeout)
        for name in ("paused", "survivor")
    )
    wait_until_it_holds_work(site_server, before, shared_redis, paused)
    paused.process.send_signal(signal.SIGSTOP)
    try:
        deadline = time.monotonic() + 120
        while "stopped answering" not in survivor.log:
            assert time.monotonic() < deadline, "the paused worker was not taken over"
            time.sleep(0.05)
    finally:
        paused.process.send_signal(signal.SIGCONT)
    wait_all([paused, survivor])
    assert survivor.process.returncode == 0, survivor.log[-3000:]
    assert paused.process.returncode == 1, paused.log[-3000:]
    assert "The other workers took this one for dead" in paused.log
    check_complete(out, big_site)
    by_pid = reports(out)
    assert by_pid[paused.process.pid]["finish_reason"] == "declared_dead"
    assert by_pid[survivor.process.pid]["stats"].get("news/frontier/dead_workers") == 1
