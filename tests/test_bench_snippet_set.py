"""Scoring a set labelled by snippets: pooled shares, pages passing, and the pages where ours
gets more than one snippet fewer right than trafilatura."""

from __future__ import annotations

from bench.snippet_set import (
    Comparison,
    change_line,
    shares,
    shares_table,
    tally,
    worse_pages,
    worse_table,
)

EXPECTED = {
    "must_contain": ["The  FIRST paragraph", "Straße gesperrt", "missing words"],
    "must_not_contain": ["Subscribe now", "Cookies"],
}


def test_tally_folds_case_and_white_space() -> None:
    result = tally("The first\nparagraph. Die STRASSE gesperrt.\n\nSubscribe NOW", EXPECTED)
    assert result.found == ("The  FIRST paragraph", "Straße gesperrt")  # ß folds to ss
    assert result.missed == ("missing words",)
    assert result.absent == ("Cookies",)
    assert result.kept == ("Subscribe now",)
    assert (result.right, result.total, result.passes, result.empty) == (3, 5, False, False)
    nothing = tally("", EXPECTED)
    assert (nothing.right, nothing.empty, nothing.passes) == (2, True, False)
    assert tally("The first paragraph, Straße gesperrt, missing words", EXPECTED).passes


def test_shares_pool_snippets_over_pages() -> None:
    good = tally("The first paragraph; Straße gesperrt; missing words", EXPECTED)
    bad = tally("Subscribe now. Cookies.", EXPECTED)
    pooled = shares([good, bad])
    assert (pooled.pages, pooled.wanted, pooled.unwanted, pooled.empty) == (2, 6, 4, 0)
    assert (pooled.found, pooled.absent, pooled.passing) == (0.5, 0.5, 0.5)
    assert shares([]).found is None


def test_worse_pages_and_their_table() -> None:
    good = tally("The first paragraph; Straße gesperrt; missing words", EXPECTED)
    one_less = tally("The first paragraph; Straße gesperrt", EXPECTED)
    bad = tally("Subscribe now. Cookies.", EXPECTED)
    compared = [
        Comparison("site/a", ours=bad, theirs=good),  # 5 fewer right
        Comparison("site/b", ours=one_less, theirs=good),  # one fewer: not listed
        Comparison("site/c", ours=good, theirs=bad),
    ]
    assert [c.page for c in worse_pages(compared)] == ["site/a"]
    table = worse_table(worse_pages(compared))
    assert "| site/a | 0 / 5 | 5 / 5 |" in table
    assert "- `The FIRST paragraph`" in table
    assert "+ `Subscribe now`" in table
    assert change_line(compared).startswith("Page by page against trafilatura: 1 better, 0 the")
    assert "2 worse (1 by more than one snippet)" in change_line(compared)
    rendered = shares_table(compared)
    assert "| ours | 3 | 0 | 0.556 | 0.667 | 0.333 |" in rendered
    assert "| ours - trafilatura |  |  | -0.111 | +0.000 | -0.333 |" in rendered
