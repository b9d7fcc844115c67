"""``scrapy summary``: what the dataset under ``OUTPUT_DIR`` holds, and what the last crawl did."""

from __future__ import annotations

import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from crawler.commands import (
    EXIT_FAILED,
    checked_settings,
    dataset_holds,
    stop,
)
from crawler.incremental import COPY_REASONS
from crawler.progress import FETCH_ERRORS
from crawler.project_command import ProjectCommand
from crawler.report import latest_report_in
from crawler.source_accounting import health_rules
from dataset.health import Finding, HealthRules, judge_run
from dataset.layout import ARTICLES
from dataset.run_history import per_run, read_newest_runs
from dataset.schema import ARTICLE_SCHEMA, not_an_article_file, schema_version, upgrade
from dataset.storage import (
    UNREADABLE_FILE_ERRORS,
    DatasetLocation,
    list_data_files,
    location_of,
    stray_lines,
)
from pipelines.locations import dataset_location, state_dir_setting
from pipelines.stats import (
    FETCH_PAGES,
    INCREMENTAL_KNOWN_ARTICLES,
    INCREMENTAL_REFETCHED,
    INCREMENTAL_REJECTED_PAGES,
    ITEM_DROPPED_REASON,
    PARQUET_ROWS_WRITTEN,
)

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from datetime import datetime
    from pathlib import Path

_LIST_COLUMNS = ("authors", "tags")
# Null by design (set only on flagged copies): reported as a count, not as missing values.
_FLAG_COLUMN = "duplicate_of"
# Null by design for pages not found through a named source: not missing values either.
_NAMED_ONLY = ("source_name",)
# Empty by design for the articles that credit no organization (most): not missing either.
_CREDITED_ONLY = ("author_organizations",)
# Null by design for the pages that do not declare whether they are free to read (most).
_DECLARED_ONLY = ("accessible_for_free",)
_DROPPED_PREFIX = ITEM_DROPPED_REASON.prefix


@dataclass(kw_only=True)
class DatasetSummary:
    """Counts over every committed file of a dataset."""

    files: int = 0
    bytes: int = 0
    rows: int = 0
    sources: Counter[str] = field(default_factory=Counter)
    languages: Counter[str] = field(default_factory=Counter)
    published_min: datetime | None = None
    published_max: datetime | None = None
    fetched_min: datetime | None = None
    fetched_max: datetime | None = None
    missing: dict[str, int] = field(default_factory=dict)
    """Per column: rows where it is null (or an empty list, for list columns)."""
    flagged_copies: int = 0
    """Rows stored as copies of another (``duplicate_of`` set, ``DEDUPE_POLICY=flag``)."""
    unreadable: list[str] = field(default_factory=list)
    """Why each data file that cannot be read was left out (cut short, another table's)."""
    strays: list[str] = field(default_factory=list)
    """Data files outside the dataset's partitions, left out (relative to its folder)."""
    folder: str = ARTICLES


def _extend(current: datetime | None, value: Any, pick: Any) -> datetime | None:
    if value is None:
        return current
    return value if current is None else pick(current, value)


def summarize_dataset(articles: Path | DatasetLocation) -> DatasetSummary:
    """Read the summary columns of every data file under ``articles`` (a local folder), or of
    the dataset at a location (its ``articles/`` folder)."""
    if isinstance(articles, DatasetLocation):
        location, folder = articles, ARTICLES
    else:
        location, folder = location_of(articles.parent), articles.name
    filesystem = None if location.is_local else location.filesystem
    summary = DatasetSummary(
        missing=dict.fromkeys(
            (
                n
                for n in ARTICLE_SCHEMA.names
                if n not in (_FLAG_COLUMN, *_NAMED_ONLY, *_CREDITED_ONLY, *_DECLARED_ONLY)
            ),
            0,
        )
    )
    columns = ["source", "language", "published_at", "fetched_at", *_LIST_COLUMNS]
    summary.folder = folder
    for file in list_data_files(location, folder, strays=summary.strays.append):
        try:
            with pq.ParquetFile(file.path, filesystem=filesystem) as parquet:
                _add_file(summary, parquet, columns)
        except UNREADABLE_FILE_ERRORS as exc:
            summary.unreadable.append(f"{file.name}: {exc}")
            continue
        summary.files += 1
        summary.bytes += file.size
    return summary


