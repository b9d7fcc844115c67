"""Sitemap discovery: the URLs (and ``lastmod`` dates) of XML sitemaps and sitemap indexes."""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urljoin

import lxml.etree
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap

from pipelines.dates import parse_datetime

if TYPE_CHECKING:
    from datetime import datetime

SitemapKind = Literal["urlset", "sitemapindex"]

_GZIP_MAGIC = b"\x1f\x8b"
# <loc> and </loc>, with or without a namespace prefix.
_LOC_TAG = re.compile(rb"<(/?)(?:[\w.-]+:)?loc\b")


class SitemapTooLarge(ValueError):
    """The decompressed sitemap is larger than the allowed size."""


@dataclass(frozen=True, kw_only=True)
class SitemapEntry:
    """One ``<url>`` of a urlset or one ``<sitemap>`` of an index."""

    url: str
    lastmod: str | None = None


@dataclass(frozen=True, kw_only=True)
class ParsedSitemap:
    """The entries of a sitemap; ``kind`` is ``None`` when the body is not a sitemap."""

    kind: SitemapKind | None
    entries: list[SitemapEntry]


def sitemap_body(body: bytes, *, max_size: int) -> bytes:
    """The XML of a sitemap response body, decompressing ``.xml.gz`` sitemaps.

    Raises :class:`SitemapTooLarge` when the decompressed size would exceed ``max_size``
    (so a gzip bomb never inflates) and ``OSError`` (``gzip.BadGzipFile``) on a corrupt or
    truncated gzip stream.
    """
    if not body.startswith(_GZIP_MAGIC):
        return body
    try:
        return gunzip(body, max_size=max_size)
    except (EOFError, zlib.error) as exc:
        raise gzip.BadGzipFile(f"corrupt gzip stream: {exc}") from None
    except ValueError as exc:  # scrapy's _DecompressionMaxSizeExceeded is a ValueError
        raise SitemapTooLarge(str(exc)) from None


def parse_sitemap(xml: bytes, sitemap_url: str) -> ParsedSitemap:
    """Parse a sitemap or sitemap index (entities are never resolved)."""
    if not xml.strip():
        return ParsedSitemap(kind=None, entries=[])
    try:
        sitemap = Sitemap(xml)
        kind: SitemapKind
        if sitemap.type == "urlset":
            kind = "urlset"
        elif sitemap.type == "sitemapindex":
            kind = "sitemapindex"
        else:
            return ParsedSitemap(kind=None, entries=[])
        entries = [
            SitemapEntry(url=urljoin(sitemap_url, entry["loc"]), lastmod=entry.get("lastmod"))
            for entry in sitemap
            if entry.get("loc")
        ]
    except (lxml.etree.XMLSyntaxError, StopIteration):
        return ParsedSitemap(kind=None, entries=[])
    if entries and _ends_inside_loc(xml):
        # A truncated sitemap: the parser recovered half of the last URL. Drop it.
        entries.pop()
    return ParsedSitemap(kind=kind, entries=entries)


def _ends_inside_loc(xml: bytes) -> bool:
    """Whether the document's last ``<loc>`` is never closed."""
    slashes = _LOC_TAG.findall(xml)  # b"/" for a closing tag, b"" for an opening one
    return bool(slashes) and slashes[-1] == b""


def lastmod_datetime(entry: SitemapEntry) -> datetime | None:
    """The entry's ``lastmod`` as a datetime, or ``None``."""
    return parse_datetime(entry.lastmod)
