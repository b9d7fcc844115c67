"""Cost per stage: the crawl's stages as plain calls, in this process, page after page in the
crawl's order, each timed; and the floor a page costs whatever the rest costs.

    .venv/bin/python -m bench.stage_costs [--pages 300]

The stages (``STAGES``): decode (``extraction.charset.decode_html``); extract
(``extraction.extractor.extract_article`` minus its decode); site boilerplate (the crawl's
``SiteBoilerplatePipeline``); language (``LanguageDetector.detect``); normalize
(``normalize_article``); dedupe (the crawl's ``DedupePipeline``: exact keys, MinHash signature,
near-duplicate lookups, the commit into the stored index); write (``to_row``/``to_batch`` per
row, ``DatasetWriter`` row groups of 1,000 and the commit). The pipelines are built as the crawl
builds them, with embedded state stores in a scratch ``OUTPUT_DIR``. trafilatura's share of
extract (its parse and extraction calls) is what ``extract_article`` reports in its
``timings``; it is not a stage, but a part of extract.

The floor (:func:`floor_section`, in ``make bench-throughput``): trafilatura's share and
language detection (from these costs), Scrapy's fetching and the page server (from a crawl with
no item pipeline) are what a page costs whatever everything else costs. Alone, this module
prints the stage table on the first ``--pages`` pages of the throughput page set.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import pyarrow as pa
from scrapy.exceptions import DropItem

from bench.harness.corpus import EXIT_NO_CORPUS, corpus_dir, corpus_missing
from bench.harness.pages import CONTENT_TYPE, PageSet, load_templates
from bench.harness.report import (
    counts,
    markdown_table,
    positive,
    quiet_noisy_loggers,
    work_dir,
    workers_label,
)
from dataset.layout import state_dir
from dataset.schema import ARTICLE_SCHEMA, to_batch, to_row
from dataset.state.embedded import EmbeddedStores
from dataset.writer import DatasetWriter
from extraction.charset import decode_html
from extraction.extractor import ExtractionError, extract_article
from extraction.language import LanguageDetector
from extraction.record import apply_detection, apply_extraction, normalize_article
from extraction.signature import Signer
from extraction.site_boilerplate import SiteBoilerplate
from extraction.urls import DEFAULT_TRACKING_PARAMS
from pipelines.dedupe import DedupePipeline
from pipelines.site_boilerplate import SiteBoilerplatePipeline

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

    from scrapy.statscollectors import StatsCollector

    from bench.harness.crawls import CrawlRun

STAGES = ("decode", "extract", "site boilerplate", "language", "normalize", "dedupe", "write")
TRAFILATURA = "trafilatura"
"""CPU seconds of trafilatura's work inside extract (``extract_article``'s ``timings``)."""
ROW_GROUP = 1000
DEFAULT_PAGES = 300
BASE_URL = "http://127.0.0.1"


class _Stats:
    """Enough of a Scrapy stats collector for the pipelines' counters."""

    def __init__(self) -> None:
        self.values: Counter[str] = Counter()

    def inc_value(self, key: str, count: int = 1, start: int = 0) -> None:
        self.values[key] += count


@dataclass(frozen=True)
class StageCosts:
    pages: int
    rows: int
    seconds: dict[str, float]
    """Wall seconds per stage."""
    cpu_seconds: dict[str, float]
    """CPU seconds per stage, and trafilatura's share of extract (``TRAFILATURA``)."""
    signature_seconds: float
    drops: dict[str, int]

    def per_page_ms(self, stage: str, *, cpu: bool = False) -> float:
        seconds = (self.cpu_seconds if cpu else self.seconds)[stage]
        return 1000 * seconds / self.pages if self.pages else 0.0

    def total_ms(self, *, cpu: bool = False) -> float:
        return sum(self.per_page_ms(stage, cpu=cpu) for stage in STAGES)


def _detect(record: dict[str, Any], detector: LanguageDetector) -> None:
    """The language stage's work on a record."""
    apply_detection(record, *detector.detect(record.get("text") or ""))


