"""``Retry-After`` on ``429`` and ``503`` answers (:mod:`crawler.retry_after`)."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from crawler.retry_after import retry_after_seconds
from demo.site import Response as Route
from demo.site import load_site
from tests.conftest import dataset_rows, run_crawl
from tests.hostile_site import HostileHandler, serve

if TYPE_CHECKING:
    from pathlib import Path


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (b" 5 ", 5.0),
        ("Wed, 21 Oct 2026 07:28:00 GMT", 3600.0),
        ("Wed, 21 Oct 2026 05:00:00 GMT", 0.0),  # a date past: at once
        ("soon", None),
        ("-5", None),
        (None, None),
    ],
)
def test_retry_after_seconds(value: str | bytes | None, expected: float | None) -> None:
    now = datetime(2026, 10, 21, 6, 28, tzinfo=UTC)
    assert retry_after_seconds(value, now) == expected


def _busy_then_ok(body: bytes, retry_after: str, answers: list[float]) -> object:
    """A route that answers 429 with ``Retry-After`` the first time, then the page."""
    lock = threading.Lock()

    def route(handler: HostileHandler) -> None:
        with lock:
            answers.append(time.monotonic())
            first = len(answers) == 1
        if first:
            busy = Route(429, {"Retry-After": retry_after, "Content-Type": "text/html"}, b"busy")
            handler.send(busy)
        else:
            handler.send(Route(200, {"Content-Type": "text/html"}, body))

    return route


def test_a_page_answered_429_with_retry_after_is_asked_again_after_the_wait(
    tmp_path: Path,
) -> None:
    # Scrapy retried at once: three requests within a second
    answers: list[float] = []
    with serve() as server:
        server.routes["/a/1.html"] = _busy_then_ok(load_site().pages[0].body(), "3", answers)
        result = run_crawl(tmp_path, "-a", f"urls={server.url('/a/1.html')}")
    assert result.returncode == 0, result.log[-3000:]
    assert len(answers) == 2
    assert answers[1] - answers[0] >= 3.0
    assert result.stats["news/fetch/retry_after/waited"] == 1
    assert len(dataset_rows(tmp_path)) == 1


def test_a_site_asking_for_longer_than_the_run_allows_is_left_alone(tmp_path: Path) -> None:
    answers: list[float] = []
    pages = load_site().pages
    with serve() as server:
        server.routes["/a/1.html"] = _busy_then_ok(pages[0].body(), "86400", answers)
        server.routes["/a/2.html"] = Route(200, {"Content-Type": "text/html"}, pages[1].body())
        urls = f"urls={server.url('/a/1.html')},{server.url('/a/2.html')}"
        result = run_crawl(tmp_path, "-a", urls, settings=("CONCURRENT_REQUESTS=1",))
        assert "/a/2.html" not in server.requested  # the site's other page: not asked either
    assert len(answers) == 1  # asked once, not retried
    assert result.stats["news/fetch/retry_after/given_up"] == 1
    assert result.stats["news/fetch/http_error/429"] == 1
    assert result.stats["news/fetch/error/retry_after"] == 1
    assert result.log.count("Fetch failed (retry_after:") == 1
    assert result.returncode == 1  # every page failed