def _add_file(summary: DatasetSummary, parquet: pq.ParquetFile, columns: list[str]) -> None:
    """Add one file's counts (footer statistics, and the summary columns read); a file that
    cannot be read raises before anything is added."""
    problem = not_an_article_file(parquet.schema_arrow.names)
    if problem is not None:
        raise ValueError(problem)
    if schema_version(parquet.schema_arrow) == "1":  # its sources are read as today's
        table = upgrade(parquet.read(columns=[*columns, "url", "canonical_url"]))
    else:
        table = parquet.read(columns=columns)
    metadata = parquet.metadata
    summary.rows += metadata.num_rows
    for index in range(metadata.num_row_groups):
        group = metadata.row_group(index)
        for column in range(group.num_columns):
            chunk = group.column(column)
            name = chunk.path_in_schema.split(".", 1)[0]
            stats = chunk.statistics
            if stats is None or name in _LIST_COLUMNS:
                continue
            if name in summary.missing:
                summary.missing[name] += stats.null_count or 0
            elif name == _FLAG_COLUMN:
                summary.flagged_copies += group.num_rows - (stats.null_count or 0)
    summary.sources.update(v for v in table.column("source").to_pylist() if v)
    summary.languages.update(v or "unknown" for v in table.column("language").to_pylist())
    for name in _LIST_COLUMNS:
        lengths = pc.list_value_length(table.column(name)).to_pylist()
        summary.missing[name] += sum(1 for length in lengths if not length)
    for name, low, high in (
        ("published_at", "published_min", "published_max"),
        ("fetched_at", "fetched_min", "fetched_max"),
    ):
        bounds = pc.min_max(table.column(name)).as_py()
        setattr(summary, low, _extend(getattr(summary, low), bounds["min"], min))
        setattr(summary, high, _extend(getattr(summary, high), bounds["max"], max))


def _day(value: datetime | None) -> str:
    return value.date().isoformat() if value else "-"


_REJECTED_PREFIX = INCREMENTAL_REJECTED_PAGES.prefix


def _skipped(stats: dict[str, Any]) -> str:
    """What the crawl did not fetch, and why: articles the dataset holds already (and those
    fetched again because their listing says they changed), and pages dropped by an earlier
    run, as no article or as a copy of a stored article, not yet due for a re-check."""
    known = stats.get(INCREMENTAL_KNOWN_ARTICLES.name, 0)
    refetched = stats.get(INCREMENTAL_REFETCHED.name, 0)
    parts = [f"{known} known articles not fetched again (stored already)"] if known else []
    if refetched:
        parts.append(f"{refetched} stored articles fetched again (listed as changed since)")
    rejected = {
        name.removeprefix(_REJECTED_PREFIX): count
        for name, count in stats.items()
        if name.startswith(_REJECTED_PREFIX)
    }
    for what, reasons in (
        ("dropped as no article", {r: n for r, n in rejected.items() if r not in COPY_REASONS}),
        ("found to copy stored articles", {r: n for r, n in rejected.items() if r in COPY_REASONS}),
    ):
        if reasons:
            counts = ", ".join(f"{reason} {count}" for reason, count in sorted(reasons.items()))
            parts.append(
                f"{sum(reasons.values())} pages {what} before, not due for a re-check ({counts})"
            )
    return "; ".join(parts) or "none"


HISTORY_FILES = 200
"""The most run-history files read to judge the newest run (as a crawl reads at most)."""


def newest_run_findings(location: DatasetLocation, rules: HealthRules) -> list[Finding] | None:
    """What the health rules find in the newest run of the run history, judged as the crawl
    judged it: against the earlier runs of each of its sources in the newest files (``None``:
    no run history)."""
    table, _ = read_newest_runs(location, runs=rules.window + 1, most_files=HISTORY_FILES)
    history = per_run(table)
    return judge_run(history[-1]["run_id"], history, rules) if history else None


