"""Listing pages told from articles (extraction/listings.py): on the page's structure and on
what remains besides links and teasers, never on the share of link text."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import pytest

from bench.harness.corpus import load_pages
from bench.harness.listings import listings, teasers_of_pages
from extraction.boilerplate import PageScan
from extraction.extractor import ExtractionError, extract_article
from extraction.listings import (
    MIN_LISTING_HEADLINES,
    Teaser,
    article_paragraphs,
    besides_teasers,
    listing_reason,
    teasers_on,
    under_headline,
)
from extraction.structured import PageMetadata

ROOT = Path(__file__).resolve().parent.parent
DEMO = load_pages(ROOT / "demo" / "pages")
ARTICLE = " ".join(["The council met on Tuesday and decided to rebuild the old bridge."] * 12)


def _tree(body: str) -> lxml.html.HtmlElement:
    return lxml.html.document_fromstring(f"<html><body>{body}</body></html>")


def test_teasers_are_linked_headlines_with_the_excerpt_under_them() -> None:
    tree = _tree(
        '<div><h2><a href="/a">First headline of a story</a></h2><p>Its excerpt, short.</p></div>'
        '<div><a href="/b"><h3>Second headline of a story</h3></a><p>Another excerpt.</p></div>'
        "<h2>Not a link</h2><p>Text.</p>"
        '<div><h2><a href="/c">Third headline</a></h2><h3>A heading, no excerpt</h3></div>'
        f'<div><h2><a href="/d">An article under its own link</a></h2><div>{ARTICLE}</div></div>'
    )
    assert teasers_on(tree) == [
        Teaser(headline="First headline of a story", excerpt="Its excerpt, short."),
        Teaser(headline="Second headline of a story", excerpt="Another excerpt."),
        Teaser(headline="Third headline", excerpt=""),
        Teaser(headline="An article under its own link", excerpt=""),  # too long for one
    ]


def test_besides_teasers_finds_them_run_together_or_apart() -> None:
    teasers = [Teaser(headline=f"Headline number {n} of the day", excerpt="") for n in range(4)]
    apart = [teaser.headline for teaser in teasers]
    together = [" ".join(apart) + " World"]
    assert besides_teasers(apart, teasers, set()) == (
        sum(len(p.replace(" ", "")) for p in apart),
        0,
    )
    _teaser_size, rest = besides_teasers(together, teasers, set())
    assert rest == len("World")
    assert besides_teasers([ARTICLE, *apart], teasers, set())[1] == len(ARTICLE.replace(" ", ""))


def test_article_paragraphs_set_links_and_the_excerpts_under_them_aside() -> None:
    links = {"menuitem", "storyone"}
    teasers = [Teaser(headline="Story one", excerpt="Its excerpt.")]
    paragraphs = ["Menu item", "Story one", "Its excerpt.", "The article's own paragraph."]
    assert article_paragraphs(paragraphs, links, teasers) == ["The article's own paragraph."]
    # under a menu's link there is no excerpt: the article may follow it at once
    assert article_paragraphs(["Menu item", "A short article."], links, teasers) == [
        "A short article."
    ]


def _meta(*, is_article: bool = False, is_listing: bool = False) -> PageMetadata:
    return PageMetadata(is_article=is_article, is_listing=is_listing)


def _scan(headings: int, links: set[str] | None = None) -> PageScan:
    return PageScan(linked_headings=headings, link_texts=links or set())


@pytest.mark.parametrize(
    ("url", "meta", "expected"),
    [
        ("https://news.test/", {}, True),  # the root, with linked headlines
        ("https://news.test/index.php", {}, True),
        ("https://news.test/world/", {"is_listing": True}, True),  # CollectionPage
        ("https://news.test/world/", {}, False),  # nothing says so, and it has an article
        ("https://news.test/", {"is_article": True}, False),  # declares itself an article
        # a listing's place, with an article's text besides the sidebar's three linked
        # headlines: real articles were dropped as listings there (26 of the 384 pages of both
        # sets at each of these URLs)
        ("https://news.test/tag/x/", {}, False),
        ("https://news.test/?p=123", {}, False),  # WordPress
        ("https://news.test/index.php?option=com_content&view=article&id=5", {}, False),
        ("https://news.test/ideas/archive/2024/05/story/678001/", {}, False),
        ("https://news.test/2024/05/story/page/2/", {}, False),
    ],
)
def test_structure_decides_where_listings_live(
    url: str, meta: dict[str, bool], expected: bool
) -> None:
    reason = listing_reason(
        [ARTICLE],
        _scan(MIN_LISTING_HEADLINES),
        url,
        _meta(**meta),
        teasers=[],
        headed=None,
        min_text_chars=200,
    )
    assert (reason is not None) is expected


@pytest.mark.parametrize(
    "url",
    ["https://news.test/tag/x/", "https://news.test/archive/2024/", "https://news.test/?page=2"],
)
def test_a_listings_place_with_little_text_besides_is_a_listing(url: str) -> None:
    reason = listing_reason(
        ["A short introduction to the topic."],
        _scan(MIN_LISTING_HEADLINES),
        url,
        _meta(),
        teasers=[],
        headed=None,
        min_text_chars=200,
    )
    assert reason is not None
    assert "where listings live" in reason


def test_an_article_with_teasers_and_menus_in_its_text_is_no_listing() -> None:
    teasers = [Teaser(headline=f"Related story number {n}", excerpt="") for n in range(8)]
    menu = {f"section{n}" for n in range(30)}
    paragraphs = [*(f"Section {n}" for n in range(30)), ARTICLE, *(t.headline for t in teasers)]
    assert (
        listing_reason(
            paragraphs,
            _scan(8, menu),
            "https://news.test/world/x",
            _meta(),
            teasers=teasers,
            headed=None,
            min_text_chars=200,
        )
        is None
    )


def test_teasers_with_little_besides_are_a_listing() -> None:
    teasers = [
        Teaser(headline=f"Headline of story {n}", excerpt=f"Excerpt {n} of it.") for n in range(8)
    ]
    paragraphs = [f"World {' '.join(f'{t.headline} {t.excerpt}' for t in teasers)}"]
    reason = listing_reason(
        paragraphs,
        _scan(8),
        "https://news.test/world/",
        _meta(),
        teasers=teasers,
        headed=None,
        min_text_chars=200,
    )
    assert reason is not None
    assert "teasers: a listing" in reason


def test_too_little_text_even_with_its_links_is_no_article_rather_than_a_listing() -> None:
    paragraphs = ["Home", "World", "Write to us."]  # a contact page: menu links, one line
    reason = listing_reason(
        paragraphs,
        _scan(0, {"home", "world"}),
        "https://news.test/contact",
        _meta(),
        teasers=[],
        headed=None,
        min_text_chars=200,
    )
    assert reason is None


def _teaser_list(count: int, *, excerpts: bool) -> str:
    excerpt = "<p>What happened, in a sentence or two of an excerpt.</p>" if excerpts else ""
    return "".join(
        f'<div class="story"><h3><a href="/s/{n}">Headline of story number {n}</a></h3>'
        f"{excerpt}</div>"
        for n in range(count)
    )


@pytest.mark.parametrize("excerpts", [True, False])
def test_a_headline_heading_a_list_of_teasers_is_a_listing(excerpts: bool) -> None:
    tree = _tree(
        f"<main><h1>World</h1><p>The latest.</p>{_teaser_list(10, excerpts=excerpts)}</main>"
        f"<aside><p>{ARTICLE}</p></aside>"  # what an extractor may keep instead
    )
    headed = under_headline(tree)
    assert headed is not None
    assert headed.teasers == 10
    assert headed.size == len("Thelatest.")
    assert headed.teaser_size >= 10 * len("Headlineofstorynumber0")
    reason = listing_reason(
        [ARTICLE],
        _scan(10),
        "https://news.test/world/",
        _meta(),
        teasers=teasers_on(tree),
        headed=headed,
        min_text_chars=200,
    )
    assert reason is not None
    assert reason.startswith("its headline heads 10 linked headlines")


def test_an_article_under_its_headline_is_no_listing() -> None:
    # the article's related links share its element: its own text is counted, links' aside
    tree = _tree(
        f'<article><h1>The bridge</h1><p>{ARTICLE} <a href="/x">a link in it</a></p>'
        f"{_teaser_list(6, excerpts=True)}</article>"
    )
    headed = under_headline(tree)
    assert headed is not None
    assert headed.size == len(ARTICLE.replace(" ", ""))
    reason = listing_reason(
        [ARTICLE],
        _scan(6),
        "https://news.test/world/bridge",
        _meta(),
        teasers=teasers_on(tree),
        headed=headed,
        min_text_chars=200,
    )
    assert reason is None


def test_the_headline_heading_the_list_is_found_among_others() -> None:
    tree = _tree(
        "<header><h1>The Daily</h1><p>Since 1851, every morning.</p></header>"
        f"<main><h1>World</h1>{_teaser_list(8, excerpts=False)}</main>"
    )
    headed = under_headline(tree)
    assert headed is not None
    assert (headed.teasers, headed.size) == (8, 0)


def test_no_headline_or_a_linked_one_heads_nothing() -> None:
    teasers = _teaser_list(5, excerpts=False)
    assert under_headline(_tree(teasers)) is None
    assert (
        under_headline(_tree(f'<header><a href="/"><h1>The Daily</h1></a></header>{teasers}'))
        is None
    )
    # a box of a few related links is no list
    assert under_headline(_tree(f"<h1>World</h1>{_teaser_list(4, excerpts=False)}")) is None


def test_every_demo_article_is_kept_and_listings_of_their_templates_dropped() -> None:
    """The in-repository side of ``make bench-listings``: the demo's 41 articles are all kept;
    every listing page made from their templates (home, section, tag, author, search,
    pagination) is dropped."""
    teasers = teasers_of_pages(DEMO)
    kept: list[str] = []
    reasons: list[str] = []
    for number, page in enumerate(DEMO):
        extract_article(page.body(), page.url, "text/html")  # raises if it were dropped
        others = [t for t in teasers[number:] + teasers[:number] if page.id not in t.path]
        for listing in listings(page.body(), "text/html", "https://news.test", others):
            try:
                extract_article(listing.body, listing.url, "text/html")
            except ExtractionError as exc:
                reasons.append(exc.reason)
            else:
                kept.append(f"{page.id} ({listing.kind})")
    assert len(reasons) >= 6 * 35
    assert set(reasons) <= {"ListingPage", "NotAnArticle"}
    assert kept == []
