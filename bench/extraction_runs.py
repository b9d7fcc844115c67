"""What one run of the extraction benchmark holds, page by page: each extractor's output, the
CPU time of its calls, and its scores (:mod:`bench.extraction` makes them; the second set's
tables, :mod:`bench.second_set`, read them too)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from datetime import date

    from bench.harness.corpus import CorpusPage
    from bench.scoring import Overlap


@dataclass(frozen=True)
class Output:
    """What one extractor gave for one page (all empty when it gave nothing)."""

    text: str = ""
    title: str | None = None
    day: date | None = None
    authors: tuple[str, ...] = ()
    """The people it credits (trafilatura: every name it gives)."""
    organizations: tuple[str, ...] = ()
    """The organizations it credits (ours: ``author_organizations``; trafilatura: none)."""
    language: str | None = None
    comments: str = ""
    """The readers' comments it gives apart from the text (ours: ``comments``; trafilatura's
    ``extract`` joins them to its text)."""

    @property
    def snippet_text(self) -> str:
        """What the snippets are looked for in: the text and the comments, as trafilatura's
        ``extract`` gives them (the snippet sets count readers' comments as content; a body
        is the article's text alone)."""
        return f"{self.text}\n\n{self.comments}" if self.comments else self.text


@dataclass(frozen=True)
class Timing:
    """CPU seconds of each call on one page."""

    extract: float
    bare: float
    ours: float


@dataclass(frozen=True)
class PageRun:
    page: CorpusPage
    ours: Output
    trafilatura: Output
    timing: Timing


@dataclass(frozen=True)
class PageScore:
    """One extractor's scores on one page; ``None`` where the page has no expectation.

    Yes/no checks are 1.0 or 0.0 so that every score averages the same way.
    """

    body: Overlap | None = None
    prefix: float | None = None
    must_contain: float | None = None
    must_not_contain: float | None = None
    clean: float | None = None
    title: float | None = None
    title_contains: float | None = None
    day: float | None = None
    day_near: float | None = None
    authors: float | None = None
    """Every expected name against every name given (people and organizations)."""
    people: float | None = None
    """The expected people against the people given."""
    language: float | None = None
    empty: float = 0.0


@dataclass(frozen=True)
class Scored:
    """A page run with both extractors' scores."""

    run: PageRun
    ours: PageScore
    trafilatura: PageScore

    @property
    def page(self) -> CorpusPage:
        return self.run.page
