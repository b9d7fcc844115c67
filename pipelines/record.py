"""One article record from one page, without Scrapy: the extract, language and normalize
stages as plain functions, for analysts who re-run them on stored HTML.

>>> from pipelines.record import article_record
>>> record = article_record(html_bytes, "https://example.com/news/1")  # doctest: +SKIP
>>> record["title"], record["language"], record["published_at"]  # doctest: +SKIP
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pipelines.extract import apply_extraction, extract_article
from pipelines.language import LanguageDetector, apply_language
from pipelines.normalize import DEFAULT_TRACKING_PARAMS, normalize_article
from pipelines.schema import to_row


def article_record(
    body: bytes,
    url: str,
    content_type: str | None = "text/html",
    *,
    fetched_at: datetime | None = None,
    detector: LanguageDetector | None = None,
    min_text_chars: int = 200,
    min_confidence: float = 0.80,
    tracking_params: tuple[str, ...] = DEFAULT_TRACKING_PARAMS,
) -> dict[str, Any]:
    """The dataset row for a page, as the crawl would store it (before deduplication).

    Raises :class:`pipelines.extract.ExtractionError` when the page is not an article. Pass a
    ``detector`` to reuse its loaded language profiles across many pages.
    """
    record: dict[str, Any] = {
        "url": url,
        "fetched_at": fetched_at or datetime.now(UTC),
        "discovered_via": "url",
    }
    apply_extraction(
        record, extract_article(body, url, content_type, min_text_chars=min_text_chars)
    )
    apply_language(record, detector or LanguageDetector(), min_confidence=min_confidence)
    normalize_article(record, tracking_params)
    return to_row(record)
