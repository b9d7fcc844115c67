"""The reading recipes of docs/dataset.md (pandas, DuckDB, Polars, pyarrow) and the README's,
run on a real crawl."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dataset import compaction
from dataset.layout import STAGING
from dataset.schema import to_table
from tests.conftest import ROOT, run_crawl
from tests.markdown import code_under
from tests.test_compaction import DAY, make_dataset, make_row

if TYPE_CHECKING:
    from pathlib import Path

DATASET_DOC = ROOT / "docs" / "dataset.md"
README = ROOT / "README.md"
MACHINE_ZONE = "Pacific/Honolulu"
"""UTC-10: the test site's articles, published at 07:30 UTC, were published the day before
there."""


def _recipes(heading: str = "Reading it") -> str:
    (code,) = code_under(DATASET_DOC, heading)
    return code


@pytest.fixture(scope="module")
def results(tmp_path_factory: pytest.TempPathFactory, site_url: str) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("recipes")
    crawl = run_crawl(
        out, "-a", f"feeds={site_url}/feed.xml", "-a", f"sitemaps={site_url}/sitemap.xml"
    )
    assert crawl.returncode == 0, crawl.log[-2000:]
    namespace: dict[str, Any] = {}
    code = _recipes().replace("output/articles", str(out / "articles"))
    # DuckDB takes the machine's time zone: one where the articles' (UTC) days are not its own
    duckdb.sql(f"SET TimeZone = '{MACHINE_ZONE}'")
    exec(compile(code, "dataset.md", "exec"), namespace)
    readme: dict[str, Any] = {}
    code = code_under(README, "Reading the dataset")[0].replace(
        "output/articles", str(out / "articles")
    )
    exec(compile(code, "README.md", "exec"), readme)
    namespace["readme"] = readme
    return namespace


def test_every_reader_sees_every_row(results: dict[str, Any]) -> None:
    rows = results["table"].num_rows
    assert rows >= 30
    assert len(results["df"]) == rows
    assert sum(count for _, count in results["by_language"]) == rows


def test_the_readme_recipe_reads_the_same_rows(results: dict[str, Any]) -> None:
    readme = results["readme"]
    assert len(readme["df"]) == results["table"].num_rows
    # a category before, which `fetch_date >= "2026-12-01"` could not compare (TypeError)
    assert int((readme["df"]["fetch_date"] >= "2024-01-01").sum()) == len(readme["df"])
    assert readme["by_language"] == results["by_language"]


def test_readers_agree_on_filters_and_partitions(results: dict[str, Any]) -> None:
    df = results["df"]
    assert results["lemonde"].height == int((df["source"] == "lemonde.fr").sum()) >= 1
    languages = dict(results["by_language"])
    assert languages == df["language"].value_counts().to_dict()
    assert "fetch_date" in df.columns
    assert "fetch_date" in results["table"].column_names
    assert str(df["published_at"].dtype).startswith("datetime64")


def test_every_reader_gives_fetch_date_a_type_a_day_compares_with(
    results: dict[str, Any],
) -> None:
    df, table, lemonde = results["df"], results["table"], results["lemonde"]
    assert int((df["fetch_date"] >= "2024-01-01").sum()) == len(df)
    assert int((df["fetch_date"] >= "9999-01-01").sum()) == 0
    assert table.schema.field("fetch_date").type == pa.string()
    assert lemonde.schema["fetch_date"] == pl.String
    assert lemonde.filter(pl.col("fetch_date") >= "2024-01-01").height == lemonde.height
    # DuckDB's DATE compares with a day written as a string (the recipe filters so)
    assert sum(count for _, count in results["by_day"]) == len(df)


def test_duckdb_counts_days_in_utc_whatever_the_machines_time_zone(
    results: dict[str, Any],
) -> None:
    utc_days = results["df"]["published_at"].dt.date.value_counts().to_dict()
    by_day = {day: count for day, count in results["by_day"] if day is not None}
    assert by_day == utc_days
    # the machine's zone would have given other days: the test can tell
    assert (
        results["df"]["published_at"].dt.tz_convert(MACHINE_ZONE).dt.date.value_counts().to_dict()
        != utc_days
    )


def test_recipes_after_a_schema_change_keep_every_column(tmp_path: Path) -> None:
    # Version "0" of the schema lacked two columns; version "1" files sit in a later partition.
    older = to_table([make_row(n) for n in range(3)]).drop_columns(
        ["published_offset", "duplicate_of"]
    )
    (tmp_path / "fetch_date=2024-05-01").mkdir()
    pq.write_table(older, tmp_path / "fetch_date=2024-05-01" / "part-a.parquet")
    newer = to_table(
        [make_row(n, day=DAY + timedelta(days=1)) | {"published_offset": 60} for n in range(3, 5)]
    )
    (tmp_path / "fetch_date=2024-05-02").mkdir()
    pq.write_table(newer, tmp_path / "fetch_date=2024-05-02" / "part-b.parquet")
    code = _recipes("After a schema change").replace("output/articles", str(tmp_path))
    namespace: dict[str, Any] = {}
    exec(compile(code, "dataset.md", "exec"), namespace)

    df, table, rows, frame = (namespace[name] for name in ("df", "table", "rows", "frame"))
    assert len(df) == table.num_rows == len(rows) == frame.height == 5
    for columns in (list(df.columns), table.column_names, list(frame.columns)):
        assert {"published_offset", "duplicate_of", "fetch_date"} <= set(columns)
    assert sorted(df["published_offset"].dropna().tolist()) == [60, 60]
    assert table.column("published_offset").null_count == 3
    assert frame["published_offset"].null_count() == 3
    assert sorted(df["fetch_date"].unique().tolist()) == ["2024-05-01", "2024-05-02"]
    assert frame["fetch_date"].dtype == pl.String


def _rows_each_recipe_reads(articles: Path) -> dict[str, int]:
    """The rows every recipe of docs/dataset.md and of the README reads from ``articles``."""
    counts: dict[str, int] = {}
    for where, recipe in (
        ("dataset.md", _recipes()),
        ("dataset.md, schema change", _recipes("After a schema change")),
        ("README.md", code_under(README, "Reading the dataset")[0]),
    ):
        namespace: dict[str, Any] = {}
        code = recipe.replace("output/articles", str(articles)).replace(
            "lemonde.fr", "site0.example"
        )
        exec(compile(code, where, "exec"), namespace)
        for name, value in namespace.items():
            if name == "lemonde":  # Polars, filtered: a third of the rows
                counts[f"{where}: {name}"] = value.height * 3
            elif name == "by_language":
                counts[f"{where}: {name}"] = sum(count for _, count in value)
            elif name in ("df", "rows"):
                counts[f"{where}: {name}"] = len(value)
            elif name == "table":
                counts[f"{where}: {name}"] = value.num_rows
            elif name == "frame":
                counts[f"{where}: {name}"] = value.height
    return counts


def test_no_recipe_reads_the_files_a_compaction_stages_in_the_dataset_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # With articles/ on a filesystem of its own, the compaction builds the new partition in
    # articles/_tmp/ (dataset.layout.staging_dir), its files under their final names; after the
    # exchange the old partition's files are there until the job is done.
    make_dataset(tmp_path, files=3, rows_per_file=4)
    articles = tmp_path / "articles"
    (partition,) = articles.glob("fetch_date=*")
    seen: dict[str, dict[str, int]] = {"before": _rows_each_recipe_reads(articles)}
    exchange = compaction.exchange_dirs

    def reading_around(first: Path, second: Path) -> bool:
        assert list((articles / STAGING).rglob("*.parquet"))  # the staged files are there
        seen["staged"] = _rows_each_recipe_reads(articles)
        done = exchange(first, second)
        seen["swapped"] = _rows_each_recipe_reads(articles)
        return done

    monkeypatch.setattr(compaction, "exchange_dirs", reading_around)
    result = compaction.compact_partition(
        partition, tmp_path, staging=articles / STAGING, target_rows=100
    )
    assert result is not None
    assert result.atomic
    seen["after"] = _rows_each_recipe_reads(articles)
    for moment, counts in seen.items():
        assert len(counts) == 10, moment
        assert set(counts.values()) == {12}, (moment, counts)


def test_the_newest_version_of_each_page(tmp_path: Path) -> None:
    # a page whose text changed is a second row with its URL (one row per article, the
    # README said): the recipe keeps the newest
    first = make_row(1)
    changed = make_row(1, day=DAY + timedelta(days=1)) | {"text": "Article number 1, updated."}
    changed["content_hash"] = "another-digest"
    changed["id"] = "another-id"
    other = make_row(2)
    for day, rows in (("2024-05-01", [first, other]), ("2024-05-02", [changed])):
        (tmp_path / f"fetch_date={day}").mkdir()
        pq.write_table(to_table(rows), tmp_path / f"fetch_date={day}" / "part-a.parquet")
    namespace: dict[str, Any] = {}
    code = _recipes("Pages that changed").replace("output/articles", str(tmp_path))
    exec(compile(code, "dataset.md", "exec"), namespace)
    latest = namespace["latest"].set_index("url")
    assert len(latest) == 2
    assert latest.loc[first["url"], "text"] == "Article number 1, updated."
    assert latest.loc[other["url"], "id"] == other["id"]


def test_the_articles_declared_not_free_are_left_out(tmp_path: Path) -> None:
    # the rows of paywalled pages may hold only their teaser (twelfth fault hunt, F6); the
    # files written before version 5 lack the column, and their rows are kept
    older = to_table([make_row(n) for n in range(2)]).drop_columns(["accessible_for_free"])
    (tmp_path / "fetch_date=2024-05-01").mkdir()
    pq.write_table(older, tmp_path / "fetch_date=2024-05-01" / "part-a.parquet")
    declared = [True, False, None]
    newer = to_table(
        [
            make_row(n, day=DAY + timedelta(days=1)) | {"accessible_for_free": free}
            for n, free in enumerate(declared, start=2)
        ]
    )
    (tmp_path / "fetch_date=2024-05-02").mkdir()
    pq.write_table(newer, tmp_path / "fetch_date=2024-05-02" / "part-b.parquet")
    namespace: dict[str, Any] = {}
    code = _recipes("Paywalled articles").replace("output/articles", str(tmp_path))
    exec(compile(code, "dataset.md", "exec"), namespace)
    free = namespace["free"]
    teaser = make_row(3)["id"]
    assert sorted(free["id"]) == sorted(make_row(n)["id"] for n in (0, 1, 2, 4))
    assert teaser not in set(free["id"])
