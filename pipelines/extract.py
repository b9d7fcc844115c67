"""Extract stage: the page's main text and metadata, from the fetched bytes.

:func:`extract_article` is a plain function (bytes in, :class:`Extraction` out) that works
without Scrapy; :class:`ExtractPipeline` is the Scrapy component that calls it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlsplit

import trafilatura
from htmldate import find_date
from itemadapter import ItemAdapter
from lxml import etree
from lxml.etree import XPath
from scrapy.exceptions import DropItem, NotConfigured
from trafilatura.metadata import extract_sitename, extract_title
from trafilatura.utils import load_html

from pipelines._authors import clean_authors, without_outlet
from pipelines._boilerplate import (
    PageScan,
    remove_boilerplate,
    scan_page,
    within_article_body,
)
from pipelines._boilerplate import key as boilerplate_key
from pipelines._charset import decode_html
from pipelines._lead import find_lead
from pipelines._structured import PageMetadata, clean_space, is_json_ld, page_metadata
from pipelines._titles import clean_title
from pipelines.dates import first_date_in_text, parse_datetime
from pipelines.normalize import text_size
from pipelines.workers import PageOptions, PagePool, WorkerFailed, usable_cores

if TYPE_CHECKING:
    from collections.abc import MutableMapping
    from datetime import datetime

    from lxml.html import HtmlElement
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector
    from trafilatura.settings import Document

logger = logging.getLogger(__name__)

# Linked headlines that, where listings live, make a page a listing.
MIN_LISTING_HEADLINES = 3
# URL paths and queries of listings: tag, topic, category, section, author, search, archive,
# pagination (not "?p=": WordPress articles use it).
_LISTING_URL = re.compile(
    r"/(?:tags?|topics?|themen|temas?|category|categories|categorie|categoria|kategorie|"
    r"section|sections|author|authors|autor|auteur|search|suche|buscar|recherche|archive|"
    r"archiv|page)(?:/|$)|[?&](?:q|s|query|search|page)=",
    re.IGNORECASE,
)
# Text nodes a reader sees, and how much of them is searched for a date.
_VISIBLE_TEXT = XPath(
    "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript)]"
)
_DATE_SEARCH_CHARS = 20_000
# trafilatura's full mode runs too when its fast mode gives fewer characters than this, or
# less than this share of the text of the page's <p> elements.
FULL_EXTRACTION_BELOW_CHARS = 300
FULL_EXTRACTION_BELOW_SHARE = 0.4
# Content types that may hold an HTML page (a missing header is given the benefit of the doubt).
HTML_CONTENT_TYPES = frozenset({"text/html", "application/xhtml+xml", "text/plain", ""})

_LEADING_NUL = re.compile(r"^[\s\x00]+")
# What drop_inert_elements renames the scripts it removes to (not an HTML element name).
_INERT = "inert-script"
# Control characters no text holds (tab, line feed, form feed, carriage return excepted).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")
BINARY_SAMPLE_CHARS = 4096
BINARY_CONTROL_SHARE = 0.05
"""A page whose first ``BINARY_SAMPLE_CHARS`` characters are more than this share control
characters is binary data (random bytes hold about 11%), not HTML with a stray NUL or
separator characters in an attribute (real pages have those)."""


def looks_binary(text: str) -> bool:
    """Whether decoded page text is binary data (images, archives) rather than markup."""
    sample = min(len(text), BINARY_SAMPLE_CHARS)
    controls = len(_CONTROL.findall(text, 0, BINARY_SAMPLE_CHARS))
    return controls > max(16, BINARY_CONTROL_SHARE * sample)


class NotHtml(DropItem):
    """The response is not an HTML page (PDF, image, video, JSON, ...)."""


class EmptyPage(DropItem):
    """The response body is empty or not parseable as HTML."""


class NotAnArticle(DropItem):
    """The page has too little article text (an error page, a video or photo page)."""


class ListingPage(NotAnArticle):
    """The page lists other pages (home page, section, tag, author or search page)."""


class ExtractionTimeout(DropItem):
    """Extracting the page took longer than ``EXTRACT_TIMEOUT`` (its worker was replaced)."""


class WorkerCrashed(DropItem):
    """The worker process extracting the page died (it was replaced)."""


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


def listing_reason(
    paragraphs: list[str],
    scan: PageScan,
    url: str,
    meta: PageMetadata,
    *,
    max_link_share: float = 0.5,
) -> str | None:
    """Why the page is a listing (home, section, tag, author, search page), or ``None``.

    A listing's text is mostly headlines linking to other pages. Where it shows excerpts,
    trafilatura keeps the excerpts and drops the headlines; such a page is a listing when it
    is where listings live (the site's root, a ``/tag/``, ``/category/``, ``/search`` or
    ``?page=`` URL, or JSON-LD ``CollectionPage``/``SearchResultsPage``), does not declare
    itself an article, and shows several linked headlines.
    """
    share = linked_share(paragraphs, scan)
    if share > max_link_share:
        return f"{share:.0%} of the text is link text: a listing, not an article"
    if meta.is_article or scan.linked_headings < MIN_LISTING_HEADLINES:
        return None
    parts = urlsplit(url)
    if (
        meta.is_listing
        or parts.path.strip("/") in ("", "index.html", "index.php", "index.htm")
        or _LISTING_URL.search(f"{parts.path}?{parts.query}")
    ):
        return f"{scan.linked_headings} linked headlines where listings live: a listing"
    return None


def linked_share(paragraphs: list[str], scan: PageScan) -> float:
    """The share of the text (in characters) made of paragraphs that are the text of a link
    on the page: near 1 for listings of headlines, near 0 for articles."""
    total = sum(len(p) for p in paragraphs)
    linked = sum(len(p) for p in paragraphs if boilerplate_key(p) in scan.link_texts)
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

    The page is parsed once. Structured data (JSON-LD, OpenGraph, meta tags) gives the
    metadata; trafilatura's heuristics are asked only for what it lacks. trafilatura gives
    the main text, which is then cleaned of the boilerplate it keeps (see ``_boilerplate``)
    and completed with the lead it drops (see ``_lead``).

    Raises :class:`ExtractionError` (with the drop reason) when the body is not HTML, is
    empty, is a listing (more than ``max_link_share`` of its text is link text, or it declares
    itself one), or holds fewer than ``min_text_chars`` characters of article text (see
    :func:`pipelines.normalize.text_size`: a Chinese character counts three).
    """
    kind = media_type(content_type)
    if kind not in HTML_CONTENT_TYPES:
        raise ExtractionError(NotHtml, f"content type {kind!r} is not HTML")
    if not body.strip():
        raise ExtractionError(EmptyPage, "empty body")
    html, encoding = decode_html(body, content_type)
    html = _LEADING_NUL.sub("", html)
    if looks_binary(html):
        raise ExtractionError(NotHtml, "binary content (control characters) labelled as HTML")
    tree = load_html(html)
    if tree is None:
        raise ExtractionError(EmptyPage, "not parseable as HTML")
    drop_inert_elements(tree)

    meta = page_metadata(tree, url)
    scan = scan_page(tree)
    headings = [heading.text_content() for heading in tree.iter("h1")]
    title = meta.title or extract_title(tree)
    site_name = meta.site_name or _site_name(extract_sitename(tree))
    # day-first dates (05/10/2022 = 5 October) everywhere but in English
    dayfirst = meta.language != "en"
    published = parse_datetime(meta.published, dayfirst=dayfirst)
    if published is None:
        published = _searched_date(tree, url)
    # what is read outside the main text has been read
    drop_asides_and_footers(tree)
    extracted = main_text(tree, url)
    # a listing is judged on what trafilatura kept, before teasers are removed as boilerplate
    listing = listing_reason(extracted, scan, url, meta, max_link_share=max_link_share)
    if listing:
        raise ExtractionError(ListingPage, listing)
    paragraphs = within_article_body(
        remove_boilerplate(extracted, scan, [title or "", *headings, *_titles(tree)]),
        meta.article_body,
    )
    if paragraphs:
        lead = find_lead(tree, paragraphs[0], meta.description)
        if lead and not _contains(paragraphs, lead):
            paragraphs.insert(0, lead)
    text = "\n\n".join(paragraphs)
    if text_size(text) < min_text_chars:
        raise ExtractionError(
            NotAnArticle, f"{text_size(text)} characters of text, fewer than {min_text_chars}"
        )

    host = urlsplit(meta.canonical_url or url).hostname
    # a person named in the page beats the outlet named as author in structured data
    authors = clean_authors(meta.authors)
    if not authors:
        # no byline in structured data: the page's byline markup, then the outlet
        authors = clean_authors(scan.byline) or clean_authors(meta.organization_authors)
    authors = without_outlet(authors, [site_name, *meta.organization_authors])
    return Extraction(
        text=text,
        title=clean_title(title, site_name=site_name, host=host, headings=headings),
        description=meta.description,
        authors=authors,
        published_at=published,
        modified_at=parse_datetime(meta.modified, dayfirst=dayfirst),
        site_name=site_name,
        tags=meta.tags,
        image_url=meta.image_url,
        canonical_url=meta.canonical_url,
        declared_language=meta.language,
        encoding=encoding,
    )


