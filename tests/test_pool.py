"""The page pool (:mod:`extraction.pool`): worker processes that extract pages, and replace
themselves when one hangs, dies or has done its share."""

from __future__ import annotations

import asyncio
import gc
import itertools
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from extraction import pool as pool_module
from extraction.pool import PagePool, WorkerFailed
from extraction.worker import Extracted, PageOptions, process_page
from tests.test_extractor import SEED_BODY, SEED_URL

OPTIONS = PageOptions()


def misbehave(body: bytes, url: str, content_type: str | None, options: Any) -> dict[str, Any]:
    """A page function for the tests: hangs or dies on request (in a worker: never the test
    runner), else names its process."""
    if url.endswith("/hang"):
        time.sleep(120)
    if url.endswith("/die"):
        if multiprocessing.parent_process() is None:  # the test runner: never exits here
            raise RuntimeError("a page that dies in a worker was run in the test's process")
        # not at once: pebble takes a worker that dies before it said it started a page for
        # one that died idle, and gives that page back as never run
        time.sleep(0.5)
        os._exit(3)
    if url.endswith("/raise"):
        raise RuntimeError("a fault of the page's code")
    return {"pid": os.getpid(), "url": url}


def what_the_worker_holds(
    body: bytes, url: str, content_type: str | None, options: Any
) -> dict[str, Any]:
    """A page function for the tests: what the worker had made before this page."""
    from extraction.worker import _detector, _signer  # noqa: PLC0415

    return {
        "pid": os.getpid(),
        "detectors": _detector.cache_info().currsize,
        "signers": _signer.cache_info().currsize,
        "trafilatura": "trafilatura" in sys.modules,
        "frozen": gc.get_freeze_count(),
    }


async def _run_all(pool: PagePool, urls: list[str]) -> list[Any]:
    async def one(url: str) -> Any:
        try:
            return await pool.run(b"", url, None, OPTIONS)
        except WorkerFailed as exc:
            return exc

    return await asyncio.gather(*(one(url) for url in urls))


def run_pages(pool: PagePool, urls: list[str]) -> list[Any]:
    pool.start()
    try:
        return asyncio.run(_run_all(pool, urls))
    finally:
        pool.close()


def test_the_worker_gives_what_inline_extraction_gives() -> None:
    inline = process_page(SEED_BODY, SEED_URL, "text/html", OPTIONS)
    pool = PagePool(1)
    pool.start()
    try:
        pooled = asyncio.run(pool.run(SEED_BODY, SEED_URL, "text/html", OPTIONS))
    finally:
        pool.close()
    assert isinstance(inline, Extracted)
    assert pooled == inline


def test_a_hanging_page_is_dropped_and_the_others_go_on() -> None:
    pool = PagePool(2, timeout=1.5, function=misbehave)
    urls = ["http://t/1", "http://t/hang", "http://t/2", "http://t/3", "http://t/4"]
    results = run_pages(pool, urls)
    failure = results[1]
    assert isinstance(failure, WorkerFailed)
    assert failure.timed_out
    assert [result["url"] for n, result in enumerate(results) if n != 1] == [
        url for n, url in enumerate(urls) if n != 1
    ]


def test_a_dying_worker_is_replaced_and_only_its_page_is_lost() -> None:
    pool = PagePool(2, function=misbehave)
    urls = ["http://t/1", "http://t/die", "http://t/2", "http://t/die", "http://t/3"]
    results = run_pages(pool, urls)
    for index in (1, 3):
        assert isinstance(results[index], WorkerFailed)
        assert not results[index].timed_out
        assert "exit code 3" in str(results[index])
    assert [results[index]["url"] for index in (0, 2, 4)] == [
        "http://t/1",
        "http://t/2",
        "http://t/3",
    ]


