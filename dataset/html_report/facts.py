"""What the report shows, read from a dataset and its run history: plain values, no drawing.

Every figure is computed here once, so that the charts, the tables and the tests read the same
numbers. A source is named as the run history names it: the configured source's name
(``source_name``), else the site the page was fetched from (the host of ``url``; the
``source`` column holds the publishing site, which a page's canonical URL may place
elsewhere).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dataset.health import Finding, HealthRules, judge_run
from dataset.layout import ARTICLES
from dataset.run_history import per_run, read_newest_runs
from dataset.schema import ARTICLE_SCHEMA, not_an_article_file, upgrade
from dataset.storage import DataFile, list_data_files, unreadable_reason
from extraction.urls import host_of

if TYPE_CHECKING:
    from dataset.storage import DatasetLocation

RECENT_RUNS = 10
"""Runs shown per source in the health table, and in the per-run charts."""
HISTORY_FILES = 300
"""The most run-history files read (a second or two): the newest, back to each source's
:data:`RECENT_RUNS` runs and the health rules' window before them, however long the
history."""
DAYS = 60
"""Days of publication shown in the articles-per-day chart (ending at the newest)."""
GROWTH_POINTS = 60
"""Points of the dataset's growth: one per writing run up to this many, else one per day."""
_COLUMNS = ("url", "source", "source_name", "language", "published_at")
_UPGRADE_COLUMNS = ("canonical_url",)
"""What :func:`dataset.schema.upgrade` needs of a version-1 file (no ``source_name``)."""
_WRITTEN = re.compile(r"part-(\d{8}T\d{6})Z")


@dataclass(frozen=True, kw_only=True)
class RunFacts:
    """One run (the processes of one run summed), every source together."""

    run_id: str
    started_at: datetime
    label: str
    """Its start, as short as tells it from the other runs shown."""
    stored: Counter[str]
    """Articles stored, per source."""
    dropped: Counter[str]
    """Pages fetched and not stored, by reason."""
    errors: Counter[str]
    """Failed requests, by kind."""
    findings: list[Finding]
    """What the health rules found in this run."""


@dataclass(frozen=True, kw_only=True)
class SourceFacts:
    """One source: its articles in the dataset, and its recent runs."""

    name: str
    articles: int
    """Rows of the dataset."""
    newest_published_at: datetime | None
    recent: list[dict[str, Any]]
    """Its last :data:`RECENT_RUNS` runs (rows of :func:`dataset.run_history.per_run`), oldest
    first."""
    findings: dict[str, list[Finding]]
    """The rules it broke, per run id."""

    @property
    def latest(self) -> dict[str, Any] | None:
        return self.recent[-1] if self.recent else None

    @property
    def status(self) -> str:
        """``unhealthy (rules)`` for its latest run, ``healthy``, ``new`` (too few runs to
        judge), or ``no runs``."""
        latest = self.latest
        if latest is None:
            return "no runs"
        broken = self.findings.get(latest["run_id"], [])
        if broken:
            return "unhealthy (" + ", ".join(finding.rule for finding in broken) + ")"
        return "healthy"


@dataclass(frozen=True, kw_only=True)
class Growth:
    """The dataset's committed files up to one moment."""

    label: str
    """The run that wrote them (its start), or the day."""
    files: int
    bytes: int