def drop_inert_elements(tree: HtmlElement) -> None:
    """Remove the scripts (JSON-LD excepted), styles and SVG drawings of a parsed page, keeping
    the text that follows each.

    No reader sees their content, and everything that reads the tree skips them (trafilatura
    removes them too), but they can be most of a page's bytes and nodes: trafilatura copies and
    searches the whole tree several times per page, so they cost at every pass. JSON-LD stays
    for the structured data (and trafilatura's baseline, which reads ``articleBody``).
    """
    for script in tree.iter("script"):
        if not is_json_ld(script):
            script.tag = _INERT
    etree.strip_elements(tree, _INERT, "style", "svg", with_tail=False)


def drop_asides_and_footers(tree: HtmlElement) -> None:
    """Remove the ``<aside>`` and ``<footer>`` elements of a parsed page, keeping the text that
    follows each.

    trafilatura removes them before it extracts the main text and before it measures the
    page's text (for its recall retry), but only after copying and searching the whole tree
    several times: removed once beforehand, they cost nothing at those passes. Everything else
    read from the page (structured data, byline, title, site name, date) is read before.
    """
    etree.strip_elements(tree, "aside", "footer", with_tail=False)


def _titles(tree: HtmlElement) -> list[str]:
    return [element.text_content() for element in tree.iterfind(".//title")]


