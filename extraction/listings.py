"""Listing pages (home, section, tag, author, search, pagination pages): how they are told
from articles.

A listing is judged on the page's structure, and on what remains of its text once the links
and the excerpts under them are set aside; never on the share of link text in what the
extractor kept (menus and teasers inside a short article's text made real articles look like
listings, and were dropped run after run). ``bench/listings.py`` measures both sides: every
article page the project has is kept, every listing page built from a real template dropped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from extraction.boilerplate import key
from extraction.text import text_size

if TYPE_CHECKING:
    from collections.abc import Collection

    from lxml.html import HtmlElement

    from extraction.boilerplate import PageScan
    from extraction.structured import PageMetadata

MIN_LISTING_HEADLINES = 3
"""Linked headlines from which a page can be a listing."""
MIN_HEADED_TEASERS = 5
"""Linked headlines from which what a headline heads can be a list of them (fewer are a box
of related links)."""
SHORT_TEXT_FACTOR = 3
TEASER_FACTOR = 2
"""Besides its teasers, a listing's text is short (at most ``SHORT_TEXT_FACTOR`` times the
least an article has: a section's intro, an author's box) and its teasers are at least
``TEASER_FACTOR`` times as long."""
MAX_EXCERPT_CHARS = 600
"""A teaser's excerpt is shorter: longer, it is the article under its own linked headline."""
HEADLINE_INTRO_FACTOR = 2
"""Under its headline, a listing shows linked headlines and at most a short intro: less
than 1/``HEADLINE_INTRO_FACTOR`` of the least an article has."""
MIN_TEASER_PART_CHARS = 12
"""Headlines and excerpts shorter than this are not looked for in the text (a word or two
would match inside an article's own sentences)."""
# URL paths and queries of listings: tag, topic, category, section, author, search, archive,
# pagination (not "?p=": WordPress articles use it).
_LISTING_URL = re.compile(
    r"/(?:tags?|topics?|themen|temas?|category|categories|categorie|categoria|kategorie|"
    r"section|sections|author|authors|autor|auteur|search|suche|buscar|recherche|archive|"
    r"archiv|page)(?:/|$)|[?&](?:q|s|query|search|page)=",
    re.IGNORECASE,
)
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")


@dataclass(frozen=True)
class Teaser:
    """A linked headline on the page, and the excerpt under it (``""`` when none)."""

    headline: str
    excerpt: str


