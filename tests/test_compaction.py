"""Compaction (:mod:`dataset.compaction`): small files merged into well-sized ones, atomically,
with exactly the same rows."""

from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dataset import compaction
from dataset.compaction import (
    JOB_PREFIX,
    CompactionError,
    PartitionResult,
    compact_partition,
    conform,
    finish_interrupted,
    small_files,
)
from dataset.layout import RUNS, data_files, partition_name
from dataset.run_history import FILE_PREFIX as RUNS_PREFIX
from dataset.run_history import SCHEMA as RUNS_SCHEMA
from dataset.run_history import SORT_KEYS as RUNS_ORDER
from dataset.run_history import RunInfo, SourceRun, read_runs, write_runs
from dataset.run_history import to_table as to_run_table
from dataset.schema import (
    ARTICLE_SCHEMA,
    SCHEMA_VERSION,
    schema_version,
    to_table,
)
from dataset.storage import location_of
from dataset.writer import DatasetWriter
from extraction.record import row_id
from extraction.text import content_hash
from tests.conftest import ROOT
from tests.markdown import code_under
from tests.test_schema import older as of_version

DAY = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
DEAD_PID = 2**30  # above any pid_max: no such process


def make_row(index: int, *, day: datetime = DAY) -> dict[str, Any]:
    url = f"https://site{index % 3}.example/news/{index}"
    text = f"Article number {index} with its own words."
    digest = content_hash(text)
    return {
        "id": row_id(url, digest),
        "url": url,
        "canonical_url": None,
        "source": f"site{index % 3}.example",
        "title": f"Title {index}",
        "authors": ["Jane Doe"],
        "author_organizations": ["dpa"],
        "published_at": day - timedelta(hours=index % 17),
        "fetched_at": day + timedelta(seconds=index),
        "language": "en",
        "text": text,
        "word_count": 7,
        "tags": [],
        "content_hash": digest,
        "discovered_via": "feed",
        "comments": f"Comment on article {index}.",
        "accessible_for_free": index % 2 == 0,
    }


def make_dataset(
    output_dir: Path, *, files: int, rows_per_file: int, days: int = 1, **options: Any
) -> None:
    """``files`` small committed files per day, as crawls with short commit intervals leave;
    ``options`` for the writer (``compression=...``)."""
    index = 0
    for day_number in range(days):
        writer = DatasetWriter(output_dir, file_rows=10_000, run_id=f"run{day_number}", **options)
        writer.open()
        for _ in range(files):
            rows = [
                make_row(index + n, day=DAY + timedelta(days=day_number))
                for n in range(rows_per_file)
            ]
            index += rows_per_file
            writer.write(to_table(rows))
            writer.commit()


def all_rows(output_dir: Path) -> list[dict[str, Any]]:
    rows = [
        row
        for path in data_files(output_dir / "articles")
        for row in pq.read_table(path).to_pylist()
    ]
    return sorted(rows, key=lambda row: (row["id"], row["fetched_at"]))


def partition(output_dir: Path, day: datetime = DAY) -> Path:
    return output_dir / "articles" / partition_name(day.date())


@pytest.mark.parametrize("atomic", [True, False])
def test_merges_small_files_with_exactly_the_same_rows(tmp_path: Path, atomic: bool) -> None:
    make_dataset(tmp_path, files=12, rows_per_file=25, days=2)
    before = all_rows(tmp_path)
    result = compact_partition(partition(tmp_path), tmp_path, target_rows=200, atomic=atomic)

    assert result is not None
    assert result.atomic is atomic
    assert len(result.merged) == 12
    assert result.rows == 300
    assert len(result.written) == 2  # 300 rows in files of at most 200
    assert all_rows(tmp_path) == before
    files = sorted(partition(tmp_path).iterdir())
    assert [path.name for path in files] == sorted(result.written)
    assert [pq.ParquetFile(path).metadata.num_rows for path in files] == [200, 100]
    # the other day is untouched, nothing is left in state/tmp
    assert len(list(partition(tmp_path, DAY + timedelta(days=1)).iterdir())) == 12
    assert list((tmp_path / "state" / "tmp").iterdir()) == []


