"""The dataset writer benchmark, on a few rows."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench.parquet_writer import sample_rows, write_jsonl_gzip, write_parquet

if TYPE_CHECKING:
    from pathlib import Path


def test_rows_are_distinct_and_both_formats_are_written(tmp_path: Path) -> None:
    rows = sample_rows(120)
    assert len({row["url"] for row in rows}) == 120
    assert len({row["text"] for row in rows}) == 120  # no repeated text flatters compression
    parquet_seconds, parquet_bytes = write_parquet(rows, tmp_path / "out")
    jsonl_seconds, jsonl_bytes = write_jsonl_gzip(rows, tmp_path / "rows.jsonl.gz")
    assert parquet_seconds > 0
    assert jsonl_seconds > 0
    assert 0 < parquet_bytes < 2 * jsonl_bytes
