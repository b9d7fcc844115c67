"""The layout of an output directory (:mod:`dataset.layout`): where the dataset, the state and
the files being written go, and what names they have."""

from __future__ import annotations

import errno
import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from dataset.layout import (
    TMP_SUFFIX,
    LocationError,
    abandoned,
    data_file_name,
    data_files,
    host_name,
    in_partition,
    is_partition,
    local_output_dir,
    missing_folders,
    owner_tag,
    partition_name,
    redacted,
    remove_made,
    scratch_name,
    staging_dir,
    state_dir_for,
    unwritable_folder,
    uri_scheme,
)

DEAD_PID = 2**30  # above any pid_max: no such process


@pytest.mark.parametrize(
    ("output_dir", "state_dir", "expected"),
    [
        ("out", "", Path("out/state")),
        ("file:///srv/news", "", Path("/srv/news/state")),
        ("out", "/var/lib/state", Path("/var/lib/state")),
        ("out", "file:///var/lib/state", Path("/var/lib/state")),
        ("s3://bucket/news?region=us-east-1", "st", Path("st")),
    ],
)
def test_the_state_dir_is_local(output_dir: str, state_dir: str, expected: Path) -> None:
    assert state_dir_for(output_dir, state_dir) == expected


@pytest.mark.parametrize(
    ("output_dir", "state_dir", "message"),
    [
        ("", "", "OUTPUT_DIR is empty"),
        (
            "s3://AK:SECRET@bucket/news?secret_key=SECRET",
            "",
            (
                "STATE_DIR must be set when OUTPUT_DIR is an object store (s3://bucket/news): a "
                "local folder for the crawl state, e.g. -s STATE_DIR=/var/lib/news-crawler/state"
            ),
        ),
        (
            "out",
            "s3://AK:SECRET@bucket/state?secret_key=SECRET",
            "STATE_DIR must be a local folder, not s3://bucket/state",
        ),
    ],
)
def test_a_state_dir_that_cannot_be_is_refused(
    output_dir: str, state_dir: str, message: str
) -> None:
    with pytest.raises(LocationError) as refused:
        state_dir_for(output_dir, state_dir)
    assert str(refused.value) == message
    assert "SECRET" not in str(refused.value)


def test_uris_and_local_folders() -> None:
    assert uri_scheme("S3://bucket/x") == "s3"
    assert uri_scheme("output/news") is None
    assert uri_scheme("C:/data") is None  # a drive letter is no scheme
    assert local_output_dir("output") == Path("output")
    assert local_output_dir("file:///srv/news%20data") == Path("/srv/news data")
    assert local_output_dir("gs://bucket/news") is None
    assert redacted("s3://user:secret@bucket/news?secret_key=x#frag") == "s3://bucket/news"
    assert redacted("output?not-a-uri") == "output?not-a-uri"


def test_names_of_partitions_and_data_files() -> None:
    assert partition_name(date(2024, 5, 1)) == "fetch_date=2024-05-01"
    started = datetime(2024, 5, 1, 12, 30, 15, tzinfo=UTC)
    assert data_file_name(started, "ab12", 7) == "part-20240501T123015Z-ab12-00007.parquet"


def test_data_files_skip_hidden_and_private_entries(tmp_path: Path) -> None:
    assert data_files(tmp_path / "missing") == []
    visible = tmp_path / "fetch_date=2024-05-01" / "part-1.parquet"
    hidden = [
        tmp_path / "fetch_date=2024-05-01" / ".part-2.parquet",
        tmp_path / "fetch_date=2024-05-01" / "_SUCCESS.parquet",
        tmp_path / "_tmp" / "part-3.parquet",
        tmp_path / ".hidden" / "part-4.parquet",
        tmp_path / "fetch_date=2024-05-01" / "notes.txt",
    ]
    for path in [visible, *hidden]:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"")
    assert data_files(tmp_path) == [visible]


def test_owner_tags_name_this_machines_processes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("socket.gethostname", lambda: "crawler-a.example.org")
    assert host_name() == "crawler-a_example_org"
    assert owner_tag() == f"crawler-a_example_org-{os.getpid()}"
    name = scratch_name("requests")
    assert name.startswith("requests-")
    assert name.endswith(f".{owner_tag()}{TMP_SUFFIX}")
    assert not abandoned(owner_tag())  # this process runs
    assert abandoned(f"crawler-a_example_org-{DEAD_PID}")
    assert abandoned(str(DEAD_PID))  # a pid alone: written before host names were kept
    assert not abandoned(f"crawler-b_example_org-{DEAD_PID}")  # another machine's to judge
    assert abandoned("not a tag!")