def test_new_files_are_sorted_by_source_then_publication_time(tmp_path: Path) -> None:
    make_dataset(tmp_path, files=6, rows_per_file=20)
    result = compact_partition(partition(tmp_path), tmp_path, target_rows=1000, row_group_rows=40)
    assert result is not None
    (name,) = result.written
    parquet = pq.ParquetFile(partition(tmp_path) / name)
    assert parquet.metadata.num_row_groups == 3
    table = parquet.read(columns=["source", "published_at"])
    keys = list(zip(*(column.to_pylist() for column in table.columns), strict=True))
    assert keys == sorted(keys)
    assert parquet.schema_arrow.metadata == ARTICLE_SCHEMA.metadata


def test_large_files_stay_and_few_small_files_are_left_alone(tmp_path: Path) -> None:
    make_dataset(tmp_path, files=1, rows_per_file=150)
    big = next(partition(tmp_path).iterdir())
    inode = big.stat().st_ino
    writer = DatasetWriter(tmp_path, run_id="later")
    writer.open()
    for start in (1000, 1010, 1020):
        writer.write(to_table([make_row(start + n) for n in range(10)]))
        writer.commit()
    assert [path.name for path in small_files(partition(tmp_path), 200)] != []
    result = compact_partition(partition(tmp_path), tmp_path, target_rows=200)
    assert result is not None
    assert big.name not in result.merged
    assert big.stat().st_ino == inode  # hard-linked, not rewritten
    assert len(list(partition(tmp_path).iterdir())) == 2
    # one small file left beside a big one: nothing to merge
    assert compact_partition(partition(tmp_path), tmp_path, target_rows=200) is None


def test_a_file_committed_during_the_swap_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_dataset(tmp_path, files=4, rows_per_file=10)
    real_exchange = compaction.exchange_dirs
    late = [make_row(5000 + n) for n in range(3)]

    def exchange_while_a_crawl_commits(first: Path, second: Path) -> bool:
        pq.write_table(to_table(late), second / "part-late.parquet")
        return real_exchange(first, second)

    real_finish = compaction._finish
    between: list[str] = []

    def finish(job: Path, manifest: dict[str, Any]) -> list[str]:
        between.extend(path.name for path in partition(tmp_path).iterdir())
        return real_finish(job, manifest)

    monkeypatch.setattr(compaction, "exchange_dirs", exchange_while_a_crawl_commits)
    monkeypatch.setattr(compaction, "_finish", finish)
    before = all_rows(tmp_path)
    result = compact_partition(partition(tmp_path), tmp_path, target_rows=1000)
    assert result is not None
    assert result.rescued == ["part-late.parquet"]
    # out of the partition from the exchange until it is moved back (docs/dataset.md says so)
    assert between
    assert "part-late.parquet" not in between
    expected = sorted(before + to_table(late).to_pylist(), key=lambda r: (r["id"], r["fetched_at"]))
    assert all_rows(tmp_path) == expected


def test_rows_that_do_not_survive_the_rewrite_stop_the_compaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_dataset(tmp_path, files=3, rows_per_file=10)
    before = sorted(path.name for path in partition(tmp_path).iterdir())
    real_write = compaction._write_files

    def lossy(table: pa.Table, folder: Path, **kwargs: Any) -> list[str]:
        return real_write(table.slice(1), folder, **kwargs)

    monkeypatch.setattr(compaction, "_write_files", lossy)
    with pytest.raises(CompactionError):
        compact_partition(partition(tmp_path), tmp_path, target_rows=1000)
    assert sorted(path.name for path in partition(tmp_path).iterdir()) == before
    assert list((tmp_path / "state" / "tmp").iterdir()) == []


class Crash(Exception):
    pass


def _as_dead_process(output_dir: Path) -> None:
    """Give the job folders the pid of a process that is gone, as after a kill -9."""
    for job in (output_dir / "state" / "tmp").glob(f"{JOB_PREFIX}*"):
        job.rename(job.with_name(f"{JOB_PREFIX}{DEAD_PID}-{job.name.rsplit('-', 1)[-1]}"))


