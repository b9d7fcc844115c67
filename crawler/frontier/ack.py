"""Acknowledgements from the spider's side: the spider middleware that tells the scheduler
when a response (or ``start()``) needs no more work, once every request it yielded is queued,
and the signal and ``Request.meta`` tags it does that with.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from scrapy import Request

from crawler.frontier.queue import FRONTIER_META
from pipelines.signals import request_done

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterable

    from scrapy.crawler import Crawler
    from scrapy.http import Response

children_yielded = object()
"""Sent by :class:`FrontierAckMiddleware` with ``token`` (the in-flight entry of a response's
request, or :data:`START_PARENT`) and ``count``, the requests it yielded, each tagged with the
token in ``meta[PARENT_META]``: the parent is done once the scheduler has received them all."""
PARENT_META = "frontier_parent"
START_PARENT = "start"


def response_entry(response: Response | None) -> str | None:
    """The in-flight entry of the request ``response`` answers (``None``: none)."""
    request = getattr(response, "request", None)
    return request.meta.get(FRONTIER_META) if request is not None else None


class _Children:
    """The requests one parent (a response's in-flight entry, or ``start()``) yields: each is
    tagged with the parent and counted; items are noted."""

    def __init__(self, parent: str | None) -> None:
        self.parent = parent
        self.count = 0
        self.items = False

    def tag(self, output: Any) -> Any:
        if not isinstance(output, Request):
            self.items = True
        elif self.parent is not None:
            output.meta[PARENT_META] = self.parent
            self.count += 1
        return output


class FrontierAckMiddleware:
    """Tells the shared queue when a response needs no more work: once every request its
    callback yielded is in the queue, if it yielded no item (items are acknowledged when their
    row is committed or dropped). Scrapy reads a callback's whole output before it schedules
    the requests in it, so the end of the output is not the moment: each request is tagged
    with its parent, and the scheduler counts them in (:data:`children_yielded`). The same for
    ``start()``: the worker is busy for the others until its start requests are all queued."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def _yielded(self, token: str, count: int) -> None:
        self.crawler.signals.send_catch_log(signal=children_yielded, token=token, count=count)

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        children = _Children(START_PARENT)
        try:
            async for output in start:
                yield children.tag(output)
        finally:
            self._yielded(START_PARENT, children.count)

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterable[Any]:
        children = _Children(response_entry(response))
        try:
            for output in result:
                yield children.tag(output)
        finally:
            self._finish(children)

    async def process_spider_output_async(
        self, response: Response, result: AsyncIterator[Any]
    ) -> AsyncIterator[Any]:
        children = _Children(response_entry(response))
        try:
            async for output in result:
                yield children.tag(output)
        finally:
            self._finish(children)

    def _finish(self, children: _Children) -> None:
        """A response that yielded items is done when their rows are; else once its requests
        are queued."""
        if children.parent is not None and not children.items:
            self._yielded(children.parent, children.count)

    def process_spider_exception(self, response: Response, exception: Exception) -> None:
        self.crawler.signals.send_catch_log(signal=request_done, request=response.request)