def _text(element: HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _is_linked(heading: HtmlElement) -> bool:
    """Whether a heading is a link or holds one (``h2 > a`` or ``a > h2``)."""
    if heading.find(".//a[@href]") is not None:
        return True
    return any(ancestor.tag == "a" and ancestor.get("href") for ancestor in heading.iterancestors())


def _excerpt_under(heading: HtmlElement) -> HtmlElement | None:
    """The element right after a linked heading (or after the link that holds it), unless it
    holds a headline or is longer than an excerpt (the article under its linked headline)."""
    parent = heading.getparent()
    # the element after the heading, or after the link around it (a > h2)
    nearest = parent if parent is not None and parent.tag == "a" else heading
    following = nearest.getnext()
    while following is not None and not isinstance(following.tag, str):
        following = following.getnext()  # a comment
    if following is None or next(following.iter(*_HEADINGS), None) is not None:
        return None
    return following if len(_text(following)) <= MAX_EXCERPT_CHARS else None


def teasers_on(tree: HtmlElement) -> list[Teaser]:
    """The page's teasers: each linked headline, with the text of the element right after it
    (or after the link that holds it) as its excerpt, unless that is another headline."""
    found = []
    for heading in tree.iter(*_HEADINGS):
        if not _is_linked(heading):
            continue
        excerpt = _excerpt_under(heading)
        found.append(
            Teaser(headline=_text(heading), excerpt=_text(excerpt) if excerpt is not None else "")
        )
    return found


@dataclass(frozen=True)
class UnderHeadline:
    """What a headline heads: the smallest element holding an ``<h1>`` that is not a link,
    and at least :data:`MIN_HEADED_TEASERS` linked headlines."""

    teasers: int
    """The linked headlines in it."""
    teaser_size: int
    """The size of their text and of the excerpts under them."""
    size: int
    """The size of its other text, links' text aside."""


_UNCOUNTED = frozenset({"a", "script", "style", "noscript", "template", "select", "button"})


def under_headline(tree: HtmlElement) -> UnderHeadline | None:
    """What the page's headlines head, the one with the least other text; ``None`` when no
    ``<h1>`` (not a link) is held with linked headlines enough. On an article, the element
    holding its headline and linked headlines holds the article's text too (its related links
    inside it, or the whole page); on a listing, the headline heads the list. (A page may
    have several ``<h1>``: a logo's, a menu's, the list's.)"""
    linked = [heading for heading in tree.iter(*_HEADINGS) if _is_linked(heading)]
    if len(linked) < MIN_HEADED_TEASERS:
        return None
    # how many linked headlines each element holds: one walk up from each
    held: dict[HtmlElement, int] = {}
    for heading in linked:
        for ancestor in heading.iterancestors():
            held[ancestor] = held.get(ancestor, 0) + 1
    found = {}
    for h1 in tree.iter("h1"):
        if _is_linked(h1) or not _text(h1):
            continue
        holder = next((a for a in h1.iterancestors() if held.get(a, 0) >= MIN_HEADED_TEASERS), None)
        if holder is not None and holder not in found:
            found[holder] = _under(h1, holder)
    return min(found.values(), key=lambda headed: headed.size, default=None)


def _under(headline: HtmlElement, holder: HtmlElement) -> UnderHeadline:
    """What ``headline`` heads in ``holder``."""
    linked = [heading for heading in holder.iter(*_HEADINGS) if _is_linked(heading)]
    skipped: set[HtmlElement] = {headline}
    teaser_parts = []
    for heading in linked:
        skipped.add(heading)
        teaser_parts.append(_text(heading))
        excerpt = _excerpt_under(heading)
        if excerpt is not None:
            skipped.add(excerpt)
            teaser_parts.append(_text(excerpt))
    parts = [holder.text or ""]
    for element in holder.iterdescendants():  # parents come before their children
        if element.getparent() in skipped:
            skipped.add(element)
        elif element.tail:
            parts.append(element.tail)
        if not isinstance(element.tag, str) or element.tag in _UNCOUNTED:
            skipped.add(element)  # a comment, a link, a script
        if element not in skipped and element.text:
            parts.append(element.text)
    return UnderHeadline(
        teasers=len(linked),
        teaser_size=text_size("".join(" ".join(teaser_parts).split())),
        size=text_size("".join(" ".join(parts).split())),
    )


def besides_teasers(
    paragraphs: list[str], teasers: list[Teaser], link_texts: Collection[str]
) -> tuple[int, int]:
    """The size (:func:`extraction.text.text_size`, white space aside) of the text's teasers
    and links, and of what remains once every teaser's headline and excerpt and every link
    text of the page are taken out of it (an extractor may keep them as paragraphs of their
    own, or run them together into one)."""
    text = key(" ".join(paragraphs))
    whole = text_size(text)
    parts = [key(part) for teaser in teasers for part in (teaser.headline, teaser.excerpt)]
    for part in sorted({*parts, *link_texts}, key=len, reverse=True):  # longest first
        if len(part) >= MIN_TEASER_PART_CHARS:
            text = text.replace(part, "")
    remaining = text_size(text)
    return whole - remaining, remaining


def article_paragraphs(
    paragraphs: list[str], link_texts: Collection[str], teasers: list[Teaser]
) -> list[str]:
    """What remains of a text once the paragraphs that are the text of a link on the page are
    set aside, and the paragraph right under a teaser's headline (its excerpt). (Under a menu's
    link there is no excerpt: what follows it may be the article itself.)"""
    headlines = {key(teaser.headline) for teaser in teasers}
    kept: list[str] = []
    under_headline = False
    for paragraph in paragraphs:
        paragraph_key = key(paragraph)
        if paragraph_key not in link_texts and not under_headline:
            kept.append(paragraph)
        under_headline = paragraph_key in headlines
    return kept


def listing_reason(
    paragraphs: list[str],
    scan: PageScan,
    url: str,
    meta: PageMetadata,
    *,
    teasers: list[Teaser],
    headed: UnderHeadline | None,
    min_text_chars: int,
) -> str | None:
    """Why the page is a listing (home, section, tag, author, search page), or ``None``.

    * A page that declares itself an article (JSON-LD article type, ``og:type=article``) is
      never one: with too little text, it is no article at all.
    * A page that shows several linked headlines and declares itself a listing (JSON-LD
      ``CollectionPage``/``SearchResultsPage``) or is the site's root (without a query:
      ``/?p=123`` and ``index.php?id=5`` are articles) is one; so is one at a ``/tag/``,
      ``/category/``, ``/archive/``, ``/search`` or ``?page=`` URL whose text besides its
      teasers and links is short (under ``SHORT_TEXT_FACTOR`` times ``min_text_chars``).
    * So is a page whose headline heads linked headlines and little else (``headed``,
      :func:`under_headline`): an intro shorter than half of ``min_text_chars`` at most.
    * So is a page whose extracted text is long enough for an article only with its teasers
      (linked headlines, with or without the excerpts under them) or links: fewer than
      ``min_text_chars`` of text besides. (Too little text with them too is no article.)
    """
    if meta.is_article:
        return None
    if scan.linked_headings >= MIN_LISTING_HEADLINES:
        parts = urlsplit(url)
        if meta.is_listing or (_is_root(parts.path) and not parts.query):
            return f"{scan.linked_headings} linked headlines where listings live: a listing"
        if _LISTING_URL.search(f"{parts.path}?{parts.query}"):
            # a listing's word in the URL, and an article's text tells it from one: a
            # sidebar's three linked headlines made real articles listings at /archive/2024/
            # (The Atlantic's) or at a second /page/ of their own
            _, size = besides_teasers(paragraphs, teasers, scan.link_texts)
            if size < SHORT_TEXT_FACTOR * min_text_chars:
                return (
                    f"{scan.linked_headings} linked headlines where listings live, and "
                    f"{size} characters of text besides them: a listing"
                )
    if headed is not None and headed.size * HEADLINE_INTRO_FACTOR < min_text_chars:
        return (
            f"its headline heads {headed.teasers} linked headlines and {headed.size} characters "
            "of other text: a listing"
        )
    if text_size("".join("".join(paragraphs).split())) < min_text_chars:
        return None
    if len(teasers) >= MIN_LISTING_HEADLINES:
        teaser_size, size = besides_teasers(paragraphs, teasers, scan.link_texts)
        if _mostly_teasers(size, teaser_size, min_text_chars):
            return (
                f"{size} characters of text besides {teaser_size} of {len(teasers)} teasers: "
                "a listing"
            )
    body = article_paragraphs(paragraphs, scan.link_texts, teasers)
    if len(body) < len(paragraphs):  # some paragraphs are links or excerpts under them
        size = text_size("\n\n".join(body))
        if size < min_text_chars:
            return f"{size} characters of text besides links and the excerpts under them: a listing"
    return None


def _is_root(path: str) -> bool:
    return path.strip("/") in ("", "index.html", "index.php", "index.htm")


def _mostly_teasers(size: int, teaser_size: int, min_text_chars: int) -> bool:
    """Whether text of ``size`` beside teasers of ``teaser_size`` is a listing's: too short
    for an article, or short and outweighed by the teasers."""
    return size < min_text_chars or (
        size < SHORT_TEXT_FACTOR * min_text_chars and teaser_size >= TEASER_FACTOR * size
    )
