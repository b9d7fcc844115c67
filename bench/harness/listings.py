"""Listing pages built from real templates: a site's home, section, tag, author, search and
pagination pages, made from one of its article pages.

A real article page keeps everything around its article (header, menus, sidebars, footer);
the article itself is replaced by a list of teasers, each a headline linking to another
article, with or without an excerpt under it, as listing pages show them. What declares the page
an article (its JSON-LD, ``og:type``, ``article:*`` meta, canonical link) goes; its ``<h1>``
becomes the listing's name. Each kind of listing lives at the URL such pages have on news sites.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from itertools import cycle, islice
from typing import TYPE_CHECKING

import lxml.html

from extraction.charset import decode_html

if TYPE_CHECKING:
    from collections.abc import Sequence

    from lxml.html import HtmlElement

    from bench.harness.corpus import CorpusPage

KINDS: dict[str, str] = {
    "home": "/",
    "section": "/world/",
    "tag": "/tag/elections/",
    "author": "/author/jane-doe/",
    "search": "/search?q=elections",
    "pagination": "/world/page/3/",
}
"""Each kind of listing page, and the path it has."""
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
TEASERS = 12
"""Teasers on one listing page."""


@dataclass(frozen=True)
class Teaser:
    """An article as a listing shows it."""

    headline: str
    path: str
    excerpt: str


@dataclass(frozen=True)
class Listing:
    kind: str
    url: str
    body: bytes


def _article_container(tree: HtmlElement) -> HtmlElement | None:
    """The element holding the article: the deepest one with most of the page's paragraph
    text (at least 60% of it) and its headline (``<h1>``), so that the article's own byline,
    lead and author box go with it."""
    sizes: dict[HtmlElement, int] = {}
    total = 0
    for paragraph in tree.iter("p"):
        size = len(paragraph.text_content().strip())
        total += size
        parent = paragraph.getparent()
        while parent is not None and parent.tag != "html":
            sizes[parent] = sizes.get(parent, 0) + size
            parent = parent.getparent()
    if not total:
        return None
    holding = [element for element, size in sizes.items() if size >= 0.6 * total]
    headline = next(tree.iter("h1"), None)
    with_headline = [
        element
        for element in holding
        if headline is not None and (element is headline or element in headline.iterancestors())
    ]
    candidates = [e for e in with_headline if e.tag not in ("body", "html")] or holding
    return max(candidates, key=lambda element: len(list(element.iterancestors())), default=None)


def _undeclare(tree: HtmlElement) -> None:
    """Remove what says the page is an article."""
    for script in tree.xpath("//script[@type='application/ld+json']"):
        script.getparent().remove(script)
    for meta in tree.xpath(
        "//meta[@property='og:type' or @name='og:type' or starts-with(@property, 'article:') "
        "or starts-with(@name, 'article:') or @itemprop='articleBody']"
        "|//link[@rel='canonical']|//meta[@property='og:url' or @name='og:url']"
    ):
        meta.getparent().remove(meta)
    for scoped in tree.xpath("//*[@itemtype]"):
        del scoped.attrib["itemtype"]


def listing_page(
    template: bytes, content_type: str | None, teasers: Sequence[Teaser], *, name: str,
    excerpts: bool, article_text: str = "",
) -> bytes | None:  # fmt: skip
    """The page ``template`` (an article page) with its article replaced by ``teasers``
    (their excerpts shown when ``excerpts``), named ``name``; ``None`` when no article
    container is found in it, or when the page still shows a paragraph of ``article_text``
    (the article's text, when known) once it is replaced: the container was not the
    article's, and the page made would be no listing."""
    text, _ = decode_html(template, content_type)
    # an XML declaration in the text names an encoding lxml may not apply to decoded text
    tree = lxml.html.document_fromstring(_XML_DECLARATION.sub("", text, count=1))
    container = _article_container(tree)
    if container is None:
        return None
    _undeclare(tree)
    for child in list(container):
        container.remove(child)
    container.text = None
    heading = lxml.html.fragment_fromstring(f"<h1>{html.escape(name)}</h1>")
    container.append(heading)
    for teaser in teasers:
        excerpt = f"<p>{html.escape(teaser.excerpt)}</p>" if excerpts else ""
        block = lxml.html.fragment_fromstring(
            f'<div class="story"><h3><a href="{html.escape(teaser.path)}">'
            f"{html.escape(teaser.headline)}</a></h3>{excerpt}</div>"
        )
        container.append(block)
    for title in tree.xpath("//title"):
        title.text = f"{name} | News"
    if _shows_any(tree, article_text):
        return None
    return lxml.html.tostring(tree, encoding="utf-8", doctype="<!DOCTYPE html>")


SHOWN_PARAGRAPH_CHARS = 60
"""A paragraph of the article this long, still on the page, shows the article is there."""


def _key(text: str) -> str:
    return "".join(text.split())


def _shows_any(tree: HtmlElement, article_text: str) -> bool:
    """Whether the page still shows a paragraph (of at least ``SHOWN_PARAGRAPH_CHARS``) of
    ``article_text``, however its markup splits it."""
    paragraphs = [_key(line) for line in article_text.splitlines()]
    paragraphs = [p for p in paragraphs if len(p) >= SHOWN_PARAGRAPH_CHARS]
    if not paragraphs:
        return False
    shown = _key(" ".join(tree.xpath("//body//text()[not(ancestor::script or ancestor::style)]")))
    return any(paragraph in shown for paragraph in paragraphs)


def listings(
    template: bytes,
    content_type: str | None,
    base_url: str,
    teasers: Sequence[Teaser],
    *,
    article_text: str = "",
) -> list[Listing]:
    """Every kind of listing page made from ``template``, half of them with excerpts, each at
    its URL on ``base_url`` (``https://host``); none when the template's article (its text
    ``article_text``, when known) cannot be replaced."""
    made = []
    pool = cycle(teasers)
    for number, (kind, path) in enumerate(KINDS.items()):
        shown = list(islice(pool, TEASERS))
        name = {"home": "Home", "section": "World", "tag": "Elections", "author": "Jane Doe",
                "search": "Search results", "pagination": "World, page 3"}[kind]  # fmt: skip
        body = listing_page(
            template, content_type, shown, name=name, excerpts=number % 2 == 0,
            article_text=article_text,
        )  # fmt: skip
        if body is not None:
            made.append(Listing(kind=kind, url=base_url + path, body=body))
    return made


def teasers_of_pages(pages: Sequence[CorpusPage]) -> list[Teaser]:
    """Teasers of the labelled pages of a corpus (their expected title, and body or lead),
    each linking to ``/articles/<page id>.html``."""
    items = [
        (page.expected.get("title") or "", f"/articles/{page.id}.html",
         page.expected.get("body") or page.expected.get("lead") or "")
        for page in pages
    ]  # fmt: skip
    return teasers_of([item for item in items if item[0] and item[2]])


def teasers_of(pages: Sequence[tuple[str, str, str]]) -> list[Teaser]:
    """Teasers of articles given as ``(title, path, text)``: the excerpt is the text's first
    sentences, up to about 200 characters."""
    found = []
    for title, path, text in pages:
        first = " ".join(text.split())[:200].rsplit(" ", 1)[0]
        if title and first:
            found.append(Teaser(headline=title, path=path, excerpt=first + " ..."))
    return found