def _searched_date(tree: HtmlElement, url: str) -> datetime | None:
    """A publication date for a page whose metadata names none: htmldate on the page's
    markup and URL, else the first year-first date in the page's visible text.

    htmldate's own text search (``extensive_search``) costs about 20 ms a page and turns
    copyright years into 1 January; on the corpus the first complete year-first date of the
    text was right on every page that had one (``bench/RESULTS.md``), at a fraction of the cost.
    """
    found = parse_datetime(find_date(tree, url=url, extensive_search=False, original_date=True))
    if found is not None:
        return found
    text = " ".join(_VISIBLE_TEXT(tree))[:_DATE_SEARCH_CHARS]
    return first_date_in_text(text)


def main_text(tree: HtmlElement, url: str) -> list[str]:
    """The paragraphs of trafilatura's main text.

    trafilatura's fast mode first. Its full mode (which also runs readability and jusText and
    keeps the best) costs half as much again, and on the corpus it only helps where the fast
    text is very short, or much shorter than the page's paragraphs: only then does it run
    (same body F1 as always running it, see ``bench/RESULTS.md``).
    """
    paragraphs = _trafilatura_paragraphs(tree, url, fast=True)
    size = sum(len(p) for p in paragraphs)
    if size < FULL_EXTRACTION_BELOW_CHARS or size < FULL_EXTRACTION_BELOW_SHARE * sum(
        len(p.text_content().strip()) for p in tree.iter("p")
    ):
        paragraphs = _trafilatura_paragraphs(tree, url, fast=False)
    return paragraphs


def _trafilatura_paragraphs(tree: HtmlElement, url: str, *, fast: bool) -> list[str]:
    document: Document | None = trafilatura.bare_extraction(  # type: ignore[assignment]
        tree,
        url=url,
        fast=fast,
        with_metadata=False,
        include_comments=False,
        include_tables=True,
        deduplicate=False,
    )
    return _paragraphs(document.text or "") if document is not None else []


def apply_extraction(record: MutableMapping[str, Any], result: Extraction) -> None:
    """Put an extraction into an item-like mapping; what a feed or sitemap said about the
    page (``listed_title``, ``listed_published_at``, ``listed_modified_at``) fills the gaps."""
    record.update(
        {
            "text": result.text,
            "title": result.title or record.get("listed_title"),
            "description": result.description,
            "authors": result.authors,
            "published_at": result.published_at or record.get("listed_published_at"),
            "modified_at": result.modified_at or record.get("listed_modified_at"),
            "site_name": result.site_name,
            "tags": result.tags,
            "image_url": result.image_url,
            "canonical_url": result.canonical_url,
            "declared_language": result.declared_language,
        }
    )


DROP_REASONS: dict[str, type[DropItem]] = {
    drop.__name__: drop for drop in (NotHtml, EmptyPage, NotAnArticle, ListingPage)
}


