"""The report's figures (dataset/html_report/facts.py), read from a small dataset and a run
history written the way the crawl writes them."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pyarrow.parquet as pq
import pytest

from dataset.compaction import compact_partition
from dataset.health import HealthRules
from dataset.html_report import facts as facts_module
from dataset.html_report.facts import GROWTH_POINTS, RECENT_RUNS, _growth, gather
from dataset.run_history import FILE_PREFIX as RUNS_PREFIX
from dataset.run_history import SCHEMA as RUNS_SCHEMA
from dataset.run_history import SORT_KEYS as RUNS_ORDER
from dataset.run_history import RunInfo, SourceRun, write_runs
from dataset.schema import SCHEMA_VERSION_KEY, to_table
from dataset.storage import location_of
from dataset.writer import DatasetWriter
from tests.test_summary import _row

if TYPE_CHECKING:
    from pathlib import Path

T0 = datetime(2026, 11, 20, 6, tzinfo=UTC)


def article(n: int, site: str, name: str | None, published: datetime | None) -> dict[str, Any]:
    """A row of site ``site`` (the host it was fetched from), of the configured source ``name``."""
    return _row(n, source=site, language="en" if n % 3 else "de", published=published) | {
        "source_name": name
    }


def write_dataset(output_dir: Path) -> list[dict[str, Any]]:
    """Eight rows in two files: alpha (a named source) 5, site b.test (no name) 3, one of them
    published under another site's canonical URL; two rows without a date."""
    rows = [
        *(article(n, "a.test", "alpha", T0 - timedelta(days=n % 2)) for n in range(1, 6)),
        article(6, "b.test", None, T0),
        article(7, "b.test", None, None) | {"source": "elsewhere.test"},
        article(8, "b.test", None, None),
    ]
    writer = DatasetWriter(output_dir)
    writer.open()
    writer.write(to_table(rows[:4]))
    writer.commit()
    writer.write(to_table(rows[4:]))
    writer.commit()
    return rows


def write_history(output_dir: Path, runs: int = 4, blocked_in: int = 3) -> None:
    """``runs`` runs of alpha and b.test; in run ``blocked_in`` b.test answers 403 to all."""
    location = location_of(output_dir)
    for number in range(1, runs + 1):
        started = T0 + timedelta(hours=number)
        blocked = number == blocked_in
        b = SourceRun(
            "b.test",
            discovered=4,
            fetched=0 if blocked else 4,
            stored=0 if blocked else 4,
            article_errors=Counter(http_403=4) if blocked else Counter(),
            errors=Counter(http_403=4) if blocked else Counter(),
        )
        alpha = SourceRun(
            "alpha", discovered=5, fetched=5, stored=4, dropped=Counter(ListingPage=1)
        )
        info = RunInfo(
            run_id=f"run{number}",
            started_at=started,
            finished_at=started + timedelta(minutes=5),
            finish_reason="finished",
            worker="host-1",
        )
        write_runs(location, info, [alpha, b])


@pytest.fixture
def output(tmp_path: Path) -> Path:
    write_dataset(tmp_path)
    write_history(tmp_path)
    return tmp_path


def test_the_dataset_figures(output: Path) -> None:
    facts = gather(location_of(output))
    assert (facts.rows, facts.files) == (8, 2)
    assert facts.bytes == sum(path.stat().st_size for path in output.glob("articles/*/*.parquet"))
    # a row counts for its configured source, else for the site it was fetched from
    assert facts.sources == Counter({"alpha": 5, "b.test": 3})
    assert facts.languages == Counter({"en": 6, "de": 2})
    assert facts.undated == 2
    assert facts.per_day == {
        date(2026, 11, 19): Counter(alpha=3),
        date(2026, 11, 20): Counter(alpha=2, **{"b.test": 1}),
    }
    assert (facts.published_min, facts.published_max) == (T0 - timedelta(days=1), T0)
    # both files written by one run: one point
    assert [(g.files, g.bytes) for g in facts.growth] == [(2, facts.bytes)]
    assert facts.growth[0].label.startswith(f"{datetime.now(UTC):%m-%d} ")


