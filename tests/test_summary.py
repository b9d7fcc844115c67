"""``scrapy summary``: counts over the dataset and the last crawl's report."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from crawler.commands.summary import format_summary, summarize_dataset
from dataset.layout import articles_dir, crawls_dir
from dataset.schema import SCHEMA_VERSION_KEY, to_table
from dataset.writer import DatasetWriter
from tests.conftest import ROOT

if TYPE_CHECKING:
    from pathlib import Path


def _row(
    n: int, *, source: str, language: str | None, published: datetime | None
) -> dict[str, Any]:
    return {
        "id": f"id{n}",
        "url": f"https://{source}/{n}",
        "canonical_url": f"https://{source}/{n}",
        "source": source,
        "title": f"Title {n}",
        "description": None,
        "authors": ["A. Writer"] if n % 2 else [],
        "published_at": published,
        "modified_at": None,
        "fetched_at": datetime(2026, 11, 26, 12, n, tzinfo=UTC),
        "language": language,
        "language_confidence": 0.99 if language else None,
        "text": f"Text {n}",
        "word_count": 2,
        "tags": [],
        "image_url": None,
        "site_name": None,
        "content_hash": f"h{n}",
        "duplicate_of": None,
        "discovered_via": "url",
    }


def _dataset(output_dir: Path) -> None:
    rows = [
        _row(1, source="a.test", language="en", published=datetime(2024, 1, 5, tzinfo=UTC)),
        _row(2, source="a.test", language="de", published=datetime(2025, 3, 1, tzinfo=UTC)),
        _row(3, source="b.test", language="en", published=None),
        _row(4, source="c.test", language=None, published=datetime(2023, 7, 9, tzinfo=UTC)),
    ]
    writer = DatasetWriter(output_dir)
    writer.open()
    writer.write(to_table(rows[:2]))
    writer.commit()
    writer.write(to_table(rows[2:]))
    writer.commit()
    report = {
        "started_at": "2026-11-26T12:00:00+00:00",
        "finished_at": "2026-11-26T12:05:00+00:00",
        "finish_reason": "finished",
        "stats": {
            "news/fetch/pages": 9,
            "news/parquet/rows_written": 4,
            "item_dropped_reasons_count/DuplicateArticle": 3,
            "item_dropped_reasons_count/NotHtml": 1,
            "news/fetch/http_error/404": 2,
        },
    }
    crawls_dir(output_dir).mkdir(parents=True)
    (crawls_dir(output_dir) / "20261126T120000.000000Z-1.json").write_text(json.dumps(report))


def test_summarize_dataset(tmp_path: Path) -> None:
    _dataset(tmp_path)
    summary = summarize_dataset(articles_dir(tmp_path))
    assert summary.files == 2
    assert summary.rows == 4
    assert summary.sources == {"a.test": 2, "b.test": 1, "c.test": 1}
    assert summary.languages == {"en": 2, "de": 1, "unknown": 1}
    assert summary.published_min == datetime(2023, 7, 9, tzinfo=UTC)
    assert summary.published_max == datetime(2025, 3, 1, tzinfo=UTC)
    assert summary.missing["published_at"] == 1
    assert summary.missing["language"] == 1
    assert summary.missing["authors"] == 2  # empty lists count as missing
    assert summary.missing["title"] == 0


def test_empty_dataset(tmp_path: Path) -> None:
    summary = summarize_dataset(articles_dir(tmp_path))
    assert summary.rows == 0
    assert "rows       0" in format_summary(summary, None, articles_dir(tmp_path))


def test_command_prints_dataset_and_last_crawl(tmp_path: Path) -> None:
    _dataset(tmp_path)
    completed = subprocess.run(
        [sys.executable, "-m", "scrapy", "summary", "-s", f"OUTPUT_DIR={tmp_path}"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    out = completed.stdout
    assert "rows       4" in out
    assert "files      2" in out
    assert "sources    3: a.test (2), b.test (1), c.test (1)" in out
    assert "languages  3: en 2, de 1, unknown 1" in out
    assert "published  2023-07-09 .. 2025-03-01" in out
    assert "dropped         DuplicateArticle 3, NotHtml 1" in out
    assert "fetch errors    http_error/404 2" in out


def test_a_reader_that_stops_reading_ends_the_command_quietly(tmp_path: Path) -> None:
    # `scrapy summary | head -1`: a BrokenPipeError traceback, exit 1
    _dataset(tmp_path)
    command = [sys.executable, "-m", "scrapy", "summary", "-s", f"OUTPUT_DIR={tmp_path}"]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    process.stdout.close()  # the reader is gone before the command writes
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0
    assert "Traceback" not in stderr
    assert "BrokenPipe" not in stderr


def test_flagged_copies_are_counted_not_missing(tmp_path: Path) -> None:
    rows = [
        _row(1, source="a.test", language="en", published=None),
        {**_row(2, source="b.test", language="en", published=None), "duplicate_of": "id1"},
    ]
    writer = DatasetWriter(tmp_path)
    writer.open()
    writer.write(to_table(rows))
    writer.commit()
    summary = summarize_dataset(articles_dir(tmp_path))
    assert summary.flagged_copies == 1
    assert "duplicate_of" not in summary.missing
    text = format_summary(summary, None, articles_dir(tmp_path))
    assert "copies     1 rows flagged as duplicate_of" in text
    assert "duplicate_of" not in text.split("missing", 1)[1].split("\n", 1)[0]


def test_sources_are_counted_by_host_whatever_the_source_name(tmp_path: Path) -> None:
    named = {**_row(1, source="a.test", language="en", published=None), "source_name": "alpha"}
    writer = DatasetWriter(tmp_path)
    writer.open()
    writer.write(to_table([named, _row(2, source="a.test", language="en", published=None)]))
    writer.commit()
    # a file of version 1, where `source` held the configured source's name
    old = {**_row(3, source="b.test", language="en", published=None), "source": "beta"}
    table = to_table([old]).drop_columns(["source_name"])
    table = table.replace_schema_metadata(dict(table.schema.metadata) | {SCHEMA_VERSION_KEY: b"1"})
    (articles_dir(tmp_path) / "fetch_date=2026-11-20").mkdir()
    pq.write_table(table, articles_dir(tmp_path) / "fetch_date=2026-11-20" / "version-1.parquet")
    summary = summarize_dataset(articles_dir(tmp_path))
    assert summary.rows == 3
    assert summary.sources == {"a.test": 2, "b.test": 1}
    assert "source_name" not in summary.missing  # null unless a named source led to the page


def test_a_dataset_with_files_of_the_previous_version_is_summed(tmp_path: Path) -> None:
    writer = DatasetWriter(tmp_path)
    writer.open()
    rows = [_row(n, source="a.test", language="en", published=None) for n in (1, 2)]
    writer.write(to_table([rows[0] | {"accessible_for_free": False}, rows[1]]))
    writer.commit()
    # a file of version 4, written before `accessible_for_free`
    table = to_table([_row(3, source="b.test", language="en", published=None)])
    table = table.drop_columns(["accessible_for_free"])
    table = table.replace_schema_metadata(dict(table.schema.metadata) | {SCHEMA_VERSION_KEY: b"4"})
    (articles_dir(tmp_path) / "fetch_date=2026-11-20").mkdir()
    pq.write_table(table, articles_dir(tmp_path) / "fetch_date=2026-11-20" / "version-4.parquet")
    summary = summarize_dataset(articles_dir(tmp_path))
    assert (summary.rows, summary.files) == (3, 2)
    assert summary.sources == {"a.test": 2, "b.test": 1}
    # null unless the page declares whether it is free to read: no missing value
    assert "accessible_for_free" not in summary.missing


def test_the_last_crawl_says_what_it_skipped_and_why(tmp_path: Path) -> None:
    stats = {
        "news/incremental/known_articles": 41,
        "news/incremental/refetched": 2,
        "news/incremental/rejected_pages/ListingPage": 3,
        "news/incremental/rejected_pages/NotHtml": 1,
    }
    report = {"started_at": "a", "finished_at": "b", "finish_reason": "finished", "stats": stats}
    text = format_summary(summarize_dataset(tmp_path), report, tmp_path)
    assert (
        "  skipped         41 known articles not fetched again (stored already); 2 stored "
        "articles fetched again (listed as changed since); 4 pages dropped as no article "
        "before, not due for a re-check (ListingPage 3, NotHtml 1)"
    ) in text.splitlines()
    # copies of stored articles are not pages that were no article
    stats.update(
        {"news/incremental/rejected_pages/Copy": 2, "news/incremental/rejected_pages/Redirect": 1}
    )
    text = format_summary(summarize_dataset(tmp_path), report, tmp_path)
    assert (
        "4 pages dropped as no article before, not due for a re-check (ListingPage 3, NotHtml "
        "1); 3 pages found to copy stored articles before, not due for a re-check (Copy 2, "
        "Redirect 1)"
    ) in text
    report["stats"] = {}
    assert (
        "  skipped         none"
        in format_summary(summarize_dataset(tmp_path), report, tmp_path).splitlines()
    )


def _summary_command(output_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "summary", "-s", f"OUTPUT_DIR={output_dir}"],
        cwd=ROOT, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip


def test_a_data_file_that_cannot_be_read_is_left_out_and_named(tmp_path: Path) -> None:
    _dataset(tmp_path)
    partition = next(articles_dir(tmp_path).iterdir())
    (partition / "part-cut-short.parquet").write_bytes(b"PAR1")
    pq.write_table(pa.table({"note": ["x"]}), partition / "part-other-table.parquet")
    completed = _summary_command(tmp_path)
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
    assert "rows       4" in completed.stdout  # the readable files summed all the same
    assert "files      2" in completed.stdout
    errors = completed.stderr.strip().splitlines()
    assert errors[0].startswith(
        f"scrapy: error: cannot read the data file {partition.name}/part-cut-short.parquet: "
    )
    assert errors[1] == (
        f"scrapy: error: cannot read the data file {partition.name}/part-other-table.parquet: "
        "not an article file (no id, url, authors, fetched_at, text, word_count, tags,"
        " content_hash, discovered_via)"
    )


def test_a_copied_partition_is_left_out_and_named(tmp_path: Path) -> None:
    # a copy made by hand beside its partition: a reader scanning the folder reads it too
    _dataset(tmp_path)
    partition = next(articles_dir(tmp_path).iterdir())
    shutil.copytree(partition, partition.with_name(f"{partition.name} copy"))
    completed = _summary_command(tmp_path)
    assert completed.returncode == 1
    assert "rows       4" in completed.stdout  # not 8
    assert "files      2" in completed.stdout
    assert completed.stderr == (
        f"scrapy: error: articles/{partition.name} copy/ holds 2 data files outside the"
        " dataset's partitions (fetch_date=YYYY-MM-DD folders), left out; readers that scan"
        " articles/ (pandas, DuckDB, Spark) read them all the same: move the folder out\n"
    )


def test_a_crawl_report_that_cannot_be_read_is_one_line(tmp_path: Path) -> None:
    _dataset(tmp_path)
    (crawls_dir(tmp_path) / "20261127T120000.000000Z-1.json").write_text('{"cut": ')
    completed = _summary_command(tmp_path)
    assert completed.returncode == 1
    assert "Traceback" not in completed.stderr
    assert completed.stderr.startswith(
        f"scrapy: error: cannot read the crawl report {crawls_dir(tmp_path)}"
    )
