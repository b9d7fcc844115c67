"""Extraction benchmark: the crawler's extraction against plain trafilatura, on every page of the
development corpus and of the second labelled set (trafilatura's evaluation pages), scored by
the rules of each set's README and timed in the same run.

    .venv/bin/python -m bench.extraction [--limit N] [--source NAME] [--worst N] [--no-evalset]
                                         [--write-results]

The corpus is ``$NEWS_CORPUS_DIR``, else ``../shared/corpus`` next to the repository; the second
set ``$NEWS_EVALSET_DIR``, else ``../shared/evalsets/trafilatura`` (``--no-evalset`` leaves it
out; ``--limit`` applies to both, ``--source`` to the corpus only). Per page:

* ours: ``extraction.record.article_record`` (no article found counts as empty output); its
  ``text`` for a body, its ``text`` and ``comments`` for snippets (see :attr:`Output.snippet_text`);
* trafilatura: ``trafilatura.extract`` (defaults) for the body, and
  ``trafilatura.bare_extraction(with_metadata=True)`` for title, date and authors, with the
  language detected by the same ``LanguageDetector`` on its text.

Authors are scored twice on the corpus (:mod:`bench.corpus_authors`): "authors F1" against every
expected name, with all the names an extractor gives (ours: people and organizations
together, as the corpus's expectations mix them), and "people F1" against the expected people
only, with the people it gives (trafilatura gives one list, scored the same way both times).

Timing is CPU time (``time.process_time``) of each of the three calls, interleaved page by
page (the order rotates from page to page) so that they share warm caches alike.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any, cast

import trafilatura
from trafilatura.settings import Document

from bench.corpus_authors import AUTHOR_KINDS, expected_people, load_not_people
from bench.extraction_runs import Output, PageRun, PageScore, Scored, Timing
from bench.harness.corpus import (
    CORPUS_ENV,
    DEFAULT_CORPUS_DIR,
    DEFAULT_EVALSET_DIR,
    EVALSET_ENV,
    EXIT_NO_CORPUS,
    CorpusPage,
    corpus_dir,
    corpus_missing,
    evalset_dir,
    load_pages,
)
from bench.harness.report import (
    RESULTS_FILE,
    command_of,
    machine_line,
    markdown_table,
    positive,
    publish,
    quiet_noisy_loggers,
)
from bench.scoring import Overlap, author_f1, body_overlap, normalize, snippet_found
from bench.second_set import SecondSet, measured, second_set_sections
from extraction.extractor import ExtractionError
from extraction.language import LanguageDetector
from extraction.record import article_record

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping, Sequence
    from pathlib import Path

SOURCES = ("fundus", "trafilatura", "newspaper4k", "goose3", "readability", "cwced")
PREFIX_CHARS = 100
"""How much of a goose3 ``body_prefix`` (normalized) must occur in the text."""
SECTION = "extraction"


# --- running the extractors -------------------------------------------------------------------


def _local_day(value: datetime | None, offset_minutes: int | None) -> date | None:
    """The publisher's local day of a UTC time stored with the page's UTC offset."""
    if value is None:
        return None
    utc = value.astimezone(UTC) if value.tzinfo is not None else value
    return (utc + timedelta(minutes=offset_minutes or 0)).date()


def _iso_day(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        return None


def run_ours(body: bytes, url: str, detector: LanguageDetector) -> Output:
    """The crawler's record for the page; empty when it finds no article."""
    try:
        record = article_record(body, url, "text/html", detector=detector)
    except ExtractionError:
        return Output()
    return Output(
        text=record["text"] or "",
        title=record["title"],
        day=_local_day(record["published_at"], record["published_offset"]),
        authors=tuple(record["authors"] or ()),
        organizations=tuple(record["author_organizations"] or ()),
        language=record["language"],
        comments=record["comments"] or "",
    )


def run_trafilatura_text(body: bytes, url: str) -> str:
    """Baseline A: ``trafilatura.extract`` with its defaults."""
    return trafilatura.extract(body, url=url) or ""