def test_the_runs_and_the_health_of_each_source(output: Path) -> None:
    facts = gather(location_of(output))
    assert facts.run_count == len(facts.runs) == 4
    assert [run.stored for run in facts.runs] == [
        Counter({"alpha": 4, "b.test": 4}),
        Counter({"alpha": 4, "b.test": 4}),
        Counter({"alpha": 4, "b.test": 0}),
        Counter({"alpha": 4, "b.test": 4}),
    ]
    assert facts.runs[2].errors == Counter(http_403=4)
    assert facts.runs[0].dropped == Counter(ListingPage=1)
    # run 3 is judged on the two before it: b.test blocked; no finding elsewhere
    assert [[(f.source, f.rule) for f in run.findings] for run in facts.runs] == [
        [],
        [],
        [("b.test", "blocked")],
        [],
    ]
    alpha, b = facts.health
    assert (alpha.name, alpha.articles, alpha.status) == ("alpha", 5, "healthy")
    assert (b.name, b.articles, b.status) == ("b.test", 3, "healthy")  # recovered in run 4
    assert [row["stored"] for row in b.recent] == [4, 4, 0, 4]
    assert [f.rule for f in b.findings["run3"]] == ["blocked"]
    assert facts.unhealthy == []


def test_the_latest_run_names_the_unhealthy_source(tmp_path: Path) -> None:
    write_dataset(tmp_path)
    write_history(tmp_path, runs=3)
    facts = gather(location_of(tmp_path))
    assert [(source.name, source.status) for source in facts.unhealthy] == [
        ("b.test", "unhealthy (blocked)")
    ]
    # the rules are the crawl's: with more earlier runs required, the run is not judged
    # against them yet, and only as one of which nothing came
    facts = gather(location_of(tmp_path), HealthRules(min_runs=3))
    assert [(source.name, source.status) for source in facts.unhealthy] == [
        ("b.test", "unhealthy (failing)")
    ]
    facts = gather(location_of(tmp_path), HealthRules(min_runs=3, min_requests=5))
    assert facts.unhealthy == []


def test_growth_points_are_runs_or_days() -> None:
    moments = [T0, T0 + timedelta(seconds=20), T0 + timedelta(days=1)]
    written = Counter(dict.fromkeys(moments, 2))
    sizes = Counter(dict.fromkeys(moments, 100))
    # two runs in one minute: told apart by their seconds
    assert [(g.label, g.files, g.bytes) for g in _growth(written, sizes)] == [
        ("11-20 06:00:00", 2, 100),
        ("11-20 06:00:20", 4, 200),
        ("11-21 06:00:00", 6, 300),
    ]
    many = [T0 + timedelta(hours=n) for n in range(GROWTH_POINTS + 1)]
    by_day = _growth(Counter(dict.fromkeys(many, 1)), Counter(dict.fromkeys(many, 10)))
    assert [(g.label, g.files) for g in by_day] == [
        ("2026-11-20", 18),
        ("2026-11-21", 42),
        ("2026-11-22", 61),
    ]
    assert by_day[-1].bytes == 610


def test_only_the_recent_runs_are_shown(tmp_path: Path) -> None:
    write_history(tmp_path, runs=RECENT_RUNS + 2, blocked_in=0)
    facts = gather(location_of(tmp_path))
    assert facts.run_count == RECENT_RUNS + 2
    assert [run.run_id for run in facts.runs] == [f"run{n}" for n in range(3, RECENT_RUNS + 3)]
    assert all(len(source.recent) == RECENT_RUNS for source in facts.health)
    # no dataset yet: the sources come from the history alone
    assert facts.rows == 0
    assert [source.articles for source in facts.health] == [0, 0]


def test_files_of_the_first_schema_version_count_for_their_source(tmp_path: Path) -> None:
    # version 1 wrote the configured source's name into `source` and had no `source_name`
    rows = [article(1, "a.test", None, T0) | {"source": "alpha"}]
    table = to_table(rows).drop_columns(["source_name"])
    table = table.replace_schema_metadata({SCHEMA_VERSION_KEY: "1"})
    folder = tmp_path / "articles" / "fetch_date=2026-11-20"
    folder.mkdir(parents=True)
    pq.write_table(table, folder / "part-20261120T060000Z-old-00001.parquet")
    facts = gather(location_of(tmp_path))
    assert facts.sources == Counter(alpha=1)
    assert [(g.label, g.files) for g in facts.growth] == [("11-20 06:00", 1)]


