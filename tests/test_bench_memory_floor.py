"""The memory floor benchmark (bench/memory_floor.py): its child imports what a crawl process
imports and extracts pages through the crawl's page pool; the report shows each worker count's
processes by role, and a child that fails is a problem, not a floor."""

from __future__ import annotations

import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from bench import memory_floor
from bench.harness.corpus import EXIT_NO_CORPUS
from bench.memory_floor import STAND_IN, Floor, Role, measure, render
from demo.site import PAGES_DIR

if TYPE_CHECKING:
    from pathlib import Path


def test_the_stand_in_imports_the_components_a_crawl_loads() -> None:
    # in a process of its own: the stand-in installs the project's reactor, as a crawl does
    script = (
        "import sys; from bench.memory_floor import crawl_imports; paths = crawl_imports(); "
        "print(*paths); print(*sorted(sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=True
    )
    paths, modules = (line.split() for line in done.stdout.splitlines()[-2:])
    assert "pipelines.extract.ExtractPipeline" in paths
    assert "pipelines.parquet.ParquetPipeline" in paths
    assert "scrapy.downloadermiddlewares.retry.RetryMiddleware" in paths
    for module in ("crawler.addon", "crawler.spiders.news", "pyarrow", "twisted.internet.reactor"):
        assert module in modules
    # what the add-on keeps out of a crawl process, the stand-in does not import either
    assert "twisted.conch" not in modules
    assert "trafilatura" not in modules


def test_two_workers_and_none_are_measured_by_role() -> None:
    with_workers = measure(2, 12, PAGES_DIR)
    inline = measure(0, 4, PAGES_DIR)
    assert with_workers.problems() == []
    assert inline.problems() == []
    assert with_workers.articles >= 10
    assert inline.articles >= 3
    names = [role.name for role in with_workers.roles]
    assert names[0] == STAND_IN
    assert "fork server" in names
    assert "resource tracker" in names
    workers = next(role for role in with_workers.roles if role.name == "extraction workers")
    assert workers.processes == 2
    assert all(peak > 20 * 2**20 for peak in workers.peak_pss)
    # the tree holds more than its stand-in, the stand-in's imports came first
    stand_in = with_workers.roles[0].peak_pss[0]
    assert with_workers.tree_pss > stand_in >= with_workers.imports_pss > 50 * 2**20
    assert [role.name for role in inline.roles] == [STAND_IN]
    assert inline.tree_pss < with_workers.tree_pss
    text = render([with_workers, inline], "python -m bench.memory_floor", "demo/pages")
    assert text.startswith("## The memory floor")
    assert f"| 2 | {with_workers.articles} / 12 |" in text
    assert "(2 processes)" in text
    assert "Problems" not in text


def test_a_failed_child_is_a_problem() -> None:
    failed = Floor(1, 10, 0, 1, 0.5, 0, 0, (Role(STAND_IN, 1, (0,)),))
    assert failed.problems() == [
        "1 workers: the child exited with status 1",
        "1 workers: no page gave an article",
    ]
    text = render([failed], "python -m bench.memory_floor", "x")
    assert "Problems: 1 workers: the child exited with status 1" in text


def test_worker_counts_are_checked(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        memory_floor.main(["--workers", "2,-1"])
    assert "worker counts" in capsys.readouterr().err


def test_missing_corpus_is_reported(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWS_CORPUS_DIR", str(tmp_path / "nowhere"))
    assert memory_floor.main(["--pages", "5"]) == EXIT_NO_CORPUS
    assert "No corpus found" in capsys.readouterr().err
