"""Scrapy's meta-refresh redirects, without decoding every page to look for one.

Scrapy's ``MetaRefreshMiddleware`` reads ``response.text`` of every HTML response to search its
first 4,096 characters for ``<meta http-equiv="refresh">``: the whole body is decoded (its
encoding guessed first when the page declares none), and the decoded copy, two to four times
the body's size, stays cached on the response while its article waits for extraction. Almost
no page has a refresh, and the extraction workers decode the body again anyway.

A refresh is found only where the attributes of a ``<meta>`` tag, lower-cased, contain
``refresh``. In an encoding that writes ASCII as ASCII bytes (every encoding pages are served in
but UTF-16 and UTF-32), those letters are those bytes; and 4,096 characters take at most 16,384
bytes. So when the body's first 16,384 bytes hold no ``refresh`` in any case and no NUL byte
(UTF-16 and UTF-32 write ASCII with NULs), Scrapy would find no refresh, and the page is passed
on undecoded. Otherwise Scrapy's middleware decides, as it always did.
"""

from __future__ import annotations

from typing import Any

from scrapy.downloadermiddlewares.redirect import (
    MetaRefreshMiddleware as ScrapyMetaRefreshMiddleware,
)
from scrapy.http import HtmlResponse, Request, Response

SCRAPY_SCAN_CHARS = 4096
"""Characters of the decoded body Scrapy searches for the refresh."""
SCAN_BYTES = 4 * SCRAPY_SCAN_CHARS
"""Bytes those characters can take (four at most in UTF-8 and GB 18030)."""


def may_refresh(body: bytes) -> bool:
    """Whether Scrapy's meta-refresh search could find something in ``body`` (``False`` only
    when it certainly cannot)."""
    start = body[:SCAN_BYTES]
    return b"\x00" in start or b"refresh" in start.lower()


class MetaRefreshMiddleware(ScrapyMetaRefreshMiddleware):
    """Scrapy's, asked only about pages that may declare a refresh (:func:`may_refresh`)."""

    def process_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Request | Response:
        if isinstance(response, HtmlResponse) and not may_refresh(response.body):
            return response
        return super().process_response(request, response, *args, **kwargs)
