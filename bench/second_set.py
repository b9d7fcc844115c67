"""The second labelled set in the extraction benchmark (trafilatura's evaluation pages): its
snippets scored as its README says (:mod:`bench.snippet_set`), and its authors (people and
organizations apart) against labels of our own.

The set labels no authors, so ``bench/labels/evalset-authors.jsonl`` holds them: for each page,
whether it states who wrote its main text (``states_authors``: true, false, or null when only
hidden markup names someone), the people it credits (``authors``, as written, without labels
such as "Von" or titles such as "Dr."), the organizations it credits as author or source
(``organizations``), where the byline is and a short excerpt of it (``where``, ``evidence``),
and a ``confidence``. They were decided by reading each page (the byline a reader sees;
comment authors, teaser bylines, photo credits, site-wide metadata naming only the site or its
owner do not count), without running an extractor.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bench.harness.corpus import read_jsonl
from bench.harness.report import markdown_table
from bench.scoring import author_f1
from bench.snippet_set import (
    Comparison,
    Tally,
    change_line,
    shares_table,
    tally,
    worse_pages,
    worse_table,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    from bench.extraction_runs import Output, Scored

AUTHOR_LABELS = Path(__file__).resolve().parent / "labels" / "evalset-authors.jsonl"


@dataclass(frozen=True)
class AuthorLabel:
    """Who one page of the second set says wrote it."""

    states_authors: bool | None
    authors: tuple[str, ...]
    organizations: tuple[str, ...]


def load_author_labels(path: Path) -> dict[str, AuthorLabel]:
    """The labels by page id (none when the file is missing)."""
    if not path.is_file():
        return {}
    return {
        record["id"]: AuthorLabel(
            record.get("states_authors"),
            tuple(record.get("authors") or ()),
            tuple(record.get("organizations") or ()),
        )
        for record in read_jsonl(path)
    }


def comparisons(results: Sequence[Scored]) -> list[Comparison]:
    """Ours and trafilatura's snippets, page by page."""
    return [
        Comparison(
            r.page.id,
            tally(r.run.ours.snippet_text, r.page.expected),
            tally(r.run.trafilatura.text, r.page.expected),
        )
        for r in results
    ]


NO_COMMENTS = "trafilatura, `include_comments=False`"
"""A reference row: trafilatura keeps readers' comments by default, and the set counts
snippets from them; this call leaves them out."""
TEXT_ALONE = "ours, `text` alone (no `comments`)"
"""A reference row: ours without the readers' comments, which a row holds apart."""


def text_alone(results: Sequence[Scored]) -> list[Tally]:
    """Our snippets in the text alone, page by page."""
    return [tally(r.run.ours.text, r.page.expected) for r in results]


def without_comments(results: Sequence[Scored]) -> list[Tally]:
    """trafilatura's snippets with comments left out, page by page (not timed)."""
    import trafilatura  # noqa: PLC0415 - the benchmark's extractors are imported by its runner

    return [
        tally(
            trafilatura.extract(r.page.body(), url=r.page.url, include_comments=False) or "",
            r.page.expected,
        )
        for r in results
    ]


def _mean(values: Sequence[float]) -> str:
    return f"{statistics.fmean(values):.3f}" if values else "-"