def test_a_lock_holder_takes_every_other_hosts_tag_and_its_own_for_abandoned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # in containers every run has a host name of its own, or every run is PID 1 under the
    # same one: the holder of the folder's lock, who wrote nothing there yet, knows better
    monkeypatch.setattr("socket.gethostname", lambda: "crawl-job-4")
    assert abandoned("crawl-job-3-1", any_host=True)  # pid 1 runs here: another container's
    assert abandoned(f"crawl-job-3-{DEAD_PID}", any_host=True)
    assert abandoned(owner_tag(), any_host=True)  # an earlier process with this host and pid
    assert abandoned(f"crawl-job-4-{DEAD_PID}", any_host=True)
    # another live process of this machine may write there without the lock
    assert not abandoned(f"crawl-job-4-{os.getppid()}", any_host=True)
    assert not abandoned(str(os.getppid()), any_host=True)


def test_unwritable_folder_says_why(tmp_path: Path) -> None:
    assert unwritable_folder(tmp_path / "new" / "folder") is None
    assert list((tmp_path / "new" / "folder").iterdir()) == []  # the probe is gone
    (tmp_path / "file").write_bytes(b"")
    problem = unwritable_folder(tmp_path / "file" / "below")
    assert problem is not None
    assert str(tmp_path / "file") in problem
    (tmp_path / "link").symlink_to(tmp_path / "unmounted")
    problem = unwritable_folder(tmp_path / "link" / "articles")
    assert problem == (  # before: "File exists"
        f"a symbolic link to {tmp_path / 'unmounted'}, which does not exist ({tmp_path / 'link'})"
    )


def test_unwritable_folder_takes_back_what_it_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[Path] = []
    assert unwritable_folder(tmp_path / "new" / "folder", made) is None
    assert made == [tmp_path / "new", tmp_path / "new" / "folder"]  # outermost first
    assert unwritable_folder(tmp_path / "new" / "folder", made) is None
    assert len(made) == 2  # nothing more made
    (tmp_path / "new" / "kept").write_text("another process's")
    remove_made(made)
    assert sorted(path.name for path in (tmp_path / "new").iterdir()) == ["kept"]
    (tmp_path / "file").write_bytes(b"")
    assert missing_folders(tmp_path / "file" / "x" / "y") == [
        tmp_path / "file" / "x",
        tmp_path / "file" / "x" / "y",
    ]

    def full(self: Path, data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device", str(self))

    monkeypatch.setattr(Path, "write_bytes", full)
    problem = unwritable_folder(tmp_path / "full" / "folder", made)
    assert problem is not None
    assert problem.startswith("No space left on device")
    assert not (tmp_path / "full").exists()  # the folders made for the probe are gone
    assert len(made) == 2


def test_staging_dir_reports_other_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Path, target: Path) -> Path:
        raise OSError(errno.EACCES, "Permission denied", str(target))

    monkeypatch.setattr(Path, "rename", refuse)
    with pytest.raises(PermissionError):
        staging_dir(tmp_path / "out", tmp_path / "state")
    assert list((tmp_path / "state" / "tmp").iterdir()) == []


@pytest.mark.parametrize(
    ("name", "key", "expected"),
    [
        ("fetch_date=2026-12-01", "fetch_date", True),
        ("run_date=2026-12-01", "run_date", True),
        ("fetch_date=2024-02-29", "fetch_date", True),
        # copies, other keys and days that are none: a scanning reader takes them all the same
        ("fetch_date=2026-12-01 copy", "fetch_date", False),
        ("fetch_date=2026-12-01 (1)", "fetch_date", False),
        ("date=2026-12-01", "fetch_date", False),
        ("run_date=2026-12-01", "fetch_date", False),
        ("fetch_date=2026-13-01", "fetch_date", False),
        ("fetch_date=2025-02-29", "fetch_date", False),
        ("fetch_date=26-12-01", "fetch_date", False),
        ("fetch_date=", "fetch_date", False),
        ("fetch_date=２０２６-12-01", "fetch_date", False),  # full-width digits
    ],
)
def test_is_partition(name: str, key: str, expected: bool) -> None:
    assert is_partition(name, key) is expected


@pytest.mark.parametrize(
    ("relative", "expected"),
    [
        ("fetch_date=2026-12-01/part-1.parquet", True),
        ("part-1.parquet", False),  # at the top of the folder
        ("fetch_date=2026-12-01/old/part-1.parquet", False),  # below a partition
        ("backup/fetch_date=2026-12-01/part-1.parquet", False),
        ("fetch_date=2026-12-01 copy/part-1.parquet", False),
    ],
)
def test_in_partition(relative: str, expected: bool) -> None:
    assert in_partition(relative) is expected
