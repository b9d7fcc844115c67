"""Tests for crawler/fetch_errors.py: a failed download's reason and its one-line description."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from OpenSSL import SSL
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

from crawler.address_guard import GuardRefused
from crawler.fetch_errors import fetch_error_reason
from tests.conftest import run_crawl

if TYPE_CHECKING:
    from pathlib import Path


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
        # the address guard's refusals, by their reason (they were "ignored")
        (GuardRefused("address guard: offsite_redirect"), "offsite_redirect"),
        (GuardRefused("address guard: private_address"), "private_address"),
        (ValueError("odd"), "ValueError"),
        # a redirect to a URL no request can be made for (F5 of the fourth fault hunt)
        (ValueError("Missing scheme in request url: mailto:a@b.c"), "bad_redirect"),
        (ValueError("Port out of range 0-65535"), "bad_redirect"),
        # a status line or a header Twisted cannot read
        (ResponseFailed([Failure(ParseError("non-integer status code", b"2xx"))]), "bad_response"),
        (ResponseFailed([Failure(ValueError("non-decimal digits: b'abc'"))]), "bad_response"),
        (ResponseFailed([Failure(ConnectionLost("gone"))]), "connection_lost"),
        # a TLS handshake that failed (an https:// URL of a server speaking plain HTTP): it
        # was called connection_lost (fourteenth fault hunt)
        (ResponseFailed([Failure(SSL.Error([("SSL routines", "", "wrong version number")]))]),
         "tls"),
        (SSL.Error([("SSL routines", "", "sslv3 alert handshake failure")]), "tls"),
    ],
)  # fmt: skip
def test_fetch_error_reasons(error: Exception, reason: str) -> None:
    found, description = fetch_error_reason(error)
    assert found == reason
    assert description  # never an empty "()" in the log line
    assert "\n" not in description
    assert "<twisted" not in description  # a Failure's message, not its repr


def test_an_https_url_of_a_plain_http_server_fails_as_tls(tmp_path: Path, site_url: str) -> None:
    # the run history and the health line said connection_lost: a connection that was never
    # made, for a source whose https:// URL (or its server's certificate) is wrong
    https = site_url.replace("http://", "https://") + "/articles/seed/sputnik-africa-shoigu.html"
    result = run_crawl(tmp_path / "out", "-a", f"urls={https}")
    assert result.stats["news/fetch/error/tls"] == 1, result.log[-3000:]
    assert "news/fetch/error/connection_lost" not in result.stats
    failed = [line for line in result.log.splitlines() if "Fetch failed (" in line]
    assert len(failed) == 1
    assert "Fetch failed (tls: " in failed[0]
    assert failed[0].endswith(f"; retried 2 times): {https}")