@dataclass(kw_only=True)
class ReportFacts:
    """Everything the report shows."""

    where: str
    generated_at: datetime
    rows: int = 0
    files: int = 0
    strays: list[str] = field(default_factory=list)
    """Data files outside the dataset's partitions (relative to ``articles/``), left out."""
    bytes: int = 0
    sources: Counter[str] = field(default_factory=Counter)
    """Rows per source."""
    languages: Counter[str] = field(default_factory=Counter)
    per_day: dict[date, Counter[str]] = field(default_factory=dict)
    """Articles per publication day (UTC) and source, the last :data:`DAYS` days with any."""
    undated: int = 0
    """Rows without a publication date (not in :attr:`per_day`)."""
    published_min: datetime | None = None
    published_max: datetime | None = None
    newest: dict[str, datetime] = field(default_factory=dict)
    """The newest publication time of the rows of each source."""
    runs: list[RunFacts] = field(default_factory=list)
    """The last :data:`RECENT_RUNS` runs, oldest first."""
    run_count: int = 0
    """Runs in the history read: the whole history, or (:attr:`history_since`) its newest
    runs (:data:`HISTORY_FILES`)."""
    history_since: datetime | None = None
    """When the oldest run read started, when the history was not read whole; ``None`` when
    it was."""
    health: list[SourceFacts] = field(default_factory=list)
    """Every source, of the articles or of the runs read (one that never stored an article
    too): a row each of the table, and the sources the totals count."""
    growth: list[Growth] = field(default_factory=list)
    """Files and bytes of the dataset as committed, added up run by run (or day by day:
    :data:`GROWTH_POINTS`); compaction rewrites files, which then count when rewritten."""

    @property
    def runs_read(self) -> str:
        """What :attr:`run_count` counts: ``runs``, or ``runs since <day>`` when the history was
        not read whole."""
        since = self.history_since
        return "runs" if since is None else f"runs since {since:%Y-%m-%d %H:%M}"

    @property
    def unhealthy(self) -> list[SourceFacts]:
        return [source for source in self.health if source.status.startswith("unhealthy")]


def _source_keys(table: pa.Table) -> pa.Array:
    """The source each row counts for: its configured source's name, else the site it was
    fetched from."""
    names = table.column("source_name").to_pylist()
    urls = table.column("url").to_pylist()
    return pa.array(
        [
            name if name is not None else (host_of(url) if url else None) or ""
            for name, url in zip(names, urls, strict=True)
        ],
        pa.string(),
    )


def _read_file(location: DatasetLocation, file: DataFile) -> pa.Table:
    """The report's columns of one data file, as the current schema version has them."""
    filesystem = None if location.is_local else location.filesystem
    try:
        parquet = pq.ParquetFile(file.path, filesystem=filesystem)
    except (OSError, ValueError) as exc:  # cut short, empty, not Parquet
        raise ValueError(f"{file.name}: {unreadable_reason(exc)}") from None
    with parquet:
        names = parquet.schema_arrow.names
        problem = not_an_article_file(names)
        if problem is not None:
            raise ValueError(f"{file.name} is {problem}")
        wanted = [*_COLUMNS, *(_UPGRADE_COLUMNS if "source_name" not in names else ())]
        table = upgrade(parquet.read(columns=[name for name in wanted if name in names]))
    for name in _COLUMNS:
        if name not in table.column_names:
            kind = ARTICLE_SCHEMA.field(name).type
            table = table.append_column(name, pa.nulls(table.num_rows, kind))
    return table


def _read_articles(location: DatasetLocation, facts: ReportFacts) -> None:
    written: Counter[datetime] = Counter()
    sizes: Counter[datetime] = Counter()
    for file in list_data_files(location, ARTICLES, strays=facts.strays.append):
        table = _read_file(location, file)
        facts.files += 1
        facts.bytes += file.size
        facts.rows += table.num_rows
        match = _WRITTEN.search(file.name)
        if match:
            when = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=UTC)
            written[when] += 1
            sizes[when] += file.size
        if not table.num_rows:
            continue
        keys = _source_keys(table)
        facts.sources.update(_counts(keys))
        facts.languages.update(_counts(pc.fill_null(table.column("language"), "unknown")))
        published = table.column("published_at")
        facts.undated += published.null_count
        dated = pc.is_valid(published)
        days = pc.cast(pc.filter(published, dated), pa.date32())
        for (day, source), count in _pairs(days, pc.filter(keys, dated)).items():
            facts.per_day.setdefault(day, Counter())[source] += count
        newest = (
            pa.table({"source": keys, "published_at": published})
            .group_by("source")
            .aggregate([("published_at", "max")])
        )
        for source, when in zip(*(column.to_pylist() for column in newest.columns), strict=True):
            if when is not None:
                facts.newest[source] = max(when, facts.newest.get(source, when))
        low, high = pc.min_max(published).values()
        facts.published_min = _extreme(min, facts.published_min, low.as_py())
        facts.published_max = _extreme(max, facts.published_max, high.as_py())
    days = sorted(facts.per_day)[-DAYS:]
    facts.per_day = {day: facts.per_day[day] for day in days}
    facts.growth = _growth(written, sizes)