def test_workers_are_replaced_after_max_tasks() -> None:
    pool = PagePool(1, max_tasks=3, function=misbehave)
    results = run_pages(pool, [f"http://t/{n}" for n in range(8)])
    pids = [result["pid"] for result in results]
    # the first worker's first task started it (ready), then 2 pages; 3 for each after it
    assert [len(list(group)) for _, group in itertools.groupby(pids)] == [2, 3, 3]
    assert os.getpid() not in pids


def test_workers_start_with_the_language_profiles_loaded() -> None:
    # loaded once in the fork server, not again in every worker that replaces another
    pool = PagePool(1, max_tasks=2, function=what_the_worker_holds)
    results = run_pages(pool, [f"http://t/{n}" for n in range(3)])
    assert len({result["pid"] for result in results}) == 2
    assert all(result["detectors"] == 1 and result["signers"] == 1 for result in results)
    # the extraction library, imported lazily, was loaded there too
    assert all(result["trafilatura"] for result in results)
    # and what the server made was frozen: the workers' collections leave it unwritten, shared
    assert all(result["frozen"] > 10_000 for result in results)


def test_the_workers_start_off_the_callers_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    # pebble starts the workers on the first task, waiting for them in the caller's thread
    # (about a second): never the event loop's
    scheduled_from: list[str] = []
    schedule = pool_module.ProcessPool.schedule

    def noting(self: Any, *args: Any, **kwargs: Any) -> Any:
        scheduled_from.append(threading.current_thread().name)
        return schedule(self, *args, **kwargs)

    monkeypatch.setattr(pool_module.ProcessPool, "schedule", noting)
    results = run_pages(PagePool(2, function=misbehave), ["http://t/1", "http://t/2"])
    assert [result["url"] for result in results] == ["http://t/1", "http://t/2"]
    assert scheduled_from[0] == "page-pool-start"
    assert threading.current_thread().name not in scheduled_from[:1]


def test_a_pool_closed_while_it_starts_leaves_no_process() -> None:
    before = _children()  # the session's own (a Redis server, ...)
    pool = PagePool(2, function=misbehave)
    pool.start()
    pool.close()
    assert _children() - before == set()


def test_every_worker_has_started_before_the_pool_is_said_to_run() -> None:
    # the first worker ran the first task while the second still read what it was started
    # with; a pool stopped then (a crawl that ended at once) took its locks away from it, and
    # the fork server printed its FileNotFoundError traceback in the crawl's output
    pool = PagePool(2, function=misbehave)
    results = run_pages(pool, ["http://t/1"])  # started, then closed
    assert [result["url"] for result in results] == ["http://t/1"]
    assert len(pool.started_workers) == 2


