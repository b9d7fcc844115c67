"""The per-stage costs on a few pages of ``demo/pages``, timed through ``extract_article``'s
``timings``; and the floor table."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from bench.harness.pages import PageSet, load_templates
from bench.stage_costs import (
    STAGES,
    TRAFILATURA,
    StageCosts,
    floor_of,
    floor_section,
    main,
    run_stages,
    stage_intro,
    stage_table,
)
from demo.site import PAGES_DIR
from tests.test_bench_harness_crawls import crawl_run

if TYPE_CHECKING:
    from pathlib import Path

PAGES = 8


@pytest.fixture(scope="module")
def stages(tmp_path_factory: pytest.TempPathFactory) -> StageCosts:
    pages = PageSet(load_templates(PAGES_DIR))
    return run_stages(pages, PAGES, tmp_path_factory.mktemp("stages") / "output")


def test_every_stage_is_timed(stages: StageCosts) -> None:
    assert stages.pages == PAGES
    assert stages.rows + sum(stages.drops.values()) == PAGES
    assert stages.rows >= PAGES - 2
    assert "DuplicateArticle" not in stages.drops
    for stage in STAGES:
        assert stages.seconds[stage] > 0, stage
        assert stages.cpu_seconds[stage] >= 0, stage
    assert stages.signature_seconds > 0
    # trafilatura's work is part of extract, and most of it
    extract_cpu = stages.cpu_seconds["extract"] + stages.cpu_seconds["decode"]
    assert 0.3 * extract_cpu < stages.cpu_seconds[TRAFILATURA] < extract_cpu
    assert stages.total_ms() == pytest.approx(sum(stages.per_page_ms(s) for s in STAGES))


def test_stage_table(stages: StageCosts) -> None:
    inline = crawl_run(workers=0, size=PAGES, report={"stats": {"news/fetch/pages": PAGES}})
    table = stage_table(stages, baseline=(PAGES, 0.2, 0.2), inline=inline)
    lines = table.splitlines()
    assert lines[0] == "| stage | wall ms/page | CPU ms/page | share (wall) |"
    assert [line.split(" | ")[0] for line in lines[2:9]] == [f"| {stage}" for stage in STAGES]
    assert "| for comparison: `trafilatura.extract` | 25.00 | 25.00 |  |" in table
    assert f"crawl of {PAGES:,} pages, EXTRACT_WORKERS=0 (whole process)" in table
    assert "outside the stages" in table
    assert "for comparison" not in stage_table(stages)
    assert f"on the first {PAGES:,} pages" in stage_intro(stages)


def test_the_floor(stages: StageCosts) -> None:
    fetched = crawl_run(pipelines=False, cpu_seconds=0.1, server_cpu_seconds=0.02)
    floor = floor_of(stages, fetched)
    assert floor is not None
    assert floor.trafilatura == stages.per_page_ms(TRAFILATURA, cpu=True)
    assert floor.language == stages.per_page_ms("language", cpu=True)
    assert (floor.fetching, floor.server) == pytest.approx((10.0, 2.0))
    assert floor.total == floor.trafilatura + floor.language + floor.fetching + floor.server
    assert floor_of(None, fetched) is None
    assert floor_of(stages, None) is None
    text = "\n\n".join(floor_section(floor, fetched, crawl_run(), 40.0, 1.6))
    assert text.startswith("### What the target needs")
    assert "| **floor** |" in text
    assert "the target 1.6 needs everything else to cost" in text


def test_alone_it_prints_the_stage_table(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWS_CORPUS_DIR", str(PAGES_DIR))
    assert main(["--pages", "3"]) == 0
    output = capsys.readouterr().out
    assert output.startswith("### Cost per stage")
    assert "| **all stages** |" in output


def test_missing_corpus_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWS_CORPUS_DIR", str(tmp_path))
    assert main(["--pages", "3"]) == 2
    assert "No corpus found" in capsys.readouterr().err
