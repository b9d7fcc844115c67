"""Sitemap discovery: the URLs of XML sitemaps and sitemap indexes, with their ``lastmod`` and
Google News (``news:``) metadata, of text sitemaps (one URL a line, as the sitemap protocol
allows), and the sitemaps a site lists in its robots.txt."""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal
from urllib.parse import urljoin

import lxml.etree
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import sitemap_urls_from_robots

from extraction.dates import parse_datetime
from extraction.urls import http_url

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

SitemapKind = Literal["urlset", "sitemapindex", "text"]

DEFAULT_SITEMAP_PATHS = ("/sitemap.xml", "/sitemap_index.xml", "/news-sitemap.xml")
"""Where sites usually put their sitemaps, tried when robots.txt names none."""

ROBOTS_MAX_SIZE = 500 * 1024
"""Only this much of a robots.txt is read, like Google (RFC 9309 asks for at least 500 KiB)."""

SITEMAP_MAX_SIZE = 50 * 1024 * 1024
"""The largest sitemap read (uncompressed): the sitemap protocol's limit of 50 MB; with
DOWNLOAD_MAXSIZE sized for article pages, 100,000 URLs would not fit."""

_GZIP_MAGIC = b"\x1f\x8b"
_UTF8_BOM = b"\xef\xbb\xbf"
# The sitemap is fed to the parser in pieces of this size; the tree never holds more than the
# entry being read.
_CHUNK_SIZE = 64 * 1024
_ENTRY_TAGS = frozenset({"url", "sitemap"})


