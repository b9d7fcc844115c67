"""Extract stage: the page's main text and metadata, from the fetched bytes.

:func:`extract_article` is a plain function (bytes in, :class:`Extraction` out) that works
without Scrapy; :class:`ExtractPipeline` is the Scrapy component that calls it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self

import trafilatura
from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem, NotConfigured
from trafilatura.utils import load_html

from pipelines._charset import decode_html
from pipelines._lead import find_lead
from pipelines._structured import clean_space, page_metadata, unique_texts
from pipelines.dates import parse_datetime

if TYPE_CHECKING:
    from collections.abc import MutableMapping
    from datetime import datetime

    from lxml.html import HtmlElement
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector
    from trafilatura.settings import Document

logger = logging.getLogger(__name__)

# Content types that may hold an HTML page (a missing header is given the benefit of the doubt).
HTML_CONTENT_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain", ""})

_AUTHOR_SEPARATORS = re.compile(r"\s*(?:;|\||\s+and\s+|\s+und\s+|\s+et\s+|\s+y\s+|&)\s*")
_BY_PREFIX = re.compile(r"^(?:by|von|par|por|di|door|av|af)\s+", re.IGNORECASE)
_LEADING_NUL = re.compile(r"^[\s\x00]+")


class NotHtml(DropItem):
    """The response is not an HTML page (PDF, image, video, JSON, ...)."""


class EmptyPage(DropItem):
    """The response body is empty or not parseable as HTML."""


class NotAnArticle(DropItem):
    """The page has no article text (a home page, a listing, an error page)."""


class ExtractionError(ValueError):
    """Why a page gave no article; ``drop`` is the DropItem subclass to raise for it."""

    def __init__(self, drop: type[DropItem], message: str) -> None:
        super().__init__(message)
        self.drop = drop


@dataclass(kw_only=True)
class Extraction:
    """What extraction found on one page."""

    text: str
    """Main text, one paragraph per block, separated by blank lines."""
    title: str | None = None
    description: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    modified_at: datetime | None = None
    site_name: str | None = None
    tags: list[str] = field(default_factory=list)
    image_url: str | None = None
    canonical_url: str | None = None
    declared_language: str | None = None
    encoding: str | None = None


def media_type(content_type: str | None) -> str:
    """The lower-cased media type of a ``Content-Type`` header (``""`` when missing)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def split_authors(values: list[str]) -> list[str]:
    """Author names from bylines: split on ``;``, ``|``, ``and``/``&``, without ``By``."""
    names: dict[str, str] = {}
    for value in values:
        for part in _AUTHOR_SEPARATORS.split(value):
            name = clean_space(_BY_PREFIX.sub("", part.strip(" ,")))
            if name and len(name) <= 100 and name.casefold() not in names:
                names[name.casefold()] = name
    return list(names.values())


def _site_name(value: str | None) -> str | None:
    """trafilatura's site name, unless it is only a host name (it falls back to the URL's)."""
    name = clean_space(value)
    if name is None or (" " not in name and ("." in name or ":" in name)):
        return None
    return name


def _contains(paragraphs: list[str], snippet: str) -> bool:
    """Whether the start of ``snippet`` occurs in the paragraphs (white space and case aside)."""
    haystack = " ".join(" ".join(paragraphs).split()).casefold()
    return " ".join(snippet.split()).casefold()[:80] in haystack