def _children() -> set[int]:
    """The pids of this process's children (zombies included)."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid():
            found.add(int(stat.parent.name))
    return found


def test_workers_that_cannot_start_leave_the_pages_to_the_caller(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # the fork server dies while it preloads: a memory or process limit, a signal, ...
    monkeypatch.setattr(pool_module, "PRELOAD", ("tests.broken_preload",))
    before = _children()
    pool = PagePool(2, function=misbehave)
    with caplog.at_level(logging.ERROR, logger="extraction.pool"):
        results = run_pages(pool, [f"http://t/{n}" for n in range(3)])
    assert [result["url"] for result in results] == [f"http://t/{n}" for n in range(3)]
    assert {result["pid"] for result in results} == {os.getpid()}  # extracted here
    assert pool.failed is not None
    assert pool.failed.startswith("their fork server ended (EOFError")
    assert pool.workers == 0
    [error] = [record.getMessage() for record in caplog.records]
    assert error == (
        f"The extraction workers could not start ({pool.failed}): extracting in the crawl process"
    )
    assert _children() - before == set()


def test_workers_that_cannot_be_replaced_leave_the_pages_to_the_caller(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    before = _children()
    pool = PagePool(1, function=misbehave)
    pool.start()

    async def main() -> list[Any]:
        first = await pool.run(b"", "http://t/1", None, OPTIONS)
        # the fork server dies, and multiprocessing cannot make it again (a memory limit; here,
        # it dies of what it preloads), then a worker
        server = pool_module.forkserver._forkserver  # type: ignore[attr-defined]
        monkeypatch.setattr(server, "_preload_modules", ["tests.broken_preload"])
        os.kill(server._forkserver_pid, signal.SIGKILL)
        lost = await _run_all(pool, ["http://t/die"])
        return [first, *lost, *await _run_all(pool, [f"http://t/{n}" for n in range(2, 5)])]

    try:
        with caplog.at_level(logging.ERROR, logger="extraction.pool"):
            first, lost, *later = asyncio.run(main())
    finally:
        pool.close()
    assert first["pid"] != os.getpid()
    assert isinstance(lost, WorkerFailed)  # its page, as any dead worker's
    assert [result["url"] for result in later] == [f"http://t/{n}" for n in range(2, 5)]
    assert {result["pid"] for result in later} == {os.getpid()}  # extracted here
    assert pool.failed is not None
    [error] = [record.getMessage() for record in caplog.records]
    assert error.startswith("The extraction workers could not be replaced (")
    assert _children() - before == set()


def slow_in_a_worker(*args: Any) -> dict[str, Any] | int:
    """A page function for the tests, and the pool's first tasks (no page: ``ready``'s pause
    at most): a page ``.../slow`` (or no page) takes 30 s in a worker; anything else, and
    anything in the caller's process, is done at once."""
    slow = len(args) < 2 or str(args[1]).endswith("/slow")
    if slow and os.getpid() != int(os.environ["POOL_TEST_CALLER"]):
        time.sleep(30)
    return os.getpid() if len(args) < 2 else {"pid": os.getpid()}


