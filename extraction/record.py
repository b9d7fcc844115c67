"""One article record from one page, without Scrapy: what the crawl's extract, language and
normalize stages do to a page, as plain functions, for analysts who re-run them on stored HTML.

>>> from extraction.record import article_record
>>> record = article_record(html_bytes, "https://example.com/news/1")  # doctest: +SKIP
>>> record["title"], record["language"], record["published_at"]  # doctest: +SKIP

The functions that change a record work on any mutable mapping with the article's field names
(a dict, or a Scrapy item through ``ItemAdapter``).
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from extraction.article import row_of
from extraction.dates import to_utc
from extraction.extractor import MIN_TEXT_CHARS, extract_article
from extraction.language import DEFAULT_MIN_CONFIDENCE, LanguageDetector, choose_language
from extraction.structured import MAX_TITLE_CHARS, MAX_URL_CHARS, unique_texts, within
from extraction.text import NormalizedText, normalize_field, normalize_text, normalized
from extraction.urls import DEFAULT_TRACKING_PARAMS, host_of, normalize_url

if TYPE_CHECKING:
    from collections.abc import Iterable, MutableMapping

    from extraction.extractor import Extraction

# Publication dates before this year are parsing accidents, not news.
EARLIEST_YEAR = 1990
# Clock skew allowed between a publisher's clock and ours.
FUTURE_SLACK = timedelta(days=1)


def apply_extraction(record: MutableMapping[str, Any], result: Extraction) -> None:
    """Put what a page says into a record (its fields have the record's names); what a feed or
    sitemap said about the page (``listed_title``, ``listed_published_at``,
    ``listed_modified_at``) fills the gaps (but a title longer than a page's may be:
    :data:`extraction.structured.MAX_TITLE_CHARS`)."""
    record.update((field.name, getattr(result, field.name)) for field in dataclasses.fields(result))
    if not record.get("title"):
        record["title"] = within(record.get("listed_title"), MAX_TITLE_CHARS)
    for name in ("published_at", "modified_at"):
        if not record.get(name):
            record[name] = record.get(f"listed_{name}")


def apply_detection(
    record: MutableMapping[str, Any],
    detected: str | None,
    confidence: float | None,
    *,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
) -> tuple[str | None, float | None]:
    """Set ``language`` and ``language_confidence`` from a detection of the record's text
    (and, when it is unsure, the ``source_language`` a crawl's sources file gives, else the
    page's ``declared_language``: :func:`extraction.language.choose_language`); returns them."""
    fallback = record.get("source_language") or record.get("declared_language")
    language, confidence = choose_language(
        detected, confidence, fallback, min_confidence=min_confidence
    )
    record["language"] = language
    record["language_confidence"] = confidence
    return language, confidence


def plausible_published(value: datetime | None, fetched_at: datetime) -> datetime | None:
    """``value`` if it can be a publication time: after 1990 and not after the fetch."""
    if value is None:
        return None
    if value.year < EARLIEST_YEAR or value > fetched_at + FUTURE_SLACK:
        return None
    return value


def utc_offset_minutes(value: datetime | None) -> int | None:
    """The UTC offset of an aware datetime in minutes (``None`` for a naive one)."""
    offset = value.utcoffset() if value is not None else None
    return None if offset is None else int(offset.total_seconds() // 60)


def row_id(url: str, text_hash: str) -> str:
    """The row id: BLAKE2b-128 of the normalized URL and the content hash."""
    return hashlib.blake2b(f"{url}\n{text_hash}".encode(), digest_size=16).hexdigest()


def normalize_article(
    record: MutableMapping[str, Any],
    tracking_params: Iterable[str] = DEFAULT_TRACKING_PARAMS,
    *,
    text: NormalizedText | None = None,
) -> None:
    """Normalize a record in place: text and one-line fields, URLs (a canonical URL longer
    than :data:`extraction.structured.MAX_URL_CHARS` once normalized is the fetched URL's),
    timestamps (UTC; an implausible publication or modification time becomes ``None``), and
    set ``source``, ``word_count``, ``content_hash`` and ``id``. ``text`` is the record's text
    normalized already (by the extraction worker), if it was."""
    if text is None:
        text = normalized(record.get("text") or "")
    url = normalize_url(record["url"], tracking_params)
    canonical = record.get("canonical_url")
    canonical = normalize_url(canonical, tracking_params) if canonical else url
    # percent-encoded, a path of another script is up to 12 times longer (Chinese: 9 times)
    canonical = within(canonical, MAX_URL_CHARS) or url
    fetched_at = to_utc(record.get("fetched_at")) or datetime.now(UTC)
    published = plausible_published(to_utc(record.get("published_at")), fetched_at)
    # Not checked against the publication: many CMSs give a modification time before it (a
    # draft's last save), 5 of the 28 golden pages that give both.
    modified = plausible_published(to_utc(record.get("modified_at")), fetched_at)
    record.update(
        {
            "text": text.text,
            "url": url,
            "canonical_url": canonical,
            "source": host_of(canonical),
            "fetched_at": fetched_at,
            "published_at": published,
            "published_offset": utc_offset_minutes(record.get("published_at"))
            if published is not None
            else None,
            "modified_at": modified,
            "title": normalize_field(record.get("title")),
            "description": normalize_field(record.get("description")),
            "site_name": normalize_field(record.get("site_name")),
            "authors": unique_texts(record.get("authors") or [], normalize_field),
            "author_organizations": unique_texts(
                record.get("author_organizations") or [], normalize_field
            ),
            "tags": unique_texts(record.get("tags") or [], normalize_field),
            "comments": normalize_text(record.get("comments") or "") or None,
            "word_count": text.word_count,
            "content_hash": text.content_hash,
            "id": row_id(url, text.content_hash),
        }
    )


def article_record(
    body: bytes,
    url: str,
    content_type: str | None = "text/html",
    *,
    fetched_at: datetime | None = None,
    detector: LanguageDetector | None = None,
    min_text_chars: int = MIN_TEXT_CHARS,
    comments: bool = True,
    second_opinion: bool = True,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
    tracking_params: tuple[str, ...] = DEFAULT_TRACKING_PARAMS,
) -> dict[str, Any]:
    """The dataset row for a page, as the crawl would store it (before deduplication).

    Raises :class:`extraction.extractor.ExtractionError` when the page is not an article. Pass
    a ``detector`` to reuse its loaded language profiles across many pages; ``comments=False``
    leaves the readers' comments out (as ``EXTRACT_COMMENTS=False`` does), and
    ``second_opinion=False`` asks readability nothing (as ``EXTRACT_SECOND_OPINION=False``).
    A ``url`` that cannot be parsed (``http://[::1``, a port of 99999) is a ``ValueError``.
    """
    try:
        _ = urlsplit(url).port
    except ValueError as exc:
        raise ValueError(f"url {url!r} is not a valid URL ({exc})") from None
    record: dict[str, Any] = {
        "url": url,
        "fetched_at": fetched_at or datetime.now(UTC),
        "discovered_via": "url",
    }
    apply_extraction(
        record,
        extract_article(
            body,
            url,
            content_type,
            min_text_chars=min_text_chars,
            comments=comments,
            second_opinion=second_opinion,
        ),
    )
    language, confidence = (detector or LanguageDetector()).detect(record["text"])
    apply_detection(record, language, confidence, min_confidence=min_confidence)
    normalize_article(record, tracking_params)
    return row_of(record)
