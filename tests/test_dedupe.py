from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from scrapy import Spider, signals
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem
from crawler.state import CrawlState
from pipelines.dataset import articles_dir, state_dir
from pipelines.dedupe import DedupePipeline, DuplicateArticle
from pipelines.normalize import content_hash, row_id
from pipelines.parquet import DatasetWriter
from pipelines.schema import to_table
from pipelines.signals import articles_committed

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from scrapy.crawler import Crawler

FETCHED = datetime(2024, 5, 1, 12, tzinfo=UTC)


def article(url: str, text: str, *, canonical_url: str | None = None) -> ArticleItem:
    digest = content_hash(text)
    return ArticleItem(
        url=url,
        canonical_url=canonical_url,
        fetched_at=FETCHED,
        text=text,
        content_hash=digest,
        id=row_id(url, digest),
        word_count=len(text.split()),
        source="example.com",
    )


def keys_of(*items: ArticleItem) -> list[tuple[str, str | None, str]]:
    keys = []
    for item in items:
        assert item.content_hash is not None
        keys.append((item.url, item.canonical_url, item.content_hash))
    return keys


def commit(crawler: Crawler, file: str, *items: ArticleItem) -> None:
    crawler.signals.send_catch_log(signal=articles_committed, file=file, keys=keys_of(*items))


class Opened:
    """A crawler and its opened dedupe pipeline, closed by the fixture."""

    def __init__(self, output_dir: Path, settings: dict[str, Any] | None = None) -> None:
        self.crawler = get_crawler(
            settings_dict={"OUTPUT_DIR": str(output_dir), **(settings or {})}
        )
        self.pipeline = build_from_crawler(DedupePipeline, self.crawler)
        self.pipeline.open_spider()

    def stat(self, key: str) -> Any:
        return self.pipeline.stats.get_value(key)


@pytest.fixture
def opener(tmp_path: Path) -> Iterator[Any]:
    opened: list[Opened] = []

    def open_pipeline(settings: dict[str, Any] | None = None) -> Opened:
        run = Opened(tmp_path, settings)
        opened.append(run)
        return run

    yield open_pipeline
    for run in opened:
        run.pipeline.close_state()


def test_new_articles_pass(opener: Any) -> None:
    run = opener()
    first = article("https://example.com/1", "one")
    second = article("https://example.com/2", "two")
    assert run.pipeline.process_item(first) is first
    assert run.pipeline.process_item(second) is second
    assert run.stat("news/dedupe/unique") == 2
    assert run.stat("news/dedupe/duplicate/url") is None
    assert run.stat("news/dedupe/duplicate/content") is None


def test_same_url_twice_in_a_run(opener: Any) -> None:
    run = opener()
    run.pipeline.process_item(article("https://example.com/1", "one"))
    with pytest.raises(DuplicateArticle) as raised:
        run.pipeline.process_item(article("https://example.com/1", "changed text"))
    assert isinstance(raised.value, DropItem)
    assert "https://example.com/1" in str(raised.value)
    assert run.stat("news/dedupe/duplicate/url") == 1
    assert run.stat("news/dedupe/duplicate/content") is None
    assert run.stat("news/dedupe/unique") == 1


def test_same_content_under_another_url(opener: Any) -> None:
    run = opener()
    run.pipeline.process_item(article("https://example.com/1", "same text"))
    with pytest.raises(DuplicateArticle):
        run.pipeline.process_item(article("https://mirror.example.net/1", "same text"))
    assert run.stat("news/dedupe/duplicate/content") == 1
    assert run.stat("news/dedupe/duplicate/url") is None


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # The second page's canonical URL is the first page's URL.
        (
            article("https://example.com/story", "one"),
            article(
                "https://example.com/amp/story", "two", canonical_url="https://example.com/story"
            ),
        ),
        # The second page's URL is the first page's canonical URL.
        (
            article(
                "https://example.com/amp/story", "one", canonical_url="https://example.com/story"
            ),
            article("https://example.com/story", "two"),
        ),
        # Both pages name the same canonical URL.
        (
            article("https://example.com/a", "one", canonical_url="https://example.com/story"),
            article("https://example.com/b", "two", canonical_url="https://example.com/story"),
        ),
    ],
)
def test_canonical_url_duplicates(opener: Any, first: ArticleItem, second: ArticleItem) -> None:
    run = opener()
    run.pipeline.process_item(first)
    with pytest.raises(DuplicateArticle):
        run.pipeline.process_item(second)
    assert run.stat("news/dedupe/duplicate/url") == 1


