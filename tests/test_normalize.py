from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem
from pipelines.normalize import (
    NormalizePipeline,
    content_hash,
    normalize_field,
    normalize_text,
    normalize_url,
    plausible_published,
    row_id,
    source_of,
    word_count,
)

if TYPE_CHECKING:
    from collections.abc import Callable

FETCHED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def make_pipeline(settings: dict[str, Any] | None = None) -> NormalizePipeline:
    crawler = get_crawler(settings_dict=settings or {})
    assert crawler.stats is not None
    return build_from_crawler(NormalizePipeline, crawler)


# --- normalize_text ---------------------------------------------------------------------------


def test_normalize_text_composes_decomposed_characters() -> None:
    decomposed = "Cafe\u0301 cre\u0300me"
    result = normalize_text(decomposed)
    assert result == "Caf\u00e9 cr\u00e8me"
    assert "\u0301" not in result
    assert unicodedata.is_normalized("NFC", result)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("zero\u200bwidth", "zerowidth"),
        ("\ufeffBOM at start", "BOM at start"),
        ("co\u00adoperate", "cooperate"),
        ("word\u2060joiner", "wordjoiner"),
        ("nul\x00bell\x07esc\x1bdel\x7f", "nulbellescdel"),
    ],
)
def test_normalize_text_removes_invisible_characters(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize("joiner", ["\u200c", "\u200d"])
def test_normalize_text_keeps_zero_width_joiners(joiner: str) -> None:
    # Persian "می‌خواهم" needs the ZWNJ; Indic conjuncts need the ZWJ.
    word = f"\u0645\u06cc{joiner}\u062e\u0648\u0627\u0647\u0645"
    assert normalize_text(word) == word
    assert joiner in normalize_text(f"  {word}  ")


@pytest.mark.parametrize("function", [normalize_text, normalize_field])
def test_result_is_nfc_after_removing_invisible_characters(
    function: Callable[[str], str | None],
) -> None:
    # A zero-width space between a letter and its combining accent must not leave the
    # result decomposed once it is removed (NFC has to run after the removal).
    result = function("caf e\u200b\u0301")
    assert result == "caf \u00e9", ascii(result)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("one  two\tthree", "one two three"),
        ("non\u00a0breaking\u00a0space", "non breaking space"),
        ("line one\nline two", "line one line two"),
        ("windows\r\nline", "windows line"),
        ("   padded   ", "padded"),
        ("thin\u2009and\u3000ideographic", "thin and ideographic"),
    ],
)
def test_normalize_text_collapses_white_space_inside_paragraphs(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    "separator",
    ["\n\n", "\n\n\n\n", "\n  \t\n", "\r\n\r\n", "\n\u00a0\n"],
)
def test_normalize_text_separates_paragraphs_by_one_blank_line(separator: str) -> None:
    assert normalize_text(f"First  paragraph.{separator}Second\nparagraph.") == (
        "First paragraph.\n\nSecond paragraph."
    )


def test_normalize_text_removes_empty_paragraphs() -> None:
    raw = "\n\nOne.\n\n \u200b \n\n\u00a0\n\nTwo.\n\n\n\n"
    assert normalize_text(raw) == "One.\n\nTwo."


@pytest.mark.parametrize("raw", ["", "   ", "\n\n\n", "\u200b\ufeff\u00ad"])
def test_normalize_text_of_nothing_is_empty(raw: str) -> None:
    assert normalize_text(raw) == ""


def test_normalize_text_is_idempotent() -> None:
    raw = " A\u00a0b\u0301\n\n\n c\u200bd \n e "
    once = normalize_text(raw)
    assert normalize_text(once) == once


# --- normalize_field --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("  \n\t\u00a0 ", None),
        ("\u200b", None),
        ("  Breaking\n\nNews\u00a0Today ", "Breaking News Today"),
        ("Jose\u0301", "Jos\u00e9"),
        ("soft\u00adhyphen", "softhyphen"),
    ],
)
def test_normalize_field(raw: str | None, expected: str | None) -> None:
    assert normalize_field(raw) == expected


