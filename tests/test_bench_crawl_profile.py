"""The crawl profile's summary by package, on a profile of one extraction (no crawl)."""

from __future__ import annotations

import cProfile
from typing import TYPE_CHECKING

import pytest

from bench.crawl_profile import OURS, main, package_group, profile_tables, summarize_profile
from bench.harness.corpus import ROOT
from bench.harness.pages import PageSet, load_templates
from demo.site import PAGES_DIR
from extraction.extractor import extract_article

if TYPE_CHECKING:
    from pathlib import Path


def test_profile_summary_groups_by_package(tmp_path: Path) -> None:
    body = PageSet(load_templates(PAGES_DIR)).body(3)
    profiler = cProfile.Profile()
    profiler.runcall(extract_article, body, "http://127.0.0.1/a/3.html", "text/html")
    profiler.dump_stats(tmp_path / "extract.prof")
    summary = summarize_profile(tmp_path / "extract.prof")
    assert summary.total_seconds > 0
    assert {"trafilatura, lxml, htmldate", OURS} <= set(summary.groups)
    assert sum(summary.charged.values()) == pytest.approx(sum(summary.groups.values()))
    groups, _, by_self, _, ours = profile_tables(summary, top=5)
    assert groups.startswith("| package | self time s | share |")
    assert len(by_self.splitlines()) == 2 + 5
    assert "`extraction/extractor.py:" in ours


def test_package_groups() -> None:
    assert package_group(str(ROOT / "extraction" / "extractor.py"), "f") == OURS
    assert package_group(str(ROOT / "dataset" / "writer.py"), "f") == OURS
    assert package_group("/venv/site-packages/scrapy/core/engine.py", "f") == "Scrapy, Twisted"
    assert package_group("~", "<method 'execute' of 'sqlite3.Connection' objects>") == "sqlite3"
    assert package_group("~", "<method 'poll' of 'select.epoll' objects>").startswith("waiting")
    assert package_group("~", "<built-in method builtins.len>") == "builtins (other)"


def test_missing_corpus_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWS_CORPUS_DIR", str(tmp_path))
    assert main(["--pages", "10"]) == 2
    assert "No corpus found" in capsys.readouterr().err