def run_trafilatura_metadata(body: bytes, url: str) -> dict[str, Any]:
    """Baseline B: ``trafilatura.bare_extraction`` with metadata, as a dict."""
    document = trafilatura.bare_extraction(body, url=url, with_metadata=True)
    return document.as_dict() if isinstance(document, Document) else {}


def trafilatura_output(
    text: str, metadata: Mapping[str, Any], detector: LanguageDetector
) -> Output:
    """Baseline A's body with baseline B's metadata, and the language of B's text."""
    author = metadata.get("author") or ""
    return Output(
        text=text,
        title=metadata.get("title"),
        day=_iso_day(metadata.get("date")),
        authors=tuple(name for name in (part.strip() for part in author.split(";")) if name),
        language=detector.detect(metadata.get("text") or "")[0],
    )


def _timed_in_turn(calls: Mapping[str, Callable[[], object]], turn: int) -> dict[str, Any]:
    """Run every call once, starting at a different one each turn; results and CPU seconds."""
    names = list(calls)
    start_at = turn % len(names)
    outcome: dict[str, Any] = {}
    for name in names[start_at:] + names[:start_at]:
        started = time.process_time()
        outcome[name] = calls[name]()
        outcome[f"{name}_seconds"] = time.process_time() - started
    return outcome


def run_page(page: CorpusPage, detector: LanguageDetector, turn: int = 0) -> PageRun:
    """Both extractors on one page, each of the three calls timed."""
    body = page.body()
    outcome = _timed_in_turn(
        {
            "extract": partial(run_trafilatura_text, body, page.url),
            "bare": partial(run_trafilatura_metadata, body, page.url),
            "ours": partial(run_ours, body, page.url, detector),
        },
        turn,
    )
    return PageRun(
        page=page,
        ours=cast("Output", outcome["ours"]),
        trafilatura=trafilatura_output(outcome["extract"], outcome["bare"], detector),
        timing=Timing(outcome["extract_seconds"], outcome["bare_seconds"], outcome["ours_seconds"]),
    )


# --- scoring ----------------------------------------------------------------------------------


def _yes(condition: bool) -> float:
    return 1.0 if condition else 0.0


