"""The second set's sections of the extraction benchmark: the author labels and their table."""

from __future__ import annotations

from pathlib import Path

from bench.extraction import score_run
from bench.extraction_runs import Output, PageRun, Scored, Timing
from bench.harness.corpus import CorpusPage
from bench.second_set import (
    AUTHOR_LABELS,
    AuthorLabel,
    SecondSet,
    authors_table,
    load_author_labels,
    second_set_sections,
    without_comments,
)


def _scored(
    page_id: str,
    ours: tuple[str, ...],
    theirs: tuple[str, ...],
    organizations: tuple[str, ...] = (),
    file: Path = Path("unused"),
) -> Scored:
    page = CorpusPage(
        id=page_id,
        source="second",
        language=None,
        url="https://example.invalid/",
        file=file,
        expected={"must_contain": ["Body text"], "must_not_contain": ["Subscribe"]},
    )
    return score_run(
        PageRun(
            page,
            Output(text="Body text.", authors=ours, organizations=organizations),
            Output(text="Body text. Subscribe", authors=theirs),
            Timing(0.01, 0.02, 0.01),
        )
    )


def test_the_committed_labels_are_whole() -> None:
    labels = load_author_labels(AUTHOR_LABELS)
    assert len(labels) == 102
    assert all(page.startswith("trafilatura/") for page in labels)
    stating = [label for label in labels.values() if label.states_authors]
    assert len(stating) >= 60
    assert all(label.authors or label.organizations for label in stating)
    assert not any(
        label.authors or label.organizations
        for label in labels.values()
        if label.states_authors is False
    )
    assert load_author_labels(Path("nowhere.jsonl")) == {}


def test_authors_table_scores_people_organizations_and_silence() -> None:
    labels = {
        "a": AuthorLabel(True, ("Jane Doe", "Max Mustermann"), ()),
        "b": AuthorLabel(False, (), ()),
        "c": AuthorLabel(True, (), ("dpa",)),  # no people: not in the people F1
        "d": AuthorLabel(False, (), ()),
    }
    results = [
        _scored("a", ("Jane Doe",), ("Jane Doe", "Max Mustermann")),
        _scored("b", (), ("Site Owner",)),
        # ours credits the agency apart; trafilatura's one list holds the organizations too
        _scored("c", (), ("dpa",), organizations=("dpa",)),
        # an organization named where the page names no one is no silence
        _scored("d", (), (), organizations=("Site Owner GmbH",)),
        _scored("unlabelled", ("X",), ()),
    ]
    table = authors_table(results, labels)
    assert table is not None
    assert "people F1, pages naming people (n=1)" in table
    assert "organizations F1, pages crediting organizations (n=1)" in table
    assert "where the page names no one (n=2)" in table
    assert "| ours | 0.667 | 1.000 | 0.500 |" in table
    assert "| trafilatura | 1.000 | 1.000 | 0.500 |" in table
    assert authors_table(results, {}) is None


def test_sections_show_snippets_worse_pages_and_authors(tmp_path: Path) -> None:
    """And trafilatura without comments as a reference row: a page whose comments hold a
    wanted snippet loses it there."""
    page = tmp_path / "page.html"
    words = "Body text of the article, long enough for trafilatura to keep it as the text. " * 4
    comment = "Subscribe to nothing: a reader's comment that says Body text too."
    page.write_text(
        f"<html><body><article><p>{words}</p></article>"
        f"<div class='comments'><p>{comment}</p></div></body></html>"
    )
    results = [_scored("a", ("Jane Doe",), (), file=page)]
    labels = {"a": AuthorLabel(True, ("J",), ())}
    second = SecondSet(Path("/sets/second"), results, labels, without_comments(results))
    sections = "\n\n".join(second_set_sections(second))
    assert "1 pages of `/sets/second`" in sections
    assert "| ours | 1 | 0 | 1.000 | 1.000 | 1.000 |" in sections
    assert "| trafilatura | 1 | 0 | 1.000 | 0.000 | 0.000 |" in sections
    assert "| trafilatura, `include_comments=False` | 1 | 0 | 1.000 | 1.000 | 1.000 |" in sections
    assert "Pages where ours gets more" not in sections  # ours is better here
    assert "Authors, against the labels" in sections
