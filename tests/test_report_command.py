"""``scrapy report`` (crawler/commands/report.py): where the page goes, what it says on the
console, and the exit status when it cannot be made. (The page in a browser:
tests/test_source_health.py; in the bucket: tests/test_storage.py.)"""

from __future__ import annotations

import errno
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from crawler.commands import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from dataset.layout import owner_tag
from tests.conftest import ROOT
from tests.test_html_report_facts import write_dataset, write_history

if TYPE_CHECKING:
    from pathlib import Path


def report(output_dir: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "report", "-s", f"OUTPUT_DIR={output_dir}", *arguments],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    write_dataset(folder)
    write_history(folder, runs=3)
    return folder


def test_the_page_goes_beside_the_dataset(output: Path) -> None:
    done = report(output)
    assert done.returncode == EXIT_OK, done.stderr
    page = output / "report.html"
    assert done.stdout == (
        f"Report written to {page.resolve().as_uri()} (8 articles, 2 sources, 3 runs; "
        "unhealthy: b.test)\n"
    )
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not [path for path in output.iterdir() if path.name.endswith(".tmp")]


def test_to_a_file_or_to_standard_output(output: Path, tmp_path: Path) -> None:
    target = tmp_path / "site" / "crawl.html"
    done = report(output, "-o", str(target))
    assert done.returncode == EXIT_OK, done.stderr
    assert done.stdout.startswith(f"Report written to {target.as_uri()} ")
    assert 'data-total="rows" data-value="8"' in target.read_text(encoding="utf-8")
    piped = report(output, "-o", "-")
    assert piped.returncode == EXIT_OK, piped.stderr
    assert piped.stdout.startswith("<!DOCTYPE html>")
    assert piped.stderr.startswith("Report written to standard output (8 articles")


def test_the_page_a_killed_report_left_aside_is_removed(output: Path, tmp_path: Path) -> None:
    # a scrapy report killed (-9) while it wrote the page left .report.html.<host>-<pid>.tmp
    # beside it for ever
    target = tmp_path / "site" / "report.html"
    target.parent.mkdir()
    here = owner_tag().rsplit("-", 1)[0]
    dead = target.parent / f".report.html.{here}-{2**30}.tmp"
    another = target.parent / ".report.html.pod-2-1.tmp"  # another machine's, being written
    other = target.parent / f".other.html.{here}-{2**30}.tmp"  # not the page's
    for path in (dead, another, other):
        path.write_text("<!DOCTYPE html><html><body>half a pa", encoding="utf-8")
    done = report(output, "-o", str(target))
    assert done.returncode == EXIT_OK, done.stderr
    assert done.stdout.startswith(
        f"Removed the unfinished page of a killed scrapy report: {dead}\n"
        f"Report written to {target.as_uri()} "
    )
    assert sorted(target.parent.iterdir()) == sorted([another, other, target])


@pytest.mark.parametrize(
    ("arguments", "status", "message"),
    [
        ((), EXIT_USAGE, "no dataset and no run history under "),
        (("-o", "{tmp}"), EXIT_USAGE, "is a folder; name a file"),
        # a local folder "s3:" was made, the page written in it, and the status was 0
        (("-o", "s3://bucket/report.html"), EXIT_USAGE, "name a local file; the report goes"),
        (("-o", " "), EXIT_USAGE, "-o is empty; name a file"),
        (("extra",), EXIT_USAGE, "unexpected arguments: extra"),
        (("-s", "SOURCE_HEALTH_MIN_RUNS=0"), EXIT_USAGE, "MIN_RUNS='0': must be >= 1"),
    ],
)
def test_what_cannot_be_done_is_one_line(
    tmp_path: Path, arguments: tuple[str, ...], status: int, message: str
) -> None:
    done = report(tmp_path / "none", *(a.format(tmp=tmp_path) for a in arguments))
    assert done.returncode == status
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith("scrapy: error: ")
    assert message in done.stderr


def test_an_unreadable_history_fails_the_report(tmp_path: Path) -> None:
    write_history(tmp_path, runs=1)
    (next((tmp_path / "runs").glob("*/*.parquet"))).write_bytes(b"not parquet")
    done = report(tmp_path)
    assert done.returncode == EXIT_FAILED
    assert done.stderr.startswith(f"scrapy: error: cannot read {tmp_path}: ")
    assert done.stderr.count("\n") == 1
    assert not (tmp_path / "report.html").exists()