@pytest.mark.parametrize(
    ("atomic", "crash_point"),
    [
        (True, "before_swap"),
        (True, "after_swap"),
        (False, "after_first_rename"),
        (False, "before_removing_old"),
    ],
)
def test_a_compaction_killed_half_way_is_completed_or_undone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, atomic: bool, crash_point: str
) -> None:
    make_dataset(tmp_path, files=6, rows_per_file=30)
    before = all_rows(tmp_path)
    real_exchange = compaction.exchange_dirs
    real_replace = Path.replace
    renames = []

    def exchange(first: Path, second: Path) -> bool:
        if crash_point == "before_swap":
            raise Crash
        real_exchange(first, second)
        raise Crash

    def replace(self: Path, target: Any) -> Path:
        result = real_replace(self, target)
        renames.append(target)
        if crash_point == "after_first_rename" and len(renames) == 1:
            raise Crash
        return result

    def finish(job: Path, manifest: dict[str, Any]) -> list[str]:
        raise Crash  # killed: the process finishes nothing, not even on its way out

    monkeypatch.setattr(compaction, "exchange_dirs", exchange)
    monkeypatch.setattr(Path, "replace", replace)
    monkeypatch.setattr(compaction, "_finish", finish)
    with pytest.raises(Crash):
        compact_partition(partition(tmp_path), tmp_path, target_rows=100, atomic=atomic)
    monkeypatch.undo()

    # finish_interrupted leaves the jobs of running processes alone ...
    assert finish_interrupted(tmp_path) == []
    _as_dead_process(tmp_path)
    # ... and completes or undoes those of dead ones
    assert len(finish_interrupted(tmp_path)) == 1
    assert all_rows(tmp_path) == before
    assert list((tmp_path / "state" / "tmp").iterdir()) == []
    names = [path.name for path in partition(tmp_path).iterdir()]
    swapped = crash_point in {"after_swap", "before_removing_old"}
    assert len(names) == (2 if swapped else 6)


@pytest.mark.parametrize(
    ("atomic", "failing"),
    [
        (True, "manifest"),  # the disk full as the manifest is written
        (True, "link"),  # hard links refused (a permission, another device)
        (True, "exchange"),
        (False, "first_rename"),
        (False, "removing_old"),
    ],
)
def test_a_compaction_that_fails_half_way_completes_or_undoes_it_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, atomic: bool, failing: str
) -> None:
    # An error (not a kill) half-way: the compaction completes or undoes what it did before
    # it raises, so no job folder is left to hold the new files' space.
    make_dataset(tmp_path, files=6, rows_per_file=30)
    large = DatasetWriter(tmp_path, run_id="large")  # not merged: hard-linked, where linked
    large.open()
    large.write(to_table([make_row(1000 + n) for n in range(60)]))
    large.commit()
    before = all_rows(tmp_path)
    full = OSError(28, "No space left on device")
    refused: list[Path] = []
    real_write_text, real_replace, real_unlink = Path.write_text, Path.replace, Path.unlink

    def write_text(self: Path, *args: Any, **kwargs: Any) -> int:
        if failing == "manifest" and self.name == compaction.MANIFEST:
            real_write_text(self, "")
            raise full
        return real_write_text(self, *args, **kwargs)

    def link(source: Any, target: Any) -> None:
        raise PermissionError(1, "Operation not permitted")

    def exchange(first: Path, second: Path) -> bool:
        raise OSError(18, "Invalid cross-device link")

    def replace(self: Path, target: Any) -> Path:
        real_replace(self, target)
        raise full

    def unlink(self: Path, missing_ok: bool = False) -> None:
        if self.parent == partition(tmp_path) and not refused:
            refused.append(self)  # once: the cleanup's own deletion goes through
            raise PermissionError(13, "Permission denied")
        real_unlink(self, missing_ok=missing_ok)

    patches = {
        "manifest": (Path, "write_text", write_text),
        "link": (compaction.os, "link", link),
        "exchange": (compaction, "exchange_dirs", exchange),
        "first_rename": (Path, "replace", replace),
        "removing_old": (Path, "unlink", unlink),
    }
    monkeypatch.setattr(*patches[failing])
    with pytest.raises(OSError, match=r"No space|not permitted|cross-device|denied"):
        compact_partition(partition(tmp_path), tmp_path, target_rows=100, atomic=atomic)
    monkeypatch.undo()
    assert list((tmp_path / "state" / "tmp").iterdir()) == []
    assert all_rows(tmp_path) == before
    names = [path.name for path in partition(tmp_path).iterdir()]
    # completed where the new files were already in place, undone elsewhere
    assert len(names) == (3 if failing == "removing_old" else 7)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", " is not a readable Parquet file: Parquet file size is 0 bytes"),
        (b"PAR1 not parquet", " is not a readable Parquet file: .*magic bytes"),
        (b"another table", ": not an article file \\(no id, authors, fetched_at"),
    ],
)
def test_a_damaged_data_file_leaves_the_partition_as_it_was(
    tmp_path: Path, content: bytes, message: str
) -> None:
    make_dataset(tmp_path, files=3, rows_per_file=5)
    damaged = partition(tmp_path) / "part-damaged.parquet"
    if content == b"another table":
        pq.write_table(pa.table({"url": ["https://a.test/1"]}), damaged)
    else:
        damaged.write_bytes(content)
    before = sorted(path.name for path in partition(tmp_path).iterdir())
    with pytest.raises(CompactionError, match=f"part-damaged.parquet{message}"):
        compact_partition(partition(tmp_path), tmp_path, target_rows=100)
    assert sorted(path.name for path in partition(tmp_path).iterdir()) == before
    assert list((tmp_path / "state" / "tmp").iterdir()) == []


