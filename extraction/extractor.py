"""The extractor: an HTML page's main text and metadata, from the fetched bytes.

:func:`extract_article` parses the page once, reads its structured data, asks trafilatura for
the main text, cleans it of the boilerplate trafilatura keeps and completes it with the lead it
drops; :class:`ExtractionError` says why a page is no article.

trafilatura and htmldate are imported when the first page is extracted (or by
:func:`load_libraries`), not with this module: the crawl process imports it for its names and
constants, and its extraction workers, which import it for its work, load them before they fork
(``extraction.worker_preload``). Imported with it, they cost every crawl's start about 0.1 s.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from lxml import etree
from lxml.etree import XPath

from extraction.authors import (
    MAX_AUTHORS,
    Credits,
    credits_of,
    host_label,
    is_outlet,
    organizations_named,
    outlet_keys,
)
from extraction.boilerplate import (
    PageScan,
    remove_boilerplate,
    scan_page,
    split_comment_section,
    within_article_body,
    without_closing_headings,
)
from extraction.bylines import (
    TextBylines,
    closing_names,
    markup_in_chinese,
    name_lines,
    paragraph_bylines,
    text_bylines,
    writes_chinese,
)
from extraction.charset import decode_html
from extraction.comments import clean_comments
from extraction.dates import first_date_in_text, parse_datetime
from extraction.interstitials import Wall, wall_in_text, wall_said
from extraction.lead import find_lead
from extraction.listings import (
    SHORT_TEXT_FACTOR,
    article_paragraphs,
    listing_reason,
    teasers_on,
    under_headline,
)
from extraction.markup import bound_costly_shapes, load_html
from extraction.second_opinion import has_doubtful_end, readability_text, trim_ends
from extraction.structured import (
    MAX_SITE_NAME_CHARS,
    PageMetadata,
    candidate,
    clean_space,
    is_json_ld,
    page_metadata,
    title_candidate,
    unique_texts,
)
from extraction.tables import unwrap_layout_tables
from extraction.text import comparable, text_size
from extraction.titles import clean_title

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from lxml.html import HtmlElement
    from trafilatura.settings import Document

logger = logging.getLogger(__name__)


@cache
def load_libraries() -> None:
    """Import the extraction libraries this module uses when it works (see above).

    Importing trafilatura sets htmldate's log level to WARNING: the level it had before (set
    by whoever runs the extraction: the crawl quiets both) is put back."""
    htmldate_logger = logging.getLogger("htmldate")
    level = htmldate_logger.level
    import htmldate  # noqa: F401, PLC0415
    import trafilatura.metadata  # noqa: PLC0415
    import trafilatura.utils  # noqa: PLC0415

    htmldate_logger.setLevel(level)
    keeps = trafilatura.utils.return_printables_and_spaces
    if not getattr(keeps, "keeps_joiners", False):
        trafilatura.utils.return_printables_and_spaces = _keeping_joiners(keeps)  # type: ignore[assignment]


_JOINERS = frozenset("\u200c\u200d")
# The white space str.isspace() takes that XML (and so lxml) refuses: vertical tab, form feed
# and the information separators.
_XML_INVALID_SPACE = frozenset("\x0b\x0c\x1c\x1d\x1e\x1f")


def _keeping_joiners(keeps: Callable[[str], str]) -> Callable[[str], str]:
    """trafilatura's filter of the characters its text keeps (those ``str.isprintable()``
    takes, and white space), keeping the zero-width non-joiner and joiner too: without them
    Persian words run together (``می‌خواهد`` became ``میخواهد``), Indic conjuncts change and
    emoji sequences fall apart (a family became three people). Its text has every other
    character it had, but for the white space lxml refuses (``_XML_INVALID_SPACE``, which
    libxml2 leaves in the tree when a page writes it as a reference: ``&#x1f;``), which becomes
    a space: trafilatura filters the text it writes into its trees with this, and kept them
    (``ValueError: All strings must be XML compatible``, out of ``extract_title``)."""

    @lru_cache(maxsize=2**14)
    def keeping(char: str) -> str:
        if char in _XML_INVALID_SPACE:
            return " "
        return char if char in _JOINERS else keeps(char)

    keeping.keeps_joiners = True  # type: ignore[attr-defined]
    return keeping


MIN_TEXT_CHARS = 200
"""Pages with less main text than this (:func:`extraction.text.text_size`) are no article."""
_BODY_BLOCKS = ("p", "h2", "h3", "h4", "li", "blockquote")
# Text nodes a reader sees, and how much of them is searched for a date.
_VISIBLE_TEXT = XPath(
    "//body//text()[not(ancestor::script or ancestor::style or ancestor::noscript)]"
)
_DATE_SEARCH_CHARS = 20_000
# trafilatura's full mode runs too when its fast mode gives fewer characters than this, or
# less than this share of the text of the page's <p> elements.
FULL_EXTRACTION_BELOW_CHARS = 300
FULL_EXTRACTION_BELOW_SHARE = 0.4
# ... or less than this share of the page's running text wherever it stands (prose_size).
FULL_EXTRACTION_BELOW_PROSE_SHARE = 0.3
PROSE_MIN_CHARS = 80
# Long text nodes first (lxml's XPath is fast at that); the few found are then checked for
# their place in Python, three times faster than an XPath of ancestor tests.
_LONG_TEXT = XPath(f"//body//text()[string-length(.) >= {PROSE_MIN_CHARS}]")
_NOT_PROSE = frozenset({"a", "li", "option", "select", "nav", "header"})
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


REASONS = {
    "NotHtml": "the response is not an HTML page (PDF, image, video, JSON, ...)",
    "EmptyPage": "the response body is empty or not parseable as HTML",
    "NotAnArticle": "the page has too little article text (a video or photo page, an error page "
    "that does not say it is one)",
    "ListingPage": "the page lists other pages (home page, section, tag, author or search page)",
    "ErrorPage": "the page says it is an error page or a wall, not an article (page not found, "
    "removed, consent, bot check, maintenance, server error, sign-in, enable JavaScript)",
}
"""Why a page is no article: the reason names :class:`ExtractionError` carries, and what each
means (the crawl drops such a page with the ``DropItem`` of the same name)."""


class ExtractionError(ValueError):
    """Why a page gave no article: ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        if reason not in REASONS:
            raise ValueError(f"unknown reason {reason!r}")
        self.reason = reason


@dataclass(kw_only=True)
class Extraction:
    """What the page says. Each field but the last is the article's field of the same name
    (:class:`extraction.article.Article`, which declares it) as found on the page, before
    normalization, of its type or a narrower one: named again here, for mypy to check the code
    that fills it, and checked against the declaration by ``tests/test_extractor.py``."""

    text: str
    title: str | None = None
    description: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    modified_at: datetime | None = None
    site_name: str | None = None
    tags: list[str] = field(default_factory=list)
    image_url: str | None = None
    canonical_url: str | None = None
    author_organizations: list[str] = field(default_factory=list)
    comments: str | None = None
    accessible_for_free: bool | None = None
    declared_language: str | None = None
    """The language the page declares (``<html lang>``, JSON-LD ``inLanguage``,
    ``og:locale``): the language detection's fallback."""


def media_type(content_type: str | None) -> str:
    """The lower-cased media type of a ``Content-Type`` header (``""`` when missing)."""
    return (content_type or "").split(";", 1)[0].strip().lower()


def _site_name(value: str | None) -> str | None:
    """trafilatura's site name (a part of the ``<title>``), unless it is only a host name (it
    falls back to the URL's), too long to be a name (``MAX_SITE_NAME_CHARS``: a ``<title>``
    never closed holds the rest of the page), or holding the markup such a title swallows
    however short (:func:`extraction.structured.candidate`)."""
    name = candidate(clean_space(value), MAX_SITE_NAME_CHARS)
    if name is None or (" " not in name and ("." in name or ":" in name)):
        return None
    return name


def page_title(meta: PageMetadata, tree: HtmlElement, titles: list[str]) -> str | None:
    """The page's title, its site name not yet cut (:func:`extraction.titles.clean_title`):
    its structured data's (JSON-LD ``headline``, ``og:title``...), else trafilatura's (the
    page's only ``<h1>``, its title markup, its ``<title>``, ...). A title longer than
    ``MAX_TITLE_CHARS``, or holding the tags of a page's frame or head, is no title (a
    ``<title>`` never closed swallows the page up to the next ``</title>``, an ``<h1>`` may
    too: :func:`extraction.structured.title_candidate`): the page's ``<title>`` elements, then
    its main heading (:func:`main_heading`), are asked instead; ``None`` when none can be a
    title, or each is empty."""
    if meta.title:
        return meta.title  # bounded already (extraction.structured.page_metadata)
    from trafilatura.metadata import extract_title  # noqa: PLC0415 - see the module's docstring

    found = extract_title(tree)
    if found is None or title_candidate(clean_space(found) or "") is not None:
        return found
    candidates = [*titles, main_heading(tree)]
    return next(filter(None, map(title_candidate, map(clean_space, candidates))), None)


def _contains(paragraphs: list[str], snippet: str) -> bool:
    """Whether the start of ``snippet`` occurs in the paragraphs (white space and case aside)."""
    return comparable(snippet)[:80] in comparable(" ".join(paragraphs))


def _not_a_listing(
    extracted: list[str],
    tree: HtmlElement,
    scan: PageScan,
    url: str,
    meta: PageMetadata,
    *,
    min_text_chars: int,
    html: str,
) -> list[str]:
    """The extracted paragraphs or, when they are links and little else, the article the
    page's markup declares (:func:`declared_body`), else, on a page whose metadata says it is
    an article, what trafilatura's full mode finds in the page as fetched
    (:func:`rescued_text`); raises :class:`ExtractionError` for a listing
    (:func:`extraction.listings.listing_reason`), judged on what was kept, before teasers are
    removed as boilerplate."""
    teasers = teasers_on(tree)

    def enough(paragraphs: list[str]) -> bool:
        besides = article_paragraphs(paragraphs, scan.link_texts, teasers)
        return text_size("\n\n".join(besides)) >= min_text_chars

    declared_instead = _declared_instead(extracted, tree, meta, html, min_text_chars=min_text_chars)
    if declared_instead is not None:
        extracted = declared_instead
    elif not enough(extracted):
        # what it kept is links and little else: the publisher's own markup may say more,
        # else the extractors of trafilatura's full mode, asked only here
        declared = declared_body(tree, meta)
        if text_size("\n\n".join(declared)) >= min_text_chars:
            extracted = declared
        elif meta.is_article:
            # a page that says it is an article (a listing is links by design)
            rescued = rescued_text(html, url)
            if enough(rescued):
                extracted = rescued
    listing = listing_reason(
        extracted,
        scan,
        url,
        meta,
        teasers=teasers,
        headed=None if meta.is_article else under_headline(tree),
        min_text_chars=min_text_chars,
    )
    if listing:
        raise ExtractionError("ListingPage", listing)
    return extracted


DECLARED_BODY_FACTOR = 3
"""The article the markup declares is taken instead of the extracted text when it is this many
times as long and does not hold it."""


def _declared_instead(
    extracted: list[str], tree: HtmlElement, meta: PageMetadata, html: str, *, min_text_chars: int
) -> list[str] | None:
    """The article the page declares (:func:`declared_body`), when the extracted text is a
    fraction of it and not in it: a page whose script draws the article shows a notice
    ("enable JavaScript", a consent banner) that trafilatura took for the text, while its
    JSON-LD holds the whole article (20 of 20 such pages stored the notice, or were dropped as
    copies of each other); ``None`` otherwise."""
    # a page without "articleBody" in its source declares nothing: its tree is not searched
    # (half a millisecond a page, on every page)
    if not meta.article_body and "articleBody" not in html:
        return None
    declared = declared_body(tree, meta)
    declared_size = text_size("\n\n".join(declared))
    size = text_size("\n\n".join(extracted))
    if declared_size < max(min_text_chars, DECLARED_BODY_FACTOR * size):
        return None
    if comparable(" ".join(extracted)) in comparable(" ".join(declared)):
        return None  # the extracted text is a part of it: trafilatura chose, keep its choice
    return declared


def rescued_text(html: str, url: str) -> list[str]:
    """trafilatura's full mode (its own extraction, readability's and jusText's, the best
    kept) on the page as fetched, without the asides and footers removed beforehand: for a
    page whose fast-mode text is links and little else (a menu taken for the article). The
    removal that spares trafilatura's passes some work can take from readability the
    structure by which it finds a short article (seen on a news page whose share buttons
    stood in an ``<aside>`` beside the article); the page is parsed again, which costs a few
    tens of milliseconds on the rare page that needs it."""
    tree = load_html(html)
    if tree is None:
        return []
    drop_inert_elements(tree)
    bound_costly_shapes(tree)
    return _trafilatura_paragraphs(tree, url, fast=False).paragraphs


def declared_body(tree: HtmlElement, meta: PageMetadata) -> list[str]:
    """The article's text as the publisher marks it up: the paragraphs of its microdata
    ``itemprop="articleBody"`` element, else its JSON-LD ``articleBody`` (empty when the page
    has neither). A fallback for pages whose article the main-text extraction misses."""
    for element in tree.iterfind(".//*[@itemprop='articleBody']"):
        blocks = [clean_space(block.text_content()) for block in element.iter(*_BODY_BLOCKS)]
        paragraphs = [text for text in blocks if text] or _paragraphs(element.text_content())
        if paragraphs:
            return paragraphs
    return _paragraphs(meta.article_body or "")


def _paragraphs(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def extract_article(
    body: bytes,
    url: str,
    content_type: str | None = None,
    *,
    min_text_chars: int = MIN_TEXT_CHARS,
    comments: bool = True,
    second_opinion: bool = True,
    timings: dict[str, float] | None = None,
) -> Extraction:
    """Extract the article in an HTML page.

    The page is parsed once. Structured data (JSON-LD, OpenGraph, meta tags) gives the
    metadata; trafilatura's heuristics are asked only for what it lacks. trafilatura gives
    the main text, which is then cleaned of the boilerplate it keeps (see
    :mod:`extraction.boilerplate`) and completed with the lead it drops (see
    :mod:`extraction.lead`).

    Raises :class:`ExtractionError` (with the drop reason) when the body is not HTML, is
    empty, is a listing (:func:`listing_reason`), or holds fewer than ``min_text_chars``
    characters of article text (see :func:`extraction.text.text_size`: a Chinese character
    counts three); and as ``ErrorPage`` when a page that does not declare itself an article
    says it is an error page or a wall by its ``<title>``, its title (the structured data's,
    else trafilatura's) or its main heading (:func:`extraction.interstitials.wall_said`,
    :func:`main_heading`) and its text is short (under ``SHORT_TEXT_FACTOR`` times
    ``min_text_chars``), too short for an article or a listing's. When what trafilatura keeps
    is links and little else, the article as the page's markup declares it
    (:func:`declared_body`) is taken instead. With ``comments``,
    the readers' comments trafilatura finds apart from the text are kept too
    (:func:`extraction.comments.clean_comments`). With ``second_opinion``, readability is
    asked about the short paragraphs at the text's ends (:mod:`extraction.second_opinion`).

    With ``timings``, the CPU seconds of two phases are added to it: ``decode`` (bytes to
    text) and ``trafilatura`` (its parse of the page and its extraction calls), for
    benchmarks that show what a page costs.
    """
    kind = media_type(content_type)
    if kind not in HTML_CONTENT_TYPES:
        raise ExtractionError("NotHtml", f"content type {kind!r} is not HTML")
    if not body.strip():
        raise ExtractionError("EmptyPage", "empty body")
    started = time.process_time()
    html, _ = decode_html(body, content_type)
    _spent(timings, "decode", started)
    html = _LEADING_NUL.sub("", html)
    if looks_binary(html):
        raise ExtractionError("NotHtml", "binary content (control characters) labelled as HTML")
    started = time.process_time()
    load_libraries()
    from trafilatura.metadata import extract_sitename  # noqa: PLC0415 - above

    tree = load_html(html)
    _spent(timings, "trafilatura", started)
    if tree is None:
        raise ExtractionError("EmptyPage", "not parseable as HTML")
    drop_inert_elements(tree)

    meta = page_metadata(tree, url)
    scan = scan_page(tree, urlsplit(meta.canonical_url or url).hostname)
    headings = [heading.text_content() for heading in tree.iter("h1")]
    titles = _titles(tree)
    title = page_title(meta, tree, titles)
    site_name = meta.site_name or _site_name(extract_sitename(tree))
    # day-first dates (05/10/2022 = 5 October) everywhere but in American English
    dayfirst = not meta.month_first
    published = parse_datetime(meta.published, dayfirst=dayfirst)
    if published is None:
        published = _searched_date(tree, url)
    host = urlsplit(meta.canonical_url or url).hostname
    wall = (
        None
        if meta.is_article
        else wall_said([*titles, title, main_heading(tree)], site_name=site_name, host=host)
    )
    outlets = outlet_keys([site_name, *meta.organization_authors, host_label(host)])
    credited = markup_credits(meta, scan, outlets)
    in_text = _text_bylines(tree, html, credited, outlets)
    # what is read outside the main text has been read
    drop_asides_and_footers(tree)
    # a page laid out with tables is judged by its blocks, not kept whole as rows of cells
    unwrap_layout_tables(tree)
    bound_costly_shapes(tree)
    started = time.process_time()
    found = main_text(tree, url, comments=comments)
    _spent(timings, "trafilatura", started)
    try:
        paragraphs, kept, left_comments = _article_text(
            found.paragraphs,
            tree,
            scan,
            url,
            meta,
            html=html,
            headlines=[title or "", *headings, *titles],
            min_text_chars=min_text_chars,
            timings=timings,
            second_opinion=second_opinion,
        )
    except ExtractionError as rejected:
        # a listing or too little text, and the page says why: the reason is its own
        if wall is None:
            raise
        raise ExtractionError("ErrorPage", wall.message()) from rejected
    text = _unwalled_text(kept, wall, meta, min_text_chars=min_text_chars)

    credited += text_credits(in_text, paragraphs, outlets, credited)
    credits = decide_credits(credited, outlets)
    return Extraction(
        text=text,
        title=clean_title(title, site_name=site_name, host=host, headings=headings),
        description=meta.description,
        authors=credits.people,
        author_organizations=credits.organizations,
        published_at=published,
        modified_at=parse_datetime(meta.modified, dayfirst=dayfirst),
        site_name=site_name,
        tags=meta.tags,
        image_url=meta.image_url,
        canonical_url=meta.canonical_url,
        comments=clean_comments(
            "\n".join(filter(None, [found.comments, *left_comments])) if comments else None,
            scan.link_texts,
        ),
        accessible_for_free=meta.accessible_for_free,
        declared_language=meta.language,
    )


def _unwalled_text(
    kept: list[str], wall: Wall | None, meta: PageMetadata, *, min_text_chars: int
) -> str:
    """The article's text: its paragraphs ``kept``. Raises :class:`ExtractionError`
    (``ErrorPage``) when the page says it is an error page or a wall (``wall``, or a text that
    is nothing but walls' notices on a page that does not declare itself an article:
    :func:`extraction.interstitials.wall_in_text`) and its text is short: under
    ``SHORT_TEXT_FACTOR`` times ``min_text_chars``, as a listing's text besides its teasers."""
    text = "\n\n".join(kept)
    if wall is None and not meta.is_article:
        wall = wall_in_text(kept)
    if wall is not None and text_size(text) < SHORT_TEXT_FACTOR * min_text_chars:
        raise ExtractionError("ErrorPage", wall.message())
    return text


def _article_text(
    extracted: list[str],
    tree: HtmlElement,
    scan: PageScan,
    url: str,
    meta: PageMetadata,
    *,
    html: str,
    headlines: list[str],
    min_text_chars: int,
    timings: dict[str, float] | None,
    second_opinion: bool,
) -> tuple[list[str], list[str], list[str]]:
    """The article's paragraphs in trafilatura's ``extracted`` ones: cleaned of boilerplate
    (where bylines are read in the text as it stood: a credit line is one of the ends
    trimmed), and as kept (the ends trimmed, the lead put back); and the readers' comments
    trafilatura left at their end (:func:`extraction.boilerplate.comment_section_start`). Raises
    :class:`ExtractionError` for a listing (:func:`_not_a_listing`) and for a text shorter
    than ``min_text_chars``."""
    extracted = _not_a_listing(
        extracted, tree, scan, url, meta, min_text_chars=min_text_chars, html=html
    )
    paragraphs = within_article_body(
        remove_boilerplate(extracted, scan, headlines), meta.article_body
    )
    paragraphs, left_comments = split_comment_section(paragraphs, scan)
    kept = _trimmed_ends(
        tree,
        paragraphs,
        scan,
        min_text_chars=min_text_chars,
        timings=timings,
        second_opinion=second_opinion,
    )
    if kept:
        lead = find_lead(tree, kept[0], meta.description)
        if lead and not _contains(kept, lead):
            kept = [lead, *kept]
    size = text_size("\n\n".join(kept))
    if size < min_text_chars:
        raise ExtractionError(
            "NotAnArticle", f"{size} characters of text, fewer than {min_text_chars}"
        )
    return paragraphs, kept, left_comments


def _trimmed_ends(
    tree: HtmlElement,
    paragraphs: list[str],
    scan: PageScan,
    *,
    min_text_chars: int,
    timings: dict[str, float] | None,
    second_opinion: bool,
) -> list[str]:
    """The paragraphs with their ends trimmed (with ``second_opinion``, by readability's
    opinion), then a heading that ends them dropped (it may have ended a table the trim took);
    untrimmed when that would leave too little to keep: trimming the ends never makes an
    article a non-article."""
    trimmed = _second_opinion(tree, paragraphs, timings) if second_opinion else paragraphs
    kept = without_closing_headings(trimmed, scan)
    return paragraphs if text_size("\n\n".join(kept)) < min_text_chars else kept


def _second_opinion(
    tree: HtmlElement, paragraphs: list[str], timings: dict[str, float] | None
) -> list[str]:
    """The paragraphs trimmed at their ends by readability's opinion, when an end is in doubt
    (:mod:`extraction.second_opinion`); its time counts as trafilatura's (it is the readability
    trafilatura bundles)."""
    if not has_doubtful_end(paragraphs):
        return paragraphs
    started = time.process_time()
    trimmed = trim_ends(paragraphs, readability_text(tree))
    _spent(timings, "trafilatura", started)
    return trimmed


def _decisive(found: Credits, outlets: frozenset[str]) -> bool:
    """Whether a source's credits settle who wrote the article: a person, or an organization
    other than the outlet (an agency, a newsroom, a wire)."""
    return bool(found.people) or not all(is_outlet(name, outlets) for name in found.organizations)


def markup_credits(meta: PageMetadata, scan: PageScan, outlets: frozenset[str]) -> list[Credits]:
    """The credits of the page's markup, in order of trust: its structured data (JSON-LD
    authors, else the ``author`` meta tags), its byline meta tags, its byline markup."""
    structured = credits_of(meta.authors, outlets)
    organizations = (
        organizations_named(meta.organization_authors, outlets) + structured.organizations
    )
    return [
        Credits(structured.people, unique_texts(organizations)),
        credits_of(meta.meta_bylines, outlets),
        credits_of(scan.byline, outlets),
    ]


def _text_bylines(
    tree: HtmlElement, html: str, credited: list[Credits], outlets: frozenset[str]
) -> TextBylines | None:
    """The bylines of the page's text outside the article's paragraphs, read (before the
    asides and footers go) only when its markup names no one: ``None`` when it does."""
    if any(_decisive(found, outlets) for found in credited):
        return None
    return text_bylines(tree, chinese=markup_in_chinese(html))


def text_credits(
    in_text: TextBylines | None,
    paragraphs: list[str],
    outlets: frozenset[str],
    earlier: list[Credits],
) -> list[Credits]:
    """The credits of the page's text (none when the markup named someone: ``in_text`` is
    ``None``), in order: a labelled byline line at either end of the article or under the
    headline; in Chinese, a reporter's credit, an editor's, then names in brackets at the end
    of a paragraph; last, when an earlier source credits the outlet where a byline belongs, a
    paragraph of names at either end (``earlier``: the markup's)."""
    if in_text is None:
        return []
    credited = [credits_of(paragraph_bylines(paragraphs) + in_text.header, outlets)]
    if writes_chinese(paragraphs):
        credited += [
            Credits(people=in_text.reporters),
            Credits(people=in_text.editors),
            Credits(people=closing_names(paragraphs)),
        ]
    if any(found.organizations for found in earlier + credited):
        credited.append(Credits(people=name_lines(paragraphs)))
    return credited


def decide_credits(credited: list[Credits], outlets: frozenset[str]) -> Credits:
    """The article's authors and author organizations from its sources' credits, in order of
    trust (structured data, byline meta tags, byline markup, the text).

    The first source that names a person, or an organization other than the outlet (an
    agency, a newsroom), decides: its people, and the organizations other than the outlet
    credited so far. The outlet named as the author (content systems put it where no byline
    was given) lets the next source be asked; it is the answer only when no source names
    anyone else (as the first source that names it writes it). Each list holds
    ``MAX_AUTHORS`` names at most (the structured data's source joins two lists of as many)."""
    organizations: list[str] = []
    for found in credited:
        organizations += found.organizations
        if _decisive(found, outlets):
            others = [name for name in organizations if not is_outlet(name, outlets)]
            return Credits(found.people[:MAX_AUTHORS], unique_texts(others)[:MAX_AUTHORS])
    outlet = next((found.organizations for found in credited if found.organizations), [])
    return Credits([], outlet[:MAX_AUTHORS])


def _spent(timings: dict[str, float] | None, phase: str, started: float) -> None:
    if timings is not None:
        timings[phase] = timings.get(phase, 0.0) + time.process_time() - started


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


def main_heading(tree: HtmlElement) -> str | None:
    """The page's main heading: its first ``<h1>`` that is not a link (nor in one), else its
    first such ``<h2>`` (a consent wall or an error page may have no ``<h1>``)."""
    for tag in ("h1", "h2"):
        for heading in tree.iter(tag):
            text = clean_space(heading.text_content())
            if text and not _linked(heading):
                return text
    return None


def _linked(element: HtmlElement) -> bool:
    if element.find(".//a[@href]") is not None:
        return True
    return any(a.tag == "a" and a.get("href") for a in element.iterancestors())


def _searched_date(tree: HtmlElement, url: str) -> datetime | None:
    """A publication date for a page whose metadata names none: htmldate on the page's
    markup and URL, else the first year-first date in the page's visible text.

    htmldate's own text search (``extensive_search``) costs about 20 ms a page and turns
    copyright years into 1 January; on the corpus the first complete year-first date of the
    text was right on every page that had one (``bench/RESULTS.md``), at a fraction of the cost.
    """
    from htmldate import find_date  # noqa: PLC0415 - see the module's docstring

    found = parse_datetime(find_date(tree, url=url, extensive_search=False, original_date=True))
    if found is not None:
        return found
    text = " ".join(_VISIBLE_TEXT(tree))[:_DATE_SEARCH_CHARS]
    return first_date_in_text(text)


@dataclass(frozen=True)
class MainText:
    """What trafilatura finds in a page."""

    paragraphs: list[str]
    """The main text's paragraphs."""
    comments: str | None = None
    """The readers' comments it finds apart from the text (one line a paragraph), when asked."""


def main_text(tree: HtmlElement, url: str, *, comments: bool = False) -> MainText:
    """The paragraphs of trafilatura's main text (and, with ``comments``, the readers'
    comments it finds apart from it: it then takes the comment section out first).

    trafilatura's fast mode first. Its full mode (which also runs readability and jusText and
    keeps the best) costs half as much again, and on the corpus it only helps where the fast
    text is very short, or much shorter than the page's paragraphs or its running text
    (:func:`prose_size`): only then does it run (same body F1 as always running it, see
    ``bench/RESULTS.md``).
    """
    load_libraries()
    found = _trafilatura_paragraphs(tree, url, fast=True, comments=comments)
    size = sum(len(p) for p in found.paragraphs)
    if (
        size < FULL_EXTRACTION_BELOW_CHARS
        or size
        < FULL_EXTRACTION_BELOW_SHARE * sum(len(p.text_content().strip()) for p in tree.iter("p"))
        or size < FULL_EXTRACTION_BELOW_PROSE_SHARE * prose_size(tree)
    ):
        found = _trafilatura_paragraphs(tree, url, fast=False, comments=comments)
    return found


def prose_size(tree: HtmlElement) -> int:
    """Characters of the page's running text outside ``<p>`` elements as well as in them: its
    text nodes of at least ``PROSE_MIN_CHARS`` (stripped) outside links, list items, forms,
    navigation and the header. Some pages set their article in ``<div>``s with ``<br>``s: there
    the share of ``<p>`` text does not show that the fast text missed it."""
    total = 0
    for text in _LONG_TEXT(tree):
        stripped = text.strip()
        if len(stripped) < PROSE_MIN_CHARS:
            continue
        # a tail's text stands in its element's parent
        element = text.getparent().getparent() if text.is_tail else text.getparent()
        while element is not None and element.tag not in _NOT_PROSE:
            element = element.getparent()
        if element is None:
            total += len(stripped)
    return total


def _trafilatura_paragraphs(
    tree: HtmlElement, url: str, *, fast: bool, comments: bool = False
) -> MainText:
    import trafilatura  # noqa: PLC0415 - see the module's docstring

    document: Document | None = trafilatura.bare_extraction(  # type: ignore[assignment]
        tree,
        url=url,
        fast=fast,
        with_metadata=False,
        include_comments=comments,
        include_tables=True,
        deduplicate=False,
    )
    if document is None:
        return MainText([])
    return MainText(_paragraphs(document.text or ""), document.comments or None)
