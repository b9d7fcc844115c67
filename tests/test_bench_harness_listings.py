"""Listing pages made from article templates (bench/harness/listings.py)."""

from __future__ import annotations

import lxml.html

from bench.harness.listings import KINDS, Teaser, listing_page, listings

ARTICLE = "The council met on Tuesday and decided to rebuild the old bridge over the river."
TEASERS = [
    Teaser(headline=f"Story number {n}", path=f"/s/{n}", excerpt="What it says.") for n in range(12)
]


def _template(article: str) -> bytes:
    return (
        "<html><head><title>A story</title>"
        '<meta property="og:type" content="article"><meta name="og:type" content="article">'
        "</head><body><nav><a href='/'>Home</a></nav>"
        f"{article}<footer>(c) The Daily</footer></body></html>"
    ).encode()


def test_the_article_is_replaced_by_teasers_and_undeclared() -> None:
    body = listing_page(
        _template(f"<article><h1>A story</h1><p>{ARTICLE}</p><p>{ARTICLE}</p></article>"),
        "text/html", TEASERS, name="World", excerpts=True, article_text=ARTICLE,
    )  # fmt: skip
    assert body is not None
    tree = lxml.html.document_fromstring(body)
    assert ARTICLE not in tree.text_content()
    assert [h1.text_content() for h1 in tree.iter("h1")] == ["World"]
    assert len(tree.xpath("//h3/a[@href]")) == 12
    assert not tree.xpath("//meta[@property='og:type' or @name='og:type']")


def test_no_listing_is_made_where_the_article_stays_on_the_page() -> None:
    # the paragraphs are a sidebar's; the article is written with line breaks, outside them
    side = "".join(f"<p>{ARTICLE} Sidebar {n}.</p>" for n in range(3))
    template = _template(f"<aside>{side}</aside><div><h1>A story</h1>{ARTICLE}<br>More.</div>")
    assert listing_page(template, "text/html", TEASERS, name="World", excerpts=False) is not None
    assert (
        listing_page(
            template, "text/html", TEASERS, name="World", excerpts=False, article_text=ARTICLE
        )
        is None
    )
    assert listings(template, "text/html", "https://news.test", TEASERS, article_text=ARTICLE) == []
    made = listings(_template(f"<article><h1>A</h1><p>{ARTICLE}</p></article>"), "text/html",
                    "https://news.test", TEASERS, article_text=ARTICLE)  # fmt: skip
    assert [listing.kind for listing in made] == list(KINDS)