@pytest.mark.parametrize(
    ("folder", "content", "said"),
    [
        # its rows were counted as articles (every column it lacks null), or the history's
        # sort failed on its runs (a traceback)
        ("articles", "another table", " is not "),
        ("runs", "another table", " is not "),
        # "cannot read DIR: Parquet magic bytes not found ..." did not say which file
        ("articles", "cut short", ": ArrowInvalid: "),
    ],
)
def test_a_file_that_cannot_be_read_fails_the_report_naming_it(
    tmp_path: Path, folder: str, content: str, said: str
) -> None:
    write_dataset(tmp_path)
    write_history(tmp_path, runs=1)
    partition = next((tmp_path / folder).iterdir())
    if content == "cut short":
        (partition / "part-x.parquet").write_bytes(b"PAR1")
    else:
        pq.write_table(pa.table({"note": ["x", "y", "z"]}), partition / "part-x.parquet")
    done = report(tmp_path)
    assert done.returncode == EXIT_FAILED
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(
        f"scrapy: error: cannot read {tmp_path}: {partition.name}/part-x.parquet{said}"
    )
    assert not (tmp_path / "report.html").exists()


def test_an_unwritable_target_fails_the_report(output: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    done = report(output, "-o", str(blocker / "report.html"))
    # found before the page is made (it was found after, exit status 1)
    assert done.returncode == EXIT_USAGE
    assert done.stderr.splitlines() == [
        f"scrapy: error: -o {blocker / 'report.html'}: cannot write it ({blocker} is not a folder)"
    ]


def test_other_commands_do_not_pay_for_the_charts() -> None:
    # Scrapy imports every command's module when any command starts (a crawl included)
    code = (
        "import sys; from scrapy.cmdline import _get_commands_dict; from scrapy.utils.project "
        "import get_project_settings; commands = _get_commands_dict(get_project_settings(), True)"
        "; print('report' in commands, 'matplotlib' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    assert done.stdout == "True False\n", done.stderr


def test_a_copied_partition_is_left_out_and_named(tmp_path: Path) -> None:
    write_dataset(tmp_path)
    counted = report(tmp_path).stdout.split("(", 1)[1]  # "N articles, N sources, ...)"
    partition = next((tmp_path / "articles").iterdir())
    shutil.copytree(partition, partition.with_name(f"{partition.name} copy"))
    copied = len(list(partition.iterdir()))
    assert copied > 1
    done = report(tmp_path)
    assert done.returncode == EXIT_FAILED
    assert done.stdout.startswith("Report written to ")
    assert done.stdout.split("(", 1)[1] == counted  # the copy's rows not counted
    assert done.stderr == (
        f"scrapy: error: articles/{partition.name} copy/ holds {copied} data files outside the"
        " dataset's partitions (fetch_date=YYYY-MM-DD folders), left out; readers that scan"
        " articles/ (pandas, DuckDB, Spark) read them all the same: move the folder out\n"
    )


def test_a_default_place_that_cannot_be_written_fails_the_report_at_once(output: Path) -> None:
    # OUTPUT_DIR/report.html on a read-only dataset: found after the whole page was made,
    # exit status 1 (a folder in its place stands in for the read-only filesystem here)
    (output / "report.html").unlink(missing_ok=True)
    (output / "report.html").mkdir()
    try:
        done = report(output)
    finally:
        (output / "report.html").rmdir()
    assert done.returncode == EXIT_USAGE
    assert done.stderr.splitlines() == [
        (
            f"scrapy: error: cannot write the report to {output / 'report.html'} (Is a directory);"
            " give -o FILE"
        )
    ]


def test_a_read_only_filesystem_is_a_reason_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the check removed the file it could not make: on a read-only filesystem that unlink
    # failed too, a traceback (-o, and the report's own place)
    from pathlib import Path as RealPath  # noqa: PLC0415

    from crawler.commands import unwritable_file  # noqa: PLC0415

    def read_only(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(RealPath, "open", read_only)
    monkeypatch.setattr(RealPath, "unlink", read_only)
    assert unwritable_file(tmp_path / "report.html") == "Read-only file system"
