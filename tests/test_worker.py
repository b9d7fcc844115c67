"""The work on one page (:mod:`extraction.worker`): the extraction, and the later stages' work
on its text, handed on as one :class:`Precomputed` value that holds only for that text."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np
import pytest

from extraction.authors import chinese_byline_patterns
from extraction.extractor import extract_article
from extraction.language import LanguageDetector
from extraction.signature import Signer, from_bytes
from extraction.text import content_hash, normalize_text, normalized
from extraction.worker import (
    Extracted,
    PageOptions,
    Precomputed,
    Rejected,
    Signature,
    _detector,
    _signer,
    precompute,
    process_page,
    warm_up,
)
from tests.test_extractor import READERS, SEED_BODY, SEED_URL, commented_page

if TYPE_CHECKING:
    from collections.abc import Callable

OPTIONS = PageOptions()
SHORT_PAGE = (
    b"<html><head><title>T</title></head><body><article><h1>Short</h1><p>The council met on "
    b"Tuesday and approved the budget for next year.</p></article></body></html>"
)


@pytest.fixture(scope="module")
def seed() -> Extracted:
    outcome = process_page(SEED_BODY, SEED_URL, "text/html", OPTIONS)
    assert isinstance(outcome, Extracted)
    return outcome


def test_the_extraction_is_the_extractors(seed: Extracted) -> None:
    assert seed.extraction == extract_article(SEED_BODY, SEED_URL, "text/html")


def test_the_text_is_detected_normalized_and_signed(seed: Extracted) -> None:
    text = seed.extraction.text
    precomputed = seed.precomputed
    assert precomputed.text_hash == content_hash(text)
    assert precomputed.detection == LanguageDetector().detection(text)
    assert precomputed.detection.language == "en"
    assert precomputed.normalized == normalized(text)
    signature = precomputed.signature
    assert signature is not None
    assert signature.content_hash == content_hash(normalize_text(text))
    assert signature.value is not None
    expected = Signer().signature(normalize_text(text))
    assert expected is not None
    signed = from_bytes(signature.value)
    assert signed is not None
    assert np.array_equal(signed, expected)
    # the work alone, on the text alone
    assert precompute(text, OPTIONS) == precomputed


def test_the_work_is_done_as_the_options_ask(seed: Extracted) -> None:
    options = PageOptions(language_seed=1, language_sample_chars=400)
    outcome = process_page(SEED_BODY, SEED_URL, "text/html", options)
    assert isinstance(outcome, Extracted)
    detection = outcome.precomputed.detection
    assert detection is not None
    assert (detection.seed, detection.sample_chars) == (1, 400)
    assert detection.made_with(seed=1, sample_chars=400)
    assert not detection.made_with(seed=0, sample_chars=400)
    assert not detection.made_with(seed=1, sample_chars=600)
    assert outcome.extraction == seed.extraction


def test_nothing_is_precomputed_for_disabled_stages(seed: Extracted) -> None:
    options = PageOptions(language=False, signature=False)
    outcome = process_page(SEED_BODY, SEED_URL, "text/html", options)
    assert isinstance(outcome, Extracted)
    # the normalize stage always runs: its work is always done
    assert outcome.precomputed == Precomputed(
        text_hash=seed.precomputed.text_hash, normalized=seed.precomputed.normalized
    )


def test_the_worker_keeps_the_comments_only_when_asked() -> None:
    url = "https://news.test/culture/prize-123.html"
    kept = process_page(commented_page(), url, "text/html", OPTIONS)
    left = process_page(commented_page(), url, "text/html", replace(OPTIONS, comments=False))
    assert isinstance(kept, Extracted)
    assert isinstance(left, Extracted)
    assert kept.extraction.comments == "\n\n".join(said for _, said in READERS)
    assert left.extraction.comments is None


def test_a_text_too_short_to_sign_has_a_signature_without_value() -> None:
    outcome = process_page(SHORT_PAGE, "http://demo.test/s", "text/html", PageOptions(
        min_text_chars=20
    ))  # fmt: skip
    assert isinstance(outcome, Extracted)
    normal = normalized(outcome.extraction.text)
    assert outcome.precomputed.signature == Signature(content_hash=normal.content_hash, value=None)


def test_a_page_that_is_no_article_comes_back_rejected_with_its_reason() -> None:
    outcome = process_page(b"%PDF-1.4", "http://demo.test/a.pdf", "application/pdf", OPTIONS)
    assert outcome == Rejected(
        reason="NotHtml", message="content type 'application/pdf' is not HTML"
    )
    short = process_page(SHORT_PAGE, "http://demo.test/s", "text/html", OPTIONS)
    assert isinstance(short, Rejected)
    assert short.reason == "NotAnArticle"


# --- Precomputed ------------------------------------------------------------------------------


def test_precomputed_holds_only_for_its_text(seed: Extracted) -> None:
    text = seed.extraction.text
    assert seed.precomputed.for_text(text)
    assert not seed.precomputed.for_text("Other. " + text)
    assert not seed.precomputed.for_text(text + " ")


def test_an_edit_after_the_sample_keeps_the_detection(seed: Extracted) -> None:
    text = seed.extraction.text
    detection = seed.precomputed.detection
    assert detection is not None
    assert len(text) > detection.sample_chars
    edited = text[: detection.sample_chars] + text[detection.sample_chars :].replace(
        "Shoigu", "Shoygu"
    )
    assert edited != text
    for new in (edited, text + "\n\nOne more paragraph.", text[: detection.sample_chars]):
        after = seed.precomputed.after_edit(text, new)
        assert after.for_text(new)
        assert not after.for_text(text)
        assert after.detection == detection
        # what was computed on the whole text no longer holds
        assert after.normalized is None
        assert after.signature is None


@pytest.mark.parametrize(
    "edit",
    [
        lambda text: "Breaking. " + text,
        lambda text: text.replace("Russian", "Soviet", 1),
        lambda text: text[:100],
        lambda text: "",
    ],
)
def test_an_edit_within_the_sample_drops_the_detection(
    seed: Extracted, edit: Callable[[str], str]
) -> None:
    text = seed.extraction.text
    new = edit(text)
    assert new[:600] != text[:600]
    after = seed.precomputed.after_edit(text, new)
    assert after == Precomputed(text_hash=content_hash(new))
    assert after.for_text(new)


def test_after_edit_of_nothing_done_is_nothing_done(seed: Extracted) -> None:
    text = seed.extraction.text
    bare = Precomputed(text_hash=content_hash(text))
    assert bare.after_edit(text, text + " More.") == Precomputed(
        text_hash=content_hash(text + " More.")
    )


# --- PageOptions and warm_up ------------------------------------------------------------------


def test_warm_up_makes_what_the_pages_reuse() -> None:
    # a seed no other test uses: its detector is made here, once
    options = PageOptions(language_seed=12345, signature=False)
    detectors, signers = _detector.cache_info(), _signer.cache_info()
    warm_up(options)
    warm_up(options)
    assert _detector.cache_info().misses == detectors.misses + 1
    assert _detector(12345, options.language_sample_chars).seed == 12345
    assert _signer.cache_info() == signers  # not asked for
    warm_up(PageOptions(language=False))
    assert _signer.cache_info().currsize == 1
    assert _detector.cache_info().misses == detectors.misses + 1
    # the Chinese byline patterns, compiled lazily (off the crawl's start), are made here too
    assert chinese_byline_patterns.cache_info().currsize == 1


def test_the_crawl_process_does_not_compile_the_chinese_byline_patterns() -> None:
    """Importing the extraction library (as the crawl process does) leaves them uncompiled."""
    probe = (
        "import extraction.extractor, extraction.worker\n"
        "from extraction.authors import chinese_byline_patterns\n"
        "print(chinese_byline_patterns.cache_info().currsize)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "0"