def linked_share(tree: HtmlElement, paragraphs: list[str]) -> float:
    """The share of the text (in characters) made of paragraphs that are the text of a link
    on the page: near 1 for listings of headlines, near 0 for articles."""
    anchors = {" ".join(a.text_content().split()) for a in tree.iter("a")}
    anchors.discard("")
    total = sum(len(p) for p in paragraphs)
    linked = sum(len(p) for p in paragraphs if " ".join(p.lstrip("-•*· ").split()) in anchors)
    return linked / total if total else 0.0


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def extract_article(
    body: bytes,
    url: str,
    content_type: str | None = None,
    *,
    min_text_chars: int = 200,
    max_link_share: float = 0.5,
) -> Extraction:
    """Extract the article in an HTML page.

    Raises :class:`ExtractionError` (with the drop reason) when the body is not HTML, is
    empty, holds no article text of at least ``min_text_chars`` characters, or when more than
    ``max_link_share`` of that text is the text of links (home pages, section listings).
    """
    kind = media_type(content_type)
    if kind not in HTML_CONTENT_TYPES:
        raise ExtractionError(NotHtml, f"content type {kind!r} is not HTML")
    if not body.strip():
        raise ExtractionError(EmptyPage, "empty body")
    html, encoding = decode_html(body, content_type)
    if "\x00" in html[:1024]:
        raise ExtractionError(NotHtml, "binary content (NUL bytes) labelled as HTML")
    tree = load_html(_LEADING_NUL.sub("", html))
    if tree is None:
        raise ExtractionError(EmptyPage, "not parseable as HTML")

    meta = page_metadata(tree, url)
    document: Document | None = trafilatura.bare_extraction(  # type: ignore[assignment]
        tree,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
    )
    paragraphs = _paragraphs(document.text or "") if document is not None else []
    if paragraphs:
        lead = find_lead(tree, paragraphs[0], meta.description)
        if lead and not _contains(paragraphs, lead):
            paragraphs.insert(0, lead)
    text = "\n\n".join(paragraphs)
    if len(text) < min_text_chars:
        raise ExtractionError(
            NotAnArticle, f"{len(text)} characters of text, fewer than {min_text_chars}"
        )
    share = linked_share(tree, paragraphs)
    if share > max_link_share:
        raise ExtractionError(
            NotAnArticle, f"{share:.0%} of the text is link text: a listing, not an article"
        )

    fallback: dict[str, Any] = document.as_dict() if document is not None else {}
    authors = meta.authors or split_authors([fallback["author"]] if fallback.get("author") else [])
    tags = list(meta.tags)
    for tag in [*(fallback.get("categories") or []), *(fallback.get("tags") or [])]:
        tags.extend(part for part in str(tag).split(",") if part.strip())
    return Extraction(
        text=text,
        title=meta.title or clean_space(fallback.get("title")),
        description=meta.description or clean_space(fallback.get("description")),
        authors=split_authors(authors),
        published_at=parse_datetime(meta.published) or parse_datetime(fallback.get("date")),
        modified_at=parse_datetime(meta.modified),
        site_name=meta.site_name or _site_name(fallback.get("sitename")),
        tags=unique_texts(tags),
        image_url=meta.image_url or clean_space(fallback.get("image")),
        canonical_url=meta.canonical_url,
        declared_language=meta.language,
        encoding=encoding,
    )


def apply_extraction(record: MutableMapping[str, Any], result: Extraction) -> None:
    """Put an extraction into an item-like mapping; what a feed or sitemap said about the
    page (``listed_title``, ``listed_published_at``) fills the gaps."""
    record.update(
        {
            "text": result.text,
            "title": result.title or record.get("listed_title"),
            "description": result.description,
            "authors": result.authors,
            "published_at": result.published_at or record.get("listed_published_at"),
            "modified_at": result.modified_at,
            "site_name": result.site_name,
            "tags": result.tags,
            "image_url": result.image_url,
            "canonical_url": result.canonical_url,
            "declared_language": result.declared_language,
        }
    )


class ExtractPipeline:
    """Turns the fetched page into text and metadata; drops what is not an article.

    Settings: ``EXTRACT_ENABLED`` (default ``True``), ``EXTRACT_MIN_TEXT_CHARS`` (default
    ``200``): pages with less main text are dropped as :class:`NotAnArticle`.
    """

    DEFAULT_MIN_TEXT_CHARS = 200

    def __init__(self, stats: StatsCollector, *, min_text_chars: int) -> None:
        self.stats = stats
        self.min_text_chars = min_text_chars

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("EXTRACT_ENABLED", True):
            raise NotConfigured("EXTRACT_ENABLED is off")
        min_text_chars = settings.getint("EXTRACT_MIN_TEXT_CHARS", cls.DEFAULT_MIN_TEXT_CHARS)
        if min_text_chars < 1:
            raise NotConfigured(f"EXTRACT_MIN_TEXT_CHARS must be at least 1, not {min_text_chars}")
        # trafilatura logs its own view of every rejected page; this stage logs one clear
        # line per page instead.
        for name in ("trafilatura", "htmldate", "courlan"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        assert crawler.stats is not None
        return cls(crawler.stats, min_text_chars=min_text_chars)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        body: bytes = adapter.get("html") or b""
        adapter["html"] = None  # raw HTML never travels further
        url = adapter["url"]
        try:
            result = extract_article(
                body, url, adapter.get("content_type"), min_text_chars=self.min_text_chars
            )
        except ExtractionError as exc:
            reason = exc.drop.__name__
            self.stats.inc_value(f"news/extract/dropped/{reason}")
            raise exc.drop(f"{reason}: {exc} <{url}>") from None
        self.stats.inc_value("news/extract/articles")
        apply_extraction(adapter, result)
        return item
