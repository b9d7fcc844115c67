"""When a graceful stop waits for the spider to open or close (crawler/graceful_stop.py); the stop,
asked of a real crawl while its spider opens or closes, is in tests/test_shutdown.py."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
from twisted.internet.defer import Deferred

from crawler.graceful_stop import _closing, _done, _opening


@pytest.mark.parametrize(
    ("crawling", "engine", "opening"),
    [
        (True, None, True),  # the spider is being made, no engine yet
        (True, SimpleNamespace(running=False), True),  # the spider opens
        (True, SimpleNamespace(running=True), False),  # the engine runs: stop it now
        (False, SimpleNamespace(running=False), False),  # stopped, or the opening failed
        (False, None, False),
    ],
)
def test_opening(crawling: bool, engine: Any, opening: bool) -> None:
    assert _opening(SimpleNamespace(crawling=crawling, _engine=engine)) is opening  # type: ignore[arg-type]
    # Scrapy before its late attributes (scrapy#7882): the engine in ``engine``, None until then
    assert _opening(SimpleNamespace(crawling=crawling, engine=engine)) is opening  # type: ignore[arg-type]


def test_a_crawl_is_done_when_its_deferred_has_fired() -> None:
    crawl: Deferred[None] = Deferred()
    assert not _done(crawl)
    crawl.callback(None)
    assert _done(crawl)


def test_a_crawl_is_done_when_its_task_is() -> None:
    async def main() -> tuple[bool, bool]:
        crawl = asyncio.get_running_loop().create_future()
        before = _done(crawl)
        crawl.set_result(None)
        return before, _done(crawl)

    assert asyncio.run(main()) == (False, True)


@pytest.mark.parametrize(
    ("engine", "closing"),
    [
        (None, False),  # no engine yet
        (SimpleNamespace(_slot=None), False),  # no spider open, or closed
        (SimpleNamespace(_slot=SimpleNamespace(closing=None)), False),  # crawling
        (SimpleNamespace(_slot=SimpleNamespace(closing=Deferred())), True),  # closing
    ],
)
def test_closing(engine: Any, closing: bool) -> None:
    assert _closing(SimpleNamespace(_engine=engine)) is closing  # type: ignore[arg-type]
    assert _closing(SimpleNamespace(engine=engine)) is closing  # type: ignore[arg-type]
