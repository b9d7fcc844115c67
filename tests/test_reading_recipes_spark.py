"""The Spark recipe of docs/dataset.md, run on a real crawl and checked against pyarrow and pandas.

Needs the ``spark`` extra and a Java runtime (``make test-spark``); skipped without them.
"""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from tests.conftest import run_crawl
from tests.test_reading_recipes import _recipes

if TYPE_CHECKING:
    from collections.abc import Iterator

pytest.importorskip("pyspark", reason="pyspark is not installed: run `make test-spark`")


def _java() -> str | None:
    home = os.environ.get("JAVA_HOME")
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    return shutil.which("java")


pytestmark = pytest.mark.skipif(
    _java() is None,
    reason="Spark needs a Java 17+ runtime: no java on PATH and no JAVA_HOME (`make test-spark`)",
)

# A machine whose clock is not on UTC, for the JVM and for Python: the recipe's session time zone
# is then what keeps Spark's days and timestamps in UTC.
LOCAL_ZONE = "America/New_York"
TIMESTAMPS = ["published_at", "modified_at", "fetched_at"]


@pytest.fixture(scope="module")
def spark_results(
    tmp_path_factory: pytest.TempPathFactory, site_url: str
) -> Iterator[dict[str, Any]]:
    out = tmp_path_factory.mktemp("spark-recipe")
    crawl = run_crawl(
        out, "-a", f"feeds={site_url}/feed.xml", "-a", f"sitemaps={site_url}/sitemap.xml"
    )
    assert crawl.returncode == 0, crawl.log[-2000:]
    dataset = out / "articles"
    code = _recipes("With Spark").replace("output/articles", str(dataset))
    namespace: dict[str, Any] = {}
    try:
        try:
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("TZ", LOCAL_ZONE)  # the JVM started here keeps it
                time.tzset()
                exec(compile(code, "dataset.md", "exec"), namespace)
        finally:
            time.tzset()
        namespace["pyarrow_table"] = ds.dataset(
            dataset, format="parquet", partitioning="hive"
        ).to_table()
        namespace["pandas_df"] = pd.read_parquet(dataset)
        yield namespace
    finally:
        if "spark" in namespace:
            namespace["spark"].stop()


def _by_id(table: pa.Table, columns: list[str]) -> dict[str, tuple[Any, ...]]:
    rows = table.select(["id", *columns]).to_pylist()
    return {row["id"]: tuple(row[column] for column in columns) for row in rows}


def test_spark_sees_every_row(spark_results: dict[str, Any]) -> None:
    rows = spark_results["pyarrow_table"].num_rows
    assert rows >= 30
    assert spark_results["articles"].count() == rows == len(spark_results["pandas_df"])
    assert sum(row["count"] for row in spark_results["by_language"]) == rows


def test_spark_agrees_on_languages_and_filters(spark_results: dict[str, Any]) -> None:
    table = spark_results["pyarrow_table"]
    by_language = {row["language"]: row["count"] for row in spark_results["by_language"]}
    assert by_language == Counter(table.column("language").to_pylist())
    assert by_language == spark_results["pandas_df"]["language"].value_counts().to_dict()
    counts = [row["count"] for row in spark_results["by_language"]]
    assert counts == sorted(counts, reverse=True)

    lemonde = spark_results["lemonde"]
    expected = table.filter(ds.field("source") == "lemonde.fr")
    assert lemonde.num_rows == expected.num_rows >= 1
    assert _by_id(lemonde, TIMESTAMPS) == _by_id(expected, TIMESTAMPS)


def test_spark_reads_fetch_date_from_the_folders(spark_results: dict[str, Any]) -> None:
    articles = spark_results["articles"]
    assert dict(articles.dtypes)["fetch_date"] == "date"
    spark_dates = _by_id(articles.select("id", "fetch_date").toArrow(), ["fetch_date"])
    expected = _by_id(spark_results["pyarrow_table"], ["fetch_date"])
    assert {key: (day.isoformat(),) for key, (day,) in spark_dates.items()} == expected


def test_spark_timestamps_are_utc(spark_results: dict[str, Any]) -> None:
    articles = spark_results["articles"].select("id", *TIMESTAMPS).toArrow()
    for column in TIMESTAMPS:
        assert articles.schema.field(column).type == pa.timestamp("us", tz="UTC")
    table = spark_results["pyarrow_table"]
    assert _by_id(articles, TIMESTAMPS) == _by_id(table, TIMESTAMPS)
    # Days computed by Spark, in the session time zone, are UTC days.
    by_day = {row["day"]: row["count"] for row in spark_results["by_day"]}
    published = table.column("published_at").to_pylist()
    assert by_day == Counter(moment.date() if moment else None for moment in published)


def test_spark_reads_list_columns(spark_results: dict[str, Any]) -> None:
    articles = spark_results["articles"]
    assert dict(articles.dtypes)["authors"] == dict(articles.dtypes)["tags"] == "array<string>"
    lists = ["authors", "tags"]
    expected = _by_id(spark_results["pyarrow_table"], lists)
    assert _by_id(articles.select("id", *lists).toArrow(), lists) == expected
    assert any(authors for authors, _ in expected.values())
