"""Link discovery without the network: which URLs look like articles, which like listings,
and the links and next pages of an HTML page.

URL shapes are a heuristic fallback. A source's own ``allow`` patterns (see
:mod:`crawler.sources`) say what its articles look like and take precedence; the extract
stage has the final word on whether a fetched page is an article.
"""

from __future__ import annotations

import contextlib
import itertools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, unquote, urldefrag, urljoin, urlsplit

import lxml.etree
import lxml.html
from w3lib.encoding import html_to_unicode
from w3lib.url import safe_url_string

from extraction.markup import depth_truncated, parse_capped, with_html_classes
from extraction.urls import HTTP_SCHEMES, url_problem

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from lxml.html import HtmlElement

#: :func:`article_url_score` at or above which :func:`looks_like_article` says yes.
ARTICLE_SCORE_THRESHOLD = 2

# Score of each URL feature (see article_url_score). A strong article signal (a date
# followed by a slug, a long numeric id) outweighs a listing word, because real articles
# live under such words (npr.org/sections/<blog>/2023/08/15/<id>/<slug>,
# theatlantic.com/magazine/archive/2023/08/<slug>/<id>/).
_DATE_SCORE = 3
_ID_SCORE = 3
_LONG_SLUG_SCORE = 2
_MEDIUM_SLUG_SCORE = 1
_PAGE_FILE_SCORE = 2
_LISTING_SCORE = -4
_UTILITY_SCORE = -4
_HOME_SCORE = -4
_NOT_A_PAGE_SCORE = -10

_LONG_SLUG_WORDS = 4
_MEDIUM_SLUG_WORDS = 3
# A section path has at most this many segments of at most this many words each.
_SECTION_MAX_SEGMENTS = 3
_SECTION_MAX_WORDS = 3