def test_an_empty_file_counts_as_a_file(tmp_path: Path) -> None:
    folder = tmp_path / "articles" / "fetch_date=2026-11-20"
    folder.mkdir(parents=True)
    pq.write_table(to_table([]), folder / "part-20261120T060000Z-x-00001.parquet")
    facts = gather(location_of(tmp_path))
    assert (facts.rows, facts.files, facts.sources) == (0, 1, Counter())


def test_a_long_history_is_read_back_to_what_the_page_shows(
    tmp_path: Path, files_read: list[str]
) -> None:
    # scrapy report read the whole run history, every file and every row: 14.6 s at 4,000
    # past runs, and no bound (thirteenth fault hunt, F3)
    write_history(tmp_path, runs=120, blocked_in=118)
    facts = gather(location_of(tmp_path))
    shown = RECENT_RUNS + HealthRules().window  # the runs shown, and the window of the first
    assert len(files_read) == shown
    assert facts.run_count == shown
    assert facts.history_since == T0 + timedelta(hours=120 - shown + 1)
    assert facts.runs_read == f"runs since {facts.history_since:%Y-%m-%d %H:%M}"
    assert [run.run_id for run in facts.runs] == [f"run{n}" for n in range(111, 121)]
    assert [[(f.source, f.rule) for f in run.findings] for run in facts.runs][7] == [
        ("b.test", "blocked")
    ]
    assert [len(source.recent) for source in facts.health] == [RECENT_RUNS, RECENT_RUNS]


def test_a_source_of_a_rarer_crawl_is_read_back_to_its_runs_as_far_as_the_bound(
    tmp_path: Path, files_read: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    location = location_of(tmp_path)
    for number in range(60):  # gamma every tenth run, alpha in the others
        started = T0 + timedelta(minutes=5 * number)
        info = RunInfo(
            run_id=f"run{number}",
            started_at=started,
            finished_at=started + timedelta(minutes=1),
            finish_reason="finished",
            worker="host-1",
        )
        name = "gamma" if number % 10 == 0 else "alpha"
        write_runs(location, info, [SourceRun(name, discovered=1, fetched=1, stored=1)])
    facts = gather(location)
    assert {source.name: len(source.recent) for source in facts.health} == {
        "alpha": RECENT_RUNS,
        "gamma": 6,  # all it has: the whole history was read
    }
    assert (len(files_read), facts.history_since) == (60, None)

    files_read.clear()
    monkeypatch.setattr(facts_module, "HISTORY_FILES", 25)
    facts = gather(location)
    assert len(files_read) == 25
    assert {source.name: len(source.recent) for source in facts.health} == {
        "alpha": RECENT_RUNS,
        "gamma": 2,  # runs 40 and 50 of runs 35 to 59
    }
    assert facts.history_since == T0 + timedelta(minutes=5 * 35)


def test_the_newest_publication_of_a_source_is_the_datasets(output: Path) -> None:
    # its runs stored nothing dated (as write_history's): the newest row of the dataset
    facts = gather(location_of(output))
    assert {source.name: source.newest_published_at for source in facts.health} == {
        "alpha": T0,
        "b.test": T0,
    }


def test_a_run_history_merged_by_scrapy_compact_gives_the_same_page(
    output: Path, files_read: list[str]
) -> None:
    before = gather(location_of(output))
    (day,) = (output / "runs").iterdir()
    merged = compact_partition(
        day, output, schema=RUNS_SCHEMA, sort_keys=RUNS_ORDER, prefix=RUNS_PREFIX
    )
    assert merged is not None
    files_read.clear()

    after = gather(location_of(output))

    assert files_read == [f"{day.name}/{merged.written[0]}"]  # the day in one read
    assert (after.run_count, after.history_since) == (before.run_count, before.history_since)
    assert [(run.run_id, run.stored, run.findings) for run in after.runs] == [
        (run.run_id, run.stored, run.findings) for run in before.runs
    ]
    assert [(s.name, s.status, s.recent) for s in after.health] == [
        (s.name, s.status, s.recent) for s in before.health
    ]
