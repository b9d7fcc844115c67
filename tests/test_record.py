"""One article record from one page (:mod:`extraction.record`): the extraction, the detection
and the normalization applied to a record, without Scrapy."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from extraction.article import COLUMNS
from extraction.extractor import Extraction, ExtractionError
from extraction.record import (
    apply_detection,
    apply_extraction,
    article_record,
    normalize_article,
    plausible_published,
    row_id,
    utc_offset_minutes,
)
from extraction.structured import MAX_TITLE_CHARS, MAX_URL_CHARS
from extraction.text import NormalizedText, content_hash, normalized
from tests.test_extractor import FETCHED_AT, SEED_BODY, SEED_URL, paywalled_page

FETCHED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


# --- row_id -----------------------------------------------------------------------------------


def test_row_id_is_stable_and_depends_on_both_parts() -> None:
    url, digest = "https://example.com/a", content_hash("text")
    first = row_id(url, digest)
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert row_id(url, digest) == first
    assert row_id("https://example.com/b", digest) != first
    assert row_id(url, content_hash("other text")) != first


# --- plausible_published and utc_offset_minutes -----------------------------------------------


@pytest.mark.parametrize(
    ("value", "plausible"),
    [
        (None, False),
        (datetime(1989, 12, 31, 23, 59, tzinfo=UTC), False),
        (datetime(1970, 1, 1, tzinfo=UTC), False),
        (datetime(1990, 1, 1, tzinfo=UTC), True),
        (FETCHED - timedelta(days=3), True),
        (FETCHED, True),
        (FETCHED + timedelta(hours=23), True),
        (FETCHED + timedelta(days=1), True),
        (FETCHED + timedelta(days=1, seconds=1), False),
        (FETCHED + timedelta(days=400), False),
    ],
)
def test_plausible_published(value: datetime | None, plausible: bool) -> None:
    assert plausible_published(value, FETCHED) == (value if plausible else None)


@pytest.mark.parametrize(
    ("value", "minutes"),
    [
        (None, None),
        (datetime(2024, 5, 1), None),  # naive: no offset known
        (datetime(2024, 5, 1, tzinfo=UTC), 0),
        (datetime(2024, 5, 1, tzinfo=timezone(timedelta(hours=5, minutes=30))), 330),
        (datetime(2024, 5, 1, tzinfo=timezone(timedelta(hours=-5))), -300),
    ],
)
def test_utc_offset_minutes(value: datetime | None, minutes: int | None) -> None:
    assert utc_offset_minutes(value) == minutes


# --- apply_extraction and apply_detection -----------------------------------------------------


def test_apply_extraction_fills_the_record_and_the_listing_fills_the_gaps() -> None:
    listed = datetime(2024, 5, 1, 12, tzinfo=UTC)
    record: dict[str, Any] = {
        "url": "http://demo.test/a",
        "listed_title": "Title from the feed",
        "listed_published_at": listed,
        "listed_modified_at": listed,
    }
    published = datetime(2024, 4, 30, tzinfo=UTC)
    apply_extraction(
        record,
        Extraction(
            text="Text.",
            published_at=published,
            tags=["a"],
            authors=["Jane Doe"],
            author_organizations=["dpa"],
        ),
    )
    assert record["text"] == "Text."
    assert record["tags"] == ["a"]
    assert (record["authors"], record["author_organizations"]) == (["Jane Doe"], ["dpa"])
    assert record["title"] == "Title from the feed"
    assert record["published_at"] == published  # the page says it
    assert record["modified_at"] == listed
    assert record["declared_language"] is None
    apply_extraction(record, Extraction(text="Text.", title="The page's title"))
    assert record["title"] == "The page's title"


def test_a_listed_title_too_long_fills_no_gap() -> None:
    # a feed entry's title is the row's title only when a page's title could be as long
    record: dict[str, Any] = {"url": "http://demo.test/a", "listed_title": "Feed " * 20_000}
    apply_extraction(record, Extraction(text="Text."))
    assert record["title"] is None
    record["listed_title"] = "Feed " * (MAX_TITLE_CHARS // 5)
    apply_extraction(record, Extraction(text="Text."))
    assert record["title"] == record["listed_title"]


def test_a_headline_too_long_gives_way_to_the_og_title_in_the_row() -> None:
    headline = json.dumps({"@type": "NewsArticle", "headline": "Storm " * 20_000})
    page = (
        f'<html><head><script type="application/ld+json">{headline}</script>'
        '<meta property="og:title" content="Storm hits the coast">'
        f'<meta name="description" content="{"x" * 2_000_000}"></head><body><article>'
        + "".join(f"<p>Paragraph {n}: the storm cut the power of thousands.</p>" for n in range(6))
        + "</article></body></html>"
    )
    record = article_record(page.encode(), "https://news.example.com/storm", fetched_at=FETCHED)
    assert (record["title"], record["description"]) == ("Storm hits the coast", None)


@pytest.mark.parametrize(
    ("detected", "confidence", "declared", "expected"),
    [
        ("de", 0.99, "en", ("de", 0.99)),
        ("de", 0.5, "en", ("en", None)),
        ("de", 0.5, None, ("de", 0.5)),
        (None, None, None, (None, None)),
    ],
)
def test_apply_detection(
    detected: str | None,
    confidence: float | None,
    declared: str | None,
    expected: tuple[str | None, float | None],
) -> None:
    record: dict[str, Any] = {"declared_language": declared}
    assert apply_detection(record, detected, confidence, min_confidence=0.8) == expected
    assert (record["language"], record["language_confidence"]) == expected


# --- normalize_article ------------------------------------------------------------------------


def _record(**fields: Any) -> dict[str, Any]:
    return {"url": "https://www.example.com/a?utm_source=x", "fetched_at": FETCHED, **fields}


def test_normalize_article_sets_the_computed_fields() -> None:
    record = _record(text="One  two\n\n\nthree.", published_at=datetime(2024, 5, 1, 9))
    normalize_article(record)
    assert record["text"] == "One two\n\nthree."
    assert record["url"] == record["canonical_url"] == "https://www.example.com/a"
    assert record["source"] == "example.com"
    assert record["word_count"] == 3
    assert record["content_hash"] == content_hash("One two\n\nthree.")
    assert record["id"] == row_id(record["url"], record["content_hash"])
    assert record["published_at"] == datetime(2024, 5, 1, 9, tzinfo=UTC)
    assert record["published_offset"] is None  # naive: taken as UTC, offset unknown


@pytest.mark.parametrize(
    ("published", "modified", "kept"),
    [
        (datetime(2024, 4, 1), datetime(2024, 4, 2), True),
        (None, datetime(2024, 4, 2), True),
        (datetime(2024, 4, 1), datetime(1970, 1, 1), False),  # a CMS's unset date
        (datetime(2024, 4, 1), datetime(2099, 12, 31), False),  # after the fetch
        (datetime(2024, 4, 1, 12), datetime(2024, 4, 1, 11), True),  # a draft's last save
    ],
)
def test_an_implausible_modification_time_is_none(
    published: datetime | None, modified: datetime, kept: bool
) -> None:
    # it was written as the page gave it: 1970, 2099
    record = _record(text="One.", published_at=published, modified_at=modified)
    normalize_article(record)
    assert record["modified_at"] == (modified.replace(tzinfo=UTC) if kept else None)


def test_normalize_article_cleans_the_author_lists() -> None:
    record = _record(
        text="Text.",
        authors=["Jane  Doe", "JANE DOE", "John Roe"],
        author_organizations=[" dpa ", "DPA", "Agencia\u00a0EFE"],
    )
    normalize_article(record)
    assert record["authors"] == ["Jane Doe", "John Roe"]
    assert record["author_organizations"] == ["dpa", "Agencia EFE"]
    # rows that credit no organization have an empty list, not null
    empty = _record(text="Text.")
    normalize_article(empty)
    assert empty["author_organizations"] == []


def test_source_is_the_publishing_host() -> None:
    # whatever a feed or source list said, ``source`` is the host of the canonical URL
    record = _record(
        text="x", canonical_url="https://www.publisher.test/story", source="Configured Name"
    )
    normalize_article(record)
    assert record["source"] == "publisher.test"


def test_normalize_article_uses_the_normalized_text_given() -> None:
    text = "First\u00a0paragraph.\n\n\nSecond."
    plain, given = _record(text=text), _record(text=text)
    normalize_article(plain)
    normalize_article(given, text=normalized(text))
    assert given == plain
    # it is taken as it is: the caller vouches that it is the record's text normalized
    other = _record(text=text)
    normalize_article(
        other, text=NormalizedText(text="Given.", word_count=1, content_hash=content_hash("Given."))
    )
    assert (other["text"], other["word_count"]) == ("Given.", 1)
    assert other["id"] == row_id(other["url"], content_hash("Given."))


def test_a_canonical_url_too_long_once_normalized_is_the_fetched_url() -> None:
    # percent-encoding a path of Chinese makes it nine times longer: 1,000 characters 9,000
    canonical = "https://www.example.com/" + "新闻" * 500
    record = _record(text="x", canonical_url=canonical)
    normalize_article(record)
    assert record["canonical_url"] == record["url"] == "https://www.example.com/a"
    # a path of ASCII is as long as it was
    canonical = "https://www.example.com/" + "s" * (MAX_URL_CHARS - len("https://www.example.com/"))
    record = _record(text="x", canonical_url=canonical)
    normalize_article(record)
    assert record["canonical_url"] == canonical


def test_normalize_article_uses_the_tracking_params_given() -> None:
    record = _record(url="https://example.com/a?session=1&utm_source=2", text="x")
    normalize_article(record, ["session"])
    assert record["url"] == "https://example.com/a?utm_source=2"


# --- article_record ---------------------------------------------------------------------------


def test_article_record_is_a_dataset_row() -> None:
    record = article_record(SEED_BODY, SEED_URL, fetched_at=FETCHED_AT)
    assert list(record) == list(COLUMNS)
    assert record["fetched_at"] == FETCHED_AT
    assert record["discovered_via"] == "url"
    assert record["language"] == "en"
    assert record["source"] == "en.sputniknews.africa"
    assert record["source_name"] is None
    # the page credits only its outlet: no person, one organization
    assert record["authors"] == []
    assert record["author_organizations"] == ["Sputnik Africa"]
    assert record["accessible_for_free"] is None  # the page does not say


@pytest.mark.parametrize(("declared", "expected"), [(False, False), ("true", True), (None, None)])
def test_article_record_says_what_access_the_page_declares(
    declared: object, expected: bool | None
) -> None:
    record = article_record(paywalled_page(declared), "https://news.test/city/buses-1.html")
    assert record["accessible_for_free"] is expected


def test_article_record_refuses_what_is_no_article() -> None:
    with pytest.raises(ExtractionError) as raised:
        article_record(b"%PDF-1.4", "http://demo.test/a.pdf", "application/pdf")
    assert raised.value.reason == "NotHtml"


@pytest.mark.parametrize("url", ["http://[::1/a", "https://news.example:99999/a"])
def test_a_url_that_cannot_be_parsed_is_named(url: str) -> None:
    with pytest.raises(ValueError, match="is not a valid URL") as raised:
        article_record(b"<html><body><p>Text</p></body></html>", url)
    assert repr(url) in str(raised.value)
    assert not isinstance(raised.value, ExtractionError)  # the caller's mistake, not the page's