def authors_table(results: Sequence[Scored], labels: Mapping[str, AuthorLabel]) -> str | None:
    """Authors F1 on the pages that name people (the people given against the labels'
    people), on the pages that credit organizations (the organizations given against the
    labels'; trafilatura gives one list of names, scored against both), and the share of pages
    naming no one where each extractor names no one either; ``None`` without labels for these
    pages."""
    labelled = [(r, labels[r.page.id]) for r in results if r.page.id in labels]
    if not labelled:
        return None
    people = [(r, label) for r, label in labelled if label.states_authors and label.authors]
    credited = [(r, label) for r, label in labelled if label.states_authors and label.organizations]
    nobody = [r for r, label in labelled if label.states_authors is False]
    rows = []
    for name, organizations_of in _ORGANIZATIONS_OF.items():
        f1 = [author_f1(getattr(r.run, name).authors, label.authors) or 0.0 for r, label in people]
        organizations = [
            author_f1(organizations_of(getattr(r.run, name)), label.organizations) or 0.0
            for r, label in credited
        ]
        silent = [
            float(not getattr(r.run, name).authors and not getattr(r.run, name).organizations)
            for r in nobody
        ]
        rows.append([name, _mean(f1), _mean(organizations), _mean(silent)])
    headers = [
        "extractor",
        f"people F1, pages naming people (n={len(people)})",
        f"organizations F1, pages crediting organizations (n={len(credited)})",
        f"names no one where the page names no one (n={len(nobody)})",
    ]
    return markdown_table(headers, rows)


_ORGANIZATIONS_OF: dict[str, Callable[[Output], tuple[str, ...]]] = {
    "ours": lambda output: output.organizations,
    "trafilatura": lambda output: output.authors,
}
"""The organizations each extractor credits: ours in a list of their own, trafilatura's
among all the names it gives."""


@dataclass(frozen=True)
class SecondSet:
    """What was measured on the second set, for its sections of the report."""

    directory: Path
    results: Sequence[Scored]
    labels: Mapping[str, AuthorLabel]
    """The author labels of its pages (:data:`AUTHOR_LABELS`)."""
    without_comments: Sequence[Tally]
    """trafilatura's snippets with comments left out, page by page (:func:`without_comments`)."""


def measured(directory: Path, results: Sequence[Scored]) -> SecondSet:
    """The second set's runs, with its author labels and the reference without comments."""
    labels = load_author_labels(AUTHOR_LABELS)
    return SecondSet(directory, results, labels, without_comments(results))


def second_set_sections(second: SecondSet) -> list[str]:
    """The second set's shares, the pages where ours is worse, its authors and its timing."""
    directory, results, labels = second.directory, second.results, second.labels
    compared = comparisons(results)
    worse = worse_pages(compared)
    runs = [result.run for result in results]
    ours_ms = statistics.fmean(run.timing.ours for run in runs) * 1000
    extract_ms = statistics.fmean(run.timing.extract for run in runs) * 1000
    sections = [
        (
            "### Second set: trafilatura's evaluation pages\n\n"
            f"{len(results)} pages of `{directory}` (mostly German and English blogs and "
            "institutional pages; no rule is tuned to them). Scored as its README says: shares of "
            "all snippets, white space collapsed and case folded; trafilatura is "
            "`trafilatura.extract(body, url=url)` with its defaults, as above, which joins the "
            "readers' comments to the text; ours is a row's `text` and `comments` together "
            "(snippets in both sets are looked for there; a body is scored on `text` alone)."
        ),
        shares_table(
            compared,
            [(TEXT_ALONE, text_alone(results)), (NO_COMMENTS, second.without_comments)],
        ),
        change_line(compared)
        + f" CPU per page: ours {ours_ms:.1f} ms, `trafilatura.extract` {extract_ms:.1f} ms.",
    ]
    if worse:
        sections += [
            (
                "Pages where ours gets more than one snippet fewer right (`-` wanted and lost, "
                "`+` unwanted and kept, where trafilatura's text is right):"
            ),
            worse_table(worse),
        ]
    authors = authors_table(results, labels)
    if authors is not None:
        sections += [
            (
                "Authors, against the labels in `bench/labels/evalset-authors.jsonl` (people "
                "and organizations credited as a reader sees them; see `bench/second_set.py`): "
                "ours, `authors` against the people and `author_organizations` against the "
                "organizations; trafilatura's one list from `bare_extraction`, as above, against "
                "both. Naming no one: no person and no organization."
            ),
            authors,
        ]
    return sections
