"""Near-duplicate signatures and their index."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from pipelines.near_duplicates import (
    _FIND_CANDIDATES,
    BANDS,
    MIN_SHINGLES,
    NUM_PERM,
    NearDuplicateIndex,
    PendingIndex,
    Signer,
    shingles,
    similarity,
)

if TYPE_CHECKING:
    from pathlib import Path

STORY = " ".join(
    f"Sentence {n} of the report describes what the council decided about item {n * 7}."
    for n in range(30)
)
OTHER = " ".join(
    f"Paragraph {n} reviews the new album track {n * 3} with praise for its guitar work."
    for n in range(30)
)


def _edited(text: str) -> str:
    return text.replace(
        "Sentence 12 of the report", "Officials later corrected line 12 of the report"
    )


def test_word_shingles() -> None:
    grams = shingles("The quick brown fox. The QUICK brown dog!")
    assert b"the quick brown" in grams
    assert b"quick brown fox" in grams
    assert len(grams) == 5  # 'the quick brown' once, case-folded


def test_character_shingles_for_unspaced_scripts() -> None:
    grams = shingles("中国人民银行今天宣布降息")
    assert "中国人民银".encode() in grams
    assert all(len(gram.decode()) == 5 for gram in grams)


def test_signatures_are_deterministic() -> None:
    first, second = Signer().signature(STORY), Signer().signature(STORY)
    assert first is not None
    assert second is not None
    assert first.dtype == np.uint32
    assert len(first) == NUM_PERM
    assert np.array_equal(first, second)


def test_short_texts_have_no_signature() -> None:
    words = " ".join(f"w{n}" for n in range(MIN_SHINGLES))
    assert Signer().signature(words) is None


def test_similarity_separates_copies_from_different_texts() -> None:
    signer = Signer()
    story, copy, other = (signer.signature(t) for t in (STORY, _edited(STORY), OTHER))
    assert story is not None
    assert copy is not None
    assert other is not None
    assert similarity(story, copy) >= 0.8
    assert similarity(story, other) <= 0.1


def _index(kind: str, tmp_path: Path) -> NearDuplicateIndex | PendingIndex:
    if kind == "pending":
        return PendingIndex(threshold=0.5)
    return NearDuplicateIndex(tmp_path / "near.sqlite3" if kind == "disk" else None, threshold=0.5)


@pytest.mark.parametrize("kind", ["memory", "disk", "pending"])
def test_index_finds_copies_and_not_others(tmp_path: Path, kind: str) -> None:
    signer = Signer()
    index = _index(kind, tmp_path)
    story, copy, other = (signer.signature(t) for t in (STORY, _edited(STORY), OTHER))
    assert story is not None
    assert copy is not None
    assert other is not None
    index.add("hash-story", "row-story", story)
    match = index.find(copy)
    assert match is not None
    assert (match.content_hash, match.row_id) == ("hash-story", "row-story")
    assert match.similarity >= 0.8
    assert index.find(other) is None
    assert index.row_id("hash-story") == "row-story"
    assert len(index) == 1
    index.remove_many(["hash-story"])
    assert index.find(copy) is None
    assert len(index) == 0
    index.close()


def test_index_persists(tmp_path: Path) -> None:
    signer = Signer()
    story, copy = signer.signature(STORY), signer.signature(_edited(STORY))
    assert story is not None
    assert copy is not None
    first = NearDuplicateIndex(tmp_path / "near.sqlite3")
    first.add("h", "r", story)
    first.close()
    second = NearDuplicateIndex(tmp_path / "near.sqlite3")
    match = second.find(copy)
    assert match is not None
    assert match.row_id == "r"
    second.close()


def test_pending_index_answers_like_the_stored_one(tmp_path: Path) -> None:
    generator = np.random.default_rng(5)
    base = [generator.integers(0, 2**32, NUM_PERM, dtype=np.uint32) for _ in range(40)]
    entries = [(f"h{n}", f"r{n}", signature) for n, signature in enumerate(base)]
    stored, pending = _index("disk", tmp_path), _index("pending", tmp_path)
    stored.add_many(entries)
    pending.add_many(entries)
    for signature in base:
        probe = signature.copy()
        changed = generator.choice(NUM_PERM, size=int(generator.integers(0, 40)), replace=False)
        probe[changed] = generator.integers(0, 2**32, len(changed), dtype=np.uint32)
        assert stored.find(probe) == pending.find(probe)
    pending.remove_many([f"h{n}" for n in range(20)])
    stored.remove_many([f"h{n}" for n in range(20)])
    assert len(pending) == len(stored) == 20
    for signature in base:
        assert stored.find(signature) == pending.find(signature)
    stored.close()


def test_stored_lookups_use_the_index_not_a_scan(tmp_path: Path) -> None:
    # a lookup that scans the bands table costs O(stored texts) and stalls long crawls
    index = NearDuplicateIndex(tmp_path / "near.sqlite3")
    plan = index._db.execute("EXPLAIN QUERY PLAN " + _FIND_CANDIDATES, [0, b"k"] * BANDS).fetchall()
    details = [row[3] for row in plan]
    assert any("USING PRIMARY KEY (band=? AND key=?)" in detail for detail in details)
    assert not any(detail.startswith("SCAN bands") for detail in details)
    index.close()