class _StageRunner:
    """The crawl's stages as plain calls, each timed."""

    def __init__(self, output_dir: Path) -> None:
        self.stats = _Stats()
        stats = cast("StatsCollector", self.stats)
        self.detector = LanguageDetector()
        self.signer = Signer()
        stores = EmbeddedStores(state_dir(output_dir))
        self.boilerplate = SiteBoilerplatePipeline(stats, stores=stores, learner=SiteBoilerplate())
        self.dedupe = DedupePipeline(stats, stores=stores, output_dir=output_dir)
        self.writer = DatasetWriter(output_dir)
        self.seconds = dict.fromkeys(STAGES, 0.0)
        self.cpu_seconds = dict.fromkeys(STAGES, 0.0)
        self.timings: dict[str, float] = {}
        """``extract_article``'s own: its decode and trafilatura's work, CPU seconds."""
        self.signature_seconds = 0.0
        self.batches: list[pa.RecordBatch] = []
        self.rows = 0
        self.drops: Counter[str] = Counter()

    def open(self) -> None:
        self.boilerplate.open_spider()
        self.dedupe.open_spider()
        self.writer.open()

    def _timed(self, stage: str, call: Callable[[], Any]) -> Any:
        started, started_cpu = time.perf_counter(), time.process_time()
        try:
            return call()
        finally:
            self.seconds[stage] += time.perf_counter() - started
            self.cpu_seconds[stage] += time.process_time() - started_cpu

    def page(self, body: bytes, url: str) -> None:
        self._timed("decode", lambda: decode_html(body, CONTENT_TYPE))
        try:
            # extract_article decodes too: costs() takes the decode measured above off it
            extraction = self._timed(
                "extract",
                lambda: extract_article(body, url, CONTENT_TYPE, timings=self.timings),
            )
        except ExtractionError as exc:
            self.drops[exc.reason] += 1
            return
        record: dict[str, Any] = {
            "url": url,
            "fetched_at": datetime.now(UTC),
            "discovered_via": "sitemap",
        }
        apply_extraction(record, extraction)
        try:
            self._timed("site boilerplate", lambda: self.boilerplate.process_item(record))
            self._timed("language", lambda: _detect(record, self.detector))
            self._timed("normalize", lambda: normalize_article(record, DEFAULT_TRACKING_PARAMS))
            self._timed("dedupe", lambda: self.dedupe.process_item(record))
        except DropItem as exc:
            self.drops[type(exc).__name__] += 1
            return
        started = time.perf_counter()
        self.signer.signature(record["text"])
        self.signature_seconds += time.perf_counter() - started
        self._timed("write", lambda: self.batches.append(to_batch(to_row(record))))
        if len(self.batches) >= ROW_GROUP:
            self._timed("write", self._write)

    def _write(self) -> None:
        if self.batches:
            self.writer.write(pa.Table.from_batches(self.batches, schema=ARTICLE_SCHEMA))
            self.rows += len(self.batches)
            self.batches = []

    def close(self) -> None:
        self._timed("write", self._write)
        committed = self._timed("write", self.writer.commit)
        if committed is not None:
            self._timed(
                "dedupe", lambda: self.dedupe.on_articles_committed(committed.name, committed.keys)
            )
        self.boilerplate.close_store()
        self.dedupe.close_state()

    def costs(self, pages: int) -> StageCosts:
        seconds, cpu_seconds = dict(self.seconds), dict(self.cpu_seconds)
        seconds["extract"] -= seconds["decode"]
        cpu_seconds["extract"] -= cpu_seconds["decode"]
        cpu_seconds[TRAFILATURA] = self.timings.get(TRAFILATURA, 0.0)
        return StageCosts(
            pages=pages,
            rows=self.rows,
            seconds=seconds,
            cpu_seconds=cpu_seconds,
            signature_seconds=self.signature_seconds,
            drops=dict(self.drops),
        )


def run_stages(
    pages: PageSet, count: int, output_dir: Path, base_url: str = BASE_URL
) -> StageCosts:
    """Time every stage on pages ``0 .. count-1`` (a page that is dropped skips the rest)."""
    runner = _StageRunner(output_dir)
    with contextlib.suppress(ExtractionError):  # warm-up: lazy imports, first-call set-up
        text = extract_article(pages.body(0), base_url, CONTENT_TYPE).text
        _detect({"text": text}, runner.detector)
    runner.open()
    for index in range(count):
        runner.page(pages.body(index), base_url + pages.path(index))
    runner.close()
    return runner.costs(count)


# --- the tables ---------------------------------------------------------------------------------


def stage_table(
    stages: StageCosts,
    baseline: tuple[int, float, float] | None = None,
    inline: CrawlRun | None = None,
) -> str:
    """Wall and CPU per page of every stage; beside them ``baseline`` (pages, wall and CPU
    seconds of ``trafilatura.extract``) and the ``inline`` crawl (``EXTRACT_WORKERS=0``)."""
    wall, cpu = stages.total_ms(), stages.total_ms(cpu=True)
    rows = [
        [
            stage,
            f"{stages.per_page_ms(stage):.2f}",
            f"{stages.per_page_ms(stage, cpu=True):.2f}",
            f"{stages.per_page_ms(stage) / wall:.0%}" if wall else "-",
        ]
        for stage in STAGES
    ]
    rows.append(["**all stages**", f"**{wall:.2f}**", f"**{cpu:.2f}**", "100%"])
    signature = 1000 * stages.signature_seconds / stages.pages
    rows.append(["dedupe: of which the MinHash signature", f"{signature:.2f}", "", ""])
    if baseline is not None:
        pages, seconds, cpu_seconds = baseline
        rows.append(
            [
                "for comparison: `trafilatura.extract`",
                f"{1000 * seconds / pages:.2f}",
                f"{1000 * cpu_seconds / pages:.2f}",
                "",
            ]
        )
    if inline is not None:
        pages = max(inline.article_responses, 1)
        wall_ms, cpu_ms = 1000 * inline.wall / pages, 1000 * inline.cpu_seconds / pages
        rows += [
            [
                f"crawl of {inline.size:,} pages, EXTRACT_WORKERS=0 (whole process)",
                f"{wall_ms:.2f}",
                f"{cpu_ms:.2f}",
                "",
            ],
            [
                "… of which outside the stages (Scrapy, Twisted, HTTP, start-up, logging)",
                f"{wall_ms - wall:.2f}",
                f"{cpu_ms - cpu:.2f}",
                "",
            ],
        ]
    return markdown_table(["stage", "wall ms/page", "CPU ms/page", "share (wall)"], rows)


