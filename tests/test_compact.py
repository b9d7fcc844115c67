"""``scrapy compact`` on the dataset of a real crawl that committed one file per article."""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pyarrow.parquet as pq
import pytest
from scrapy.utils.project import get_project_settings

from dataset.layout import data_files
from extraction.record import article_record
from pipelines.parquet import PARQUET_COMPRESSION
from tests.conftest import ROOT, CrawlResult, dataset_rows, run_crawl
from tests.markdown import code_under
from tests.test_compaction import make_dataset, run_rows, write_run_history

if TYPE_CHECKING:
    from pathlib import Path

    from demo.site import Site

# One file per article: what many short commit intervals leave behind; pages archived.
TINY_FILES = ("PARQUET_ROW_GROUP_ROWS=1", "PARQUET_FILE_ROWS=1", "HTML_ARCHIVE_ENABLED=True")


def compact(output_dir: Path, *options: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "compact", *options, "-s", f"OUTPUT_DIR={output_dir}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def arguments(site_url: str) -> tuple[str, ...]:
    return ("-a", f"feeds={site_url}/feed.xml", "-a", f"sitemaps={site_url}/sitemap.xml")


def by_id(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(rows, key=lambda row: row["id"])


@pytest.fixture(scope="module")
def crawled(tmp_path_factory: pytest.TempPathFactory, site_url: str) -> Path:
    output_dir = tmp_path_factory.mktemp("compact")
    result = run_crawl(output_dir, *arguments(site_url), settings=TINY_FILES)
    assert result.returncode == 0, result.log[-3000:]
    return output_dir


def archived(output_dir: Path) -> list[dict[str, Any]]:
    return by_id(
        [row for path in data_files(output_dir / "html") for row in pq.read_table(path).to_pylist()]
    )


@pytest.fixture(scope="module")
def before(crawled: Path) -> tuple[list[dict[str, Any]], int]:
    return by_id(dataset_rows(crawled)), len(data_files(crawled / "articles"))


@pytest.fixture(scope="module")
def archive_before(crawled: Path) -> list[dict[str, Any]]:
    return archived(crawled)


def test_every_row_has_its_page_archived_in_a_file_of_the_same_name(
    crawled: Path,
    before: tuple[list[dict[str, Any]], int],
    archive_before: list[dict[str, Any]],
    site: Site,
) -> None:
    rows, _ = before
    assert [page["id"] for page in archive_before] == [row["id"] for row in rows]
    names = lambda root: sorted(p.relative_to(root).as_posix() for p in data_files(root))  # noqa: E731
    assert names(crawled / "html") == names(crawled / "articles")
    # byte for byte what the site served
    served = {page.path: page.body() for page in site.pages}
    for page in archive_before:
        assert page["html"] == served[urlsplit(page["url"]).path], page["url"]
    assert all(page["content_type"].startswith("text/html") for page in archive_before)


def test_archived_pages_re_extract_to_the_stored_rows(
    before: tuple[list[dict[str, Any]], int], archive_before: list[dict[str, Any]]
) -> None:
    rows, _ = before
    stored = {row["id"]: row for row in rows}
    same_text = 0
    for page in archive_before:
        record = article_record(
            page["html"], page["url"], page["content_type"], fetched_at=page["fetched_at"]
        )
        row = stored[page["id"]]
        assert (record["title"], record["published_at"], record["language"]) == (
            row["title"],
            row["published_at"],
            row["language"],
        ), page["url"]
        same_text += record["text"] == row["text"]
    # the crawl's site-boilerplate stage may have removed a line learned from the site's
    # other pages; the plain chain does not learn
    assert same_text >= 0.9 * len(rows)


@pytest.fixture(scope="module")
def compacted(crawled: Path, before: Any) -> subprocess.CompletedProcess[str]:
    return compact(crawled)


def test_compact_merges_files_and_keeps_every_row(
    crawled: Path, before: tuple[list[dict[str, Any]], int], compacted: Any
) -> None:
    rows, files = before
    assert files == len(rows) > 20
    assert compacted.returncode == 0, compacted.stderr[-3000:]
    assert f"Compacted {files} files into 1 in 1 partitions" in compacted.stdout
    assert "Traceback" not in compacted.stderr
    assert len(data_files(crawled / "articles")) == 1
    assert by_id(dataset_rows(crawled)) == rows


def test_compact_merges_the_archive_too(
    crawled: Path, archive_before: list[dict[str, Any]], compacted: Any
) -> None:
    assert len(data_files(crawled / "html")) == 1
    assert archived(crawled) == archive_before


def test_state_knows_the_new_files(crawled: Path, compacted: Any) -> None:
    with sqlite3.connect(crawled / "state" / "crawl-state.sqlite3") as db:
        recorded = {name for (name,) in db.execute("SELECT name FROM files")}
    on_disk = {
        path.relative_to(crawled / "articles").as_posix()
        for path in data_files(crawled / "articles")
    }
    assert recorded == on_disk


def test_next_crawl_reads_nothing_again_and_adds_nothing(
    crawled: Path, before: tuple[list[dict[str, Any]], int], compacted: Any, site_url: str
) -> None:
    result: CrawlResult = run_crawl(crawled, *arguments(site_url), settings=TINY_FILES)
    assert result.returncode == 0, result.log[-3000:]
    assert "news/dedupe/files_recovered" not in result.stats
    assert result.stats.get("news/parquet/rows_written", 0) == 0
    assert by_id(dataset_rows(crawled)) == before[0]


def test_nothing_to_do_is_not_an_error(crawled: Path, compacted: Any) -> None:
    again = compact(crawled, "--dry-run")
    assert again.returncode == 0
    # but the run-history file of the crawl after the compaction, beside the first crawl's
    merging = [line for line in again.stdout.splitlines() if "would merge" in line]
    assert all(line.startswith("runs/run_date=") for line in merging), merging
    assert "articles: nothing to merge in " in again.stdout  # it printed nothing at all


def test_bad_options_and_a_running_compaction_are_refused(tmp_path: Path, crawled: Path) -> None:
    missing = compact(tmp_path / "nothing")
    assert missing.returncode == 2
    assert missing.stderr.splitlines()[-1].startswith("scrapy: error: no dataset under")
    wrong = compact(crawled, "--partition", "1999-01-01")
    assert wrong.returncode == 2
    assert "no such partition: fetch_date=1999-01-01" in wrong.stderr
    bad = compact(crawled, "-s", "PARQUET_COMPRESSION=rar")
    assert bad.returncode == 2
    assert bad.stderr.splitlines() == [
        (
            "scrapy: error: PARQUET_COMPRESSION='rar': must be one of zstd, snappy, gzip, brotli, "
            "lz4, none"
        )
    ]
    with (crawled / "state" / "compact.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        busy = compact(crawled)
    assert busy.returncode == 3  # another run holds the dataset
    assert "another compaction" in busy.stderr


def test_re_extraction_recipe_of_the_archive(
    crawled: Path, before: tuple[list[dict[str, Any]], int]
) -> None:
    """The recipe of docs/dataset.md: a row re-extracted from the HTML archive."""
    (code,) = code_under(ROOT / "docs" / "dataset.md", "The raw HTML archive")
    row = before[0][0]
    namespace: dict[str, Any] = {"row_id": row["id"]}
    exec(
        compile(code.replace("output/html", str(crawled / "html")), "dataset.md", "exec"), namespace
    )
    assert namespace["record"]["id"] == row["id"]
    assert namespace["record"]["title"] == row["title"]


# --- what goes wrong, each one line and a failed status -------------------------------------


def small_dataset(output_dir: Path, **options: Any) -> Path:
    """Three one-row-group files of one day, recorded in the crawl state; their partition;
    ``options`` for the writer (``compression=...``)."""
    from dataset.state.embedded import CrawlState  # noqa: PLC0415
    from tests.test_compaction import make_dataset, partition  # noqa: PLC0415

    make_dataset(output_dir, files=3, rows_per_file=4, **options)
    state = CrawlState.open(output_dir / "state")
    state.recover(output_dir / "articles")
    state.close()
    return partition(output_dir)


def _compact_in_process(output_dir: Path, given: tuple[str, ...] = ()) -> int | str | None:
    """``scrapy compact`` of ``output_dir`` run in this process (what a test patched applies),
    with the ``NAME=value`` settings ``given``; the status it stopped with (0: it ended)."""
    from crawler.commands import checked_settings  # noqa: PLC0415
    from crawler.commands.compact import Command  # noqa: PLC0415

    settings = get_project_settings()
    settings.set("OUTPUT_DIR", str(output_dir), priority="cmdline")
    for setting in given:
        name, value = setting.split("=", 1)
        settings.set(name, value, priority="cmdline")
    command = Command()
    command.checked = checked_settings(settings)
    options = argparse.Namespace(partition=[], target_rows=100, row_group_rows=10, dry_run=False)
    try:
        command.run([], options)
    except SystemExit as stopped:
        return stopped.code
    return command.exitcode


def codecs(folder: Path) -> set[str]:
    """The compression codecs of the files in ``folder`` (of their first column chunk)."""
    return {
        pq.ParquetFile(path).metadata.row_group(0).column(0).compression
        for path in folder.glob("*.parquet")
    }


@pytest.mark.parametrize(
    ("given", "codec"),
    [
        (("-s", "PARQUET_COMPRESSION=snappy"), "SNAPPY"),
        (("-s", "PARQUET_COMPRESSION=gzip"), "GZIP"),
        ((), PARQUET_COMPRESSION.default.upper()),
    ],
)
def test_the_new_files_are_compressed_as_the_setting_says(
    tmp_path: Path, given: tuple[str, ...], codec: str
) -> None:
    # always zstd before: a dataset crawled with PARQUET_COMPRESSION=snappy lost it
    folder = small_dataset(tmp_path, compression="snappy")
    assert codecs(folder) == {"SNAPPY"}
    done = compact(tmp_path, *given)
    assert done.returncode == 0, done.stderr[-3000:]
    assert len(list(folder.iterdir())) == 1
    assert codecs(folder) == {codec}


def test_the_compression_level_is_the_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dataset import compaction  # noqa: PLC0415

    small_dataset(tmp_path)
    written: list[dict[str, Any]] = []
    write_table = pq.write_table

    def recorded(*args: Any, **kwargs: Any) -> None:
        written.append(kwargs)
        write_table(*args, **kwargs)

    monkeypatch.setattr(compaction.pq, "write_table", recorded)
    settings = ("PARQUET_COMPRESSION=gzip", "PARQUET_COMPRESSION_LEVEL=9")
    assert _compact_in_process(tmp_path, settings) == 0
    assert [(kwargs["compression"], kwargs.get("compression_level")) for kwargs in written] == [
        ("gzip", 9)
    ]


def one_clear_line(done: subprocess.CompletedProcess[str], line: str) -> None:
    output = done.stderr + done.stdout
    assert "Traceback" not in output
    assert line in output, output[-3000:]


def test_a_damaged_data_file_fails_its_partition_and_changes_nothing(tmp_path: Path) -> None:
    folder = small_dataset(tmp_path)
    (folder / "part-copied-half-way.parquet").write_bytes(b"PAR1")
    before = sorted(path.name for path in folder.iterdir())
    done = compact(tmp_path)
    assert done.returncode == 1
    one_clear_line(done, f"Left {folder.name} as it was: part-copied-half-way.parquet is not a")
    assert done.stdout.rstrip().endswith("; 1 failed (see the errors above)")
    assert sorted(path.name for path in folder.iterdir()) == before


@pytest.mark.parametrize("inside", ["part-folder.parquet", "copy/part-1.parquet"])
def test_a_partition_holding_a_folder_fails_and_changes_nothing(
    tmp_path: Path, inside: str
) -> None:
    # a folder named like a data file failed on "is a directory"; a folder of copies, on
    # "Operation not permitted" (a folder cannot be hard-linked into the new partition)
    folder = small_dataset(tmp_path)
    made = folder / inside
    made.parent.mkdir(exist_ok=True)
    if made.suffix and made.parent != folder:
        shutil.copy(next(folder.glob("*.parquet")), made)
    else:
        made.mkdir()
    before = sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*"))
    done = compact(tmp_path)
    assert done.returncode == 1
    name = inside.split("/", maxsplit=1)[0]
    one_clear_line(
        done,
        f"Left {folder.name} as it was: it holds a folder ({name}), which a crawl never makes "
        "there: move it out of the dataset",
    )
    assert sorted(path.relative_to(folder).as_posix() for path in folder.rglob("*")) == before


def test_a_dry_run_names_a_damaged_data_file_as_the_compaction_would(tmp_path: Path) -> None:
    # a traceback (CompactionError) before
    folder = small_dataset(tmp_path)
    (folder / "part-copied-half-way.parquet").write_bytes(b"PAR1")
    done = compact(tmp_path, "--dry-run")
    assert done.returncode == 1
    one_clear_line(done, f"Would leave {folder.name} as it is: part-copied-half-way.parquet is not")


@pytest.mark.parametrize(
    "option", [("--row-group-rows", "99999999999999999999"), ("--target-rows", "10000001")]
)
def test_row_counts_past_what_a_file_can_take_are_refused(
    tmp_path: Path, option: tuple[str, str]
) -> None:
    # pyarrow's OverflowError at the first write before (a dry run said it would merge)
    small_dataset(tmp_path)
    done = compact(tmp_path, *option)
    assert done.returncode == 2
    expected = "--target-rows must be from 2 to 10000000 and --row-group-rows from 1 to 10000000"
    assert done.stderr.splitlines() == [f"scrapy: error: {expected}"]


def test_a_copied_partition_is_not_compacted(tmp_path: Path) -> None:
    folder = small_dataset(tmp_path)
    copy = folder.with_name(f"{folder.name} copy")
    shutil.copytree(folder, copy)
    copied = sorted(path.name for path in copy.iterdir())
    done = compact(tmp_path)
    assert done.returncode == 0, done.stderr
    one_clear_line(
        done,
        f"Not compacted: articles/{copy.name}/ holds 3 data files outside the dataset's partitions",
    )
    assert len(list(folder.iterdir())) == 1  # its own partition, compacted
    assert sorted(path.name for path in copy.iterdir()) == copied
    # a copy is no partition to name either
    done = compact(tmp_path, "--partition", copy.name)
    assert done.returncode == 2
    one_clear_line(done, f"no such partition: {copy.name}")


def test_a_crawl_state_that_cannot_be_read_stops_the_compaction(tmp_path: Path) -> None:
    folder = small_dataset(tmp_path)
    before = sorted(path.name for path in folder.iterdir())
    damaged = tmp_path / "state" / "crawl-state.sqlite3"
    damaged.write_bytes(b"not a database" * 512)
    done = compact(tmp_path)
    assert done.returncode == 2  # found before anything starts
    one_clear_line(done, f"scrapy: error: the crawl state file {damaged} is damaged")
    assert sorted(path.name for path in folder.iterdir()) == before


def test_a_crawl_state_that_fails_while_compacting_stops_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # damaged further in than its first page (found only as the page is read)
    from dataset.state.embedded import CrawlState  # noqa: PLC0415

    folder = small_dataset(tmp_path)

    def damaged(self: Any) -> set[str]:
        raise sqlite3.DatabaseError("database disk image is malformed")

    monkeypatch.setattr(CrawlState, "recorded_files", damaged)
    stopped = _compact_in_process(tmp_path)
    assert stopped == 1
    assert capsys.readouterr().err == (
        f"scrapy: error: cannot use the crawl state in {tmp_path / 'state'}:"
        " database disk image is malformed\n"
    )
    assert len(list(folder.iterdir())) == 3  # nothing compacted


def test_a_state_folder_that_cannot_be_written_stops_the_compaction(tmp_path: Path) -> None:
    small_dataset(tmp_path)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder", encoding="utf-8")
    done = compact(tmp_path, "-s", f"STATE_DIR={blocked / 'state'}")
    assert done.returncode == 2
    one_clear_line(done, f"scrapy: error: STATE_DIR {blocked / 'state'} is not writable")


def test_the_state_forgets_files_a_killed_compaction_replaced(tmp_path: Path) -> None:
    # killed between the swap and recording it: the state lists files that are gone
    from dataset.state.embedded import CrawlState  # noqa: PLC0415

    folder = small_dataset(tmp_path)
    gone = sorted(folder.iterdir())[0]
    gone.unlink()
    done = compact(tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    one_clear_line(done, "Forgot 1 data files the crawl state listed and the dataset no longer")
    state = CrawlState.open(tmp_path / "state")
    on_disk = {
        path.relative_to(tmp_path / "articles").as_posix()
        for path in data_files(tmp_path / "articles")
    }
    assert state.recorded_files() == on_disk
    state.close()


def test_new_files_the_state_cannot_record_fail_the_compaction(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from crawler.commands.compact import Command  # noqa: PLC0415
    from dataset.schema import ARTICLE_SCHEMA  # noqa: PLC0415
    from dataset.storage import location_of  # noqa: PLC0415

    folder = small_dataset(tmp_path)

    class FullState:
        def replace_files(self, removed: Any, added: Any) -> None:
            raise sqlite3.OperationalError("database or disk is full")

    command = Command()
    command.checked = get_project_settings()
    command._compact(
        location_of(tmp_path),
        "articles",
        [folder.name],
        state_dir=tmp_path / "state",
        opts=argparse.Namespace(target_rows=100, row_group_rows=10),
        schema=ARTICLE_SCHEMA,
        crawl_state=FullState(),  # type: ignore[arg-type]
        state_errors=(sqlite3.Error,),
    )
    assert command.exitcode == 1
    assert f"Compacted {folder.name} but could not record its new files" in caplog.text
    assert len(list(folder.iterdir())) == 1  # compacted all the same: the next crawl records it


@pytest.mark.parametrize(
    "stopping",
    [(signal.SIGTERM, 143, "stopped (SIGTERM)"), (signal.SIGINT, 130, "interrupted (Ctrl-C)")],
)
def test_a_stopped_compaction_says_so_and_leaves_the_partition_as_it_was(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    stopping: tuple[int, int, str],
) -> None:
    # SIGTERM ended it at once: no line, no clean-up (its staged files, its locks held until
    # they lapsed); Ctrl-C was a traceback
    from dataset import compaction  # noqa: PLC0415

    stop_signal, status, said = stopping
    folder = small_dataset(tmp_path)
    before = sorted(path.name for path in folder.iterdir())
    rows = pq.read_table(folder).num_rows
    checked = compaction.same_rows

    def signalled(*args: Any) -> bool:  # the new files are written, not yet swapped in
        os.kill(os.getpid(), stop_signal)
        return checked(*args)

    monkeypatch.setattr(compaction, "same_rows", signalled)
    # as in a command's own process, Ctrl-C raises KeyboardInterrupt (a test before may have
    # left another handler in this one: Scrapy's, of an in-process crawl, stops it gracefully)
    handler = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        stopped = _compact_in_process(tmp_path)
    finally:
        signal.signal(signal.SIGINT, handler)
    assert stopped == status
    assert capsys.readouterr().err == (
        f"scrapy: error: compact {said}; the partitions compacted stay so, the one it was at"
        " is completed or left as it was\n"
    )
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # given back
    assert sorted(path.name for path in folder.iterdir()) == before
    assert not list((tmp_path / "state").glob("compact*/**/*.parquet"))  # nothing staged left
    monkeypatch.undo()
    done = compact(tmp_path)  # nothing held: the next one runs
    assert done.returncode == 0, done.stderr[-2000:]
    assert len(list(folder.iterdir())) == 1
    assert pq.read_table(folder).num_rows == rows


def test_a_compaction_another_host_killed_mid_swap_is_finished(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # in containers each run has a host name of its own: such a job was left for good, and the
    # file a crawl committed during the swap with it, out of the dataset
    from tests.test_compaction import all_rows  # noqa: PLC0415
    from tests.test_leftovers import killed_mid_swap  # noqa: PLC0415

    expected = killed_mid_swap(tmp_path, monkeypatch)
    done = compact(tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    one_clear_line(done, "Finished the compaction a dead process left in")
    assert all_rows(tmp_path) == expected
    assert list((tmp_path / "state" / "tmp").iterdir()) == []


def test_compact_merges_the_run_history_a_day_at_a_time(tmp_path: Path) -> None:
    # the run history grew by a file a run for ever (thirteenth fault hunt, F3)
    make_dataset(tmp_path, files=1, rows_per_file=2)  # articles of 2024-05-01
    write_run_history(tmp_path)  # 7 run files of 2024-05-01, 6 of 2024-05-02
    rows = run_rows(tmp_path)

    dry = compact(tmp_path, "--dry-run")
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert "runs/run_date=2024-05-01: would merge 7 files" in dry.stdout
    assert len(list((tmp_path / "runs" / "run_date=2024-05-01").iterdir())) == 7
    one_day = compact(tmp_path, "--partition", "2024-05-02")  # no articles that day
    assert one_day.returncode == 0, one_day.stderr[-2000:]
    assert "Compacted 6 files into 1 in 1 partitions of runs" in one_day.stdout
    every_day = compact(tmp_path, "-s", "PARQUET_COMPRESSION=gzip")
    assert every_day.returncode == 0, every_day.stderr[-2000:]
    assert "Compacted 7 files into 1 in 2 partitions of runs" in every_day.stdout

    assert run_rows(tmp_path) == rows
    days = sorted((tmp_path / "runs").iterdir())
    assert [len(list(day.iterdir())) for day in days] == [1, 1]
    # written as the crawl's files are: the codec of the settings
    (merged,) = days[0].iterdir()
    assert pq.ParquetFile(merged).metadata.row_group(0).column(0).compression == "GZIP"


def test_a_run_history_without_articles_is_compacted(tmp_path: Path) -> None:
    # a dataset of sources that never stored an article (or whose articles/ was moved away)
    # holds a run history only: "scrapy: error: no dataset under .../articles", status 2,
    # and its run files were never merged
    write_run_history(tmp_path)  # 7 run files of 2024-05-01, 6 of 2024-05-02
    rows = run_rows(tmp_path)
    dry = compact(tmp_path, "--dry-run")
    assert dry.returncode == 0, dry.stderr[-2000:]
    assert "runs/run_date=2024-05-01: would merge 7 files" in dry.stdout
    done = compact(tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"No articles under {tmp_path}/articles: the run history alone" in done.stdout
    assert "Compacted 13 files into 2 in 2 partitions of runs" in done.stdout
    assert run_rows(tmp_path) == rows
    assert not (tmp_path / "articles").exists()
    # neither: one line, status 2
    (tmp_path / "empty").mkdir()
    neither = compact(tmp_path / "empty")
    assert neither.returncode == 2
    assert neither.stderr.splitlines() == [
        f"scrapy: error: no dataset under {tmp_path / 'empty'}/articles"
    ]
