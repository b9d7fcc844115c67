"""Near-duplicate signatures (:mod:`extraction.signature`): shingles, MinHash signatures and
their similarity."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from extraction.signature import (
    MIN_SHINGLES,
    NUM_PERM,
    Signer,
    from_bytes,
    shingles,
    similarity,
)

STORY = " ".join(
    f"Sentence {n} of the report describes what the council decided about item {n * 7}."
    for n in range(30)
)
OTHER = " ".join(
    f"Paragraph {n} reviews the new album track {n * 3} with praise for its guitar work."
    for n in range(30)
)


def edited(text: str) -> str:
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
    story, copy, other = (signer.signature(t) for t in (STORY, edited(STORY), OTHER))
    assert story is not None
    assert copy is not None
    assert other is not None
    assert similarity(story, copy) >= 0.8
    assert similarity(story, other) <= 0.1


def test_a_signature_kept_as_bytes_comes_back() -> None:
    signature = Signer().signature(STORY)
    assert signature is not None
    back = from_bytes(signature.tobytes())
    assert back is not None
    assert np.array_equal(back, signature)
    assert from_bytes(signature[:10].tobytes()) is None
    assert from_bytes(b"") is None


def test_signatures_are_datasketchs() -> None:
    """The signatures are those datasketch 2.0's MinHash made of the same shingles (kept in a
    golden file), so the signatures stored in a crawl state stay comparable."""
    golden = Path(__file__).parent / "golden"
    expected = json.loads((golden / "signatures.json").read_text(encoding="utf-8"))["signatures"]
    assert len(expected) >= 10
    signer = Signer()
    kinds = set()
    for name, value in expected.items():
        text = json.loads((golden / name).read_text(encoding="utf-8"))["text"]
        signature = signer.signature(text)
        assert signature is not None, name
        assert signature.dtype == np.uint32
        assert signature.tobytes().hex() == value, name
        # word 3-grams hold spaces; character 5-grams (unspaced scripts) hold none
        kinds.add("words" if all(b" " in gram for gram in shingles(text)) else "characters")
    assert kinds == {"words", "characters"}  # both kinds of shingles are covered
