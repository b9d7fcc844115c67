"""Tests for crawler/fetch_errors.py: a failed download's reason and its one-line description."""

from __future__ import annotations

import pytest
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from twisted.internet.error import ConnectionLost
from twisted.python.failure import Failure
from twisted.web._newclient import ParseError
from twisted.web.client import ResponseFailed

from crawler.fetch_errors import fetch_error_reason


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (DownloadTimeoutError("Getting x took longer than 3 seconds."), "timeout"),
        (CannotResolveHostError("no such host"), "dns"),
        (DownloadCancelledError(""), "too_large"),
        (ResponseDataLossError(), "truncated"),
        (DownloadFailedError("lost"), "connection_lost"),
        (IgnoreRequest("max redirections reached"), "too_many_redirects"),
        (IgnoreRequest("Ignored response ... during decompression."), "too_large_decompressed"),
        (IgnoreRequest("Forbidden by robots.txt"), "robots_forbidden"),
        (ValueError("odd"), "ValueError"),
        # a redirect to a URL no request can be made for (F5 of the fourth fault hunt)
        (ValueError("Missing scheme in request url: mailto:a@b.c"), "bad_redirect"),
        (ValueError("Port out of range 0-65535"), "bad_redirect"),
        # a status line or a header Twisted cannot read
        (ResponseFailed([Failure(ParseError("non-integer status code", b"2xx"))]), "bad_response"),
        (ResponseFailed([Failure(ValueError("non-decimal digits: b'abc'"))]), "bad_response"),
        (ResponseFailed([Failure(ConnectionLost("gone"))]), "connection_lost"),
    ],
)
def test_fetch_error_reasons(error: Exception, reason: str) -> None:
    found, description = fetch_error_reason(error)
    assert found == reason
    assert description  # never an empty "()" in the log line
    assert "\n" not in description
    assert "<twisted" not in description  # a Failure's message, not its repr
