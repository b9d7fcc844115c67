"""The dataset writer (:mod:`dataset.writer`): row batches in, complete Parquet files out, a
file at a time, never overwriting anything."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from dataset import writer as writer_module
from dataset.layout import (
    TMP_SUFFIX,
    data_file_name,
    data_files,
    owner_tag,
    partition_name,
    read_keys,
)
from dataset.schema import ARTICLE_SCHEMA, HTML_SCHEMA, SCHEMA_VERSION, to_table
from dataset.writer import DatasetWriter, remove_stale_tmp_files
from extraction.record import row_id
from extraction.text import content_hash

DAY = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
CLOCK = datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)


def article_row(
    index: int, *, fetched_at: datetime = DAY, canonical_url: str | None = None
) -> dict[str, Any]:
    url = f"https://example.com/news/{index}"
    text = f"Article number {index}."
    digest = content_hash(text)
    return {
        "id": row_id(url, digest),
        "url": url,
        "canonical_url": canonical_url,
        "source": "example.com",
        "title": f"Title {index}",
        "authors": ["Jane Doe"],
        "published_at": fetched_at - timedelta(hours=1),
        "fetched_at": fetched_at,
        "language": "en",
        "language_confidence": 0.99,
        "text": text,
        "word_count": 3,
        "tags": ["news"],
        "content_hash": digest,
        "discovered_via": "url",
    }


def make_writer(output_dir: Path, **kwargs: Any) -> DatasetWriter:
    writer = DatasetWriter(output_dir, clock=lambda: CLOCK, **kwargs)
    writer.open()
    return writer


def committed_files(output_dir: Path) -> list[Path]:
    return data_files(output_dir / "articles")


def tmp_files(output_dir: Path) -> list[Path]:
    folder = output_dir / "state" / "tmp"
    return sorted(folder.iterdir()) if folder.is_dir() else []


# --- DatasetWriter ----------------------------------------------------------------------------


def test_nothing_is_visible_before_commit(tmp_path: Path) -> None:
    writer = make_writer(tmp_path)
    assert writer.write(to_table([article_row(1), article_row(2)])) == []
    assert writer.open_rows == 2
    assert committed_files(tmp_path) == []
    assert list((tmp_path / "articles").rglob("*")) == []
    [tmp] = tmp_files(tmp_path)
    # <data file name>.<host>-<pid>.tmp: only this machine's dead crawls' files are removed
    assert tmp.name.endswith(f".{owner_tag()}.tmp")
    assert owner_tag().endswith(f"-{os.getpid()}")
    assert tmp.name.startswith("part-20240501T123015Z-")
    assert writer.opened_at is not None


def test_commit_makes_one_readable_file(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, run_id="run1")
    rows = [article_row(1, canonical_url="https://example.com/c1"), article_row(2)]
    writer.write(to_table(rows))
    committed = writer.commit()

    assert committed is not None
    assert committed.name == f"fetch_date=2024-05-01/{data_file_name(CLOCK, 'run1', 1)}"
    assert committed.rows == 2
    assert committed.keys == [
        ("https://example.com/news/1", "https://example.com/c1", rows[0]["content_hash"], DAY),
        ("https://example.com/news/2", None, rows[1]["content_hash"], DAY),
    ]
    [path] = committed_files(tmp_path)
    assert path == tmp_path / "articles" / committed.name
    assert path.parent.name == "fetch_date=2024-05-01"
    assert tmp_files(tmp_path) == []
    assert writer.open_rows == 0
    assert writer.opened_at is None

    table = pq.read_table(path)
    assert table.num_rows == 2
    assert table.column("url").to_pylist() == [row["url"] for row in rows]
    assert table.column("fetched_at").to_pylist() == [DAY, DAY]
    assert table.column("authors").to_pylist() == [["Jane Doe"], ["Jane Doe"]]
    assert read_keys(path) == committed.keys


def test_committed_file_has_the_declared_schema(tmp_path: Path) -> None:
    writer = make_writer(tmp_path)
    writer.write(to_table([article_row(1)]))
    writer.commit()
    [path] = committed_files(tmp_path)
    schema = pq.read_schema(path)

    assert schema.equals(ARTICLE_SCHEMA)
    assert schema.names == ARTICLE_SCHEMA.names
    assert schema.metadata is not None
    assert schema.metadata[b"news_crawler.schema_version"] == SCHEMA_VERSION.encode()
    assert schema.metadata == ARTICLE_SCHEMA.metadata
    for written, declared in zip(schema, ARTICLE_SCHEMA, strict=True):
        assert written.nullable == declared.nullable, written.name
        assert written.metadata == declared.metadata, written.name


def test_commit_without_open_file_returns_none(tmp_path: Path) -> None:
    writer = make_writer(tmp_path)
    assert writer.commit() is None
    writer.write(to_table([article_row(1)]))
    assert writer.commit() is not None
    assert writer.commit() is None
    assert len(committed_files(tmp_path)) == 1


def test_rows_of_two_utc_dates_go_to_two_partitions(tmp_path: Path) -> None:
    writer = make_writer(tmp_path)
    rows = [
        article_row(1, fetched_at=datetime(2024, 5, 1, 23, 59, tzinfo=UTC)),
        article_row(2, fetched_at=datetime(2024, 5, 1, 23, 59, 59, tzinfo=UTC)),
        article_row(3, fetched_at=datetime(2024, 5, 2, 0, 0, 1, tzinfo=UTC)),
    ]
    committed = writer.write(to_table(rows))
    # The first day's file is committed as soon as the date changes.
    assert [done.name.split("/")[0] for done in committed] == ["fetch_date=2024-05-01"]
    last = writer.commit()
    assert last is not None
    assert last.name.startswith("fetch_date=2024-05-02/")

    files = committed_files(tmp_path)
    assert [path.parent.name for path in files] == [
        partition_name(datetime(2024, 5, 1).date()),
        partition_name(datetime(2024, 5, 2).date()),
    ]
    assert [pq.read_table(path).num_rows for path in files] == [2, 1]
    assert pq.read_table(files[1]).column("url").to_pylist() == ["https://example.com/news/3"]


def test_file_rows_splits_into_files(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, file_rows=3)
    committed = []
    for index in range(7):
        committed += writer.write(to_table([article_row(index)]))
    assert [done.rows for done in committed] == [3, 3]
    last = writer.commit()
    assert last is not None
    assert last.rows == 1

    files = committed_files(tmp_path)
    assert len(files) == 3
    assert len({path.name for path in files}) == 3
    urls = [url for path in files for url in pq.read_table(path).column("url").to_pylist()]
    assert urls == [f"https://example.com/news/{index}" for index in range(7)]


def test_each_write_is_one_row_group(tmp_path: Path) -> None:
    writer = make_writer(tmp_path)
    writer.write(to_table([article_row(1), article_row(2)]))
    writer.write(to_table([article_row(3)]))
    writer.commit()
    [path] = committed_files(tmp_path)
    metadata = pq.ParquetFile(path).metadata
    assert metadata.num_row_groups == 2
    assert [metadata.row_group(i).num_rows for i in range(2)] == [2, 1]


@pytest.mark.parametrize("compression", ["zstd", "snappy", "gzip", "none"])
def test_compression(tmp_path: Path, compression: str) -> None:
    writer = make_writer(tmp_path, compression=compression)
    writer.write(to_table([article_row(1)]))
    writer.commit()
    [path] = committed_files(tmp_path)
    codec = pq.ParquetFile(path).metadata.row_group(0).column(0).compression
    assert codec == ("UNCOMPRESSED" if compression == "none" else compression.upper())


def test_two_writers_never_overwrite_each_other(tmp_path: Path) -> None:
    # Same directory, same start time (to the second), both writing the same partition.
    first = make_writer(tmp_path)
    second = make_writer(tmp_path)
    assert first.run_id != second.run_id
    first.write(to_table([article_row(1)]))
    second.write(to_table([article_row(2), article_row(3)]))
    assert len(tmp_files(tmp_path)) == 2
    done_first = first.commit()
    done_second = second.commit()
    assert done_first is not None
    assert done_second is not None
    assert done_first.name != done_second.name

    files = committed_files(tmp_path)
    assert len(files) == 2
    assert sorted(pq.read_table(path).num_rows for path in files) == [1, 2]


def test_a_writer_never_reuses_its_own_names(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, run_id="same")
    names = []
    for index in range(3):
        writer.write(to_table([article_row(index)]))
        done = writer.commit()
        assert done is not None
        names.append(done.name)
    assert len(set(names)) == 3
    assert len(committed_files(tmp_path)) == 3


# --- remove_stale_tmp_files -------------------------------------------------------------------


@pytest.fixture(scope="module")
def dead_pid() -> int:
    # The pid of a process that ran and was reaped (reuse within the test is unlikely).
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    assert process.wait() == 0
    return process.pid


def test_remove_stale_tmp_files(tmp_path: Path, dead_pid: int) -> None:
    dead = tmp_path / f"part-a.parquet.{dead_pid}.tmp"
    very_dead = tmp_path / "part-b.parquet.999999.tmp"
    alive = tmp_path / f"part-c.parquet.{os.getpid()}.tmp"
    init = tmp_path / "part-e.parquet.1.tmp"  # pid 1 always runs
    unnamed = tmp_path / "part-d.parquet.tmp"
    other = tmp_path / "notes.txt"
    for path in (dead, very_dead, alive, init, unnamed, other):
        path.write_bytes(b"partial")

    removed = remove_stale_tmp_files(tmp_path)

    assert sorted(removed) == sorted([dead, very_dead, unnamed])
    assert not dead.exists()
    assert not very_dead.exists()
    assert not unnamed.exists()
    assert alive.exists()
    assert init.exists()
    assert other.exists()
    assert remove_stale_tmp_files(tmp_path) == []


def test_writer_open_removes_stale_tmp_files(tmp_path: Path, dead_pid: int) -> None:
    folder = tmp_path / "state" / "tmp"
    folder.mkdir(parents=True)
    stale = folder / f"part-a.parquet.{dead_pid}.tmp"
    stale.write_bytes(b"partial")
    other_crawl = make_writer(tmp_path)
    other_crawl.write(to_table([article_row(1)]))  # an open file of a live writer
    [live] = tmp_files(tmp_path)

    make_writer(tmp_path)

    assert not stale.exists()
    assert live.exists()
    assert other_crawl.commit() is not None


def html_table(rows: list[dict[str, Any]]) -> pa.Table:
    pages = [
        {"id": row["id"], "url": row["url"], "fetched_at": row["fetched_at"],
         "content_type": "text/html; charset=utf-8", "html": f"<p>{row['text']}</p>".encode()}
        for row in rows
    ]  # fmt: skip
    return pa.Table.from_pylist(pages, schema=HTML_SCHEMA)


def test_archive_file_has_the_pages_and_the_data_file_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    published: list[str] = []
    real_publish = writer_module._publish

    def publish(tmp: Path, final: Path) -> None:
        real_publish(tmp, final)
        published.append(final.relative_to(tmp_path).parts[0])

    monkeypatch.setattr(writer_module, "_publish", publish)
    writer = make_writer(tmp_path, archive=True, file_rows=3)
    rows = [article_row(n) for n in range(5)]
    committed = writer.write(to_table(rows), html_table(rows))
    last = writer.commit()
    assert last is not None
    names = [done.name for done in [*committed, last]]
    # the archive file is published first: a visible row always has its page
    assert published == ["html", "articles", "html", "articles"]
    pages = [page for name in names for page in pq.read_table(tmp_path / "html" / name).to_pylist()]
    assert [page["id"] for page in pages] == [row["id"] for row in rows]
    assert pages[0]["html"] == b"<p>Article number 0.</p>"
    assert list((tmp_path / "state" / "tmp").iterdir()) == []


def test_archive_needs_a_page_per_row(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, archive=True)
    rows = [article_row(n) for n in range(2)]
    with pytest.raises(ValueError, match="one page per row"):
        writer.write(to_table(rows))
    with pytest.raises(ValueError, match="one page per row"):
        writer.write(to_table(rows), html_table(rows[:1]))


def test_rows_of_a_row_group_are_sorted_by_source_then_publication(tmp_path: Path) -> None:
    rows = [
        {**article_row(n), "source": source, "published_at": datetime(2024, 1, day, tzinfo=UTC)}
        for n, (source, day) in enumerate(
            [("b.test", 2), ("a.test", 9), ("b.test", 1), ("a.test", 3)]
        )
    ]
    writer = DatasetWriter(tmp_path, clock=lambda: CLOCK, run_id="sorted")
    writer.open()
    writer.write(to_table(rows))
    committed = writer.commit()
    assert committed is not None
    table = pq.read_table(tmp_path / "articles" / committed.name)
    assert table.column("source").to_pylist() == ["a.test", "a.test", "b.test", "b.test"]
    assert [d.day for d in table.column("published_at").to_pylist()] == [3, 9, 1, 2]


# --- write errors: a full disk (``/dev/full`` answers every write with ENOSPC) ----------------


def first_tmp_file(output_dir: Path, run_id: str) -> Path:
    name = f"{data_file_name(CLOCK, run_id, 1)}.{owner_tag()}{TMP_SUFFIX}"
    return output_dir / "state" / "tmp" / name


def test_a_file_that_cannot_be_written_stops_the_writer_until_discarded(tmp_path: Path) -> None:
    # Opening the file fails (pyarrow writes its first bytes at once). A write queued behind
    # the failed one is refused: before, it opened the next file, the discard deleted that one
    # and the failed file's temporary file stayed behind.
    writer = make_writer(tmp_path, run_id="full")
    first_tmp_file(tmp_path, "full").symlink_to("/dev/full")
    with pytest.raises(OSError, match="No space left on device"):
        writer.write(to_table([article_row(0)]))
    with pytest.raises(OSError, match=r"an earlier write failed: .*No space left"):
        writer.write(to_table([article_row(1)]))
    with pytest.raises(OSError, match="an earlier write failed"):
        writer.commit()
    assert [path.name for path in tmp_files(tmp_path)] == [first_tmp_file(tmp_path, "full").name]
    assert writer.discard() == 0
    assert tmp_files(tmp_path) == []
    # discarded, the writer writes again, into a file of its own
    writer.write(to_table([article_row(2)]))
    assert writer.commit() is not None
    assert [pq.read_table(path).num_rows for path in committed_files(tmp_path)] == [1]


def test_a_write_that_fails_into_an_open_file_stops_the_writer_until_discarded(
    tmp_path: Path,
) -> None:
    # The disk fills while a file is open: pyarrow closes it on the error, and a write queued
    # behind came out as a misuse ("Operation on closed file", an item error with a traceback)
    # instead of the disk error it is.
    writer = make_writer(tmp_path, run_id="open", archive=True)
    rows = [article_row(n) for n in range(3)]
    writer.write(to_table(rows[:1]), html_table(rows[:1]))
    tmp_file = os.path.realpath(first_tmp_file(tmp_path, "open"))
    descriptors = Path("/proc/self/fd")
    (opened,) = (int(fd.name) for fd in descriptors.iterdir() if os.path.realpath(fd) == tmp_file)
    full = os.open("/dev/full", os.O_WRONLY)
    os.dup2(full, opened)  # the same descriptor, now on a full disk
    os.close(full)
    with pytest.raises(OSError, match="No space left on device"):
        writer.write(to_table(rows[1:2]), html_table(rows[1:2]))
    with pytest.raises(OSError, match=r"an earlier write failed: .*No space left"):
        writer.write(to_table(rows[2:]), html_table(rows[2:]))
    assert writer.discard() == 1
    assert tmp_files(tmp_path) == []
    assert committed_files(tmp_path) == []


def test_page_values_never_become_paths(tmp_path: Path) -> None:
    # what a page controls (URL, canonical URL, source, title, id text) is data, never a
    # file or partition name: those come from the fetch day, the clock and a random run id
    row = article_row(1) | {
        "url": "https://evil.test/../../../etc/passwd",
        "canonical_url": "file:///etc/passwd",
        "source": "../../outside",
        "title": "/tmp/x\x00../../y",
        "site_name": "..",
    }
    writer = make_writer(tmp_path, archive=True)
    writer.write(to_table([row]), html_table([row]))
    committed = writer.commit()
    assert committed is not None
    created = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert created == [
        f"articles/{committed.name}",
        f"html/{committed.name}",
    ]
    assert re.fullmatch(r"fetch_date=2024-05-01/part-20240501T123015Z-[0-9a-f]{8}-00001\.parquet",
                        committed.name)  # fmt: skip
    assert pq.read_table(tmp_path / "articles" / committed.name).column("source")[0].as_py() == (
        "../../outside"
    )


@pytest.mark.parametrize("text", ["", " \n "])
def test_a_row_without_text_is_never_written(tmp_path: Path, text: str) -> None:
    """The writer is where every row goes to a file: one without text is a bug upstream
    (its page was not extracted), never data, and the whole batch is refused."""
    writer = make_writer(tmp_path)
    writer.open()
    rows = [article_row(1), article_row(2) | {"text": text}]
    with pytest.raises(ValueError, match="1 rows without text"):
        writer.write(to_table(rows))
    assert writer.commit() is None
    assert committed_files(tmp_path) == []


def killed_between_archive_and_rows(
    output_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Path, Path]:
    """A crawl writing into ``output_dir`` with archives, killed (``KeyboardInterrupt``) as
    it commits a file of three rows, between publishing the archive file and the data file.
    Returns the archive file left in ``html/`` and the commit note left in ``state/tmp/``
    (named with this process's owner tag)."""
    real_publish = writer_module._publish

    def die_at_the_rows(tmp: Path, final: Path) -> None:
        if final.relative_to(output_dir).parts[0] == "articles":
            raise KeyboardInterrupt  # the process dies here
        real_publish(tmp, final)

    with monkeypatch.context() as patch:
        patch.setattr(writer_module, "_publish", die_at_the_rows)
        writer = make_writer(output_dir, archive=True)
        rows = [article_row(n) for n in range(3)]
        writer.write(to_table(rows), html_table(rows))
        with pytest.raises(KeyboardInterrupt):
            writer.commit()
    [archive] = data_files(output_dir / "html")
    [note] = (output_dir / "state" / "tmp").glob("commit-*.commit")
    return archive, note


def test_a_crawl_that_died_between_the_archive_and_the_rows_leaves_no_archive_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # the archive file was published, the data file not: the next crawl fetched those
    # articles again and archived their pages a second time (the same ids twice in html/)
    archive, marker = killed_between_archive_and_rows(tmp_path, monkeypatch)
    assert data_files(tmp_path / "articles") == []
    # its process is gone
    marker.rename(marker.with_name(marker.name.replace(f"-{os.getpid()}.", "-999999999.")))
    with caplog.at_level("WARNING", logger="dataset.writer"):
        make_writer(tmp_path, archive=True).open()
    assert not archive.exists()
    assert list((tmp_path / "state" / "tmp").glob("commit-*")) == []
    assert any("died before committing its rows" in r.getMessage() for r in caplog.records)


def test_a_commit_leaves_no_note_and_a_live_writers_note_is_left_alone(tmp_path: Path) -> None:
    writer = make_writer(tmp_path, archive=True)
    rows = [article_row(n) for n in range(2)]
    writer.write(to_table(rows), html_table(rows))
    assert writer.commit() is not None
    assert list((tmp_path / "state" / "tmp").glob("commit-*")) == []
    # a note of a running writer (this process): its archive file is not touched
    note = tmp_path / "state" / "tmp" / f"commit-x.parquet.{owner_tag()}.commit"
    [name] = [f.relative_to(tmp_path / "html").as_posix() for f in data_files(tmp_path / "html")]
    (tmp_path / "articles" / name).unlink()
    note.write_text(name, encoding="utf-8")
    make_writer(tmp_path, archive=True).open()
    assert (tmp_path / "html" / name).exists()
    assert note.exists()
