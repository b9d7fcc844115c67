"""The kill -9 benchmark, on two kills: it runs, and finds nothing lost or doubled."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bench import kill_crawl

if TYPE_CHECKING:
    from pathlib import Path


def test_two_kills_lose_and_double_nothing(tmp_path: Path) -> None:
    outcome = kill_crawl.run(2, seed=3, workdir=tmp_path)
    assert outcome.reference_urls >= 30
    assert outcome.ok, kill_crawl.report(outcome, "test")
    assert any(run.killed for run in outcome.runs)
    text = kill_crawl.report(outcome, "test")
    assert "Nothing lost or duplicated" in text
