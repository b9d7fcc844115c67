"""The container check (bench/container.py): the memory cage enforces its limit (a process
above it is killed, and counted), and a small crawl from ``demo/pages`` completes under 512 MiB
with its report. Where no cage can be made (no root, no writable cgroup file system, no
systemd), the enforcing test is skipped saying so, and the crawl is only accounted."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from bench.container import MIB, check, main, memory_cage, render
from bench.harness.corpus import EXIT_NO_CORPUS
from demo.site import PAGES_DIR

if TYPE_CHECKING:
    from pathlib import Path

TOUCH_200_MIB = "b = bytearray(200 * 2**20); b[::4096] = bytes(len(b) // 4096); print('lived')"


def test_the_cage_kills_what_goes_above_its_limit() -> None:
    with memory_cage(64 * MIB) as cage:
        if not cage.enforced:
            pytest.skip("no memory cgroup or systemd-run here: the limit cannot be enforced")
        done = subprocess.run(
            [*cage.prefix, sys.executable, "-c", TOUCH_200_MIB],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        kills = cage.oom_kills()
    assert done.returncode == -9, (done.returncode, done.stderr)  # SIGKILL, by the kernel
    assert "lived" not in done.stdout
    if kills is not None:
        assert kills >= 1
    # the same under a roomy limit lives
    with memory_cage(512 * MIB) as cage:
        done = subprocess.run(
            [*cage.prefix, sys.executable, "-c", TOUCH_200_MIB],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "lived"


def test_a_crawl_completes_under_512_mib(tmp_path: Path) -> None:
    checked = check(20, 512 * MIB, PAGES_DIR, tmp_path)
    assert checked.problems() == [], checked.run.log_file.read_text()
    assert checked.run.article_responses == 20
    assert checked.run.rows == checked.expected_rows >= 18
    if checked.enforced:
        assert checked.oom_kills == 0
        assert checked.cgroup_peak is not None
        assert 0 < checked.cgroup_peak <= 512 * MIB
    text = render(checked, "python -m bench.container", "demo/pages")
    assert text.startswith("## A 512 MiB container")
    assert f"| 512 | {checked.cage} | 0 | 20 |" in text
    assert "Under the limit the crawl **completes**." in text


def test_missing_corpus_is_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWS_CORPUS_DIR", str(tmp_path / "nowhere"))
    assert main(["--pages", "5"]) == EXIT_NO_CORPUS
    assert "No corpus found" in capsys.readouterr().err