def test_dropped_article_leaves_no_keys(opener: Any) -> None:
    run = opener()
    run.pipeline.process_item(article("https://example.com/1", "one"))
    with pytest.raises(DuplicateArticle):
        run.pipeline.process_item(
            article("https://example.com/1", "new text", canonical_url="https://example.com/c")
        )
    # The dropped article's canonical URL and text were not remembered.
    assert run.pipeline.process_item(article("https://example.com/c", "new text"))


def test_committed_keys_reach_the_state(opener: Any, tmp_path: Path) -> None:
    run = opener()
    item = article("https://example.com/1", "one", canonical_url="https://example.com/c1")
    run.pipeline.process_item(item)
    assert run.pipeline.state is not None
    assert not run.pipeline.state.has_url("https://example.com/1")
    commit(run.crawler, "x/part.parquet", item)
    state = run.pipeline.state
    assert state.has_url("https://example.com/1")
    assert state.has_url("https://example.com/c1")
    assert state.has_content(content_hash("one"))
    assert state.recorded_files() == {"x/part.parquet"}
    assert run.pipeline.pending_urls == set()
    assert run.pipeline.pending_hashes == set()
    # Still a duplicate within the run, now through the state.
    with pytest.raises(DuplicateArticle):
        run.pipeline.process_item(article("https://example.com/c1", "other"))
    # And visible to anyone opening the state file.
    other = CrawlState.open(state_dir(tmp_path))
    try:
        assert other.has_url("https://example.com/1")
    finally:
        other.close()


def test_committed_keys_are_known_to_the_next_run(opener: Any) -> None:
    first_run = opener()
    stored = article("https://example.com/1", "one", canonical_url="https://example.com/c1")
    first_run.pipeline.process_item(stored)
    commit(first_run.crawler, "x/part.parquet", stored)
    first_run.pipeline.close_state()

    second_run = opener()
    assert second_run.crawler is not first_run.crawler
    for duplicate, kind in [
        (article("https://example.com/1", "fresh"), "url"),
        (article("https://example.com/c1", "fresher"), "url"),
        (article("https://example.com/2", "x", canonical_url="https://example.com/c1"), "url"),
        (article("https://example.com/3", "one"), "content"),
    ]:
        with pytest.raises(DuplicateArticle):
            second_run.pipeline.process_item(duplicate)
        assert second_run.stat(f"news/dedupe/duplicate/{kind}")
    assert second_run.stat("news/dedupe/duplicate/url") == 3
    assert second_run.stat("news/dedupe/duplicate/content") == 1
    assert second_run.pipeline.process_item(article("https://example.com/4", "new"))


def test_uncommitted_keys_are_not_known_to_the_next_run(opener: Any) -> None:
    first_run = opener()
    committed = article("https://example.com/1", "one")
    lost = article("https://example.com/2", "two")
    first_run.pipeline.process_item(committed)
    first_run.pipeline.process_item(lost)
    commit(first_run.crawler, "x/part.parquet", committed)
    first_run.pipeline.close_state()

    second_run = opener()
    with pytest.raises(DuplicateArticle):
        second_run.pipeline.process_item(article("https://example.com/1", "one"))
    # The article whose file was never committed is fetched and stored again.
    again = article("https://example.com/2", "two")
    assert second_run.pipeline.process_item(again) is again
    assert second_run.stat("news/dedupe/unique") == 1


def test_open_spider_recovers_files_the_state_missed(opener: Any, tmp_path: Path) -> None:
    # A data file committed by a crawl that died before its state recorded it.
    item = article("https://example.com/1", "one")
    row = {key: getattr(item, key) for key in ("id", "url", "canonical_url", "fetched_at")}
    row |= {
        "text": item.text,
        "content_hash": item.content_hash,
        "word_count": item.word_count,
        "authors": [],
        "tags": [],
        "discovered_via": "url",
    }
    writer = DatasetWriter(tmp_path)
    writer.open()
    writer.write(to_table([row]))
    assert writer.commit() is not None
    assert any(articles_dir(tmp_path).rglob("*.parquet"))

    run = opener()
    assert run.stat("news/dedupe/files_recovered") == 1
    with pytest.raises(DuplicateArticle):
        run.pipeline.process_item(article("https://example.com/1", "one"))


def test_commit_after_close_is_ignored(opener: Any) -> None:
    run = opener()
    item = article("https://example.com/1", "one")
    run.pipeline.process_item(item)
    run.pipeline.close_state()
    assert run.pipeline.state is None
    commit(run.crawler, "x/part.parquet", item)  # must not raise nor reopen anything
    assert run.pipeline.state is None