def test_a_partition_that_cannot_be_listed_is_an_error_not_an_empty_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_dataset(tmp_path, files=3, rows_per_file=5)

    def iterdir(self: Path) -> Any:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "iterdir", iterdir)
    with pytest.raises(PermissionError):
        compaction.small_files(partition(tmp_path), 100)


def test_a_crawl_finishes_an_interrupted_compaction_before_writing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_dataset(tmp_path, files=4, rows_per_file=5)
    before = all_rows(tmp_path)

    def finish(job: Path, manifest: dict[str, Any]) -> list[str]:
        raise Crash

    monkeypatch.setattr(compaction, "_finish", finish)
    with pytest.raises(Crash):
        compact_partition(partition(tmp_path), tmp_path, target_rows=100, atomic=False)
    monkeypatch.undo()
    _as_dead_process(tmp_path)
    DatasetWriter(tmp_path).open()
    assert all_rows(tmp_path) == before
    assert len(list(partition(tmp_path).iterdir())) == 1


def test_files_of_an_older_schema_get_the_new_columns_as_nulls(tmp_path: Path) -> None:
    make_dataset(tmp_path, files=2, rows_per_file=5)
    older = to_table([make_row(900 + n) for n in range(4)]).drop_columns(
        ["published_offset", "duplicate_of"]
    )
    pq.write_table(older, partition(tmp_path) / "part-old.parquet")
    result = compact_partition(partition(tmp_path), tmp_path, target_rows=1000)
    assert result is not None
    assert result.rows == 14
    rows = all_rows(tmp_path)
    assert len(rows) == 14
    assert sum(1 for row in rows if row["id"] in set(older.column("id").to_pylist())) == 4


