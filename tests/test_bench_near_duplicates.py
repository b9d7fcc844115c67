"""The near-duplicate benchmark's pair making and scoring, on the pages bundled in
``demo/pages`` (the corpus's manifest format), so that ``make test`` runs it without the corpus."""

from __future__ import annotations

from random import Random
from typing import TYPE_CHECKING

import pytest

from bench.harness.corpus import load_pages
from bench.near_duplicates import (
    DUPLICATE_KINDS,
    FOLLOW_UP_KIND,
    NOTES,
    TEMPLATES,
    Counts,
    Pair,
    Scored,
    Text,
    counts_at,
    follow_up,
    index_finds,
    join_units,
    labelled_pairs,
    leading_paragraphs,
    load_texts,
    main,
    manifest_duplicates,
    recommended,
    score_pairs,
    units,
)
from dataset.state.embedded import NearDuplicateIndex
from dataset.state.near_index import DEFAULT_THRESHOLD
from demo.site import PAGES_DIR
from extraction.signature import Signer, similarity

if TYPE_CHECKING:
    from pathlib import Path

ENGLISH = "fundus/us-VoiceOfAmerica_2024_04_28"
OTHER_ENGLISH = "fundus/tw-TaipeiTimes_2024_10_15"
CHINESE = "fundus/cn-People_2024_04_24"


@pytest.fixture(scope="module")
def texts() -> dict[str, Text]:
    return {text.id: text for text in load_texts(load_pages(PAGES_DIR))}


@pytest.fixture(scope="module")
def signer() -> Signer:
    return Signer()


def score(signer: Signer, first: str, second: str) -> float:
    a, b = signer.signature(first), signer.signature(second)
    assert a is not None
    assert b is not None
    return similarity(a, b)


def copies(text: Text, texts: dict[str, Text]) -> dict[str, str]:
    rng, others = Random(0), list(texts.values())
    return {kind: "\n\n".join(make(text, rng, others)) for kind, make in DUPLICATE_KINDS}


def test_units_of_spaced_and_unspaced_text() -> None:
    assert units("Die  Regierung\nplant", unspaced=False) == ["Die", "Regierung", "plant"]
    assert units("香港行政长官", unspaced=True) == ["香港", "行政", "长官"]
    assert join_units(units("香港行政长官。", unspaced=True), unspaced=True) == "香港行政长官。"
    assert leading_paragraphs(["a" * 10, "b" * 50, "c" * 40], 0.5) == 2
    assert leading_paragraphs(["a" * 10, "b" * 50, "c" * 40], 0.7) == 3


def test_every_kind_of_edited_copy_scores_above_the_default(
    texts: dict[str, Text], signer: Signer
) -> None:
    text = texts[ENGLISH]
    made = copies(text, texts)
    scores = {kind: score(signer, text.text, copy) for kind, copy in made.items()}
    assert min(scores.values()) >= DEFAULT_THRESHOLD, scores
    assert scores["sentence edited"] > 0.9
    assert scores["note added"] > 0.9
    assert scores["truncated to 70%"] < scores["paragraph removed"]
    # what each kind of copy is
    cut = made["truncated to 70%"]
    assert text.text.startswith(cut)
    assert 0.7 <= len(cut) / len(text.text) < 0.8
    assert len(made["paragraph removed"].split("\n\n")) == len(text.paragraphs) - 1
    assert any(note in made["note added"] for note in NOTES)
    footers = {line for template in TEMPLATES for line in template.footer}
    assert any(footer in made["re-templated"] for footer in footers)
    original, reworded = text.text.split(), made["reworded 5-10%"].split()
    changed = sum(a != b for a, b in zip(original, reworded, strict=True))
    assert 0.04 * len(original) <= changed <= 0.10 * len(original)


def test_chinese_copies_score_above_the_default(texts: dict[str, Text], signer: Signer) -> None:
    text = texts[CHINESE]
    assert text.unspaced
    made = copies(text, texts)
    for kind in ("sentence edited", "note added", "re-templated + edited", "truncated to 70%"):
        assert score(signer, text.text, made[kind]) >= DEFAULT_THRESHOLD, kind


def test_different_articles_score_far_below_the_default(
    texts: dict[str, Text], signer: Signer
) -> None:
    english = [text for text in texts.values() if text.language == "en"]
    assert len(english) >= 5
    scores = [
        score(signer, a.text, b.text) for i, a in enumerate(english) for b in english[i + 1 :]
    ]
    assert max(scores) < 0.1