def _growth(written: Counter[datetime], sizes: Counter[datetime]) -> list[Growth]:
    """Files and bytes added up by the writing run's start (by day when there are many)."""
    moments = sorted(written)
    by_day = len(moments) > GROWTH_POINTS
    keys = [f"{when:%Y-%m-%d}" for when in moments] if by_day else _labels(moments)
    files, size, points = 0, 0, {}
    for key, when in zip(keys, moments, strict=True):
        files, size = files + written[when], size + sizes[when]
        points[key] = Growth(label=key, files=files, bytes=size)
    return list(points.values())


def _labels(moments: list[datetime]) -> list[str]:
    """Each moment, as short as tells it from the others: to the minute, else the second."""
    short = [f"{when:%m-%d %H:%M}" for when in moments]
    if len(set(short)) == len(short):
        return short
    return [f"{when:%m-%d %H:%M:%S}" for when in moments]


def _counts(values: pa.ChunkedArray | pa.Array) -> Counter[str]:
    counted = pc.value_counts(values)
    return Counter(
        {
            str(item["values"]): int(item["counts"])
            for item in counted.to_pylist()
            if item["values"] is not None
        }
    )


def _pairs(days: pa.ChunkedArray | pa.Array, keys: pa.ChunkedArray | pa.Array) -> Counter[Any]:
    table = (
        pa.table({"day": days, "source": keys})
        .group_by(["day", "source"])
        .aggregate([([], "count_all")])
    )
    return Counter({(row["day"], row["source"]): row["count_all"] for row in table.to_pylist()})


def _extreme(pick: Any, current: datetime | None, value: datetime | None) -> datetime | None:
    if value is None:
        return current
    return value if current is None else pick(current, value)


def _read_history(location: DatasetLocation, rules: HealthRules, facts: ReportFacts) -> None:
    table, whole = read_newest_runs(
        location, runs=RECENT_RUNS + rules.window, most_files=HISTORY_FILES
    )
    history = per_run(table)
    run_ids = list(dict.fromkeys(row["run_id"] for row in history))
    facts.run_count = len(run_ids)
    if not whole and history:
        facts.history_since = history[0]["started_at"]
    by_run: dict[str, list[dict[str, Any]]] = {}
    for row in history:
        by_run.setdefault(row["run_id"], []).append(row)
    findings: dict[str, list[Finding]] = {}
    judged = run_ids[-RECENT_RUNS:]
    for run_id in judged:
        findings[run_id] = judge_run(run_id, history, rules)
    labels = _labels([min(row["started_at"] for row in by_run[run_id]) for run_id in judged])
    for run_id, label in zip(judged, labels, strict=True):
        rows = by_run[run_id]
        dropped: Counter[str] = Counter()
        errors: Counter[str] = Counter()
        for row in rows:
            dropped.update(row["dropped"])
            errors.update(row["errors"])
        facts.runs.append(
            RunFacts(
                run_id=run_id,
                started_at=min(row["started_at"] for row in rows),
                label=label,
                stored=Counter({row["source"]: int(row["stored"]) for row in rows}),
                dropped=dropped,
                errors=errors,
                findings=findings[run_id],
            )
        )
    by_source: dict[str, list[dict[str, Any]]] = {}
    for row in history:
        by_source.setdefault(row["source"], []).append(row)
    names = set(by_source) | set(facts.sources)
    for name in sorted(names, key=lambda n: (-facts.sources[n], n)):
        recent = by_source.get(name, [])[-RECENT_RUNS:]
        newest = [row["newest_published_at"] for row in by_source.get(name, [])]
        newest.append(facts.newest.get(name))
        facts.health.append(
            SourceFacts(
                name=name,
                articles=facts.sources[name],
                newest_published_at=max((d for d in newest if d), default=None),
                recent=recent,
                findings={
                    run_id: [f for f in found if f.source == name]
                    for run_id, found in findings.items()
                },
            )
        )


def gather(
    location: DatasetLocation, rules: HealthRules | None = None, now: datetime | None = None
) -> ReportFacts:
    """The report's figures for the dataset at ``location`` and its run history, the runs
    judged with ``rules`` (the defaults when ``None``). Raises ``OSError`` (or pyarrow's
    ``ArrowInvalid``, a ``ValueError``) when a file cannot be read."""
    facts = ReportFacts(where=location.display, generated_at=now or datetime.now(UTC))
    _read_articles(location, facts)
    _read_history(location, rules or HealthRules(), facts)
    return facts