def _share(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def prefix_found(text: str, prefix: str | None) -> float | None:
    """Whether the first ``PREFIX_CHARS`` characters of the normalized prefix are in the text."""
    wanted = normalize(prefix)[:PREFIX_CHARS].strip()
    return _yes(wanted in normalize(text)) if wanted else None


def title_scores(predicted: str | None, expected: str | None) -> tuple[float | None, float | None]:
    """Exact match after normalization, and whether either title contains the other."""
    want, got = normalize(expected), normalize(predicted)
    if not want:
        return None, None
    return _yes(got == want), _yes(bool(got) and (want in got or got in want))


def day_scores(predicted: date | None, expected: str | None) -> tuple[float | None, float | None]:
    """Same day, and within one day (corpus days are local, ours are UTC)."""
    want = _iso_day(expected)
    if want is None:
        return None, None
    if predicted is None:
        return 0.0, 0.0
    return _yes(predicted == want), _yes(abs((predicted - want).days) <= 1)


def snippet_scores(
    text: str, must_contain: Sequence[str], must_not_contain: Sequence[str]
) -> tuple[float | None, float | None, float | None]:
    """Share of wanted snippets found, share of unwanted ones absent, and whether all are."""
    found = _share([snippet_found(text, snippet) for snippet in must_contain])
    absent = [not snippet_found(text, snippet) for snippet in must_not_contain]
    return found, _share(absent), (_yes(all(absent)) if absent else None)


def score_page(
    page: CorpusPage, output: Output, not_people: Mapping[str, frozenset[str]] | None = None
) -> PageScore:
    """Score one extractor's output on one page against the page's expectations
    (``not_people``: the expected authors that are no person, by page, see
    :mod:`bench.corpus_authors`)."""
    expected = page.expected
    people = expected_people(page.id, expected.get("authors"), not_people or {})
    title, title_contains = title_scores(output.title, expected.get("title"))
    day, day_near = day_scores(output.day, expected.get("date_day"))
    found, absent, clean = snippet_scores(
        output.snippet_text,
        expected.get("must_contain") or (),
        expected.get("must_not_contain") or (),
    )
    body = expected.get("body")
    return PageScore(
        body=body_overlap(output.text, body, page.language) if body else None,
        prefix=prefix_found(output.text, expected.get("body_prefix")),
        must_contain=found,
        must_not_contain=absent,
        clean=clean,
        title=title,
        title_contains=title_contains,
        day=day,
        day_near=day_near,
        authors=author_f1(output.authors + output.organizations, expected.get("authors")),
        people=author_f1(output.authors, people),
        language=_yes(output.language == page.language) if page.language else None,
        empty=_yes(not output.text.strip()),
    )


def score_run(run: PageRun, not_people: Mapping[str, frozenset[str]] | None = None) -> Scored:
    return Scored(
        run,
        score_page(run.page, run.ours, not_people),
        score_page(run.page, run.trafilatura, not_people),
    )


# --- aggregating and rendering ----------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    label: str
    value: Callable[[PageScore], float | None]


def _body_f1(score: PageScore) -> float | None:
    return score.body.f1 if score.body else None


OVERALL_METRICS: tuple[Metric, ...] = (
    Metric("body P", lambda score: score.body.precision if score.body else None),
    Metric("body R", lambda score: score.body.recall if score.body else None),
    Metric("body F1", _body_f1),
    Metric("body prefix", lambda score: score.prefix),
    Metric("must_contain found", lambda score: score.must_contain),
    Metric("must_not_contain absent", lambda score: score.must_not_contain),
    Metric("all must_not absent", lambda score: score.clean),
    Metric("title exact", lambda score: score.title),
    Metric("title contains", lambda score: score.title_contains),
    Metric("date", lambda score: score.day),
    Metric("date ±1", lambda score: score.day_near),
    Metric("authors F1", lambda score: score.authors),
    Metric("people F1", lambda score: score.people),
    Metric("language", lambda score: score.language),
)
SOURCE_METRICS: tuple[Metric, ...] = (
    Metric("body F1", _body_f1),
    Metric("body prefix", lambda score: score.prefix),
    Metric("must_contain", lambda score: score.must_contain),
    Metric("must_not absent", lambda score: score.must_not_contain),
    Metric("title", lambda score: score.title),
    Metric("date", lambda score: score.day),
    Metric("date ±1", lambda score: score.day_near),
    Metric("authors F1", lambda score: score.authors),
    Metric("people F1", lambda score: score.people),
)


def average(scores: Iterable[PageScore], metric: Metric) -> tuple[float | None, int]:
    """Mean of a metric over the pages that have it, and how many pages that is."""
    values = [value for value in map(metric.value, scores) if value is not None]
    return (statistics.fmean(values) if values else None), len(values)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def overall_table(results: Sequence[Scored]) -> str:
    counts = [average((r.ours for r in results), metric)[1] for metric in OVERALL_METRICS]
    headers = [
        "extractor",
        "pages",
        "no output",
        *(f"{m.label} (n={n})" for m, n in zip(OVERALL_METRICS, counts, strict=True)),
    ]
    rows = []
    for name, scores in (
        ("ours", [r.ours for r in results]),
        ("trafilatura", [r.trafilatura for r in results]),
    ):
        cells = [_fmt(average(scores, metric)[0]) for metric in OVERALL_METRICS]
        rows.append([name, str(len(scores)), str(int(sum(s.empty for s in scores))), *cells])
    return markdown_table(headers, rows)


def _versus(results: Sequence[Scored], metric: Metric) -> str:
    """``ours / trafilatura (pages)``, or empty when no page has the metric."""
    ours, count = average((r.ours for r in results), metric)
    theirs, _ = average((r.trafilatura for r in results), metric)
    return f"{_fmt(ours)} / {_fmt(theirs)} ({count})" if count else ""


def _groups(results: Sequence[Scored], key: Callable[[Scored], str]) -> dict[str, list[Scored]]:
    groups: dict[str, list[Scored]] = {}
    for result in results:
        groups.setdefault(key(result), []).append(result)
    return groups


def source_table(results: Sequence[Scored]) -> str:
    groups = _groups(results, lambda result: result.page.source)
    order = [s for s in SOURCES if s in groups] + sorted(set(groups) - set(SOURCES))
    rows = [
        [source, str(len(groups[source])), *(_versus(groups[source], m) for m in SOURCE_METRICS)]
        for source in order
    ]
    return markdown_table(["source", "pages", *(m.label for m in SOURCE_METRICS)], rows)


def language_table(results: Sequence[Scored]) -> str:
    groups = _groups(results, lambda result: result.page.language or "?")
    metrics = (
        OVERALL_METRICS[2],
        Metric("title", lambda score: score.title),
        Metric("language", lambda score: score.language),
    )
    headers = ["language", "pages"]
    for metric in metrics:
        headers += [f"{metric.label} n", f"{metric.label} ours", f"{metric.label} traf."]
    rows = []
    for language in sorted(groups, key=lambda lang: (-len(groups[lang]), lang)):
        group = groups[language]
        row = [language, str(len(group))]
        for metric in metrics:
            ours, count = average((r.ours for r in group), metric)
            theirs, _ = average((r.trafilatura for r in group), metric)
            row += [str(count), _fmt(ours), _fmt(theirs)]
        rows.append(row)
    return markdown_table(headers, rows)


def timing_table(runs: Sequence[PageRun]) -> str:
    calls = (
        ("(a) `trafilatura.extract(body, url=url)`", [run.timing.extract for run in runs]),
        (
            "(b) `trafilatura.bare_extraction(..., with_metadata=True)`",
            [r.timing.bare for r in runs],
        ),
        ("(c) ours: `article_record` with language detection", [r.timing.ours for r in runs]),
    )
    base = statistics.fmean(calls[0][1])
    rows = [
        [
            name,
            f"{statistics.fmean(seconds) * 1000:.1f}",
            f"{statistics.median(seconds) * 1000:.1f}",
            f"{statistics.fmean(seconds) / base:.2f}" if base else "-",
        ]
        for name, seconds in calls
    ]
    return markdown_table(["call", "ms/page (mean)", "ms/page (median)", "ratio to (a)"], rows)


def worst_table(results: Sequence[Scored], count: int) -> str:
    bodied = [r for r in results if r.ours.body is not None and r.trafilatura.body is not None]
    bodied.sort(key=lambda r: (cast("Overlap", r.ours.body).f1, r.page.id))
    rows = []
    for result in bodied[:count]:
        ours, theirs = cast("Overlap", result.ours.body), cast("Overlap", result.trafilatura.body)
        rows.append(
            [
                result.page.id,
                result.page.language or "?",
                f"{ours.f1:.3f} ({ours.precision:.2f} / {ours.recall:.2f})",
                f"{theirs.f1:.3f} ({theirs.precision:.2f} / {theirs.recall:.2f})",
                f"{len(result.run.ours.text)} / {len(result.page.expected.get('body') or '')}",
            ]
        )
    headers = ["page", "lang", "F1 ours (P / R)", "F1 trafilatura (P / R)", "chars ours / expected"]
    return markdown_table(headers, rows)


@dataclass(frozen=True)
class Report:
    command: str
    corpus: Path
    results: Sequence[Scored]
    worst: int = 0
    second: SecondSet | None = None
    """What was measured on the second set, when it was run."""
    when: datetime = field(default_factory=lambda: datetime.now(UTC))

    def render(self) -> str:
        runs = [result.run for result in self.results]
        sections = [
            "## Extraction benchmark",
            (
                f"Command: `{self.command}` ({self.when:%Y-%m-%d %H:%M} UTC), "
                f"{len(self.results)} pages of `{self.corpus}`.\n\nMachine: "
                f"{machine_line(('trafilatura',))}."
            ),
            (
                "### Overall\n\nMeans over the pages that have each expectation (n). Body from "
                "`trafilatura.extract`; title, date and authors from `bare_extraction`; "
                "language detected on each extractor's text. Ours: the publisher's local day "
                "(`published_at` plus `published_offset`), as the corpus gives local days. "
                "Authors F1: every expected name against every name given (ours: `authors` and "
                "`author_organizations`); people F1: the expected people against the people "
                "given (`authors`), on the pages that expect a person "
                "(`bench/labels/corpus-author-kinds.jsonl`)."
            ),
            overall_table(self.results),
            "### By source\n\nCells: ours / trafilatura (pages scored).",
            source_table(self.results),
            "### By language",
            language_table(self.results),
            (
                f"### Timing\n\nCPU time (`time.process_time`) per page over {len(runs)} pages, "
                "the three calls interleaved page by page (the order rotates)."
            ),
            timing_table(runs),
        ]
        if self.second is not None:
            sections += second_set_sections(self.second)
        if self.worst:
            sections += [
                f"### Worst {self.worst} pages by our body F1",
                worst_table(self.results, self.worst),
            ]
        return "\n\n".join(sections) + "\n"


# --- command line -----------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.extraction",
        description="Score the crawler's extraction and plain trafilatura on the corpus.",
        epilog=f"The corpus is ${CORPUS_ENV}, else {DEFAULT_CORPUS_DIR}.",
    )
    parser.add_argument("--limit", type=positive, help="only the first N pages")
    parser.add_argument("--source", help=f"only the pages of one source ({', '.join(SOURCES)})")
    parser.add_argument(
        "--worst", type=positive, default=0, help="list the N pages with our lowest body F1"
    )
    parser.add_argument(
        "--no-evalset",
        action="store_true",
        help=f"leave out the second set (${EVALSET_ENV}, else {DEFAULT_EVALSET_DIR})",
    )
    parser.add_argument(
        "--write-results",
        action="store_true",
        help=f"also write the tables into {RESULTS_FILE}",
    )
    return parser.parse_args(argv)


