"""A page set labelled only by snippets (the second set: trafilatura's evaluation pages), scored
as its README says: the share of all ``must_contain`` snippets found, the share of all
``must_not_contain`` snippets absent, and the share of pages passing (every wanted snippet
found, no unwanted one), ours against plain trafilatura on the same pages; and the pages where
ours gets more than one snippet fewer right than trafilatura, each with the snippets that
differ, since a rule that helps the corpus and hurts this set is the over-fitting this set is
there to catch.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bench.harness.report import markdown_table
from bench.scoring import snippet_found

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

SNIPPET_CHARS = 40
"""How much of a differing snippet the table of worse pages shows."""


@dataclass(frozen=True)
class Tally:
    """One extractor's snippets on one page (or summed over pages)."""

    found: tuple[str, ...] = ()
    missed: tuple[str, ...] = ()
    absent: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()
    """The unwanted snippets that are in the text."""
    empty: bool = False

    @property
    def right(self) -> int:
        return len(self.found) + len(self.absent)

    @property
    def total(self) -> int:
        return self.right + len(self.missed) + len(self.kept)

    @property
    def passes(self) -> bool:
        return not self.missed and not self.kept


def tally(text: str, expected: Mapping[str, Any]) -> Tally:
    """Which of the page's wanted snippets ``text`` has and which unwanted ones it keeps."""
    wanted = [(s, snippet_found(text, s)) for s in expected.get("must_contain") or ()]
    unwanted = [(s, snippet_found(text, s)) for s in expected.get("must_not_contain") or ()]
    return Tally(
        found=tuple(s for s, there in wanted if there),
        missed=tuple(s for s, there in wanted if not there),
        absent=tuple(s for s, there in unwanted if not there),
        kept=tuple(s for s, there in unwanted if there),
        empty=not text.strip(),
    )


@dataclass(frozen=True)
class Comparison:
    """Ours and trafilatura's tallies on one page."""

    page: str
    ours: Tally
    theirs: Tally

    @property
    def change(self) -> int:
        """Snippets ours gets right minus trafilatura's."""
        return self.ours.right - self.theirs.right


@dataclass(frozen=True)
class Shares:
    """Pooled shares over a set of pages."""

    pages: int
    empty: int
    found: float | None
    absent: float | None
    passing: float | None
    wanted: int
    unwanted: int


def shares(tallies: Iterable[Tally]) -> Shares:
    items = list(tallies)
    found = sum(len(t.found) for t in items)
    wanted = found + sum(len(t.missed) for t in items)
    absent = sum(len(t.absent) for t in items)
    unwanted = absent + sum(len(t.kept) for t in items)
    return Shares(
        pages=len(items),
        empty=sum(t.empty for t in items),
        found=found / wanted if wanted else None,
        absent=absent / unwanted if unwanted else None,
        passing=sum(t.passes for t in items) / len(items) if items else None,
        wanted=wanted,
        unwanted=unwanted,
    )


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _signed(value: float | None) -> str:
    return "-" if value is None else f"{value:+.3f}"


def shares_table(
    comparisons: Sequence[Comparison], references: Sequence[tuple[str, Sequence[Tally]]] = ()
) -> str:
    """Ours, trafilatura's and their difference; then each other reference's (name, tallies)."""
    ours = shares(c.ours for c in comparisons)
    theirs = shares(c.theirs for c in comparisons)
    headers = [
        "extractor",
        "pages",
        "no output",
        f"must_contain found (of {ours.wanted})",
        f"must_not_contain absent (of {ours.unwanted})",
        "pages passing",
    ]
    rows = [
        [name, str(s.pages), str(s.empty), _fmt(s.found), _fmt(s.absent), _fmt(s.passing)]
        for name, s in (("ours", ours), ("trafilatura", theirs))
    ]

    def gain(mine: float | None, base: float | None) -> float | None:
        return None if mine is None or base is None else mine - base

    rows.append(
        [
            "ours - trafilatura",
            "",
            "",
            _signed(gain(ours.found, theirs.found)),
            _signed(gain(ours.absent, theirs.absent)),
            _signed(gain(ours.passing, theirs.passing)),
        ]
    )
    for name, tallies in references:
        other = shares(tallies)
        found, absent, passing = _fmt(other.found), _fmt(other.absent), _fmt(other.passing)
        rows.append([name, str(other.pages), str(other.empty), found, absent, passing])
    return markdown_table(headers, rows)


def _snippets(prefix: str, snippets: Iterable[str]) -> list[str]:
    return [f"{prefix} `{' '.join(s.split())[:SNIPPET_CHARS]}`" for s in snippets]


def worse_pages(comparisons: Sequence[Comparison], by_more_than: int = 1) -> list[Comparison]:
    """The pages where ours gets more than ``by_more_than`` snippets fewer right, worst first."""
    worse = [c for c in comparisons if c.change < -by_more_than]
    return sorted(worse, key=lambda c: (c.change, c.page))


def worse_table(comparisons: Sequence[Comparison]) -> str:
    """What differs on each page where ours is worse (``-`` wanted and lost, ``+`` unwanted and
    kept, against trafilatura's text)."""
    rows = []
    for comparison in comparisons:
        ours, theirs = comparison.ours, comparison.theirs
        lost = [s for s in ours.missed if s in theirs.found]
        kept = [s for s in ours.kept if s in theirs.absent]
        rows.append(
            [
                comparison.page,
                f"{ours.right} / {ours.total}",
                f"{theirs.right} / {theirs.total}",
                "<br>".join(_snippets("-", lost) + _snippets("+", kept)),
            ]
        )
    return markdown_table(["page", "ours right", "trafilatura right", "differs"], rows)


def change_line(comparisons: Sequence[Comparison]) -> str:
    better = sum(c.change > 0 for c in comparisons)
    worse = sum(c.change < 0 for c in comparisons)
    same = len(comparisons) - better - worse
    return (
        f"Page by page against trafilatura: {better} better, {same} the same, {worse} worse "
        f"({len(worse_pages(comparisons))} by more than one snippet)."
    )