class SitemapTooLarge(ValueError):
    """The decompressed sitemap is larger than the allowed size."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SitemapEntry:
    """One ``<url>`` of a urlset or one ``<sitemap>`` of an index.

    Slotted: a news site's sitemap can list a hundred thousand of them.
    """

    url: str
    lastmod: str | None = None
    news_title: str | None = None
    """``news:news/news:title`` of a Google News sitemap, whitespace collapsed."""
    news_published: str | None = None
    """``news:news/news:publication_date`` as written (see :func:`news_published_datetime`)."""
    news_language: str | None = None
    """``news:news/news:publication/news:language`` as written (an ISO 639 code)."""


@dataclass(frozen=True, kw_only=True)
class ParsedSitemap:
    """The entries of a sitemap; ``kind`` is ``None`` when the body is not a sitemap."""

    kind: SitemapKind | None
    entries: list[SitemapEntry]
    error: str | None = None
    """What is wrong with a sitemap that was read anyway: an XML error, a document cut short,
    entity references or a DTD (never resolved nor loaded)."""
    skipped: tuple[str, ...] = ()
    """The locations of entries left out because they cannot be fetched (another scheme than
    http(s), a malformed host or port: :func:`extraction.urls.url_problem`), as written."""


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
    """Parse a sitemap or sitemap index, Google News metadata included.

    Elements are matched by local name, whatever their namespace (or undeclared prefix).
    Entities are never resolved and nothing is fetched. A truncated sitemap gives the entries
    read before the break; a value cut by the break (a half URL, a half title) is left out.
    """
    reader = _SitemapReader(sitemap_url)
    errors: list[str] = []
    text = _text_sitemap(xml, sitemap_url)
    if text is not None:
        return text
    if xml and not xml.isspace():
        # Even with recover=True, libxml2 gives up on some documents (no root element at all,
        # for one); the entries completed before that are kept.
        try:
            reader.read(xml)
        except lxml.etree.XMLSyntaxError as exc:
            errors.append(f"XML error: {' '.join(str(exc).split())}")
    if reader.kind is None:
        return ParsedSitemap(kind=None, entries=[])
    errors.extend(reader.problems())
    return ParsedSitemap(
        kind=reader.kind,
        entries=reader.entries,
        error="; ".join(errors) or None,
        skipped=tuple(reader.skipped),
    )


def _text_sitemap(body: bytes, sitemap_url: str) -> ParsedSitemap | None:
    """A text sitemap: UTF-8, one absolute http(s) URL a line and nothing else (the sitemap
    protocol's third format; read as "Not a sitemap" before, its articles never asked for).
    ``None`` for any other body, an XML sitemap's among them."""
    body = body.removeprefix(_UTF8_BOM)
    if not body.lstrip()[:8].lower().startswith((b"http://", b"https://")):
        return None  # XML, HTML or anything else, told without decoding 50 MB
    try:
        lines = body.decode("utf-8").split()
    except UnicodeDecodeError:
        return None
    if not lines or not all(_TEXT_SITEMAP_LINE.match(line) for line in lines):
        return None
    entries, skipped = [], []
    for line in lines:
        url = http_url(line, sitemap_url)
        if url is None:
            skipped.append(line)
        else:
            entries.append(SitemapEntry(url=url))
    return ParsedSitemap(kind="text", entries=entries, skipped=tuple(skipped))


_TEXT_SITEMAP_LINE = re.compile(r"https?://[^\s<>\"]+\Z", re.IGNORECASE | re.ASCII)
"""A line of a text sitemap: an absolute http(s) URL (``split`` leaves no whitespace in it)."""


def lastmod_datetime(entry: SitemapEntry) -> datetime | None:
    """The entry's ``lastmod`` as a datetime, or ``None``."""
    return parse_datetime(entry.lastmod)


def news_published_datetime(entry: SitemapEntry) -> datetime | None:
    """The entry's ``news:publication_date`` as a datetime, or ``None``."""
    return parse_datetime(entry.news_published)


def sitemaps_from_robots(body: bytes, robots_url: str) -> list[str]:
    """The http(s) sitemap URLs of a robots.txt's ``Sitemap:`` lines, in order, without repeats.

    Relative URLs are resolved against ``robots_url``. Only the first :data:`ROBOTS_MAX_SIZE`
    bytes are read. A body that is not a robots.txt gives ``[]``: HTML (a soft 404) is
    recognised by its first character, binary data simply has no ``Sitemap:`` lines.
    """
    text = body[:ROBOTS_MAX_SIZE].removeprefix(_UTF8_BOM)
    if text.lstrip().startswith(b"<"):
        return []  # an HTML (or XML) page served as robots.txt, e.g. a soft 404
    lines = _robots_lines(text, truncated=len(body) > ROBOTS_MAX_SIZE)
    # Without a base URL, scrapy only decodes and strips the value; resolving it here lets a
    # malformed URL be skipped instead of ending the iteration with a ValueError. A "#"
    # starts a comment (RFC 9309), and an empty value would resolve to robots.txt itself.
    values = (value.partition("#")[0].strip() for value in sitemap_urls_from_robots(lines))
    urls = (http_url(value, robots_url) for value in values if _is_url_like(value))
    return _unique(url for url in urls if url)


def default_sitemap_urls(site_url: str) -> list[str]:
    """The :data:`DEFAULT_SITEMAP_PATHS` at the root of ``site_url``'s site (``[]`` unless
    ``site_url`` is an http(s) URL)."""
    root = http_url("/", site_url)
    if root is None:
        return []
    return [urljoin(root, path) for path in DEFAULT_SITEMAP_PATHS]


class _SitemapReader:
    """Builds the entries from lxml's parse events, clearing the tree behind it."""

    def __init__(self, sitemap_url: str) -> None:
        self.sitemap_url = sitemap_url
        self.kind: SitemapKind | None = None
        self.entries: list[SitemapEntry] = []
        self.skipped: list[str] = []
        """Locations that cannot be fetched."""
        self._root_seen = False
        self._open: list[lxml.etree._Element] = []
        # The elements still open when the data ran out: their text is cut (or made up by
        # the parser's recovery), so they are not read.
        self._cut: tuple[lxml.etree._Element, ...] = ()
        self._names: dict[str, str] = {}
        self._root: lxml.etree._Element | None = None
        self._unresolved = 0
        """Values left out because they held an entity reference."""

    def read(self, xml: bytes) -> None:
        """Parse ``xml``, piece by piece, until it ends or turns out not to be a sitemap.

        lxml's feed parser (which ``iterparse`` wraps) rather than ``iterparse`` itself, so that
        the events of the data can be told from those recovery invents at ``close()``.
        """
        parser = _sitemap_parser()
        # A bare "&" (a query string's, "?id=2&lang=en", unescaped, as many sitemaps have it)
        # is no XML: libxml2's recovery lost the entry and then took the sound rest of the
        # document for cut short. Read as "&amp;", as feed readers and browsers do.
        xml = _escape_bare_ampersands(xml)
        for start in range(0, len(xml), _CHUNK_SIZE):
            parser.feed(xml[start : start + _CHUNK_SIZE])
            if not self._handle(parser.read_events()):
                return
        self._cut = tuple(self._open)
        parser.close()
        self._handle(parser.read_events())

    def problems(self) -> list[str]:
        """What was wrong with the document, once read (empty for a sound sitemap)."""
        problems = []
        if self._cut:
            problems.append("the document ends inside an element: truncated")
        if self._root is not None:
            docinfo = self._root.getroottree().docinfo
            if docinfo.internalDTD is not None or docinfo.system_url:
                problems.append("a DOCTYPE, ignored (entities are never expanded nor DTDs loaded)")
        if self._unresolved:
            problems.append(f"{self._unresolved} values with entity references left out")
        return problems

    def _handle(self, events: Iterable[tuple[str, lxml.etree._Element]]) -> bool:
        """Read parse events; ``False`` once the root shows this is not a sitemap."""
        for event, element in events:
            if event == "start":
                if not self._root_seen and not self._read_root(element):
                    return False
                self._open.append(element)
                continue
            if self._open:
                self._open.pop()
            if self._name(element) in _ENTRY_TAGS:
                self._add_entry(element)
                _discard(element)
        return True

    def _read_root(self, root: lxml.etree._Element) -> bool:
        """Set the sitemap's kind from its root element; ``False`` if it is not a sitemap."""
        self._root_seen = True
        self._root = root
        name = self._name(root)
        if name == "urlset":
            self.kind = "urlset"
        elif name == "sitemapindex":
            self.kind = "sitemapindex"
        return self.kind is not None

    def _add_entry(self, element: lxml.etree._Element) -> None:
        """Append the entry of a ``<url>`` or ``<sitemap>`` element, if it has a usable loc."""
        fields = self._children(element)
        element = fields.get("loc")
        loc = self._text(element)
        if not loc:
            if element is None or not self._unreadable(element):
                self.skipped.append("")  # a <url> with no <loc>: counted, not silently gone
            return
        url = http_url(loc, self.sitemap_url)
        if url is None:
            self.skipped.append(loc)
            return
        news = self._children(fields.get("news"))
        publication = self._children(news.get("publication"))
        title = self._text(news.get("title"))
        self.entries.append(
            SitemapEntry(
                url=url,
                lastmod=self._text(fields.get("lastmod")),
                news_title=" ".join(title.split()) if title else None,
                news_published=self._text(news.get("publication_date")),
                news_language=self._text(publication.get("language")),
            )
        )

    def _children(self, element: lxml.etree._Element | None) -> dict[str, lxml.etree._Element]:
        """The child elements by local name (the first of each name)."""
        children: dict[str, lxml.etree._Element] = {}
        if element is not None:
            for child in element:
                children.setdefault(self._name(child), child)
        return children

    def _unreadable(self, element: lxml.etree._Element) -> bool:
        """Whether ``element`` was cut short or holds an entity reference: said once for the
        whole document (:meth:`problems`), not counted as an entry without a location."""
        return any(element is cut for cut in self._cut) or len(element) > 0

    def _text(self, element: lxml.etree._Element | None) -> str | None:
        """The stripped text of a leaf element; ``None`` if empty, cut, or holding an
        unresolved entity reference (its text would be only the part before it)."""
        if element is None or any(element is cut for cut in self._cut):
            return None
        if len(element):
            if any(not isinstance(child.tag, str) for child in element):
                self._unresolved += 1
            return None
        return (element.text or "").strip() or None

    def _name(self, element: lxml.etree._Element) -> str:
        """The element's local name (see :func:`_local_name`), looked up once per tag."""
        tag = element.tag
        if not isinstance(tag, str):
            return ""  # an entity reference
        name = self._names.get(tag)
        if name is None:
            name = self._names[tag] = _local_name(tag)
        return name


_BARE_AMPERSAND = re.compile(rb"&(?!(?:[A-Za-z][A-Za-z0-9._-]*|#[0-9]+|#[xX][0-9A-Fa-f]+);)")


_CDATA = re.compile(rb"(<!\[CDATA\[.*?\]\]>)", re.DOTALL)


def _escape_bare_ampersands(xml: bytes) -> bytes:
    """``xml`` with each ``&`` that starts no entity or character reference written ``&amp;``,
    outside CDATA sections (where an ``&`` is text already)."""
    if _BARE_AMPERSAND.search(xml) is None:
        return xml
    parts = _CDATA.split(xml)  # the CDATA sections at the odd places
    return b"".join(
        part if index % 2 else _BARE_AMPERSAND.sub(b"&amp;", part)
        for index, part in enumerate(parts)
    )


def _sitemap_parser() -> lxml.etree.XMLPullParser:
    """A feed parser with the safety settings of scrapy's ``Sitemap``.

    Entities are never expanded (no XXE, no billion laughs), nothing is fetched, and
    ``huge_tree`` stays off so that libxml2 keeps its limits on text size and depth.
    """
    return lxml.etree.XMLPullParser(
        events=("start", "end"),
        recover=True,
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
        remove_blank_text=True,
        collect_ids=False,
    )


def _local_name(tag: str) -> str:
    """The tag without its namespace, or its prefix when that was never declared (libxml2
    then keeps ``news:title`` as the tag)."""
    return tag.rpartition("}")[2].rpartition(":")[2]


def _discard(element: lxml.etree._Element) -> None:
    """Free an element that has been read, and the siblings read before it."""
    element.clear(keep_tail=False)
    parent = element.getparent()
    if parent is None:
        return
    while element.getprevious() is not None:
        del parent[0]


def _robots_lines(body: bytes, *, truncated: bool) -> bytes:
    """The body with one line ending (``\\n``) everywhere; a line cut by truncation is dropped."""
    if truncated:
        body = body[: max(body.rfind(b"\n"), body.rfind(b"\r")) + 1]
    return b"\n".join(body.splitlines())


def _is_url_like(value: str) -> bool:
    """Whether ``value`` is not empty and has none of the characters a URL never contains
    unescaped (whitespace, control characters, ``<``, ``>``, ``"``): markup, prose or binary
    data on a ``Sitemap:`` line."""
    return bool(value) and all(char.isprintable() and char not in ' <>"' for char in value)


def _unique(urls: Iterable[str]) -> list[str]:
    """The URLs in order, each once."""
    return list(dict.fromkeys(urls))
