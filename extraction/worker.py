"""The whole CPU-bound work on one page, as the extraction workers do it.

:func:`process_page` is a plain function (bytes, URL and header in, a plain value out): the
extraction, then the work the later stages of the crawl would do on the extracted text (language
detection, normalized text, near-duplicate signature), done here where the cores are, and
handed on as one :class:`Precomputed` value valid only for the text it was computed on.
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from dataclasses import dataclass, replace
from functools import cache

from extraction.authors import chinese_byline_patterns
from extraction.extractor import (
    MIN_TEXT_CHARS,
    Extraction,
    ExtractionError,
    extract_article,
    load_libraries,
)
from extraction.language import DEFAULT_SAMPLE_CHARS, DEFAULT_SEED, Detection, LanguageDetector
from extraction.memory import WORKER_TRIM_PAGES, give_back
from extraction.signature import Signer
from extraction.text import NormalizedText, content_hash, normalized


@dataclass(frozen=True, kw_only=True)
class PageOptions:
    """What the worker needs to know besides the page (plain values: they are pickled)."""

    min_text_chars: int = MIN_TEXT_CHARS
    comments: bool = True
    """Keep the readers' comments (``EXTRACT_COMMENTS``)."""
    second_opinion: bool = True
    """Ask readability about the text's ends (``EXTRACT_SECOND_OPINION``)."""
    language: bool = True
    """Detect the language (the language stage runs)."""
    language_seed: int = DEFAULT_SEED
    language_sample_chars: int = DEFAULT_SAMPLE_CHARS
    signature: bool = True
    """Sign the normalized text (near-duplicate detection runs)."""


@dataclass(frozen=True, kw_only=True)
class Signature:
    """The near-duplicate signature of a normalized text."""

    content_hash: str
    """The content hash of the normalized text it was computed on."""
    value: bytes | None
    """The MinHash values (``numpy.uint32`` bytes); ``None`` for a text too short to sign."""


@dataclass(frozen=True, kw_only=True)
class Precomputed:
    """Work done on an extracted text, for the stages that follow the extraction.

    It is keyed by the text it was computed on (``text_hash``): a stage uses it only while the
    text it holds is that text (:meth:`for_text`); a stage that edits the text keeps what still
    holds (:meth:`after_edit`).
    """

    text_hash: str
    """:func:`extraction.text.content_hash` of the text this was computed on."""
    normalized: NormalizedText | None = None
    detection: Detection | None = None
    """The language detection; ``None`` when it was not asked for."""
    signature: Signature | None = None
    """The signature of ``normalized.text``; ``None`` when it was not asked for."""

    def for_text(self, text: str) -> bool:
        """Whether this was computed on ``text``."""
        return content_hash(text) == self.text_hash

    def after_edit(self, old: str, new: str) -> Precomputed:
        """What still holds for ``new``, an edit of ``old`` (the text this was computed on):
        the language detection when the part of the text it read is unchanged."""
        detection = self.detection
        if detection is not None and old[: detection.sample_chars] != new[: detection.sample_chars]:
            detection = None
        return replace(
            self, text_hash=content_hash(new), normalized=None, detection=detection, signature=None
        )


@dataclass(frozen=True, kw_only=True)
class Extracted:
    """A page that gave an article."""

    extraction: Extraction
    precomputed: Precomputed


@dataclass(frozen=True, kw_only=True)
class Rejected:
    """A page that gave no article."""

    reason: str
    """One of :data:`extraction.extractor.REASONS`."""
    message: str


@cache
def _detector(seed: int, sample_chars: int) -> LanguageDetector:
    # One per worker process (loading the profiles takes a while); reused for every page.
    return LanguageDetector(seed=seed, sample_chars=sample_chars)


@cache
def _signer() -> Signer:
    return Signer()


def warm_up(options: PageOptions | None = None) -> None:
    """Make what :func:`process_page` reuses from page to page for ``options`` (by default,
    the default options), so that processes forked afterwards inherit it."""
    options = options or PageOptions()
    load_libraries()
    chinese_byline_patterns()
    if options.language:
        _detector(options.language_seed, options.language_sample_chars)
    if options.signature:
        _signer()


def precompute(text: str, options: PageOptions) -> Precomputed:
    """The later stages' work on ``text``, as ``options`` ask for it."""
    detection = None
    if options.language:
        detection = _detector(options.language_seed, options.language_sample_chars).detection(text)
    normal = normalized(text)
    signature = None
    if options.signature:
        value = _signer().signature(normal.text)
        signature = Signature(
            content_hash=normal.content_hash, value=value.tobytes() if value is not None else None
        )
    return Precomputed(
        text_hash=content_hash(text), normalized=normal, detection=detection, signature=signature
    )


def process_page(
    body: bytes, url: str, content_type: str | None, options: PageOptions
) -> Extracted | Rejected:
    """Extract one page and do the later stages' work on its text (and every
    :data:`~extraction.memory.WORKER_TRIM_PAGES` pages, give the memory freed back)."""
    try:
        extraction = extract_article(
            body,
            url,
            content_type,
            min_text_chars=options.min_text_chars,
            comments=options.comments,
            second_opinion=options.second_opinion,
        )
    except ExtractionError as exc:
        return Rejected(reason=exc.reason, message=str(exc))
    else:
        return Extracted(extraction=extraction, precomputed=precompute(extraction.text, options))
    finally:
        if next(_pages) % WORKER_TRIM_PAGES == 0:
            give_back()


_pages = itertools.count(1)


def detect_language(text: str, seed: int, sample_chars: int) -> Detection:
    """The language of ``text``, by this process's detector (in a worker: the one its fork
    server loaded), for a text a later stage changed (the crawl process then loads no
    profiles of its own)."""
    return _detector(seed, sample_chars).detection(text)


def ready(pause: float = 0.0) -> int:
    """The worker's process id, after ``pause`` seconds: the tasks a
    :class:`~extraction.pool.PagePool` gives first, to start its workers before the first page
    comes (the pause keeps a worker from taking them all while another starts)."""
    if pause:
        time.sleep(pause)
    return os.getpid()


def imported_packages(*_: object) -> list[str]:
    """The top-level packages this process has imported, sorted (takes and ignores
    :func:`process_page`'s arguments, so a :class:`~extraction.pool.PagePool` can run it in a
    worker: what a worker loads is checked by the tests and measured by the benches)."""
    return sorted({name.split(".", 1)[0] for name in list(sys.modules)})
