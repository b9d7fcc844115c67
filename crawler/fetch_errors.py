"""Why a download failed, in a word (``timeout``, ``dns``, ``too_large``, ...) and a line: the
``<reason>`` of ``news/fetch/error/<reason>`` and ``news/robots/error/<reason>``, told from
Scrapy's own exceptions (2.13+) and the Twisted ones they wrap (raised by other download
handlers), for the spider's requests and the robots.txt middleware's alike."""

from __future__ import annotations

import re
from typing import Any

from OpenSSL.SSL import Error as TLSError
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
    UnsupportedURLSchemeError,
)
from twisted.internet.defer import CancelledError
from twisted.internet.error import (
    ConnectionDone,
    ConnectionLost,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.internet.error import ConnectionRefusedError as TxConnectionRefusedError
from twisted.web.client import ResponseFailed

# Why a download failed, as the ``<reason>`` of ``news/fetch/error/<reason>``: Scrapy's own
# exceptions (2.13+) and the Twisted ones they wrap (raised by other download handlers).
_FAILURE_REASONS: tuple[tuple[tuple[type[BaseException], ...], str], ...] = (
    ((DownloadTimeoutError, TimeoutError, TCPTimedOutError), "timeout"),
    ((CannotResolveHostError, DNSLookupError), "dns"),
    # the HTTP handler cancels a download only when it is larger than DOWNLOAD_MAXSIZE
    ((DownloadCancelledError, CancelledError), "too_large"),
    ((ResponseDataLossError,), "truncated"),
    ((DownloadConnectionRefusedError, TxConnectionRefusedError), "connection_refused"),
    ((DownloadFailedError, ResponseFailed, ConnectionLost, ConnectionDone), "connection_lost"),
    ((UnsupportedURLSchemeError,), "unsupported_scheme"),
)
# A redirect or a meta refresh to a URL no request can be made for (mailto:, a port of 99999):
# Scrapy's Request (or urllib) refuses it with a ValueError saying so.
_BAD_URL_ERROR = re.compile(r"request url|port|ipv6|scheme", re.IGNORECASE)
# The decompression libraries of Scrapy's HttpCompressionMiddleware: an error of one is a body
# that does not decompress as its Content-Encoding says (named by module, not imported here).
_UNDECODABLE_MODULES = frozenset(
    {"zlib", "gzip", "brotli", "brotlicffi", "compression.zstd", "backports.zstd"}
)
GUARD_REFUSAL = "address guard: "
"""How the address guard's refusals begin (``crawler/address_guard.py``), its reason after."""
# IgnoreRequest says why in its message only.
_IGNORE_REASONS = (
    ("max redirections reached", "too_many_redirects"),
    ("during decompression", "too_large_decompressed"),
    ("Forbidden by robots.txt", "robots_forbidden"),
    ("Retry-After:", "retry_after"),
)
_REASON_TEXTS = {
    "too_large": "larger than DOWNLOAD_MAXSIZE",
    "truncated": "the connection closed before the whole body arrived",
    "connection_lost": "the connection was lost",
    "undecodable": "the body does not decompress as its Content-Encoding says",
}


def fetch_error_reason(error: BaseException | None) -> tuple[str, str]:
    """The short reason of a failed download (``timeout``, ``dns``, ``too_large``,
    ``too_large_decompressed``, ``truncated``, ``too_many_redirects``, ...; else the
    exception's class name) and a one-line description of it."""
    if error is None:
        return "unknown", "unknown error"
    reason = type(error).__name__
    if isinstance(error, IgnoreRequest):
        message = str(error)
        reason = next((name for text, name in _IGNORE_REASONS if text in message), "ignored")
        if message.startswith(GUARD_REFUSAL):  # the address guard's: its reason
            reason = message.removeprefix(GUARD_REFUSAL)
    elif type(error).__module__ in _UNDECODABLE_MODULES:
        reason = "undecodable"
    elif isinstance(error, ValueError) and _BAD_URL_ERROR.search(str(error)):
        reason = "bad_redirect"
    else:
        for types, name in _FAILURE_REASONS:
            if isinstance(error, types):
                reason = name
                break
    description = " ".join(str(error).split()) or _REASON_TEXTS.get(reason, reason)
    inner = _inner_failures(error)
    if inner:  # Twisted's list of Failures, as their messages (not their repr)
        description = "; ".join(" ".join(f.getErrorMessage().split()) for f in inner)
        if reason == "connection_lost" and any(
            f.check(ValueError) or f.type.__name__ == "ParseError" for f in inner
        ):  # a status line or a header Twisted cannot read (Content-Length: abc)
            reason = "bad_response"
        elif any(f.check(TLSError) for f in inner):
            # the TLS handshake failed (no TLS spoken there, a certificate or protocol refused):
            # no connection was lost, none was made
            reason = "tls"
    elif isinstance(error, TLSError):
        reason = "tls"
    return reason, description


def _inner_failures(error: BaseException) -> list[Any]:
    """The Failures a download error of Twisted wraps (``ResponseFailed.reasons``), given or
    as the cause of Scrapy's own error; empty when there are none."""
    for candidate in (error, error.__cause__, error.__context__):
        reasons = getattr(candidate, "reasons", None)
        if isinstance(reasons, list) and reasons:
            return reasons
    return []