def test_a_partition_of_versions_1_2_and_4_is_compacted_into_the_current_one(
    tmp_path: Path,
) -> None:
    make_dataset(tmp_path, files=1, rows_per_file=5)
    current = all_rows(tmp_path)
    # a file of version 1: a crawl of named sources wrote their names into `source`
    names = ["Site Zero", None, "Site Two", None]
    old_rows = [make_row(900 + n) | {"source": name} for n, name in enumerate(names)]
    for row in old_rows[1::2]:  # the others had their host there
        row["source"] = row["url"].split("/")[2]
    pq.write_table(of_version(old_rows, 1), partition(tmp_path) / "part-old.parquet")
    assert schema_version(pq.read_schema(partition(tmp_path) / "part-old.parquet")) == "1"
    # a file of version 2: no `author_organizations`, no `comments`, no `accessible_for_free`
    middle_rows = [make_row(950 + n) for n in range(2)]
    pq.write_table(of_version(middle_rows, 2), partition(tmp_path) / "part-middle.parquet")
    # a file of version 4: no `accessible_for_free`
    late_rows = [make_row(970 + n) for n in range(2)]
    pq.write_table(of_version(late_rows, 4), partition(tmp_path) / "part-late.parquet")

    result = compact_partition(partition(tmp_path), tmp_path, target_rows=1000)
    assert result is not None
    assert result.rows == 13
    [written] = result.written
    assert schema_version(pq.read_schema(partition(tmp_path) / written)) == SCHEMA_VERSION
    rows = {row["id"]: row for row in all_rows(tmp_path)}
    assert len(rows) == 13
    # `source` is the publishing host again; a name it held is in `source_name`
    assert [rows[row["id"]]["source"] for row in old_rows] == [
        row["url"].split("/")[2] for row in old_rows
    ]
    assert [rows[row["id"]]["source_name"] for row in old_rows] == names
    # the columns versions 3, 4 and 5 added are null in the older rows
    for row in old_rows + middle_rows:
        assert rows[row["id"]]["author_organizations"] is None
        assert rows[row["id"]]["comments"] is None
        assert rows[row["id"]]["authors"] == row["authors"]
    for row in old_rows + middle_rows + late_rows:
        assert rows[row["id"]]["accessible_for_free"] is None
    for row in late_rows:  # the columns of version 4 as they were
        assert rows[row["id"]]["author_organizations"] == row["author_organizations"]
        assert rows[row["id"]]["comments"] == row["comments"]
    for row in current:  # the rows of the current version are as they were
        assert rows[row["id"]] == row
        assert row["author_organizations"] is not None
        assert row["comments"] is not None
        assert row["accessible_for_free"] is not None


def test_conform_upgrades_article_tables_of_version_1_only() -> None:
    row = make_row(1) | {"source": "Named"}
    table = to_table([row])
    conformed = conform(of_version([row], 1))
    assert conformed.schema.equals(ARTICLE_SCHEMA, check_metadata=True)
    assert conformed.column("source").to_pylist() == ["site1.example"]
    assert conformed.column("source_name").to_pylist() == ["Named"]
    # a file of the current version keeps what it says
    assert conform(table).column("source").to_pylist() == ["Named"]


def test_conform_refuses_columns_it_does_not_know() -> None:
    table = to_table([make_row(1)]).append_column("from_the_future", pa.array([1]))
    with pytest.raises(CompactionError, match="from_the_future"):
        conform(table)


def test_many_random_compactions_never_change_the_rows(tmp_path: Path) -> None:
    generator = random.Random(7)
    make_dataset(tmp_path, files=30, rows_per_file=7)
    before = all_rows(tmp_path)
    writer = DatasetWriter(tmp_path, run_id="more")
    writer.open()
    extra = 0
    for _ in range(5):
        for _ in range(generator.randint(1, 5)):
            rows = [make_row(10_000 + extra + n) for n in range(generator.randint(1, 9))]
            extra += len(rows)
            before += to_table(rows).to_pylist()
            writer.write(to_table(rows))
            writer.commit()
        target = generator.choice([20, 60, 500])
        compact_partition(partition(tmp_path), tmp_path, target_rows=target)
    assert all_rows(tmp_path) == sorted(before, key=lambda r: (r["id"], r["fetched_at"]))


def test_a_changed_value_stops_the_compaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_dataset(tmp_path, files=3, rows_per_file=4)
    real_write = compaction._write_files

    def corrupting(table: pa.Table, folder: Path, **kwargs: Any) -> list[str]:
        texts = table.column("text").to_pylist()
        texts[2] = texts[2] + " (changed)"
        index = table.schema.get_field_index("text")
        table = table.set_column(index, table.schema.field(index), pa.array(texts))
        return real_write(table, folder, **kwargs)

    monkeypatch.setattr(compaction, "_write_files", corrupting)
    with pytest.raises(CompactionError, match="other rows"):
        compact_partition(partition(tmp_path), tmp_path, target_rows=1000)
    assert len(list(partition(tmp_path).iterdir())) == 3