def run_all(
    pages: Sequence[CorpusPage],
    detector: LanguageDetector,
    not_people: Mapping[str, frozenset[str]] | None = None,
) -> list[Scored]:
    """Run and score every page; progress on stderr."""
    run_page(pages[0], detector)  # warm-up: lazy imports and first-call setup, not timed
    results = []
    for turn, page in enumerate(pages):
        results.append(score_run(run_page(page, detector, turn), not_people))
        if (turn + 1) % 50 == 0:
            print(f"{turn + 1}/{len(pages)} pages", file=sys.stderr, flush=True)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    directory = corpus_dir()
    if corpus_missing(directory, "bench-extract"):
        return EXIT_NO_CORPUS
    second_dir = evalset_dir()
    if not args.no_evalset and corpus_missing(
        second_dir, "bench-extract", what="second set", variable=EVALSET_ENV
    ):
        print("Or leave it out: make bench-extract ARGS=--no-evalset", file=sys.stderr)
        return EXIT_NO_CORPUS
    pages = load_pages(directory, source=args.source, limit=args.limit)
    if not pages:
        print(f"No pages of source {args.source!r} in {directory}.", file=sys.stderr)
        return EXIT_NO_CORPUS
    quiet_noisy_loggers()
    detector = LanguageDetector()
    second = None
    if not args.no_evalset:
        second = measured(second_dir, run_all(load_pages(second_dir, limit=args.limit), detector))
    report = Report(
        command_of("bench.extraction", argv),
        directory,
        run_all(pages, detector, load_not_people(AUTHOR_KINDS)),
        worst=args.worst,
        second=second,
    )
    publish(report.render(), SECTION, write=args.write_results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
