"""The run lock of a state folder (:mod:`dataset.run_lock`); the crawl command's use of it is
tested in ``test_crawl_command.py``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from dataset.run_lock import LockBusy, RunLock, run_lock_held
from tests.test_crawl_command import holding

if TYPE_CHECKING:
    from pathlib import Path


def test_a_free_lock_is_held_for_the_block_only(tmp_path: Path) -> None:
    with run_lock_held(tmp_path) as held:
        assert held
        with pytest.raises(LockBusy):  # another crawl of the folder would find it held
            RunLock(tmp_path).acquire()  # (a second flock of one process conflicts too)
    other = RunLock(tmp_path)
    other.acquire()  # released
    other.release()


def test_the_lock_this_process_holds_is_held(tmp_path: Path) -> None:
    # the crawl command took it: asking again must neither wait for itself nor release it
    command = RunLock(tmp_path)
    command.acquire()
    try:
        with run_lock_held(tmp_path) as held:
            assert held
        assert command.holder() is not None  # still named, still held
        with pytest.raises(LockBusy):
            RunLock(tmp_path).acquire()
    finally:
        command.release()


def test_a_lock_another_process_holds_is_not_held(tmp_path: Path) -> None:
    with holding(tmp_path, 30), run_lock_held(tmp_path) as held:
        assert not held


def test_the_lock_file_has_the_permissions_the_umask_leaves(tmp_path: Path) -> None:
    previous = os.umask(0o002)
    try:
        lock = RunLock(tmp_path / "state")
        lock.acquire()
        lock.release()
    finally:
        os.umask(previous)
    (lock_file,) = (tmp_path / "state").iterdir()
    assert lock_file.stat().st_mode & 0o777 == 0o664  # a group's crawls take turns; was 0644