class ExtractPipeline:
    """Turns the fetched page into text and metadata; drops what is not an article.

    The work runs in worker processes (:class:`pipelines.workers.PagePool`), awaited, so the
    crawl keeps downloading meanwhile. Settings: ``EXTRACT_ENABLED`` (default ``True``),
    ``EXTRACT_MIN_TEXT_CHARS`` (``200``: pages with less main text are dropped as
    :class:`NotAnArticle`), ``EXTRACT_WORKERS`` (``None``: one per usable core; ``0`` runs
    inline, in the crawl process), ``EXTRACT_TIMEOUT`` (``60`` seconds for one page, else it
    is dropped as :class:`ExtractionTimeout`), ``EXTRACT_WORKER_MAX_TASKS`` (``500``: pages
    after which a worker is replaced, which frees trafilatura's caches),
    ``EXTRACT_MAX_PENDING`` (``None``: twice the workers; pages handed to the workers at once).
    The worker also detects the language and signs the text for the later stages, with their
    settings (``LANGUAGE_*``, ``DEDUPE_NEAR_ENABLED``).
    """

    DEFAULT_MIN_TEXT_CHARS = 200
    DEFAULT_TIMEOUT = 60.0
    DEFAULT_WORKER_MAX_TASKS = 500

    def __init__(
        self,
        stats: StatsCollector,
        *,
        min_text_chars: int,
        keep_html: bool = False,
        pool: PagePool | None = None,
        options: PageOptions | None = None,
    ) -> None:
        self.stats = stats
        self.min_text_chars = min_text_chars
        self.keep_html = keep_html
        """Leave the page on the item, for the HTML archive (``HTML_ARCHIVE_ENABLED``)."""
        self.pool = pool or PagePool(0)
        self.options = options or PageOptions(min_text_chars=min_text_chars)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("EXTRACT_ENABLED", True):
            raise NotConfigured("EXTRACT_ENABLED is off")
        min_text_chars = settings.getint("EXTRACT_MIN_TEXT_CHARS", cls.DEFAULT_MIN_TEXT_CHARS)
        if min_text_chars < 1:
            raise NotConfigured(f"EXTRACT_MIN_TEXT_CHARS must be at least 1, not {min_text_chars}")
        workers_setting = settings.get("EXTRACT_WORKERS")
        workers = usable_cores() if workers_setting in (None, "") else int(workers_setting)
        timeout = settings.getfloat("EXTRACT_TIMEOUT", cls.DEFAULT_TIMEOUT)
        max_tasks = settings.getint("EXTRACT_WORKER_MAX_TASKS", cls.DEFAULT_WORKER_MAX_TASKS)
        pending = settings.get("EXTRACT_MAX_PENDING")
        max_pending = int(pending) if pending not in (None, "") else None
        if workers < 0 or timeout <= 0 or max_tasks < 1 or (max_pending or 1) < 1:
            raise NotConfigured(
                "EXTRACT_WORKERS must be at least 0, EXTRACT_TIMEOUT positive, and "
                "EXTRACT_WORKER_MAX_TASKS and EXTRACT_MAX_PENDING at least 1 (got "
                f"{workers}, {timeout}, {max_tasks}, {max_pending})"
            )
        options = PageOptions(
            min_text_chars=min_text_chars,
            language=settings.getbool("LANGUAGE_ENABLED", True),
            language_seed=settings.getint("LANGUAGE_SEED", 0),
            language_sample_chars=settings.getint("LANGUAGE_SAMPLE_CHARS", 600),
            signature=settings.getbool("DEDUPE_ENABLED", True)
            and settings.getbool("DEDUPE_NEAR_ENABLED", True),
        )
        pool = PagePool(workers, timeout=timeout, max_tasks=max_tasks, max_pending=max_pending)
        # trafilatura logs its own view of every rejected page; this stage logs one clear
        # line per page instead.
        for name in ("trafilatura", "htmldate", "courlan"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
        assert crawler.stats is not None
        return cls(
            crawler.stats,
            min_text_chars=min_text_chars,
            keep_html=settings.getbool("HTML_ARCHIVE_ENABLED", False),
            pool=pool,
            options=options,
        )

    def open_spider(self) -> None:
        self.pool.start()
        if self.pool.workers:
            logger.info("Extracting in %d worker processes", self.pool.workers)

    def close_spider(self) -> None:
        self.pool.close()

    async def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        body: bytes = adapter.get("html") or b""
        if not self.keep_html:
            adapter["html"] = None  # raw HTML travels no further
        url = adapter["url"]
        try:
            outcome = await self.pool.run(body, url, adapter.get("content_type"), self.options)
        except WorkerFailed as exc:
            drop = ExtractionTimeout if exc.timed_out else WorkerCrashed
            reason = drop.__name__
            self.stats.inc_value(f"news/extract/dropped/{reason}")
            logger.warning("Extraction failed: %s <%s>", exc, url)
            raise drop(f"{reason}: {exc} <{url}>") from None
        if "dropped" in outcome:
            reason = outcome["dropped"]
            self.stats.inc_value(f"news/extract/dropped/{reason}")
            raise DROP_REASONS[reason](f"{reason}: {outcome['message']} <{url}>")
        self.stats.inc_value("news/extract/articles")
        apply_extraction(adapter, Extraction(**outcome["extraction"]))
        adapter["precomputed"] = outcome["precomputed"]
        return item