def test_pages_given_to_a_pool_that_stopped_running_are_lost_and_the_next_ones_run_here(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # pebble's threads end on an error they do not expect (a worker killed with -9 as it
    # starts): what they were given then never ended nor timed out, and the crawl hung for
    # ever, holding the dataset's lock
    monkeypatch.setenv("POOL_TEST_CALLER", str(os.getpid()))
    pool = PagePool(1, function=slow_in_a_worker, timeout=60)
    pool.start()

    async def main() -> tuple[Any, float, Any]:
        await pool.run(b"", "http://t/warm", None, OPTIONS)
        started = time.monotonic()
        page = asyncio.ensure_future(_run_all(pool, ["http://t/slow"]))
        await asyncio.sleep(0.3)
        ended = threading.Thread(target=lambda: None)
        ended.start()
        ended.join()
        assert pool._pool is not None
        pool._pool._loops = (ended,)  # one of pebble's threads has ended
        [lost] = await page
        waited = time.monotonic() - started
        return lost, waited, await pool.run(b"", "http://t/next", None, OPTIONS)

    try:
        with caplog.at_level(logging.ERROR, logger="extraction.pool"):
            lost, waited, later = asyncio.run(main())
    finally:
        pool.close()
    # the page in flight is lost, not run again here (a page that killed its worker would end
    # the crawl), nor waited for; the next one runs here
    assert isinstance(lost, WorkerFailed)
    assert waited < 10
    assert later["pid"] == os.getpid()
    [error] = [record.getMessage() for record in caplog.records]
    assert "the pool stopped running its workers" in error


def test_workers_that_do_not_start_in_time_leave_the_pages_to_the_caller(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("POOL_TEST_CALLER", str(os.getpid()))
    monkeypatch.setattr(pool_module, "ready", slow_in_a_worker)
    pool = PagePool(1, function=misbehave, timeout=2)
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger="extraction.pool"):
        [result] = run_pages(pool, ["http://t/1"])
    assert result["pid"] == os.getpid()
    assert time.monotonic() - started < 20
    [error] = [record.getMessage() for record in caplog.records]
    assert "no worker started within 2 s" in error


def test_a_deleted_working_directory_is_named_as_the_cause(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("POOL_TEST_CALLER", str(os.getpid()))
    gone = tmp_path / "gone"
    gone.mkdir()
    monkeypatch.chdir(gone)
    gone.rmdir()  # a cleaner, or a deploy, removed the job's folder as it ran
    pool = PagePool(1, function=misbehave)
    with caplog.at_level(logging.ERROR, logger="extraction.pool"):
        [result] = run_pages(pool, ["http://t/1"])
    assert result["pid"] == os.getpid()  # extracted here: nothing lost
    [error] = [record.getMessage() for record in caplog.records]
    # before: "could not start (FileNotFoundError: [Errno 2] No such file or directory)"
    assert "could not start (the working directory was deleted (FileNotFoundError" in error


@pytest.mark.parametrize("where", ["resource tracker", "starting thread"])
def test_workers_that_cannot_begin_to_start_leave_the_pages_to_the_caller(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, where: str
) -> None:
    # a process or thread limit as the pool starts (now as the first article is requested,
    # inside a signal handler): the pages waited for the workers for ever
    monkeypatch.setenv("POOL_TEST_CALLER", str(os.getpid()))

    def refused(*args: Any, **kwargs: Any) -> None:
        raise (OSError(11, "Resource temporarily unavailable") if where == "resource tracker"
               else RuntimeError("can't start new thread"))  # fmt: skip

    if where == "resource tracker":
        monkeypatch.setattr(pool_module.resource_tracker, "ensure_running", refused)
    else:

        class NoThread(threading.Thread):
            start = refused

        monkeypatch.setattr(pool_module.threading, "Thread", NoThread)
    pool = PagePool(2, function=misbehave)
    with caplog.at_level(logging.ERROR, logger="extraction.pool"):
        results = run_pages(pool, ["http://t/1", "http://t/2"])
    assert [result["pid"] for result in results] == [os.getpid()] * 2
    assert pool.failed is not None
    [error] = [record.getMessage() for record in caplog.records]
    assert error.startswith("The extraction workers could not start (")
    assert "extracting in the crawl process" in error


def test_a_page_that_raises_in_a_worker_leaves_the_workers_working() -> None:
    pool = PagePool(1, function=misbehave)
    pool.start()

    async def main() -> Any:
        with pytest.raises(RuntimeError, match="a fault of the page's code"):
            await pool.run(b"", "http://t/raise", None, OPTIONS)
        return await pool.run(b"", "http://t/1", None, OPTIONS)

    try:
        result = asyncio.run(main())
    finally:
        pool.close()
    assert result["pid"] != os.getpid()
    assert pool.failed is None


def test_pages_in_flight_are_bounded() -> None:
    pool = PagePool(1, max_pending=2, function=misbehave)
    pool.start()
    assert pool._pool is not None
    schedule = pool._pool.schedule
    in_flight = [0, 0]  # now, most

    def counting_schedule(*args: Any, **kwargs: Any) -> Any:
        future = schedule(*args, **kwargs)
        in_flight[0] += 1
        in_flight[1] = max(in_flight[1], in_flight[0])

        def done(_: Any) -> None:
            in_flight[0] -= 1

        future.add_done_callback(done)
        return future

    pool._pool.schedule = counting_schedule  # type: ignore[method-assign]
    try:
        results = asyncio.run(_run_all(pool, [f"http://t/{n}" for n in range(8)]))
    finally:
        pool.close()
    assert len(results) == 8
    assert in_flight[1] == 2


def test_no_workers_runs_inline() -> None:
    pool = PagePool(0, function=misbehave)
    [result] = run_pages(pool, ["http://t/1"])
    assert result["pid"] == os.getpid()


def test_inline_the_caches_are_reset_after_max_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    resets: list[int] = []
    monkeypatch.setattr(pool_module, "reset_caches", lambda: resets.append(len(resets)))
    pool = PagePool(0, max_tasks=3, function=misbehave)
    results = run_pages(pool, [f"http://t/{n}" for n in range(7)])
    assert [result["url"] for result in results] == [f"http://t/{n}" for n in range(7)]
    assert len(resets) == 2