_YEAR = r"(?:19[89]\d|20[0-4]\d)"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH_NAME = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*"
# /2023/08/15/, /2023-08-15/, /2023/aug/15/, /20230815/, /2023/08/ (year and month only).
_DATE = re.compile(
    rf"(?<!\d){_YEAR}(?:/{_MONTH}/{_DAY}|-{_MONTH}-{_DAY}|/{_MONTH_NAME}/{_DAY})(?!\d)"
    rf"|(?<!\d){_YEAR}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])(?!\d)"
    rf"|(?<=/){_YEAR}/(?:0[1-9]|1[0-2])(?=/|$)"
)
_COMPACT_DATE = re.compile(rf"{_YEAR}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")
_DIGIT_RUN = re.compile(r"\d+")
_MIN_ID_DIGITS = 5
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# An opaque id (bbc.com/news/articles/c4gl7z0yxy2o) counts only after one of these words.
_ID_PARENTS = frozenset(
    {"a", "article", "articles", "content", "item", "news", "p", "post", "posts", "story"}
    | {"stories", "view"}
)
_OPAQUE_ID = re.compile(r"(?=[a-z0-9]*\d)(?=[a-z0-9]*[a-z])[a-z0-9]{8,}")
# Slug words: parts between separators made of letters only (numbers and ids are no words).
_SLUG_SEPARATORS = re.compile(r"[-_.+~,]+")
_WORD = re.compile(r"[^\W\d_]+")
_SECTION_SEGMENT = re.compile(rf"[^\W_]+(?:[-_.][^\W_]+){{0,{_SECTION_MAX_WORDS - 1}}}")
_EXTENSION = re.compile(r"\.([a-z0-9]{1,5})$")
_PAGE_EXTENSIONS = frozenset({"html", "htm", "shtml", "xhtml", "php", "asp", "aspx", "jsp"})
_STATIC_PAGE_EXTENSIONS = frozenset({"html", "htm", "shtml"})
_RESOURCE_EXTENSIONS = frozenset(
    {"jpg", "jpeg", "png", "gif", "webp", "avif", "svg", "ico", "bmp", "tif", "tiff", "heic"}
    | {"css", "js", "mjs", "map", "json", "xml", "rss", "atom", "rdf", "txt", "csv", "ics"}
    | {"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "odt", "epub"}
    | {"zip", "gz", "tgz", "bz2", "xz", "rar", "7z", "apk", "exe", "dmg"}
    | {"mp3", "mp4", "m4a", "m4v", "mov", "avi", "webm", "ogg", "oga", "wav", "flac", "m3u8"}
    | {"woff", "woff2", "ttf", "otf", "eot"}
)
# Path segments of feeds (wordpress /feed/, /rss/...): not pages.
_FEED_SEGMENTS = frozenset({"feed", "feeds", "rss", "rss2", "atom", "rdf"})
# Hosts that serve feeds: feeds.bbci.co.uk, rss.dw.com, feeds.npr.org.
_FEED_HOSTS = frozenset({"feed", "feeds", "rss"})
# File names that stand for their directory: /news/index.html is the /news/ listing.
_INDEX_NAMES = frozenset({"index", "default", "home", "main", "start", "all", "latest"})
# Segments that make a page a listing (tags, topics, sections, authors, search, archives).
_LISTING_SEGMENTS = frozenset(
    {"tag", "tags", "topic", "topics", "category", "categories", "section", "sections"}
    | {"author", "authors", "search", "archive", "archives", "page", "pages"}
    | {"thema", "themen", "schlagwort", "autor", "autoren", "suche", "seite"}  # de
    | {"sujet", "sujets", "rubrique", "auteur", "auteurs", "recherche", "signataires"}  # fr
    | {"tema", "temas", "etiqueta", "etiquetas", "autores", "buscar", "busqueda", "búsqueda"}
    | {"noticias", "pagina", "página"}  # es, pt (El País lists a topic under /noticias/)
    | {"argomento", "argomenti"}  # it
)
# /p2, /page-3, /seite-2, /pagina_4: a page number as one segment.
_PAGE_SEGMENT = re.compile(r"(?:p|page|seite|pagina|página)[-_]?\d{1,4}")
_PAGE_PARAMETERS = frozenset({"page", "pg", "paged", "pagina", "seite", "offset", "start"})
# Query parameters whose long numeric value identifies an article (?id=, ?p=, ?idxno=).
_ID_PARAMETER = re.compile(r"p|no|seq|idx|idxno|.*id", re.IGNORECASE)
# Pages that are neither articles nor worth following.
_UTILITY_SEGMENTS = frozenset(
    {"about", "about-us", "contact", "contact-us", "contacts", "impressum", "imprint"}
    | {"privacy", "privacy-policy", "terms", "terms-of-use", "terms-of-service", "legal"}
    | {"cookies", "cookie-policy", "datenschutz", "kontakt", "help", "faq", "faqs"}
    | {"login", "logout", "signin", "sign-in", "register", "subscribe", "subscription"}
    | {"account", "shop", "jobs", "careers", "advertise", "newsletter", "newsletters"}
    | {"mentions-legales", "aviso-legal", "accessibility"}
)

# Pagination anchors, by their text (or aria-label/title), casefolded and white space
# collapsed. Words are compared after the arrows around them are stripped ("Older »").
_NEXT_WORDS = frozenset(
    {"2", "next", "next page", "older", "older posts", "older entries", "older articles"}
    | {"more", "more stories", "more articles", "load more", "show more", "see more"}
    | {"weiter", "nächste", "nächste seite", "mehr", "mehr laden", "ältere artikel"}  # de
    | {"siguiente", "página siguiente", "pagina siguiente", "más", "ver más", "cargar más"}
    | {"suivant", "suivante", "page suivante", "plus", "voir plus"}  # fr
    | {"successiva", "pagina successiva", "avanti", "altri"}  # it
    | {"próxima", "próxima página", "seguinte", "mais"}  # pt
    | {"volgende", "następna", "далее", "следующая", "вперёд", "다음", "次へ", "下一页"}
)
_NEXT_ARROWS = frozenset({"›", "»", "→", ">", ">>", "»»", "⟩", "⇒", "⟶", "▶", "►"})
_ARROWS_AND_PUNCTUATION = "›»→>«‹←<⟩⟨⇒⟶▶►◀◄ .…·|:-–—"
_WHITE_SPACE = re.compile(r"\s+")
# The URL parser drops tabs and newlines anywhere in an href.
_TAB_OR_NEWLINE = re.compile(r"[\t\n\r]")
_HTML_WHITE_SPACE = " \t\n\r\f"


# --- hosts ---------------------------------------------------------------------------------


def normalize_domain(domain: str) -> str:
    """A host or domain lower-cased, IDNA-encoded, without a trailing dot or leading ``www.``."""
    domain = domain.strip().rstrip(".").lower()
    if not domain.isascii():
        with contextlib.suppress(UnicodeError):  # not a valid IDN: compared as written
            domain = domain.encode("idna").decode("ascii")
    return domain.removeprefix("www.")


def site_host(url: str) -> str | None:
    """The host of ``url`` as :func:`normalize_domain` writes it (``None`` when it has none, or
    is no URL)."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        return None
    return normalize_domain(host) if host else None


def same_site(url: str, allowed_domains: Iterable[str]) -> bool:
    """Whether the host of ``url`` is one of ``allowed_domains`` or a subdomain of one.

    ``www.`` is ignored on both sides; a URL without a host is on no site.
    """
    host = site_host(url)
    if not host:
        return False
    for domain in allowed_domains:
        allowed = normalize_domain(domain)
        if allowed and (host == allowed or host.endswith(f".{allowed}")):
            return True
    return False


# --- URL shapes ----------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class _Shape:
    """What the URL says about the page behind it."""

    is_page: bool
    """An http(s) URL of something other than an image, script, style, feed or document."""
    score: int
    listing: bool
    """It has a listing shape: home, tag/topic/author/search page, pagination, section."""


def _split(url: str) -> tuple[str, list[str], list[tuple[str, str]]] | None:
    """Scheme, decoded lower-case path segments and query pairs; ``None`` if unparsable."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    segments = [unquote(part).lower() for part in parts.path.split("/") if part]
    query = parse_qsl(parts.query, keep_blank_values=True)
    return parts.scheme.lower(), segments, query


def _extension(segment: str) -> str | None:
    match = _EXTENSION.search(segment)
    return match.group(1) if match else None


def _is_resource(segments: list[str]) -> bool:
    if any(segment in _FEED_SEGMENTS for segment in segments):
        return True
    extension = _extension(segments[-1]) if segments else None
    return extension in _RESOURCE_EXTENSIONS


def _without_index(segments: list[str]) -> list[str]:
    """The segments without a final ``index.html``-like file name."""
    if segments:
        stem = segments[-1]
        if _extension(stem) in _PAGE_EXTENSIONS:
            stem = stem.rsplit(".", 1)[0]
        if stem in _INDEX_NAMES:
            return segments[:-1]
    return segments


def _date_score(path: str) -> tuple[int, bool]:
    """(score, is_date_archive): a date followed by more path is an article's."""
    for match in _DATE.finditer(path):
        start, end = match.start(), match.end()
        embedded = (start > 0 and path[start - 1] not in "/") or (
            end < len(path) and path[end] != "/"
        )
        if embedded or path[end:].strip("/"):
            return _DATE_SCORE, False
        return 0, True
    return 0, False


def _has_numeric_id(segments: list[str], query: list[tuple[str, str]]) -> bool:
    for segment in segments:
        for run in _DIGIT_RUN.findall(segment):
            if len(run) >= _MIN_ID_DIGITS and not (
                len(run) == 8 and _COMPACT_DATE.fullmatch(run)  # 20230815 is a date
            ):
                return True
        if _UUID.search(segment):
            return True
    for parent, segment in itertools.pairwise(segments):
        if parent in _ID_PARENTS and _OPAQUE_ID.fullmatch(segment):
            return True
    return any(
        _ID_PARAMETER.fullmatch(key) and value.isdigit() and len(value) >= _MIN_ID_DIGITS
        for key, value in query
    )


def _slug_words(segments: list[str]) -> int:
    """The number of words of the wordiest segment (numbers and file extensions aside)."""
    most = 0
    for segment in segments:
        stem = segment.rsplit(".", 1)[0] if _extension(segment) else segment
        words = [part for part in _SLUG_SEPARATORS.split(stem) if _WORD.fullmatch(part)]
        most = max(most, len(words))
    return most


def _is_page_marker(segments: list[str], query: list[tuple[str, str]]) -> bool:
    if any(_PAGE_SEGMENT.fullmatch(segment) for segment in segments):
        return True
    return any(key.lower() in _PAGE_PARAMETERS and value.isdigit() for key, value in query)


def _is_section(segments: list[str]) -> bool:
    """A short path of a few plain words: /world/, /sport/football/, /en/top-stories/s-9097."""
    return len(segments) <= _SECTION_MAX_SEGMENTS and all(
        _SECTION_SEGMENT.fullmatch(segment) and _extension(segment) is None for segment in segments
    )


def _is_page(scheme: str, host: str | None, segments: list[str]) -> bool:
    """An http(s) URL with a host that is not a feed, image, script, style or document."""
    if scheme not in HTTP_SCHEMES or not host or host.split(".", 1)[0] in _FEED_HOSTS:
        return False
    return not _is_resource(segments)


def _slug_score(segments: list[str]) -> int:
    words = _slug_words(segments)
    if words >= _LONG_SLUG_WORDS:
        return _LONG_SLUG_SCORE
    return _MEDIUM_SLUG_SCORE if words >= _MEDIUM_SLUG_WORDS else 0


def _page_file_score(segments: list[str], trimmed: list[str]) -> int:
    """Points for ``/section/name.html`` (not ``/section/index.html``)."""
    is_file = _extension(segments[-1]) in _STATIC_PAGE_EXTENSIONS if segments else False
    return _PAGE_FILE_SCORE if is_file and len(segments) >= 2 and trimmed == segments else 0


def _shape(url: str) -> _Shape:
    split = _split(url)
    if split is None or not _is_page(split[0], site_host(url), split[1]):
        return _Shape(is_page=False, score=_NOT_A_PAGE_SCORE, listing=False)
    _, segments, query = split
    trimmed = _without_index(segments)
    date_score, date_archive = _date_score("/" + "/".join(trimmed))
    has_id = _has_numeric_id(segments, query)
    score = date_score + _slug_score(segments) + _page_file_score(segments, trimmed)
    score += _ID_SCORE if has_id else 0
    marked = (
        date_archive
        or _is_page_marker(segments, query)
        or any(segment in _LISTING_SEGMENTS for segment in segments)
    )
    utility = any(segment in _UTILITY_SEGMENTS for segment in segments)
    home = not trimmed and not has_id  # /?p=123456 is a WordPress article
    score += (
        (_LISTING_SCORE if marked else 0)
        + (_UTILITY_SCORE if utility else 0)
        + (_HOME_SCORE if home else 0)
    )
    listing = (
        not utility and score < ARTICLE_SCORE_THRESHOLD and (marked or home or _is_section(trimmed))
    )
    return _Shape(is_page=True, score=score, listing=listing)


def article_url_score(url: str) -> int:
    """How much the URL looks like an article's; see :func:`looks_like_article`.

    Points for a date followed by more path (``/2023/08/15/slug``, ``/20230815/``,
    ``/2023-08-15/``, ``/2023/aug/15/``), a numeric id of 5+ digits (``-1061432975.html``,
    ``/a-66512345``, ``?id=123456``), a UUID or an opaque id after ``/articles/``, a slug of
    several words, and an ``.html`` page under a section. Points off for a listing word
    (``/tag/``, ``/topic/``, ``/category/``, ``/section/``, ``/author/``, ``/search``,
    ``/archive``, pagination), a date archive, a utility page (``/about``, ``/privacy``) and
    the home page. Images, scripts, styles, documents, feeds and non-http(s) URLs (``mailto:``,
    ``javascript:``) get a large negative score.
    """
    return _shape(url).score


def looks_like_article(url: str) -> bool:
    """Whether the URL has an article's shape (score at least ``ARTICLE_SCORE_THRESHOLD``)."""
    return _shape(url).score >= ARTICLE_SCORE_THRESHOLD


def is_listing_url(url: str) -> bool:
    """Whether the URL has a listing's shape, worth following to find articles.

    Listings are the home page, short section paths (``/world/``, ``/sport/football/``),
    tag, topic, category, section, author, search and archive pages, date archives and
    pagination (``/page/2``, ``?page=2``). A URL that looks like an article is no listing;
    utility pages, resources and non-http(s) URLs are neither.
    """
    return _shape(url).listing


# --- links of a page -----------------------------------------------------------------------


def parse_page(html: bytes | str | HtmlElement) -> HtmlElement | None:
    """The document (parsed once, tolerant of broken HTML; a parsed document is returned as
    it is), or ``None`` when there is nothing to parse."""
    if isinstance(html, lxml.etree._Element):
        return html
    if isinstance(html, bytes):
        _, html = html_to_unicode(None, html)
    html = html.replace("\x00", "")
    data = html.encode("utf-8", "replace")
    if not data.strip():
        return None
    parser = with_html_classes(lxml.etree.HTMLParser(encoding="utf-8", recover=True))
    try:
        document = lxml.html.document_fromstring(data, parser=parser)
    except (lxml.etree.LxmlError, ValueError):
        return None
    if depth_truncated(document):
        # libxml2 stopped building at its depth limit: the links after it are in a tree
        # built no deeper (extraction.markup; a browser shows them)
        capped = parse_capped(html, repair=False)
        if capped is not None:
            return capped
    return document


def _absolute(href: str | None, base: str) -> str | None:
    """``href`` resolved against ``base``, safe and without fragment, if a request can be made
    for it (:func:`extraction.urls.url_problem`: http(s), a host, a port from 1 to 65535)."""
    if not href:
        return None
    href = _TAB_OR_NEWLINE.sub("", href.strip(_HTML_WHITE_SPACE))
    if not href:
        return None
    try:
        url = urldefrag(safe_url_string(urljoin(base, href))).url
    except ValueError:
        return None
    return url if url_problem(url) is None else None


def base_url_of(document: HtmlElement, page_url: str) -> str:
    """The ``<base href>`` of the document resolved against ``page_url``, else ``page_url``."""
    for base in document.iter("base"):
        resolved = _absolute(base.get("href"), page_url)
        if resolved:
            return resolved
    return page_url


def _page_key(page_url: str) -> str | None:
    try:
        return urldefrag(safe_url_string(page_url.strip())).url
    except ValueError:
        return None


def _unique(urls: Iterable[str | None], page_url: str) -> list[str]:
    """The URLs in order, without ``None``, repeats and links to the page itself."""
    page = _page_key(page_url)
    return list(dict.fromkeys(url for url in urls if url and url != page))


def _hrefs(document: HtmlElement, tag: str, base: str) -> Iterator[tuple[HtmlElement, str]]:
    for element in document.iter(tag):
        url = _absolute(element.get("href"), base)
        if url:
            yield element, url


def extract_links(html: bytes | str | HtmlElement, page_url: str) -> list[str]:
    """The absolute http(s) URLs of the ``<a href>`` links of a page, in document order.

    Relative links are resolved against ``<base href>`` or ``page_url``; fragments are
    dropped, then repeats and links to the page itself. Broken HTML is read as a browser
    would; nothing raises (an empty or unparsable body has no links). Pass ``response.text``
    when there is one; bytes are decoded by their BOM or ``<meta>`` charset, else as UTF-8.
    """
    document = parse_page(html)
    if document is None:
        return []
    base = base_url_of(document, page_url)
    return _unique((url for _, url in _hrefs(document, "a", base)), page_url)


def _rel_tokens(element: HtmlElement) -> set[str]:
    return set((element.get("rel") or "").lower().split())


def _label(element: HtmlElement) -> str:
    """The anchor's text, else (an icon link) its ``aria-label`` or ``title``, normalized."""
    for text in (element.text_content(), element.get("aria-label"), element.get("title")):
        label = _WHITE_SPACE.sub(" ", text or "").strip().casefold()
        if label:
            return label
    return ""


def _says_next(element: HtmlElement) -> bool:
    """Whether an anchor's text (or label) is a "next page" word or arrow."""
    label = _label(element)
    if label in _NEXT_ARROWS or label in _NEXT_WORDS:
        return True
    stripped = label.strip(_ARROWS_AND_PUNCTUATION)
    return bool(stripped) and stripped in _NEXT_WORDS


def next_page_links(html: bytes | str | HtmlElement, page_url: str) -> list[str]:
    """The links to the next page of a listing, best first, on the page's own host.

    ``<link rel="next">`` and ``<a rel="next">`` come first, then anchors whose text (or
    ``aria-label``/``title``) says next: "2", "Next", "Older", "More", "Weiter", "Siguiente",
    "Suivant", "Página siguiente", forward arrows and the like (in several languages, arrows
    around the word allowed). Never raises.
    """
    document = parse_page(html)
    if document is None:
        return []
    base = base_url_of(document, page_url)
    host = site_host(page_url)
    found: list[str] = []
    for tag in ("link", "a"):
        found.extend(url for el, url in _hrefs(document, tag, base) if "next" in _rel_tokens(el))
    found.extend(url for el, url in _hrefs(document, "a", base) if _says_next(el))
    return _unique((url for url in found if host and site_host(url) == host), page_url)
