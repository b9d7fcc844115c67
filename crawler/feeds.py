"""Feed discovery: the article links (and their dates) of RSS 2.0, RSS 1.0, Atom and JSON Feed
feeds, and the feeds a web page announces (``<link rel="alternate"
type="application/rss+xml">``)."""

from __future__ import annotations

import calendar
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from crawler.links import base_url_of, parse_page
from extraction.urls import http_url

if TYPE_CHECKING:
    import time

    from lxml.html import HtmlElement

FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+json"}
)
"""The ``type`` of a ``<link rel="alternate">`` to a feed (compared in lower case); not
``application/json``, which WordPress gives every page for its REST API's view of it."""
JSON_FEED = "jsonfeed.org/version/"
"""What a JSON Feed's ``version`` holds after its scheme (``https://jsonfeed.org/version/1.1``)."""


@dataclass(frozen=True, kw_only=True)
class FeedEntry:
    """One entry of a feed."""

    url: str
    title: str | None = None
    published_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class ParsedFeed:
    """The entries of a feed, and whether the document was a feed at all."""

    entries: list[FeedEntry]
    is_feed: bool
    """False when the body is neither RSS nor Atom (HTML, garbage, empty)."""
    error: str | None = None
    """The parser's complaint about a malformed document, if any."""
    skipped: tuple[str, ...] = ()
    """The links of entries left out because they cannot be fetched (another scheme than
    http(s), a malformed host or port: :func:`extraction.urls.url_problem`), as written."""


def _to_datetime(value: time.struct_time | None) -> datetime | None:
    if value is None:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), tz=UTC)
    except (OverflowError, ValueError, OSError):
        return None


def _entry_link(entry: Any) -> str | None:
    for link in entry.get("links") or ():
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return str(link["href"])
    link = entry.get("link")
    # feedparser copies a <guid>/<id> into "link" when there is no link; such an id is only a
    # URL when it says so (checked below).
    if link and not (entry.get("guidislink") and link == entry.get("id")):
        return str(link)
    entry_id = entry.get("id") or ""
    return entry_id if entry_id.startswith(("http://", "https://")) else None


def parse_feed(body: bytes, feed_url: str) -> ParsedFeed:
    """Parse a feed document; relative entry links are resolved against ``feed_url``.

    Malformed feeds are parsed as far as possible (``error`` says what was wrong); entries
    without a link are skipped.
    """
    if (json_feed := _json_feed(body, feed_url)) is not None:
        return json_feed
    # imported by the first feed read (~15 ms of the start of a crawl that reads none)
    import feedparser  # noqa: PLC0415

    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    error = str(parsed.get("bozo_exception")) if parsed.get("bozo") else None
    entries: list[FeedEntry] = []
    skipped: list[str] = []
    for entry in parsed.entries:
        link = _entry_link(entry)
        if not link:
            if error is None:  # an item with no link (nor a permalink guid): counted; in a
                skipped.append("")  # malformed feed, the one cut short is said with the error
            continue
        url = http_url(link, feed_url)
        if url is None:
            skipped.append(link)
            continue
        title = (entry.get("title") or "").strip() or None
        published = _to_datetime(entry.get("published_parsed") or entry.get("updated_parsed"))
        entries.append(FeedEntry(url=url, title=title, published_at=published))
    is_feed = bool(parsed.get("version")) or bool(entries) or bool(skipped)
    return ParsedFeed(entries=entries, is_feed=is_feed, error=error, skipped=tuple(skipped))


def _json_feed(body: bytes, feed_url: str) -> ParsedFeed | None:
    """A JSON Feed's entries (``items``: ``url``, ``title``, ``date_published``); ``None`` for
    a body that is no JSON Feed (feedparser 6.0 reads none: such a feed was "Not a feed")."""
    if body.lstrip()[:1] != b"{":
        return None
    try:
        document = json.loads(body)
    except ValueError:  # not JSON, or not UTF-8 (a JSON Feed is)
        return None
    version = document.get("version") if isinstance(document, dict) else None
    if not isinstance(version, str) or not version.split("://", 1)[-1].startswith(JSON_FEED):
        return None
    items = document.get("items")
    entries: list[FeedEntry] = []
    skipped: list[str] = []
    for item in items if isinstance(items, list) else ():
        link = item.get("url") if isinstance(item, dict) else None
        url = http_url(link, feed_url) if isinstance(link, str) else None
        if url is None:
            skipped.append(link if isinstance(link, str) else "")
            continue
        title = item.get("title")
        title = title.strip() or None if isinstance(title, str) else None
        entries.append(
            FeedEntry(url=url, title=title, published_at=_iso_datetime(item.get("date_published")))
        )
    error = None if isinstance(items, list) else "no list of items"
    return ParsedFeed(entries=entries, is_feed=True, error=error, skipped=tuple(skipped))


def _iso_datetime(value: Any) -> datetime | None:
    """An RFC 3339 time (a JSON Feed's dates) in UTC; ``None`` for anything else, and for a
    time without its offset."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return parsed.astimezone(UTC) if parsed.tzinfo is not None else None


def feed_links(html: bytes | str | HtmlElement, page_url: str) -> list[str]:
    """The XML feeds a page announces: the http(s) URLs of its ``<link rel="alternate">``
    elements whose ``type`` is in :data:`FEED_TYPES`, in document order, without repeats.

    Relative hrefs are resolved against the page's ``<base href>`` if any, else ``page_url``.
    Bytes are decoded as the page declares (BOM, ``<meta charset>``), else as UTF-8; give the
    response's ``text`` when the HTTP header may name another charset. Broken HTML is read as
    far as libxml2's HTML parser recovers it; empty or binary input gives ``[]``.
    """
    root = parse_page(html)
    if root is None:
        return []
    base_url = base_url_of(root, page_url)
    urls = (
        http_url(link.get("href"), base_url)
        for link in root.iter("link")
        if _is_feed_link(link.get("rel"), link.get("type"))
    )
    return list(dict.fromkeys(url for url in urls if url))


def _is_feed_link(rel: str | None, content_type: str | None) -> bool:
    """Whether ``rel`` has the ``alternate`` token and ``type`` names an XML feed."""
    if not rel or not content_type:
        return False
    media_type = content_type.partition(";")[0].strip().lower()
    return media_type in FEED_TYPES and "alternate" in rel.lower().split()