def write_run_history(output_dir: Path, *, days: int = 2, runs: int = 6) -> None:
    """``runs`` runs a day of two sources, as crawls write them, and one file of the run
    history's first schema version (no metadata, three columns fewer) on the first day."""
    location = location_of(output_dir)
    for day in range(days):
        for number in range(runs):
            started = DAY + timedelta(days=day, minutes=5 * number)
            write_runs(location, run_info(f"r{day}-{number}", started), [
                SourceRun("alpha", fetched=number, text_chars=9, dropped=Counter(ListingPage=1)),
                SourceRun("beta", errors=Counter(http_403=number)),
            ])  # fmt: skip
    first = to_run_table(
        run_info("v1", DAY - timedelta(hours=1), "host-0"), [SourceRun("a", stored=1)]
    )
    first = first.drop_columns(["rechecked", "article_errors", "text_chars"])
    pq.write_table(
        first.replace_schema_metadata(None),
        run_partition(output_dir) / "run-20240501T110000.000000Z-host-0.parquet",
    )


def run_info(run_id: str, started: datetime, worker: str = "host-1") -> RunInfo:
    return RunInfo(
        run_id=run_id,
        started_at=started,
        finished_at=started + timedelta(minutes=1),
        finish_reason="finished",
        worker=worker,
    )


def run_partition(output_dir: Path, day: datetime = DAY) -> Path:
    return output_dir / RUNS / f"run_date={day:%Y-%m-%d}"


def compact_runs(output_dir: Path, day: datetime = DAY) -> PartitionResult | None:
    return compact_partition(
        run_partition(output_dir, day),
        output_dir,
        schema=RUNS_SCHEMA,
        sort_keys=RUNS_ORDER,
        prefix=RUNS_PREFIX,
    )


def run_rows(output_dir: Path) -> list[dict[str, Any]]:
    rows = read_runs(location_of(output_dir)).to_pylist()
    return sorted(rows, key=lambda row: (row["run_id"], row["source"]))


def recipe_frames(output_dir: Path) -> dict[str, Any]:
    """What the run history's recipe of docs/dataset.md reads (pandas, DuckDB, Polars), each
    in one order of rows and columns."""
    (code,) = code_under(ROOT / "docs" / "dataset.md", "The run history")
    namespace: dict[str, Any] = {}
    exec(compile(code.replace("output/runs", str(output_dir / RUNS)), "dataset.md", "exec"),
         namespace)  # fmt: skip
    frames = {}
    for name in ("runs", "history"):
        frame = namespace[name].sort_values(["run_id", "source"]).reset_index(drop=True)
        frames[name] = frame[sorted(frame.columns)]  # DuckDB: the first file's order
    frames["runs_pl"] = namespace["runs_pl"].sort(["run_id", "source"])
    frames["per_source"] = namespace["per_source"]
    return frames


