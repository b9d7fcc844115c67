"""Feed discovery: the article links (and their dates) of RSS 2.0, RSS 1.0 and Atom feeds."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin

import feedparser

if TYPE_CHECKING:
    import time


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
    parsed = feedparser.parse(body, sanitize_html=False, resolve_relative_uris=False)
    error = str(parsed.get("bozo_exception")) if parsed.get("bozo") else None
    entries: list[FeedEntry] = []
    for entry in parsed.entries:
        link = _entry_link(entry)
        if not link:
            continue
        title = (entry.get("title") or "").strip() or None
        published = _to_datetime(entry.get("published_parsed") or entry.get("updated_parsed"))
        entries.append(
            FeedEntry(url=urljoin(feed_url, link.strip()), title=title, published_at=published)
        )
    is_feed = bool(parsed.get("version")) or bool(entries)
    return ParsedFeed(entries=entries, is_feed=is_feed, error=error)