def test_follow_up_repeats_half_and_stays_below_the_default(
    texts: dict[str, Text], signer: Signer
) -> None:
    first, second = texts[ENGLISH], texts[OTHER_ENGLISH]
    spliced = follow_up(first.paragraphs, second.paragraphs)
    assert spliced is not None
    kept = leading_paragraphs(first.paragraphs, 0.5)
    assert spliced[:kept] == first.paragraphs[:kept]
    assert spliced[kept:] == second.paragraphs[1 : len(spliced) - kept + 1]
    assert 0.2 < score(signer, first.text, "\n\n".join(spliced)) < DEFAULT_THRESHOLD
    assert follow_up(["one long paragraph " * 20, "short"], second.paragraphs) is None


def test_labelled_pairs_are_deterministic_and_labelled(texts: dict[str, Text]) -> None:
    ordered = list(texts.values())
    pairs = labelled_pairs(ordered, [])
    assert pairs == labelled_pairs(ordered, [])
    bases = [text for text in ordered if len(text.paragraphs) >= 8]
    kinds = {pair.kind: pair.duplicate for pair in pairs}
    for kind, _ in DUPLICATE_KINDS:
        assert kinds[kind] is True
        assert sum(pair.kind == kind for pair in pairs) == len(bases)
    assert kinds[FOLLOW_UP_KIND] is False
    assert kinds["same lead, other story"] is False
    for pair in pairs:
        if not pair.duplicate and pair.kind in ("same language", "most similar articles"):
            assert pair.first_id != pair.second_id
            assert texts[pair.first_id].language == texts[pair.second_id].language
    assert manifest_duplicates(PAGES_DIR) == []


def test_scores_index_lookups_and_counts(texts: dict[str, Text]) -> None:
    text, other = texts[ENGLISH], texts[OTHER_ENGLISH]
    edited = copies(text, texts)["re-templated + edited"]
    pairs = [
        Pair("copy", True, "a", "a'", text.text, edited),
        Pair("other", False, "a", "b", text.text, other.text),
        Pair("too short", True, "c", "c'", "Too short to compare.", "Too short to compare."),
    ]
    copy, distinct, short = score_pairs(pairs)
    assert copy.similarity >= DEFAULT_THRESHOLD
    assert copy.candidate
    assert copy.found
    assert distinct.similarity < 0.1
    assert not distinct.found
    assert (short.comparable, short.similarity, short.found) == (False, 0.0, False)
    assert counts_at([copy, distinct, short], DEFAULT_THRESHOLD) == Counts(1, 0, 1, 1)

    signer, index = Signer(), NearDuplicateIndex()
    first, second = signer.signature(text.text), signer.signature(edited)
    assert first is not None
    assert second is not None
    assert index_finds(index, first, second)
    assert len(index) == 0  # the stored side is removed again
    index.close()


def scored(kind: str, duplicate: bool, value: float) -> Scored:
    pair = Pair(kind, duplicate, "x", "y", "", "")
    return Scored(pair, value, comparable=True, candidate=value >= 0.3, found=False)


def test_precision_recall_and_recommended_threshold() -> None:
    items = [
        scored("dup", True, 0.9),
        scored("dup", True, 0.6),
        scored("dup", True, 0.45),
        scored("distinct", False, 0.4),
        scored("distinct", False, 0.1),
    ]
    counts = counts_at(items, 0.5)
    assert counts == Counts(2, 0, 1, 2)
    assert (counts.precision, counts.recall) == (1.0, pytest.approx(2 / 3))
    assert counts.f1 == pytest.approx(0.8)
    low = counts_at(items, 0.4)
    assert (low.precision, low.recall) == (0.75, 1.0)
    assert counts_at(items, 0.2, lsh=True) == Counts(3, 1, 0, 1)  # 0.1 shares no band
    assert recommended(items, [0.4, 0.45, 0.5]) == 0.45
    assert recommended(items, [0.4, 0.5]) is None
    assert Counts(0, 0, 0, 3).precision == 1.0


def test_benchmark_runs_on_the_demo_pages(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWS_CORPUS_DIR", str(PAGES_DIR))
    assert main([]) == 0
    output = capsys.readouterr().out
    assert f"{DEFAULT_THRESHOLD:.2f} (default)" in output
    assert "precision" in output
    assert "recall" in output
    assert "re-templated + edited" in output


def test_missing_corpus_exits_with_status_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWS_CORPUS_DIR", f"{tmp_path}/nowhere")
    assert main([]) == 2
    error = capsys.readouterr().err
    assert "nowhere" in error
    assert "NEWS_CORPUS_DIR" in error
