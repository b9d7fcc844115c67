"""Dataset writer benchmark: bytes per article in Parquet against JSON Lines (gzip), and the
writer's throughput.

    .venv/bin/python -m bench.parquet_writer [--rows N] [--write-results]

The rows are the records of the bundled demo pages (real articles in 16 languages, as the
pipeline makes them), repeated up to ``--rows`` with distinct URLs and distinct texts: each
copy's text is redrawn word by word from the demo pages' vocabulary (seeded), keeping its
length, so that repeated articles do not flatter the compression of either format. Both
formats are written in the same run: the project's :class:`dataset.writer.DatasetWriter`
(zstd, row groups of 1,000 rows, as the crawl writes them) and gzip-compressed JSON Lines of
the same rows.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.harness.report import machine_line, publish
from dataset.layout import data_files
from dataset.schema import to_table
from dataset.writer import DatasetWriter
from demo.site import load_site
from extraction.language import LanguageDetector
from extraction.record import article_record

if TYPE_CHECKING:
    from collections.abc import Sequence

SECTION = "parquet-writer"
ROW_GROUP = 1000
FETCHED = datetime(2026, 1, 1, tzinfo=UTC)


def sample_rows(count: int) -> list[dict[str, Any]]:
    """``count`` dataset rows made from the demo pages, each with a URL of its own."""
    detector = LanguageDetector()
    base = [
        article_record(page.body(), f"https://demo.test{page.path}", fetched_at=FETCHED,
                       detector=detector)
        for page in load_site().pages
    ]  # fmt: skip
    vocabulary = [word for row in base for word in row["text"].split()]
    rng = random.Random(0)
    rows = []
    for n in range(count):
        row = dict(base[n % len(base)])
        words = len(row["text"].split())
        row["text"] = " ".join(rng.choice(vocabulary) for _ in range(words))
        row["url"] = f"{row['url']}?copy={n}"
        row["id"] = f"{n:032x}"
        row["fetched_at"] = FETCHED + timedelta(seconds=n)
        rows.append(row)
    return rows


def write_parquet(rows: list[dict[str, Any]], output_dir: Path) -> tuple[float, int]:
    """Seconds and bytes for the rows written as the crawl writes them."""
    writer = DatasetWriter(output_dir, file_rows=max(len(rows), ROW_GROUP))
    writer.open()
    started = time.perf_counter()
    for start in range(0, len(rows), ROW_GROUP):
        writer.write(to_table(rows[start : start + ROW_GROUP]))
    writer.commit()
    elapsed = time.perf_counter() - started
    size = sum(path.stat().st_size for path in data_files(output_dir / "articles"))
    return elapsed, size


def write_jsonl_gzip(rows: list[dict[str, Any]], path: Path) -> tuple[float, int]:
    """Seconds and bytes for the same rows as gzip-compressed JSON Lines."""
    started = time.perf_counter()
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, default=str, ensure_ascii=False) + "\n")
    return time.perf_counter() - started, path.stat().st_size


def report(rows: int, parquet: tuple[float, int], jsonl: tuple[float, int]) -> str:
    (p_time, p_size), (j_time, j_size) = parquet, jsonl
    return "\n".join(
        [
            "## Dataset writer benchmark",
            "",
            (
                "Command: `.venv/bin/python -m bench.parquet_writer "
                f"--rows {rows} --write-results` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC); "
                f"machine: {machine_line(('pyarrow',))}. "
                "Rows: the bundled demo pages' records (16 languages), repeated with distinct "
                "URLs and texts redrawn from their vocabulary."
            ),
            "",
            "| format | rows | bytes per article | rows per second (write) | size vs JSONL gzip |",
            "|---|---|---|---|---|",
            (
                f"| Parquet (zstd, row groups of {ROW_GROUP}) | {rows:,} | "
                f"{p_size / rows:,.0f} | {rows / p_time:,.0f} | {p_size / j_size:.2f} |"
            ),
            f"| JSON Lines, gzip | {rows:,} | {j_size / rows:,.0f} | {rows / j_time:,.0f} | 1.00 |",
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    rows = sample_rows(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        parquet = write_parquet(rows, Path(tmp) / "out")
        jsonl = write_jsonl_gzip(rows, Path(tmp) / "rows.jsonl.gz")
    publish(report(args.rows, parquet, jsonl), SECTION, write=args.write_results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