def format_summary(
    summary: DatasetSummary,
    report: dict[str, Any] | None,
    where: Path | str,
    unhealthy: Sequence[Finding] | None = None,
) -> str:
    """The summary as the text ``scrapy summary`` prints."""
    lines = [
        f"Dataset {where}",
        f"  rows       {summary.rows}",
        f"  files      {summary.files} ({summary.bytes / 1024:.0f} KiB)",
        f"  sources    {len(summary.sources)}: "
        + ", ".join(f"{name} ({count})" for name, count in summary.sources.most_common(8))
        + (" ..." if len(summary.sources) > 8 else ""),
        f"  languages  {len(summary.languages)}: "
        + ", ".join(f"{name} {count}" for name, count in summary.languages.most_common()),
        f"  published  {_day(summary.published_min)} .. {_day(summary.published_max)}",
        f"  fetched    {_day(summary.fetched_min)} .. {_day(summary.fetched_max)}",
    ]
    if summary.rows:
        missing = ", ".join(
            f"{name} {count / summary.rows:.0%}" for name, count in summary.missing.items() if count
        )
        lines.append(f"  missing    {missing or 'none'}")
        if summary.flagged_copies:
            lines.append(f"  copies     {summary.flagged_copies} rows flagged as duplicate_of")
    if report is not None:
        stats = report.get("stats", {})
        lines += [
            (
                f"Last crawl {report.get('started_at')} .. {report.get('finished_at')}"
                f" ({report.get('finish_reason')})"
            ),
            f"  pages fetched   {stats.get(FETCH_PAGES.name, 0)}",
            f"  skipped         {_skipped(stats)}",
            f"  rows written    {stats.get(PARQUET_ROWS_WRITTEN.name, 0)}",
        ]
        dropped = {
            key.removeprefix(_DROPPED_PREFIX): value
            for key, value in stats.items()
            if key.startswith(_DROPPED_PREFIX)
        }
        lines.append(
            "  dropped         "
            + (
                ", ".join(f"{reason} {count}" for reason, count in sorted(dropped.items()))
                or "none"
            )
        )
        errors = {
            key.removeprefix("news/fetch/"): value
            for key, value in stats.items()
            if key.startswith(FETCH_ERRORS)
        }
        lines.append(
            "  fetch errors    "
            + (", ".join(f"{kind} {count}" for kind, count in sorted(errors.items())) or "none")
        )
        if unhealthy is not None:
            lines += [
                f"  unhealthy       {finding.source} ({finding.rule}): {finding.detail}"
                for finding in unhealthy
            ] or ["  unhealthy       none"]
    return "\n".join(lines)


class Command(ProjectCommand):
    requires_project = True
    requires_crawler_process = False
    default_settings = {"LOG_ENABLED": False}  # noqa: RUF012 - Scrapy's own class attribute

    def short_desc(self) -> str:
        return "Summarize the dataset under OUTPUT_DIR and the last crawl into it"

    def process_options(self, args: list[str], opts: argparse.Namespace) -> None:
        super().process_options(args, opts)
        assert self.settings is not None
        self.checked = checked_settings(self.settings)

    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        settings = self.checked
        location = dataset_location(settings)
        if not dataset_holds(location, ARTICLES):
            stop(f"no dataset under {location.display}/{ARTICLES}")
        try:
            report = latest_report_in(state_dir_setting(settings))
        except ValueError as exc:
            stop(str(exc), EXIT_FAILED)
        where: Path | str
        if location.is_local:
            where = location.local_dir() / ARTICLES
            summary = summarize_dataset(where)
        else:
            where = f"{location.display}/{ARTICLES}"
            summary = summarize_dataset(location)
        rules = health_rules(settings)
        unhealthy = None
        if report is not None and rules is not None:
            try:
                unhealthy = newest_run_findings(location, rules)
            except (OSError, ValueError) as exc:  # pyarrow raises ArrowInvalid, a ValueError
                stop(f"cannot read the run history: {exc}", EXIT_FAILED)
        print(format_summary(summary, report, where, unhealthy))
        for problem in summary.unreadable:  # after the summary: the last lines
            sys.stderr.write(f"scrapy: error: cannot read the data file {problem}\n")
        for line in stray_lines(summary.folder, summary.strays):
            sys.stderr.write(f"scrapy: error: {line}\n")
        if summary.unreadable or summary.strays:
            self.exitcode = EXIT_FAILED
