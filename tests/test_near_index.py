"""Finding near-duplicate texts by their signatures: the index of texts not yet committed
(:class:`dataset.state.near_index.PendingIndex`) and the stored one
(:class:`dataset.state.embedded.NearDuplicateIndex`) answer alike."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pytest

from dataset.state.embedded import _FIND_CANDIDATES, NearDuplicateIndex
from dataset.state.near_index import BANDS, ROWS, Match, PendingIndex, band_keys, best_match
from extraction.signature import NUM_PERM, Signer
from tests.test_signature import OTHER, STORY, edited

if TYPE_CHECKING:
    from pathlib import Path


def _index(kind: str, tmp_path: Path) -> NearDuplicateIndex | PendingIndex:
    if kind == "pending":
        return PendingIndex(threshold=0.5)
    return NearDuplicateIndex(tmp_path / "near.sqlite3" if kind == "disk" else None, threshold=0.5)


@pytest.mark.parametrize("kind", ["memory", "disk", "pending"])
def test_index_finds_copies_and_not_others(tmp_path: Path, kind: str) -> None:
    signer = Signer()
    index = _index(kind, tmp_path)
    story, copy, other = (signer.signature(t) for t in (STORY, edited(STORY), OTHER))
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
    story, copy = signer.signature(STORY), signer.signature(edited(STORY))
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


def test_pending_index_reuses_the_rows_of_removed_texts(tmp_path: Path) -> None:
    # rows freed by a commit are taken by the next texts; growing past the first capacity and
    # emptying the index entirely (which gives its arrays back) keep the answers the same
    generator = np.random.default_rng(11)
    signatures = [generator.integers(0, 2**32, NUM_PERM, dtype=np.uint32) for _ in range(600)]
    stored, pending = _index("disk", tmp_path), _index("pending", tmp_path)
    assert isinstance(pending, PendingIndex)

    def add(numbers: range) -> None:
        entries = [(f"h{n}", f"r{n}", signatures[n]) for n in numbers]
        stored.add_many(entries)
        pending.add_many(entries)

    def remove(numbers: range) -> None:
        stored.remove_many([f"h{n}" for n in numbers])
        pending.remove_many([f"h{n}" for n in numbers])

    def answers_alike() -> None:
        assert len(stored) == len(pending)
        for signature in signatures:
            probe = signature.copy()
            probe[generator.choice(NUM_PERM, size=20, replace=False)] += 1
            assert stored.find(probe) == pending.find(probe)
            assert stored.find(signature) == pending.find(signature)

    add(range(300))
    remove(range(0, 300, 2))
    add(range(300, 450))  # into the freed rows
    answers_alike()
    entry = pending.entry("h301")
    assert entry is not None
    assert entry[0] == "r301"
    assert (entry[1] == signatures[301]).all()
    assert pending.row_id("h0") is None
    assert pending.entry("h0") is None
    remove(range(600))
    assert len(pending) == 0
    assert pending.find(signatures[301]) is None
    add(range(450, 600))
    answers_alike()
    stored.close()


def test_stored_lookups_use_the_index_not_a_scan(tmp_path: Path) -> None:
    # a lookup that scans the bands table costs O(stored texts) and stalls long crawls
    index = NearDuplicateIndex(tmp_path / "near.sqlite3")
    plan = index._db.execute("EXPLAIN QUERY PLAN " + _FIND_CANDIDATES, [0, b"k"] * BANDS).fetchall()
    details = [row[3] for row in plan]
    assert any("USING PRIMARY KEY (band=? AND key=?)" in detail for detail in details)
    assert not any(detail.startswith("SCAN bands") for detail in details)
    index.close()


def test_bands_cover_the_signature_but_one_value() -> None:
    assert BANDS * ROWS <= NUM_PERM
    signature = np.arange(NUM_PERM, dtype=np.uint32)
    keys = band_keys(signature)
    assert len(keys) == BANDS
    assert len(set(keys)) == BANDS
    # a change in one band changes that band's key only
    changed = signature.copy()
    changed[ROWS] += 1
    assert [a == b for a, b in zip(keys, band_keys(changed), strict=True)] == [
        band != 1 for band in range(BANDS)
    ]


def test_best_match_is_the_most_similar_at_or_above_the_threshold() -> None:
    signature = np.arange(NUM_PERM, dtype=np.uint32)

    def differing_in(count: int) -> bytes:
        other = signature.copy()
        other[:count] += 1
        return other.tobytes()

    stored = [("h-half", "r-half", differing_in(32)), ("h-close", "r-close", differing_in(8))]
    assert best_match(signature, stored, 0.5) == Match(
        content_hash="h-close", row_id="r-close", similarity=56 / 64
    )
    assert best_match(signature, stored[:1], 0.5) == Match(
        content_hash="h-half", row_id="r-half", similarity=0.5
    )
    assert best_match(signature, stored, 0.9) is None
    assert best_match(signature, [], 0.0) is None
