"""A downloader middleware that keeps pages from steering the crawler where it should not go.

Links and redirects come from pages, which anyone can write. This guard refuses requests:

- to schemes other than ``http`` and ``https`` (``file:``, ``ftp:``, ``data:`` ...);
- redirected away from the ``allowed_domains`` of the source the request was made for;
- to loopback, private, link-local, shared, multicast or reserved addresses (``127.0.0.1``,
  ``10.x``, ``192.168.x``, ``169.254.169.254`` cloud metadata, ``[::1]``, ``fc00::/7`` ...)
  and to ``localhost`` names, unless the request goes to an origin (scheme, host and port) the
  crawl was given (its URLs, feeds, sitemaps, sites and sources): a crawl of an intranet site
  is allowed when asked for, a redirect from a page to another internal service is not.

Host names are checked as written; a public name that resolves to a private address is not
caught here.
"""

from __future__ import annotations

import ipaddress
import logging
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import IgnoreRequest, NotConfigured

from crawler.fetch_errors import GUARD_REFUSAL
from pipelines.setting import flag
from pipelines.stats import GUARD_REFUSED

if TYPE_CHECKING:
    from collections.abc import Iterable

    from scrapy import Request
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

ADDRESS_GUARD_ENABLED = flag(
    "ADDRESS_GUARD_ENABLED",
    True,
    "refuse requests to other schemes than HTTP(S) (`file:`, `ftp:`, ...) and to internal "
    "addresses (loopback, private, link-local, cloud metadata, `localhost`) whose origin the "
    "crawl was not given: a page or a redirect cannot steer the crawler into the local network "
    "(host names are checked as written, not resolved)",
)
ADDRESS_GUARD_ALLOW_PRIVATE = flag(
    "ADDRESS_GUARD_ALLOW_PRIVATE", False, "let links and redirects reach internal addresses too"
)
SETTINGS = (ADDRESS_GUARD_ENABLED, ADDRESS_GUARD_ALLOW_PRIVATE)

SCHEMES = frozenset({"http", "https"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class GuardRefused(IgnoreRequest):
    """The address guard refused the request."""


def origin(url: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of a URL, or ``None`` when it has no host."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        host, port = parts.hostname, parts.port
    except ValueError:  # a port that is not a number
        return None
    if not host:
        return None
    return scheme, host.lower().rstrip("."), port or _DEFAULT_PORTS.get(scheme, 0)


def is_internal_host(host: str) -> bool:
    """Whether ``host`` names this machine or a non-public network: an IP literal outside
    the public address space, or ``localhost`` (and its subdomains)."""
    host = host.lower().rstrip(".").strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global or address.is_multicast


def refusal(url: str, trusted: set[tuple[str, str, int]], *, allow_private: bool) -> str | None:
    """Why the guard refuses ``url`` (``"scheme"`` or ``"private_address"``), or ``None``."""
    where = origin(url)
    scheme = urlsplit(url).scheme.lower()
    if scheme not in SCHEMES or where is None:
        return "scheme"
    if not allow_private and where not in trusted and is_internal_host(where[1]):
        return "private_address"
    return None


class AddressGuardMiddleware:
    """Refuses requests to other schemes than HTTP(S), and to internal addresses the crawl
    was not given (see the module's documentation)."""

    def __init__(self, stats: StatsCollector, *, allow_private: bool) -> None:
        self.stats = stats
        self.allow_private = allow_private
        self.trusted: set[tuple[str, str, int]] = set()
        self.sources: dict[str, Any] = {}
        """The spider's sources by name (their ``allowed_domains``)."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not ADDRESS_GUARD_ENABLED.read(settings):
            raise NotConfigured("ADDRESS_GUARD_ENABLED is off")
        assert crawler.stats is not None
        guard = cls(crawler.stats, allow_private=ADDRESS_GUARD_ALLOW_PRIVATE.read(settings))
        crawler.signals.connect(guard.spider_opened, signal=signals.spider_opened)
        return guard

    def trust(self, urls: Iterable[str]) -> None:
        """Allow the origins of these URLs (the crawl's own inputs)."""
        self.trusted.update(found for found in map(origin, urls) if found is not None)

    def spider_opened(self, spider: Any) -> None:
        self.trust(getattr(spider, "given_urls", ()))
        self.sources = getattr(spider, "sources", {})

    def refusal_of(self, request: Request) -> str | None:
        """Why the guard refuses ``request`` (``"scheme"``, ``"private_address"``,
        ``"offsite_redirect"``), or ``None``."""
        reason = refusal(request.url, self.trusted, allow_private=self.allow_private)
        if reason is None and request.meta.get("redirect_urls"):
            # a redirect may not leave the site of the source it was made for
            source = self.sources.get(request.cb_kwargs.get("source") or "")
            if source is not None and not source.on_site(request.url):
                reason = "offsite_redirect"
        return reason

    def process_request(self, request: Request) -> None:
        reason = self.refusal_of(request)
        if reason is None:
            return
        self.stats.inc_value(GUARD_REFUSED.of(reason))
        came_from = request.meta.get("redirect_urls") or []
        via = f" (redirected from {came_from[0]})" if came_from else ""
        logger.warning("Refused %s: %s%s", reason.replace("_", " "), request.url, via)
        raise GuardRefused(f"{GUARD_REFUSAL}{reason}")


def guard_of(crawler: Crawler) -> AddressGuardMiddleware | None:
    """The crawl's address guard, when it runs."""
    engine = crawler.engine
    if engine is None:
        return None
    for middleware in engine.downloader.middleware.middlewares:
        if isinstance(middleware, AddressGuardMiddleware):
            return middleware
    return None