def stage_intro(stages: StageCosts) -> str:
    return (
        f"### Cost per stage\n\nIn this process, on the first {stages.pages:,} pages in "
        f"the crawl's order, wall time per page served ({stages.rows:,} rows written; "
        f"dropped: {counts(stages.drops)}). Extract excludes its decode (counted under "
        "decode); dedupe is the crawl's `DedupePipeline` (exact keys, MinHash "
        "signature, near-duplicate lookups, the commit into the stored index); write is "
        "`to_row`/`to_batch` per row and `DatasetWriter` row groups of 1,000 with the "
        "commit."
    )


@dataclass(frozen=True)
class Floor:
    """What a page costs at least, whatever the rest costs (CPU ms per page)."""

    trafilatura: float
    language: float
    fetching: float
    server: float

    @property
    def total(self) -> float:
        return self.trafilatura + self.language + self.fetching + self.server


def floor_of(stages: StageCosts | None, fetched: CrawlRun | None) -> Floor | None:
    """The floor, from the stage costs and the crawl with no item pipeline."""
    if stages is None or fetched is None or not stages.pages or not fetched.article_responses:
        return None
    pages = fetched.article_responses
    return Floor(
        trafilatura=stages.per_page_ms(TRAFILATURA, cpu=True),
        language=stages.per_page_ms("language", cpu=True),
        fetching=1000 * fetched.cpu_seconds / pages,
        server=1000 * fetched.server_cpu_seconds / pages,
    )


def floor_section(
    floor: Floor, fetched: CrawlRun, run: CrawlRun, base_pages_per_second: float, target: float
) -> list[str]:
    """What a ``target`` ratio to ``base_pages_per_second`` needs: the floor, and what it leaves
    for everything else against what everything else costs in ``run`` now."""
    cores = len(os.sched_getaffinity(0))
    now = 1000 * (run.cpu_seconds + run.server_cpu_seconds) / max(run.article_responses, 1)
    budget = cores * 1000 / (target * base_pages_per_second)
    ceiling = cores * 1000 / floor.total / base_pages_per_second
    fetching = (
        f"Scrapy fetching the page (the crawl of {fetched.size:,} pages with no item pipeline, "
        "start-up included)"
    )
    rest = (
        f"everything else now (the crawl of {run.size:,} pages, EXTRACT_WORKERS="
        f"{workers_label(run.workers)}: all its processes and the server, minus the floor)"
    )
    rows: list[tuple[str, float]] = [
        ("trafilatura's work in our extraction (its parse, `bare_extraction`)", floor.trafilatura),
        ("language detection (langdetect)", floor.language),
        (fetching, floor.fetching),
        ("the page server", floor.server),
        ("**floor**", floor.total),
        (rest, now - floor.total),
        (f"the target: at most ({cores} cores busy all the time)", budget),
        ("… which leaves for everything else", budget - floor.total),
    ]  # fmt: skip
    return [
        (
            "### What the target needs\n\nCPU per page. The floor is what a page costs "
            "whatever the rest costs: trafilatura's share of our extraction and the language "
            "detection (from the stage costs), Scrapy's fetching and the page server (from a "
            "crawl of the same pages with no item pipeline). Everything else is our "
            "extraction's own rules (boilerplate scan, metadata, lead, dates), the normalized "
            "text, the MinHash signature, handing pages to the workers and back, site "
            "boilerplate, dedupe and writing."
        ),
        markdown_table(["part", "CPU ms/page"], [[part, f"{ms:.1f}"] for part, ms in rows]),
        (
            f"With everything else free and {cores} cores busy all the time, the ratio would be "
            f"at most {ceiling:.2f}; the target {target} needs everything else to cost "
            f"at most {max(budget - floor.total, 0.0):.1f} ms per page, against "
            f"{now - floor.total:.1f} ms now."
        ),
    ]


# --- command line -------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.stage_costs",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument(
        "--pages", type=positive, default=DEFAULT_PAGES, help="pages of the throughput page set"
    )
    args = parser.parse_args(argv)
    directory = corpus_dir()
    if corpus_missing(directory, "bench-throughput"):
        return EXIT_NO_CORPUS
    quiet_noisy_loggers()
    pages = PageSet(load_templates(directory))
    with work_dir(None, "stage-costs") as folder:
        stages = run_stages(pages, args.pages, folder / "output")
    print(stage_intro(stages) + "\n\n" + stage_table(stages))
    return 0


if __name__ == "__main__":
    sys.exit(main())