def test_a_days_run_history_is_merged_into_one_file_read_as_before(tmp_path: Path) -> None:
    # the run history grew by a file a run for ever, and scrapy compact left it alone
    # (thirteenth fault hunt, F3)
    write_run_history(tmp_path)
    rows, frames = run_rows(tmp_path), recipe_frames(tmp_path)

    result = compact_runs(tmp_path)

    assert result is not None
    assert (len(result.merged), result.rows, result.atomic) == (7, 13, True)
    (name,) = [path.name for path in run_partition(tmp_path).iterdir()]
    assert name == result.written[0]
    assert name.startswith("run-")
    assert pq.read_schema(run_partition(tmp_path) / name).metadata == RUNS_SCHEMA.metadata
    assert pq.read_schema(run_partition(tmp_path) / name).names == RUNS_SCHEMA.names
    # written with the project's write options: its codec, the run history's dictionaries
    meta = pq.ParquetFile(run_partition(tmp_path) / name).metadata.row_group(0)
    columns = {meta.column(i).path_in_schema: meta.column(i) for i in range(meta.num_columns)}
    assert {column.compression for column in columns.values()} == {"ZSTD"}
    dictionary = {path for path, c in columns.items() if "RLE_DICTIONARY" in c.encodings}
    assert dictionary == {"run_id", "worker", "finish_reason", "source"}
    assert run_rows(tmp_path) == rows  # the version-1 row's new columns null, as before
    after = recipe_frames(tmp_path)
    for key in ("runs", "history", "per_source"):
        assert after[key].equals(frames[key]), key
    assert after["runs_pl"].equals(frames["runs_pl"])
    # in the order the crawls wrote them; the other day as it was
    table = pq.read_table(run_partition(tmp_path) / name)
    assert table.column("started_at").to_pylist() == sorted(table.column("started_at").to_pylist())
    assert len(list(run_partition(tmp_path, DAY + timedelta(days=1)).iterdir())) == 6


@pytest.mark.parametrize("when", ["before the exchange", "across the exchange"])
def test_a_run_written_while_its_partition_is_swapped_keeps_its_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, when: str
) -> None:
    # the run-history file was written beside its place, in the partition, and renamed: a
    # compaction's exchange between the two left it in the old folder, and its rename failed
    write_run_history(tmp_path, days=1)
    rows = run_rows(tmp_path)
    late = run_info("late", DAY + timedelta(hours=2))
    real_exchange, real_write = compaction.exchange_dirs, pq.write_table
    exchanged: list[bool] = []

    def exchange_while_a_crawl_writes(first: Path, second: Path) -> bool:
        if when == "before the exchange":
            write_runs(location_of(tmp_path), late, [SourceRun("alpha", stored=3)])
            return real_exchange(first, second)

        def written_then_exchanged(table: pa.Table, where: Any, **options: Any) -> None:
            real_write(table, where, **options)
            exchanged.append(real_exchange(first, second))

        monkeypatch.setattr(pq, "write_table", written_then_exchanged)
        try:
            write_runs(location_of(tmp_path), late, [SourceRun("alpha", stored=3)])
        finally:
            monkeypatch.setattr(pq, "write_table", real_write)
        return exchanged[0]

    monkeypatch.setattr(compaction, "exchange_dirs", exchange_while_a_crawl_writes)
    result = compact_runs(tmp_path)

    assert result is not None
    assert result.atomic
    late_rows = [row for row in run_rows(tmp_path) if row["run_id"] == "late"]
    assert [row["stored"] for row in late_rows] == [3]
    assert [row for row in run_rows(tmp_path) if row["run_id"] != "late"] == rows
    assert len(list(run_partition(tmp_path).iterdir())) == 2


def test_a_run_history_compaction_staged_in_its_folder_is_finished_after_a_kill(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # runs/ on a filesystem of its own: the new partition is prepared in runs/_tmp/, where
    # nothing looked for the compactions killed half-way
    write_run_history(tmp_path, days=1)
    rows = run_rows(tmp_path)
    staging = tmp_path / RUNS / "_tmp"
    staging.mkdir()

    def killed(job: Path, manifest: dict[str, Any]) -> list[str]:
        raise Crash

    with monkeypatch.context() as patch:
        patch.setattr(compaction, "_finish", killed)
        with pytest.raises(Crash):
            compact_partition(
                run_partition(tmp_path),
                tmp_path,
                schema=RUNS_SCHEMA,
                sort_keys=RUNS_ORDER,
                prefix=RUNS_PREFIX,
                staging=staging,
            )
    [job] = staging.glob(f"{JOB_PREFIX}*")
    dead = job.rename(job.with_name(f"{JOB_PREFIX}{DEAD_PID}-{job.name.rsplit('-', 1)[-1]}"))

    assert finish_interrupted(tmp_path) == [dead]
    assert run_rows(tmp_path) == rows
    assert len(list(run_partition(tmp_path).iterdir())) == 1
    assert list(staging.iterdir()) == []
