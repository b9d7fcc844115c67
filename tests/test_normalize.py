"""The normalize stage (:mod:`pipelines.normalize`): every field normalized by the library's
:func:`extraction.record.normalize_article`, the worker's normalized text reused when it was
made from the item's text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem
from extraction.record import row_id
from extraction.text import NormalizedText, content_hash
from extraction.worker import Extracted, PageOptions, Precomputed, process_page
from pipelines.normalize import NormalizePipeline
from pipelines.setting import SettingError
from tests.test_extractor import SEED_BODY, SEED_URL

FETCHED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def make_pipeline(settings: dict[str, Any] | None = None) -> NormalizePipeline:
    crawler = get_crawler(settings_dict=settings or {})
    assert crawler.stats is not None
    return build_from_crawler(NormalizePipeline, crawler)


def test_pipeline_normalizes_every_field() -> None:
    pipeline = make_pipeline()
    berlin = timezone(timedelta(hours=2))
    item = ArticleItem(
        url="HTTPS://WWW.Example.com:443/news/story?utm_source=feed&id=7#top",
        canonical_url="https://www.example.com/news/story?id=7&fbclid=x",
        fetched_at=datetime(2024, 5, 1, 14, 0, tzinfo=berlin),
        published_at=datetime(2024, 5, 1, 9, 30, tzinfo=berlin),
        modified_at=datetime(2024, 5, 1, 10, 0),  # naive: taken as UTC
        title="  Breaking\u00a0News \n",
        description="\u200bA  summary ",
        site_name=" Example\nNews ",
        authors=["Jane Doe", " jane  doe", "Jose\u0301 Garci\u0301a", "Jos\u00e9 Garc\u00eda", ""],
        tags=["Politics", "politics", "POLITICS", "Economy"],
        text="First\u00a0paragraph\nof the story.\n\n\n\nSecond paragraph.",
    )
    result = pipeline.process_item(item)
    assert result is item

    expected_text = "First paragraph of the story.\n\nSecond paragraph."
    assert item.text == expected_text
    assert item.url == "https://www.example.com/news/story?id=7"
    assert item.canonical_url == "https://www.example.com/news/story?id=7"
    assert item.source == "example.com"
    assert item.fetched_at == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    assert item.fetched_at.utcoffset() == timedelta(0)
    assert item.published_at == datetime(2024, 5, 1, 7, 30, tzinfo=UTC)
    assert item.published_at is not None
    assert item.published_at.utcoffset() == timedelta(0)
    assert item.modified_at == datetime(2024, 5, 1, 10, 0, tzinfo=UTC)
    assert item.title == "Breaking News"
    assert item.description == "A summary"
    assert item.site_name == "Example News"
    assert item.authors == ["Jane Doe", "Jos\u00e9 Garc\u00eda"]
    assert item.tags == ["Politics", "Economy"]
    assert item.word_count == 7
    assert item.content_hash == content_hash(expected_text)
    assert item.id == row_id(item.url, item.content_hash)
    assert pipeline.stats.get_value("news/normalize/implausible_published_at") is None


def test_pipeline_canonical_url_defaults_to_url() -> None:
    pipeline = make_pipeline()
    item = ArticleItem(
        url="https://news.example.org/a?b=2&a=1&gclid=z",
        fetched_at=FETCHED,
        text="Text.",
    )
    pipeline.process_item(item)
    assert item.url == "https://news.example.org/a?a=1&b=2"
    assert item.canonical_url == item.url
    assert item.source == "news.example.org"
    assert item.title is None
    assert item.authors == []
    assert item.tags == []


def test_pipeline_source_comes_from_canonical_url() -> None:
    pipeline = make_pipeline()
    item = ArticleItem(
        url="https://amp.example.net/story",
        canonical_url="https://www.example.com/story",
        fetched_at=FETCHED,
        text="Text.",
    )
    pipeline.process_item(item)
    assert item.source == "example.com"


@pytest.mark.parametrize(
    "published",
    [datetime(1970, 1, 1, tzinfo=UTC), FETCHED + timedelta(days=30)],
)
def test_pipeline_drops_implausible_published_at(published: datetime) -> None:
    pipeline = make_pipeline()
    item = ArticleItem(
        url="https://example.com/a", fetched_at=FETCHED, published_at=published, text="x"
    )
    pipeline.process_item(item)
    assert item.published_at is None
    assert pipeline.stats.get_value("news/normalize/implausible_published_at") == 1
    other = ArticleItem(
        url="https://example.com/b", fetched_at=FETCHED, published_at=published, text="y"
    )
    pipeline.process_item(other)
    assert pipeline.stats.get_value("news/normalize/implausible_published_at") == 2


def test_pipeline_missing_published_at_is_not_counted() -> None:
    pipeline = make_pipeline()
    item = ArticleItem(url="https://example.com/a", fetched_at=FETCHED, text="x")
    pipeline.process_item(item)
    assert item.published_at is None
    assert pipeline.stats.get_value("news/normalize/implausible_published_at") is None


def test_pipeline_uses_tracking_params_setting() -> None:
    pipeline = make_pipeline({"NORMALIZE_TRACKING_PARAMS": ["sessionid", "ref_*"]})
    item = ArticleItem(
        url="https://example.com/a?sessionid=1&ref_x=2&utm_source=3&id=4",
        fetched_at=FETCHED,
        text="x",
    )
    pipeline.process_item(item)
    assert item.url == "https://example.com/a?id=4&utm_source=3"


def test_pipeline_same_page_gets_same_id() -> None:
    pipeline = make_pipeline()
    first = ArticleItem(url="https://example.com/a?utm_source=x", fetched_at=FETCHED, text="T  x")
    second = ArticleItem(url="https://EXAMPLE.com/a#frag", fetched_at=FETCHED, text="T x")
    pipeline.process_item(first)
    pipeline.process_item(second)
    assert first.id == second.id
    assert first.content_hash == second.content_hash


def test_pipeline_not_configured_when_disabled() -> None:
    crawler = get_crawler(settings_dict={"NORMALIZE_ENABLED": False})
    with pytest.raises(NotConfigured):
        build_from_crawler(NormalizePipeline, crawler)


def test_pipeline_not_configured_with_empty_tracking_pattern() -> None:
    crawler = get_crawler(settings_dict={"NORMALIZE_TRACKING_PARAMS": ["utm_*", " "]})
    with pytest.raises(SettingError, match=r"NORMALIZE_TRACKING_PARAMS=.*: contains an empty"):
        build_from_crawler(NormalizePipeline, crawler)


# --- the worker's normalized text -------------------------------------------------------------


def _extracted(body: bytes) -> Extracted:
    outcome = process_page(body, SEED_URL, "text/html", PageOptions())
    assert isinstance(outcome, Extracted)
    return outcome


def test_normalized_text_is_reused_only_for_the_same_text() -> None:
    pipeline = make_pipeline()
    outcome = _extracted(SEED_BODY)
    text = outcome.extraction.text
    # another page's work, and a forged one for this very text: only the latter is used
    stale = _extracted(SEED_BODY.replace(b"Shoigu", b"Shoygu")).precomputed
    assert not stale.for_text(text)
    forged = Precomputed(
        text_hash=content_hash(text),
        normalized=NormalizedText(text="Forged.", word_count=1, content_hash=content_hash("F")),
    )
    items = {
        name: ArticleItem(url=SEED_URL, fetched_at=FETCHED, text=text, precomputed=precomputed)
        for name, precomputed in [
            ("plain", None),
            ("reused", outcome.precomputed),
            ("stale", stale),
            ("forged", forged),
        ]
    }
    for item in items.values():
        pipeline.process_item(item)
    keys = ("text", "word_count", "content_hash", "id")
    plain, reused, stale_item = (items[name] for name in ("plain", "reused", "stale"))
    assert [getattr(reused, k) for k in keys] == [getattr(plain, k) for k in keys]
    assert [getattr(stale_item, k) for k in keys] == [getattr(plain, k) for k in keys]
    assert "Shoygu" not in stale_item.text
    assert (items["forged"].text, items["forged"].word_count) == ("Forged.", 1)
