"""Metadata a page states about itself: schema.org JSON-LD, OpenGraph, ``article:*`` and other
``<meta>`` tags, ``<link rel=canonical>``, ``<html lang>``.

Structured data is what the publisher says; it is preferred over what a text heuristic
guesses. Every function reads an lxml HTML tree and never modifies it.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from extraction.urls import http_url, page_base, plausible_canonical

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

    from lxml.html import HtmlElement

# schema.org types that describe one article (NewsArticle and its subtypes, blog posts, ...).
ARTICLE_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "AnalysisNewsArticle",
        "AskPublicNewsArticle",
        "BackgroundNewsArticle",
        "OpinionNewsArticle",
        "ReportageNewsArticle",
        "ReviewNewsArticle",
        "SatiricalArticle",
        "ScholarlyArticle",
        "TechArticle",
        "Report",
        "BlogPosting",
        "LiveBlogPosting",
        "SocialMediaPosting",
    }
)

# <meta> names and properties, in order of preference, for each field.
_META_PUBLISHED = (
    "article:published_time",
    "og:article:published_time",
    "datepublished",
    "publish-date",
    "publish_date",
    "pubdate",
    "parsely-pub-date",
    "sailthru.date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date",
    "dcterms.date",
    "date",
    "article.published",
    "og:published_time",
)
_META_MODIFIED = (
    "article:modified_time",
    "og:article:modified_time",
    "og:updated_time",
    "datemodified",
    "last-modified",
    "dcterms.modified",
    "article.updated",
)
_META_AUTHOR = ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator")
# Byline meta tags of analytics and paywall systems, often the byline as shown where the
# ``author`` tag names the outlet.
_META_BYLINE = ("cxenseparse:author", "article:byline", "byl", "parsely-author")
_META_TAGS = ("article:tag", "parsely-tags", "news_keywords", "keywords", "article:section")
_META_DESCRIPTION = ("og:description", "description", "twitter:description", "dc.description")
_META_TITLE = ("og:title", "twitter:title", "parsely-title", "dc.title")
_META_IMAGE = ("og:image", "og:image:url", "og:image:secure_url", "twitter:image")
_META_SITE_NAME = ("og:site_name", "application-name")
_META_LANGUAGE = ("og:locale", "content-language", "language", "dc.language")

_SPACE = re.compile(r"\s+")
# The tags of the elements a text value holds by mistake (inline and paragraph markup): not
# "3 < 5" nor "<Name>".
_HTML_TAG = re.compile(
    r"</?(?:p|br|b|i|u|em|strong|span|a|div|h[1-6]|ul|ol|li|sup|sub|small|mark|blockquote|"
    r"font|img|hr|abbr|cite|code|q|s|del|ins|time|figure|figcaption)(?:\s[^<>]*)?/?>",
    re.IGNORECASE,
)
_BLOCK_TAG = re.compile(r"</?(?:p|br|div|h[1-6]|ul|ol|li|blockquote|hr|figure)\b", re.IGNORECASE)
# The tags of a page's frame and head, opening or closing, whole or cut ("<meta name="), which
# no title, name, description or tag writes: text that holds one was read past its end, from a
# <title> never closed (libxml2 reads the page into it, up to the next </title>) or an attribute
# whose quote is. Not "3 < 5", "<Name>", "vector<int>", "<header>"; a value that writes one of
# these tags as a word ("The <meta> tag") is asked of the next source, as a swallowed one.
_PAGE_MARKUP = re.compile(
    r"</?(?:html|head|body|title|meta|link|base|script|style|noscript)(?![\w-])", re.IGNORECASE
)
# Values a template or a script wrote where the value should be.
_PLACEHOLDER = re.compile(
    r"^(?:null|undefined|none|nan|\[object object\])$|\{\{.*\}\}|%%[a-z_]+%%|\$\{[^}]*\}",
    re.IGNORECASE,
)
# Countries whose English writes numeric dates month first.
_MONTH_FIRST_REGIONS = frozenset({"US", "PH"})
# ISO 639-1 codes have two letters ("utf", from a mistaken content-language, is no language).
_LANGUAGE_CODE = re.compile(r"^([a-zA-Z]{2})(?:[-_][a-zA-Z0-9]+)*$")


MAX_TITLE_CHARS = 500
"""The longest a title may be: a longer candidate (a ``<title>`` never closed, which swallows
the rest of the page; a JSON-LD ``headline`` that holds the article) is no title, and the next
source of the title is asked. On the 384 real pages of the corpus and the second set the
longest title stored is 222 characters (an ``og:title`` with its blog's motto; the longest
``<title>`` 258, the longest expected title 151): more than twice that."""
MAX_SITE_NAME_CHARS = 200
"""The longest a site name may be (a longer one is no name: the next source is asked). The
real pages' longest is 95 characters (a page's title given as its site name), their longest
``og:site_name`` 69: twice that."""
MAX_DESCRIPTION_CHARS = 10_000
"""The longest a description may be (a longer one is the page, or a script's data, not its
summary: the next source is asked). The real pages' longest is 4,124 characters (a
university's ``description`` meta tag that repeats its announcement), the next 1,055: more
than twice that."""
MAX_TAG_CHARS = 500
"""The longest a tag may be (a longer one is left out of the tags). The real pages' longest
is 245 characters (a sports site's teaser in its ``keywords``), the next 109: twice that.
(Author names have their bounds where bylines are read: ``extraction.authors``.)"""
MAX_TAGS = 250
"""How many tags an article may have: the first ones the page gives are kept (keywords by the
thousand are a page's index, not its tags). The real pages' most are 117 (a French culture
site's every topic), the next 43: twice that."""
MAX_URL_CHARS = 8_192
"""The longest a URL of the article may be (``image_url``, ``canonical_url``: a longer one is
no URL of the page, nor is one read past its end, :func:`read_past_its_end`; the next source is
asked). The real pages' longest is 454 characters (a canonical URL of percent-encoded Arabic),
their longest image 362, and the longest link of any kind in them 2,616 (a video player's
``<iframe src>``, its state in the query): three times that. A longer URL could not be fetched
either: Apache refuses a request line over 8,190 bytes and nginx a header line over 8 KB, by
default."""


def read_past_its_end(text: str) -> bool:
    """Whether ``text`` holds a tag of a page's frame or head (``<meta``, ``</head>``,
    ``<title>``...): what a ``<title>`` never closed, or an attribute whose quote is never
    closed, swallowed after its value, however short. No title, name, description or tag is
    such text: the value is none, not cut at the markup, and the field's next source is
    asked."""
    return "<" in text and _PAGE_MARKUP.search(text) is not None


def candidate(text: str | None, max_chars: int) -> str | None:
    """``text`` when it can be the field it was read for: at most ``max_chars`` long
    (:func:`within`), and not read past its end (:func:`read_past_its_end`); else ``None``, and
    the next source of the field is asked."""
    text = within(text, max_chars)
    return None if text is None or read_past_its_end(text) else text


def title_candidate(text: str | None) -> str | None:
    """``text`` when it can be a title (:func:`candidate` of ``MAX_TITLE_CHARS``)."""
    return candidate(text, MAX_TITLE_CHARS)


def _whole(value: str) -> bool:
    """Whether a value of a list (an author, a keywords value) was not read past its end
    (:func:`read_past_its_end`, once cleaned as it will be: :func:`clean_space`)."""
    return not read_past_its_end(clean_space(value) or "")


def within(text: str | None, max_chars: int) -> str | None:
    """``text`` when it holds at most ``max_chars`` characters, else ``None``: too long to be
    the field it was read for, whose next source is then asked."""
    return text if text is None or len(text) <= max_chars else None


@dataclass(kw_only=True)
class PageMetadata:
    """What a page's structured data says about it; ``None``/empty when it says nothing."""

    title: str | None = None
    description: str | None = None
    authors: list[str] = field(default_factory=list)
    """Author names: people from JSON-LD, else the ``author`` meta tags."""
    organization_authors: list[str] = field(default_factory=list)
    """Organizations JSON-LD names as authors."""
    meta_bylines: list[str] = field(default_factory=list)
    """Bylines of the byline meta tags (``cxenseparse:author``, ``article:byline``, ``byl``,
    ``parsely-author``): consulted when the authors above name no person."""
    published: str | None = None
    modified: str | None = None
    site_name: str | None = None
    tags: list[str] = field(default_factory=list)
    image_url: str | None = None
    canonical_url: str | None = None
    language: str | None = None
    month_first: bool = False
    """Numeric dates read month first (05/10/2022 = May 10): English of the United States or
    the Philippines, or English with no country said; every other language and country
    (``en-GB``, ``en-AU``, ``en-IN``) reads them day first."""
    is_article: bool = False
    """The page declares itself an article (JSON-LD article type or ``og:type=article``)."""
    is_listing: bool = False
    """The page declares itself a listing (JSON-LD ``CollectionPage``, ``SearchResultsPage``,
    ``ItemList``, ``ProfilePage``, ...) and no article."""
    article_body: str | None = None
    """JSON-LD ``articleBody``, when the page has it."""
    accessible_for_free: bool | None = None
    """Whether the page declares the article free to read (schema.org ``isAccessibleForFree``:
    :func:`declared_free`); ``None`` when it does not say."""


def _tag_gap(match: re.Match[str]) -> str:
    """What an element's tag leaves in its text: a space for a block's, nothing for inline."""
    return " " if _BLOCK_TAG.match(match[0]) else ""


def clean_space(value: Any) -> str | None:
    """``value`` as a string with HTML entities decoded (publishers double-escape them in
    meta tags and JSON-LD), the tags of HTML elements removed (a description written as
    ``<p>The council <strong>voted</strong></p>``) and white space collapsed; ``None`` when
    empty, or empty in disguise: no letter or digit (a headline of a zero-width space) or a
    template's placeholder left in (``null``, ``undefined``, ``[object Object]``,
    ``{{ article.title }}``, ``%%title%%``), so that the next source of the value is asked."""
    if value is None:
        return None
    text = str(value)
    for _ in range(2):
        if "&" not in text:
            break
        text = html.unescape(text)
    if "<" in text and _HTML_TAG.search(text):
        text = _HTML_TAG.sub(_tag_gap, text)
    text = _SPACE.sub(" ", text).strip()
    if not any(char.isalnum() for char in text) or _PLACEHOLDER.search(text):
        return None
    return text


def unique_texts(
    values: Iterable[str | None], clean: Callable[[str | None], str | None] = clean_space
) -> list[str]:
    """The cleaned, non-empty values in order, without case-insensitive repeats."""
    seen: dict[str, str] = {}
    for value in values:
        text = clean(value)
        if text and text.casefold() not in seen:
            seen[text.casefold()] = text
    return list(seen.values())


# --- JSON-LD ----------------------------------------------------------------------------------


def is_json_ld(script: HtmlElement) -> bool:
    """Whether a ``<script>`` element holds JSON-LD structured data."""
    return (script.get("type") or "").strip().lower() == "application/ld+json"


JSON_LD_DEPTH = 8
"""How deep in nested lists and value objects a JSON-LD value is looked for (a page may nest
them hundreds deep; Python's recursion would not)."""


def _json_ld_objects(tree: HtmlElement) -> Iterator[dict[str, Any]]:
    """Every JSON object in the page's JSON-LD scripts, flattening lists and ``@graph``."""
    for script in tree.iterfind(".//script[@type]"):
        if not is_json_ld(script):
            continue
        raw = (script.text or "").strip()
        if not raw:
            continue
        try:
            data = json.loads(raw, strict=False)
        except (ValueError, RecursionError):  # not JSON, or nested deeper than Python goes
            continue
        stack: list[Any] = [data]
        while stack:
            node = stack.pop(0)
            if isinstance(node, list):
                stack[0:0] = node
            elif isinstance(node, dict):
                yield node
                graph = node.get("@graph")
                if isinstance(graph, list):
                    stack[0:0] = graph


def _types(obj: dict[str, Any]) -> set[str]:
    value = obj.get("@type")
    values = value if isinstance(value, list) else [value]
    return {str(v).rsplit("/", 1)[-1] for v in values if v}


def _names(value: Any, depth: int = 0) -> list[str]:
    """Names of schema.org Person/Organization values (objects, strings or lists of them), but
    those read past their end (:func:`_whole`)."""
    if isinstance(value, list) and depth < JSON_LD_DEPTH:
        return [name for item in value for name in _names(item, depth + 1)]
    if isinstance(value, dict):
        name = value.get("name")
        names = name if isinstance(name, list) else [name]
        return [text for text in map(_json_text, names) if text and _whole(text)]
    if isinstance(value, str) and _whole(value):
        return [value]
    return []


def _json_text(value: Any, depth: int = 0) -> str | None:
    """A JSON-LD value as text: a string, a number, a value object's ``@value``
    (``{"@value": "...", "@language": "en"}``), or the first of a list that is one of these;
    ``None`` for anything else (an object, ``true``), never its Python ``str()``."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str | int | float):
        return str(value)
    if depth >= JSON_LD_DEPTH:
        return None
    if isinstance(value, dict):
        return _json_text(value.get("@value"), depth + 1)
    if isinstance(value, list):
        return next(
            (text for item in value if (text := _json_text(item, depth + 1)) is not None), None
        )
    return None


def _first_text(value: Any) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if v), None)
    if isinstance(value, dict):
        value = value.get("url") or value.get("@id") or value.get("name")
    return clean_space(value) if isinstance(value, (str, int, float)) else None


def _keywords(value: Any, depth: int = 0) -> list[str]:
    """The keywords of a comma-separated value (or of a list of them); none of a value read
    past its end (:func:`_whole`), not even those before the markup."""
    if isinstance(value, list) and depth < JSON_LD_DEPTH:
        return [kw for item in value for kw in _keywords(item, depth + 1)]
    if isinstance(value, str) and _whole(value):
        return [part for part in value.split(",") if part.strip()]
    return []


LISTING_TYPES = frozenset(
    {
        "CollectionPage",
        "SearchResultsPage",
        "ItemList",
        "ProfilePage",
        "WebSite",
        "SiteNavigationElement",
    }
)


def _article_object(objects: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The page's main JSON-LD article object (the one with the longest ``articleBody``)."""
    articles = [obj for obj in objects if _types(obj) & ARTICLE_TYPES]
    if not articles:
        return None
    return max(
        articles,
        key=lambda obj: (bool(obj.get("headline")), len(str(obj.get("articleBody") or ""))),
    )


_ORGANIZATION_TYPES = frozenset({"Organization", "NewsMediaOrganization", "Corporation"})


_WEB_PAGE_TYPES = frozenset({"WebPage", "ItemPage"})


def _resolved(value: Any, objects: list[dict[str, Any]]) -> list[Any]:
    """JSON-LD values with references (``{"@id": ...}`` and nothing else to name it) replaced
    by the node of the page's graph they refer to, when it has a name."""
    items = value if isinstance(value, list) else [value]
    if not any(isinstance(item, dict) and "@id" in item and not item.get("name") for item in items):
        return items
    named = {
        obj["@id"]: obj for obj in objects if isinstance(obj.get("@id"), str) and obj.get("name")
    }
    return [
        named.get(item["@id"], item)
        if isinstance(item, dict) and isinstance(item.get("@id"), str) and not item.get("name")
        else item
        for item in items
    ]


def _authors(article: dict[str, Any], objects: list[dict[str, Any]]) -> tuple[list[str], list[str]]:
    """The article's JSON-LD authors as (people, organizations), references resolved; those
    of the web page that holds it when the article names none."""
    people, organizations = _split_people(_resolved(article.get("author"), objects))
    if people or organizations:
        return people, organizations
    for page in objects:
        if _types(page) & _WEB_PAGE_TYPES and page.get("author"):
            people, organizations = _split_people(_resolved(page.get("author"), objects))
            if people or organizations:
                break
    return people, organizations


def _meta_names(metas: dict[str, list[str]], keys: tuple[str, ...]) -> list[str]:
    """The values of these meta tags, in the keys' order, but URLs (``article:author`` is
    often a profile URL, not a name) and values read past their end (:func:`_whole`)."""
    return [
        value
        for key in keys
        for value in metas.get(key, ())
        if not value.startswith(("http://", "https://")) and _whole(value)
    ]


def _split_people(value: Any) -> tuple[list[str], list[str]]:
    """JSON-LD ``author`` values as (people, organizations)."""
    items = value if isinstance(value, list) else [value]
    organizations = [
        item for item in items if isinstance(item, dict) and _types(item) & _ORGANIZATION_TYPES
    ]
    people = [item for item in items if item not in organizations]
    return _names(people), _names(organizations)


_FREE_VALUES = {"true": True, "false": False}
# schema.org's Boolean values as URLs ("http://schema.org/False"), and as compact IRIs
_SCHEMA_ORG = re.compile(r"^(?:https?://schema\.org/|schema:)", re.IGNORECASE)


def _free_values(value: Any, depth: int = 0) -> list[bool]:
    """The Booleans an ``isAccessibleForFree`` value says: ``true``/``false`` as JSON, as
    strings in any case (``"False"``), as schema.org's URLs (``"http://schema.org/False"``),
    in a value object or a reference (``{"@value": ...}``, ``{"@id": ...}``) or a list of
    these; nothing for anything else (``"yes"``, ``1``, an object)."""
    if isinstance(value, bool):
        return [value]
    if isinstance(value, str):
        said = _FREE_VALUES.get(_SCHEMA_ORG.sub("", value.strip()).casefold())
        return [] if said is None else [said]
    if depth >= JSON_LD_DEPTH:
        return []
    if isinstance(value, dict):
        return _free_values(value.get("@value", value.get("@id")), depth + 1)
    if isinstance(value, list):
        return [said for item in value for said in _free_values(item, depth + 1)]
    return []


def _free_verdict(said: list[bool]) -> bool | None:
    """False when any declaration is false, true when one is true, else ``None``."""
    if not said:
        return None
    return all(said)


def _declared_free_of(work: dict[str, Any]) -> bool | None:
    """What a JSON-LD object declares of itself and its parts (``hasPart``): false when it
    or any part is not free, true when one says free and none not, else ``None``."""
    said = _free_values(work.get("isAccessibleForFree"))
    parts = work.get("hasPart")
    for part in parts if isinstance(parts, list) else [parts]:
        if isinstance(part, dict):
            said += _free_values(part.get("isAccessibleForFree"))
    return _free_verdict(said)


def declared_free(
    article: dict[str, Any] | None, objects: list[dict[str, Any]], metas: dict[str, list[str]]
) -> bool | None:
    """Whether the page declares its article free to read, as schema.org's
    ``isAccessibleForFree`` says it (and Google asks of paywalled pages): false when the
    article object or a part of it (``hasPart``: the paywalled element) declares false, true
    when it (or a part) declares true and none false; the web page that holds the article (its
    ``mainEntity``, or the page itself) when the article says nothing, then the microdata
    (``<meta itemprop="isAccessibleForFree">``); ``None`` when none says, or says it in no
    way read as a Boolean.

    A page that declares false may still hold the whole article (in its JSON-LD
    ``articleBody``, or in the markup a paywall script hides): false says what the page
    declares, not that the text is cut."""
    works = [article] if article else []
    for page in objects:
        if _types(page) & _WEB_PAGE_TYPES:
            entity = page.get("mainEntity")
            works += [
                item
                for item in (entity if isinstance(entity, list) else [entity])
                if isinstance(item, dict) and _types(item) & ARTICLE_TYPES
            ]
            works.append(page)
    for work in works:
        verdict = _declared_free_of(work)
        if verdict is not None:
            return verdict
    return _free_verdict(
        [said for value in metas.get("isaccessibleforfree", ()) for said in _free_values(value)]
    )


# --- <meta> and <link> ----------------------------------------------------------------------


def _meta_map(tree: HtmlElement) -> dict[str, list[str]]:
    """``<meta>`` contents by lower-cased ``property``/``name``/``itemprop``/``http-equiv``."""
    found: dict[str, list[str]] = {}
    for meta in tree.iterfind(".//meta"):
        content = meta.get("content")
        if content is None or not content.strip():
            continue
        for attribute in ("property", "name", "itemprop", "http-equiv"):
            key = meta.get(attribute)
            if key:
                found.setdefault(key.strip().lower(), []).append(content.strip())
    return found


def _meta_texts(metas: dict[str, list[str]], keys: Iterable[str]) -> Iterator[str]:
    """These meta tags' values, in the keys' order, cleaned, but the empty ones."""
    for key in keys:
        for value in metas.get(key, ()):
            text = clean_space(value)
            if text:
                yield text


def _first_candidate(
    metas: dict[str, list[str]], keys: Iterable[str], max_chars: int
) -> str | None:
    """The first of these meta tags' values that can be the field they are read for
    (:func:`candidate`: short enough, not read past its end), cleaned."""
    return next(
        filter(None, (candidate(text, max_chars) for text in _meta_texts(metas, keys))), None
    )


def _first_meta(metas: dict[str, list[str]], keys: Iterable[str]) -> str | None:
    """The first of these meta tags' values that is not empty, cleaned."""
    return next(iter(_meta_texts(metas, keys)), None)


def _canonical_link(tree: HtmlElement) -> str | None:
    """The first ``<link rel=canonical>``'s ``href`` that can be a URL of the page
    (:func:`candidate` of ``MAX_URL_CHARS``)."""
    for link in tree.iterfind(".//link[@rel]"):
        href = link.get("href")
        if "canonical" in link.get("rel", "").lower().split() and candidate(href, MAX_URL_CHARS):
            return href
    return None


def language_code(value: str | None) -> str | None:
    """The ISO 639 code in a language tag or locale (``en-US``, ``pt_BR``, ``zh-Hans``)."""
    if not value:
        return None
    match = _LANGUAGE_CODE.match(value.strip().split(",")[0].strip())
    return match.group(1).lower() if match else None


def reads_month_first(tag: str | None) -> bool:
    """Whether a page in language ``tag`` writes numeric dates month first (see
    :attr:`PageMetadata.month_first`)."""
    if language_code(tag) != "en" or tag is None:
        return False
    parts = re.split(r"[-_]", tag.strip().split(",")[0].strip())
    regions = [part.upper() for part in parts[1:] if len(part) == 2 and part.isalpha()]
    return not regions or regions[0] in _MONTH_FIRST_REGIONS


def _time_element_datetime(tree: HtmlElement) -> str | None:
    """A ``<time datetime>`` marked as the publication time, or the first one in an article."""
    for time in tree.iterfind(".//time[@datetime]"):
        if (time.get("itemprop") or "").lower() == "datepublished" or time.get(
            "pubdate"
        ) is not None:
            return time.get("datetime")
    for article in tree.iterfind(".//article"):
        for time in article.iterfind(".//time[@datetime]"):
            return time.get("datetime")
    return None


def page_metadata(tree: HtmlElement, url: str) -> PageMetadata:
    """Everything the page's structured data and meta tags say about the article."""
    metas = _meta_map(tree)
    objects = list(_json_ld_objects(tree))
    article = _article_object(objects) or {}
    publisher = article.get("publisher")
    people, organizations = _authors(article, objects)

    og_type = (_first_meta(metas, ("og:type",)) or "").lower()
    canonical = _canonical_link(tree) or _first_candidate(metas, ("og:url",), MAX_URL_CHARS)
    base = page_base(tree, url)
    html_lang = (
        tree.get("lang")
        or tree.get("xml:lang")  # lxml's HTML parser keeps it under this plain name
        or tree.get("{http://www.w3.org/XML/1998/namespace}lang")
    )

    meta_authors = _meta_names(metas, _META_AUTHOR)
    meta_bylines = _meta_names(metas, _META_BYLINE)
    tags: list[str] = []
    for key in _META_TAGS:
        for value in metas.get(key, ()):
            tags.extend(_keywords(value))
    tags.extend(_keywords(article.get("keywords")))
    section = article.get("articleSection")
    sections = section if isinstance(section, list) else [section]
    tags.extend(text for text in map(_json_text, sections) if text and _whole(text))

    body = article.get("articleBody")
    tag = next(
        (
            value
            for value in (
                html_lang,
                _first_text(article.get("inLanguage")),
                _first_meta(metas, _META_LANGUAGE),
            )
            if language_code(value)
        ),
        None,
    )
    return PageMetadata(
        title=title_candidate(clean_space(_json_text(article.get("headline"))))
        or _first_candidate(metas, _META_TITLE, MAX_TITLE_CHARS),
        description=_first_candidate(metas, _META_DESCRIPTION, MAX_DESCRIPTION_CHARS)
        or candidate(clean_space(_json_text(article.get("description"))), MAX_DESCRIPTION_CHARS),
        authors=unique_texts(people or meta_authors),
        organization_authors=unique_texts(organizations),
        meta_bylines=unique_texts(meta_bylines),
        published=clean_space(_json_text(article.get("datePublished")))
        or clean_space(_json_text(article.get("dateCreated")))
        or _first_meta(metas, _META_PUBLISHED)
        or clean_space(_time_element_datetime(tree)),
        modified=clean_space(_json_text(article.get("dateModified")))
        or _first_meta(metas, _META_MODIFIED),
        site_name=_first_candidate(metas, ("og:site_name",), MAX_SITE_NAME_CHARS)
        or next((name for name in _names(publisher) if len(name) <= MAX_SITE_NAME_CHARS), None)
        or _first_candidate(metas, _META_SITE_NAME[1:], MAX_SITE_NAME_CHARS),
        tags=[tag for tag in unique_texts(tags) if len(tag) <= MAX_TAG_CHARS][:MAX_TAGS],
        # the links are bounded, then what they resolve to (against a <base href> maybe long)
        image_url=within(
            http_url(
                _first_candidate(metas, _META_IMAGE, MAX_URL_CHARS)
                or candidate(_first_text(article.get("image")), MAX_URL_CHARS),
                base,
            ),
            MAX_URL_CHARS,
        ),
        canonical_url=plausible_canonical(within(http_url(canonical, base), MAX_URL_CHARS), url),
        language=language_code(tag),
        month_first=reads_month_first(tag),
        is_article=bool(article) or og_type == "article",
        is_listing=not article
        and og_type != "article"
        and any(_types(obj) & LISTING_TYPES - {"WebSite"} for obj in objects),
        article_body=body.strip() if isinstance(body, str) and body.strip() else None,
        accessible_for_free=declared_free(article or None, objects, metas),
    )
