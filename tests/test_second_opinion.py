"""readability's opinion on the ends of trafilatura's text (extraction/second_opinion.py)."""

from __future__ import annotations

import pytest
from lxml.html import fromstring, tostring

from extraction.extractor import load_libraries
from extraction.second_opinion import (
    MAX_END_CHARS,
    has_doubtful_end,
    readability_text,
    trim_ends,
)

FIRST = (
    "The city council approved the new tram line on Tuesday, after two years of debate about "
    "its cost and its route through the old town, where the shop owners had feared a building "
    "site in front of their doors for the better part of three years."
)
SECOND = (
    "Construction is to start next spring; the first trams should run in 2029, the transport "
    "department said, if the federal subsidy arrives on time and the courts do not stop the "
    "works, as they stopped the bridge over the river five years ago."
)
THIRD = (
    "Residents of the old town had collected signatures against the route for months, and "
    "their association said on Wednesday that it would take the decision to the administrative "
    "court before the end of the year."
)
ARTICLE = [FIRST, SECOND, THIRD]
OTHER = "\n".join(ARTICLE)


def test_short_paragraphs_readability_lacks_go_from_both_ends() -> None:
    paragraphs = ["30 January 2024", "Share this article", *ARTICLE, "Write to the author", "Ads"]
    assert trim_ends(paragraphs, OTHER) == ARTICLE


def test_trimming_stops_at_the_first_paragraph_readability_keeps() -> None:
    # "Share" stands between two kept paragraphs: the middle is not judged
    paragraphs = ["Home", FIRST, "Share", SECOND, THIRD, "Related"]
    assert trim_ends(paragraphs, OTHER) == [FIRST, "Share", SECOND, THIRD]


def test_a_leading_sentence_stays_though_readability_lacks_it() -> None:
    # a standfirst is a sentence, and readability often leaves it out
    standfirst = "The tram line will cost 400 million euros."
    assert trim_ends([standfirst, *ARTICLE], OTHER) == [standfirst, *ARTICLE]
    # at the end, a short sentence readability lacks goes (an editor's note, a prompt)
    note = "This article was updated on Wednesday."
    assert trim_ends([*ARTICLE, note], OTHER) == ARTICLE


def test_long_paragraphs_stay_though_readability_lacks_them() -> None:
    long_end = "Readers write: " + "the route is wrong, " * (MAX_END_CHARS // 10)
    assert trim_ends([*ARTICLE, long_end], OTHER) == [*ARTICLE, long_end]


def test_readability_keeps_paragraphs_whatever_their_white_space_and_case() -> None:
    other = OTHER + "\nSHARE   this\narticle"
    assert trim_ends(["Share this article", *ARTICLE], other) == ["Share this article", *ARTICLE]


def test_readability_keeps_paragraphs_whatever_their_soft_hyphens() -> None:
    # a hyphenated site: readability reads the page's soft hyphens, trafilatura's text has none
    closing = "Without free research, we have no future"
    other = (
        OTHER.replace("council", "coun\u00adcil")
        + "\nWith\u00adout free re\u00adsearch, we have no future"
    )
    assert trim_ends([*ARTICLE, closing], other) == [*ARTICLE, closing]


def test_no_opinion_when_readability_chose_too_little() -> None:
    paragraphs = ["30 January 2024", *ARTICLE, "Share"]
    assert trim_ends(paragraphs, THIRD) == paragraphs  # another part of the page
    assert trim_ends(paragraphs, "") == paragraphs


def test_never_empties_the_text() -> None:
    paragraphs = ["Home", "News"]
    assert trim_ends(paragraphs, "Something else entirely, and longer than both of them.") == (
        paragraphs
    )


@pytest.mark.parametrize(
    ("paragraphs", "doubtful"),
    [
        (["Home", *ARTICLE], True),  # a short non-sentence first
        ([*ARTICLE, "This article was updated on Wednesday."], True),  # a short last
        (["The tram line will cost 400 million euros.", FIRST, SECOND], False),
        ([FIRST, SECOND], False),
        ([], False),
    ],
)
def test_has_doubtful_end(paragraphs: list[str], doubtful: bool) -> None:
    assert has_doubtful_end(paragraphs) is doubtful


def test_readability_text_is_the_article_container_and_leaves_the_tree_alone() -> None:
    load_libraries()
    page = (
        "<html><body><div class='nav'><a href='/a'>Home</a> <a href='/b'>News</a></div>"
        f"<div class='article'><p>{FIRST}</p><p>{SECOND}</p><p>{THIRD}</p></div>"
        "<div class='share'>Share this article</div></body></html>"
    )
    tree = fromstring(page)
    before = tostring(tree)
    text = readability_text(tree)
    assert all(paragraph in text for paragraph in ARTICLE)
    assert "Share this article" not in text
    assert tostring(tree) == before


def test_readability_text_of_a_page_without_text_is_empty() -> None:
    load_libraries()
    assert readability_text(fromstring("<html><body></body></html>")).strip() == ""
