"""The benchmarks' reports: tables, the machine line, ``bench/RESULTS.md`` sections, and the
command-line helpers."""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

import pytest

from bench.harness.report import (
    MIB,
    command_of,
    count,
    counts,
    durations_line,
    extract_workers_list,
    machine_line,
    markdown_table,
    mib,
    positive,
    positive_list,
    publish,
    quiet_noisy_loggers,
    timed_step,
    update_section,
    work_dir,
    workers_label,
)

if TYPE_CHECKING:
    from pathlib import Path


def test_tables_and_numbers() -> None:
    assert markdown_table(["a", "b"], [["1", "2"], ["3", "4"]]) == (
        "| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |"
    )
    assert mib(1536 * MIB) == "1,536"
    assert counts({"NotAnArticle": 2, "ListingPage": 1}) == "NotAnArticle 2, ListingPage 1"
    assert counts({}) == "none"
    assert workers_label(None) == "default"
    assert workers_label(0) == "0"
    assert (
        durations_line({"crawl": 12.4, "baseline": 3.6}) == "Run times: crawl: 12 s, baseline: 4 s."
    )


def test_machine_line_names_the_versions() -> None:
    line = machine_line(("trafilatura", "pyarrow"))
    assert "usable), Linux" in line
    assert "trafilatura " in line
    assert "pyarrow " in line
    assert line.endswith("crawler 0.1.0")
    assert "Scrapy " in machine_line()


def test_results_section_is_replaced_between_markers(tmp_path: Path) -> None:
    results = tmp_path / "RESULTS.md"
    update_section("extraction", "first run", results)
    update_section("other", "kept", results)
    update_section("extraction", "second run", results)
    text = results.read_text(encoding="utf-8")
    assert text.startswith("# Benchmark results")
    assert text.count("<!-- extraction:start -->") == text.count("<!-- extraction:end -->") == 1
    assert "second run" in text
    assert "first run" not in text
    assert "kept" in text
    assert text.index("second run") < text.index("kept")  # a section keeps its place


def test_publish_prints_and_writes_when_asked(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "RESULTS.md"
    publish("## Report", "section", write=False, path=results)
    assert capsys.readouterr().out == "## Report\n"
    assert not results.exists()
    publish("## Report", "section", write=True, path=results)
    assert "<!-- section:start -->\n## Report\n<!-- section:end -->" in results.read_text()
    assert f"Wrote {results}" in capsys.readouterr().err


def test_steps_commands_and_loggers(capsys: pytest.CaptureFixture[str]) -> None:
    durations: dict[str, float] = {}
    assert timed_step(durations, "step", lambda: 42) == 42
    assert list(durations) == ["step"]
    assert "step ..." in capsys.readouterr().err
    assert command_of("bench.x", ["--pages", "a b"]) == ".venv/bin/python -m bench.x --pages 'a b'"
    assert command_of("bench.x", None).startswith(".venv/bin/python -m bench.x")
    quiet_noisy_loggers()
    assert logging.getLogger("trafilatura").level == logging.CRITICAL


def test_work_dir_is_temporary_unless_kept(tmp_path: Path) -> None:
    with work_dir(None, "bench") as folder:
        (folder / "file").write_text("x")
        assert folder.name.startswith("bench-")
    assert not folder.exists()
    with work_dir(tmp_path / "keep", "bench") as kept:
        (kept / "file").write_text("x")
    assert (kept / "file").exists()
    assert kept.parent == tmp_path / "keep"


def test_argument_types() -> None:
    assert positive("2_000") == 2000
    assert count("0") == 0
    assert positive_list("2000,10_000,2000") == (2000, 10000)
    assert extract_workers_list("default,0,2,0") == (None, 0, 2)
    for parse, value in (
        (positive, "0"),
        (count, "-1"),
        (positive_list, "1,0"),
        (positive_list, "x"),
        (extract_workers_list, "some"),
    ):
        with pytest.raises(argparse.ArgumentTypeError):
            parse(value)
