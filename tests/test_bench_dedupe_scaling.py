"""The dedupe scaling benchmark at a tiny size: real timings, RSS, disk and planted copies."""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING

import pytest

from bench import dedupe_scaling
from bench.dedupe_scaling import (
    MAX_SENTENCE,
    MAX_WORDS,
    MIN_WORDS,
    PLANT_EVERY,
    SECTION,
    TENTH_ROWS,
    Measurement,
    Vocabulary,
    article_text,
    is_planted,
    jaccard,
    measure,
    near_copy,
    report,
)
from bench.harness import report as report_module
from dataset.state.embedded import NEAR_STATE_FILE, STATE_FILE
from dataset.state.near_index import BANDS, DEFAULT_THRESHOLD, ROWS

if TYPE_CHECKING:
    from pathlib import Path

SIZE = 2000


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Measurement:
    return measure(SIZE, tmp_path_factory.mktemp("dedupe-scaling"))


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary.make()


def test_articles_are_deterministic_distinct_and_article_sized(vocabulary: Vocabulary) -> None:
    texts = [article_text(index, vocabulary) for index in range(300)]
    assert texts == [article_text(index, vocabulary) for index in range(300)]
    assert len(set(texts)) == len(texts)
    assert all(MIN_WORDS <= len(text.split()) < MAX_WORDS + MAX_SENTENCE for text in texts)
    assert all("\n\n" in text for text in texts)
    assert max(jaccard(texts[0], other) for other in texts[1:]) < 0.1


def test_planted_copy_is_a_near_copy_of_an_earlier_original(vocabulary: Vocabulary) -> None:
    index = 3 * PLANT_EVERY - 1
    assert is_planted(index)
    source, text = near_copy(index, vocabulary)
    assert source < index
    assert not is_planted(source)
    original = article_text(source, vocabulary)
    assert text != original
    assert DEFAULT_THRESHOLD < jaccard(text, original) < 1.0


def test_tiny_run_measures_real_values(measured: Measurement) -> None:
    assert measured.planted == SIZE // PLANT_EVERY == 2
    assert measured.found == measured.planted
    assert measured.false_matches == measured.exact_hits == measured.no_signature == 0
    assert measured.stored == SIZE - measured.planted
    for step in ("signature_s", "exact_s", "near_s", "pending_s", "commit_s"):
        assert measured.per_article_ms(measured.total(step)) > 0, step
    assert measured.wall_s >= measured.dedupe_s > 0
    assert measured.written > measured.disk_bytes / 2  # the WAL passes every page written
    assert set(measured.disk) >= {STATE_FILE, NEAR_STATE_FILE}
    assert measured.disk_bytes > measured.stored * 100
    assert measured.tables[f"{NEAR_STATE_FILE}:bands"] > 0
    assert measured.peak_rss >= measured.rss_end > 0
    assert measured.rss_tenth > 0
    assert len(measured.tenths) == 10
    assert sum(tenth.articles for tenth in measured.tenths) == SIZE
    assert all(tenth.rss > 0 and tenth.disk > 0 for tenth in measured.tenths)


def test_measurement_round_trips_through_json(measured: Measurement) -> None:
    assert Measurement.from_json(measured.to_json()) == measured


def test_report_has_the_tables(measured: Measurement) -> None:
    text = report([measured], "cmd")
    assert "| 2,000 |" in text
    assert "2/2" in text
    assert f"Machine: {os.cpu_count()} CPUs" in text
    assert text.count("\n| 2,000 |") == 1 + len(TENTH_ROWS)  # summary and by-tenth rows
    assert f"Index: {BANDS} bands × {ROWS} rows" in text
    assert "Warning" not in text


def test_report_warns_when_sizes_ran_on_different_code(measured: Measurement) -> None:
    other = dataclasses.replace(measured, code="other code")
    assert "measured on different code" in report([measured, other], "cmd")


def test_main_runs_each_size_in_a_subprocess_and_writes_its_section(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    written: dict[str, str] = {}
    monkeypatch.setattr(
        report_module, "update_section", lambda name, text, path: written.__setitem__(name, text)
    )
    args = ["--sizes", "1000", "--workdir", str(tmp_path), "--write-results"]
    assert dedupe_scaling.main(args) == 0
    text = written[SECTION]
    assert "--sizes 1000 --write-results" in text
    assert "| 1,000 |" in text
    assert "1/1" in text
    assert list(tmp_path.iterdir()) == []  # the temporary OUTPUT_DIR is gone
