"""A DNS resolver for crawls under test: names ending in ``.test`` (RFC 2606) are 127.0.0.1.

Lets a test crawl several host names (a site's ``www.`` and other subdomains) served by one
local server: ``-s TWISTED_DNS_RESOLVER=tests.local_names.LocalNamesResolver``.
"""

from __future__ import annotations

from typing import Any

from scrapy.resolver import CachingThreadedResolver
from twisted.internet import defer


class LocalNamesResolver(CachingThreadedResolver):
    """Scrapy's resolver, with every ``*.test`` name at 127.0.0.1."""

    def getHostByName(self, name: str, timeout: Any = ()) -> Any:  # noqa: N802 (Twisted's name)
        if name == "test" or name.endswith(".test"):
            return defer.succeed("127.0.0.1")
        return super().getHostByName(name, timeout)