def test_spider_closed_signal_closes_state(opener: Any) -> None:
    run = opener()
    assert run.pipeline.state is not None
    run.crawler.signals.send_catch_log(
        signal=signals.spider_closed, spider=Spider(name="news"), reason="finished"
    )
    assert run.pipeline.state is None
    run.pipeline.close_state()  # closing twice is harmless
    assert run.pipeline.state is None


def test_process_item_before_open_spider_fails(tmp_path: Path) -> None:
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path)})
    pipeline = build_from_crawler(DedupePipeline, crawler)
    with pytest.raises(AssertionError, match="open_spider"):
        pipeline.process_item(article("https://example.com/1", "one"))


@pytest.mark.parametrize(
    "settings",
    [{"DEDUPE_ENABLED": False}, {"OUTPUT_DIR": ""}],
)
def test_not_configured(tmp_path: Path, settings: dict[str, Any]) -> None:
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path), **settings})
    with pytest.raises(NotConfigured):
        build_from_crawler(DedupePipeline, crawler)


# --- near-duplicates --------------------------------------------------------------------------

STORY = "\n\n".join(
    f"Paragraph {n}: the council voted on proposal {n * 11} after a long debate on the budget."
    for n in range(20)
)
COPY = STORY.replace("Paragraph 7: the council voted", "Paragraph 7: the city council approved")
DIFFERENT = "\n\n".join(
    f"Section {n}: the orchestra rehearsed symphony {n * 5} before the opening night concert."
    for n in range(20)
)


def test_near_copy_is_dropped_and_recorded(opener: Any, tmp_path: Path) -> None:
    run = opener()
    original = run.pipeline.process_item(article("https://a.example/story", STORY))
    with pytest.raises(DuplicateArticle, match="like stored row"):
        run.pipeline.process_item(article("https://b.example/wire/story", COPY))
    assert run.stat("news/dedupe/duplicate/near") == 1
    run.pipeline.process_item(article("https://c.example/music", DIFFERENT))
    assert run.stat("news/dedupe/unique") == 2
    copies = run.pipeline.copies.execute("SELECT url, kept_id, kind FROM copies").fetchall()
    assert copies == [("https://b.example/wire/story", original.id, "near")]


def test_near_copy_is_caught_across_runs_once_committed(opener: Any) -> None:
    first = opener()
    original = first.pipeline.process_item(article("https://a.example/story", STORY))
    commit(first.crawler, "f/part-1.parquet", original)
    first.pipeline.close_state()
    second = opener()
    with pytest.raises(DuplicateArticle):
        second.pipeline.process_item(article("https://b.example/wire/story", COPY))


def test_uncommitted_texts_are_not_known_to_the_next_run(opener: Any) -> None:
    first = opener()
    first.pipeline.process_item(article("https://a.example/story", STORY))
    first.pipeline.close_state()
    second = opener()
    assert second.pipeline.process_item(article("https://b.example/wire/story", COPY))


def test_flag_policy_keeps_the_copy(opener: Any) -> None:
    run = opener({"DEDUPE_POLICY": "flag"})
    original = run.pipeline.process_item(article("https://a.example/story", STORY))
    copy = run.pipeline.process_item(article("https://b.example/wire/story", COPY))
    assert copy.duplicate_of == original.id
    assert original.duplicate_of is None


def test_a_new_version_of_a_stored_page_is_not_a_copy(opener: Any) -> None:
    run = opener()
    original = run.pipeline.process_item(article("https://a.example/story", STORY))
    commit(run.crawler, "f/part-1.parquet", original)
    revised = article("https://a.example/story", COPY)
    revised.refetch = True
    assert run.pipeline.process_item(revised) is revised


def test_near_detection_can_be_switched_off(opener: Any) -> None:
    run = opener({"DEDUPE_NEAR_ENABLED": False})
    run.pipeline.process_item(article("https://a.example/story", STORY))
    assert run.pipeline.process_item(article("https://b.example/wire/story", COPY))


@pytest.mark.parametrize(
    "settings",
    [{"DEDUPE_POLICY": "merge"}, {"DEDUPE_NEAR_THRESHOLD": 0}, {"DEDUPE_NEAR_THRESHOLD": 1.5}],
)
def test_bad_near_settings(tmp_path: Path, settings: dict[str, Any]) -> None:
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path), **settings})
    with pytest.raises(NotConfigured):
        build_from_crawler(DedupePipeline, crawler)