# --- word_count -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("   ", 0),
        ("Hello, world!", 2),
        ("The quick brown fox jumps over the lazy dog.", 9),
        ("Paragraph one.\n\nParagraph two here.", 5),
        ("In 2024 prices rose 3 percent", 6),
        ("\u4e2d\u6587\u5b57", 3),  # 中文字: three ideographs
        ("\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3002", 8),  # 日本語のテキスト。
        ("\u3072\u3089\u304c\u306a", 4),  # ひらがな
        ("\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22", 7),  # ภาษาไทย: seven Thai letters
        ("Hello \u4e16\u754c 123", 4),  # Hello 世界 123
        ("Tokyo\u6771\u4eacstation", 4),  # Tokyo東京station
        ("\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440", 2),  # Привет мир
    ],
)
def test_word_count(text: str, expected: int) -> None:
    assert word_count(text) == expected


# --- content_hash and row_id ------------------------------------------------------------------


def test_content_hash_is_stable_32_char_hex() -> None:
    digest = content_hash("Some article text.")
    assert re.fullmatch(r"[0-9a-f]{32}", digest)
    assert content_hash("Some article text.") == digest


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Some article text.", "Some article text!"),
        ("", " "),
        ("caf\u00e9", "cafe\u0301"),
    ],
)
def test_content_hash_differs_for_different_text(a: str, b: str) -> None:
    assert content_hash(a) != content_hash(b)


def test_row_id_is_stable_and_depends_on_both_parts() -> None:
    url, digest = "https://example.com/a", content_hash("text")
    first = row_id(url, digest)
    assert re.fullmatch(r"[0-9a-f]{32}", first)
    assert row_id(url, digest) == first
    assert row_id("https://example.com/b", digest) != first
    assert row_id(url, content_hash("other text")) != first


# --- normalize_url ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "HTTPS://Example.com:443/a/../b?utm_source=x&b=2&a=1#top",
            "https://example.com/b?a=1&b=2",
        ),
        (
            "https://example.com/news?id=7&utm_source=tw&utm_medium=social&utm_campaign=c",
            "https://example.com/news?id=7",
        ),
        ("https://example.com/news?fbclid=abc&id=7", "https://example.com/news?id=7"),
        ("https://example.com/news?id=7&gclid=xyz", "https://example.com/news?id=7"),
        ("https://example.com/news?UTM_Source=x&id=7", "https://example.com/news?id=7"),
        ("https://example.com/news?utm_source=x", "https://example.com/news"),
        ("https://example.com/news?z=1&page=2&a=3", "https://example.com/news?a=3&page=2&z=1"),
        ("https://example.com/story#comments", "https://example.com/story"),
        ("http://example.com:80/story", "http://example.com/story"),
        ("https://example.com:443/story", "https://example.com/story"),
        ("https://example.com:8443/story", "https://example.com:8443/story"),
        ("http://example.com:443/story", "http://example.com:443/story"),
        ("https://NEWS.Example.COM/Story", "https://news.example.com/Story"),
        ("https://user:secret@example.com/story", "https://example.com/story"),
        ("https://user@example.com/story", "https://example.com/story"),
        ("  https://example.com/story  ", "https://example.com/story"),
        ("https://example.com", "https://example.com/"),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert normalize_url(url) == expected


def test_normalize_url_is_idempotent() -> None:
    once = normalize_url("HTTP://User:Pw@Example.com:80/a/./b/?utm_medium=x&q=caf%C3%A9#f")
    assert normalize_url(once) == once
    assert "utm_medium" not in once
    assert "Pw" not in once


def test_normalize_url_with_custom_tracking_patterns() -> None:
    url = "https://example.com/a?session=1&ref_campaign=2&utm_source=3&id=4"
    assert normalize_url(url, ["session", "ref_*"]) == "https://example.com/a?id=4&utm_source=3"
    # No patterns: only sorting and the other normalizations apply.
    assert normalize_url(url, []) == (
        "https://example.com/a?id=4&ref_campaign=2&session=1&utm_source=3"
    )


# --- source_of --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.example.com/a", "example.com"),
        ("https://WWW.Example.COM/a", "example.com"),
        ("https://news.example.co.uk/a", "news.example.co.uk"),
        ("https://www2.example.com/a", "www2.example.com"),
        ("https://example.com:8080/a", "example.com"),
        ("not a url", None),
    ],
)
def test_source_of(url: str, expected: str | None) -> None:
    assert source_of(url) == expected


# --- plausible_published ----------------------------------------------------------------------


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


# --- NormalizePipeline ------------------------------------------------------------------------


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
    with pytest.raises(NotConfigured):
        build_from_crawler(NormalizePipeline, crawler)
