"""The dedupe stage (:mod:`pipelines.dedupe`), on the crawl state's stores."""

from __future__ import annotations

import logging
import re
import shutil
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from scrapy import Spider, signals
from scrapy.exceptions import DropItem, NotConfigured
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem
from dataset.layout import articles_dir, state_dir
from dataset.schema import to_table
from dataset.state.embedded import NEAR_STATE_FILE, CrawlState, EmbeddedStores
from dataset.writer import DatasetWriter
from extraction.record import row_id
from extraction.text import content_hash
from pipelines.dedupe import DedupePipeline, DuplicateArticle, StateUnavailable
from pipelines.setting import SettingError
from pipelines.signals import articles_committed
from pipelines.state import REDIS_STORES
from tests.redis_server import start_redis

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from scrapy.crawler import Crawler

    from dataset.writer import CommittedFile
    from tests.redis_server import RedisTarget

FETCHED = datetime(2024, 5, 1, 12, tzinfo=UTC)

# long enough to sign: a text, a near copy of it (a sentence edited), another story
STORY = "\n\n".join(
    f"Paragraph {n}: the council voted on proposal {n * 11} after a long debate on the budget."
    for n in range(20)
)
COPY = STORY.replace("Paragraph 7: the council voted", "Paragraph 7: the city council approved")
DIFFERENT = "\n\n".join(
    f"Section {n}: the orchestra rehearsed symphony {n * 5} before the opening night concert."
    for n in range(20)
)
THIRD = "\n\n".join(
    f"Chapter {n}: the river flooded village {n * 7} after the storm broke its old levee."
    for n in range(20)
)


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


def after_a_committed_run(opener: Any, item: ArticleItem) -> Opened:
    """The next run, opened once a first one kept ``item`` and committed it."""
    first = opener()
    kept = first.pipeline.process_item(item)
    commit(first.crawler, "f/part-1.parquet", kept)
    first.pipeline.close_state()
    second: Opened = opener()
    return second


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
    run.pipeline.process_item(article("https://example.com/1", STORY))
    with pytest.raises(DuplicateArticle) as raised:  # nearly the same text: the same article
        run.pipeline.process_item(article("https://example.com/1", COPY))
    assert isinstance(raised.value, DropItem)
    assert "https://example.com/1" in str(raised.value)
    assert run.stat("news/dedupe/duplicate/url") == 1
    assert run.stat("news/dedupe/duplicate/content") is None
    assert run.stat("news/dedupe/duplicate/near") is None
    assert run.stat("news/dedupe/unique") == 1


def test_same_content_under_another_url(opener: Any) -> None:
    run = opener()
    run.pipeline.process_item(article("https://example.com/1", "same text"))
    with pytest.raises(DuplicateArticle):
        run.pipeline.process_item(article("https://mirror.example.net/1", "same text"))
    assert run.stat("news/dedupe/duplicate/content") == 1
    assert run.stat("news/dedupe/duplicate/url") is None


KEPT_URL = "https://example.com/story"
AMP = "https://example.com/amp/story"


@pytest.mark.parametrize(
    ("first", "second"),
    [
        # The second page's canonical URL is the first page's URL.
        (
            article("https://example.com/story", STORY),
            article(AMP, COPY, canonical_url="https://example.com/story"),
        ),
        # The second page's URL is the first page's canonical URL.
        (
            article(AMP, STORY, canonical_url="https://example.com/story"),
            article("https://example.com/story", COPY),
        ),
        # Both pages name the same canonical URL.
        (
            article("https://example.com/a", STORY, canonical_url="https://example.com/story"),
            article("https://example.com/b", COPY, canonical_url="https://example.com/story"),
        ),
        # The same text, at a print page naming it.
        (
            article("https://example.com/story", STORY),
            article("https://example.com/print/story", STORY, canonical_url=KEPT_URL),
        ),
    ],
    ids=["canonical is a url", "url is a canonical", "same canonical", "print, same text"],
)
def test_canonical_url_duplicates(opener: Any, first: ArticleItem, second: ArticleItem) -> None:
    # an AMP, print or mobile page naming the article, with its text or nearly (a sentence
    # edited: the stage's near-duplicate threshold), is the article
    run = opener()
    run.pipeline.process_item(first)
    with pytest.raises(DuplicateArticle) as dropped:
        run.pipeline.process_item(second)
    assert dropped.value.kind == "url"
    assert run.stat("news/dedupe/duplicate/url") == 1
    assert run.stat("news/dedupe/canonical_conflict") is None


def test_canonical_url_duplicates_across_runs(opener: Any) -> None:
    second = after_a_committed_run(opener, article("https://example.com/story", STORY))
    for text in (STORY, COPY):
        with pytest.raises(DuplicateArticle) as dropped:
            second.pipeline.process_item(article(AMP, text, canonical_url=KEPT_URL))
        assert (dropped.value.kind, dropped.value.kept) == ("url", KEPT_URL)
    assert second.stat("news/dedupe/duplicate/url") == 2


OTHER = "https://example.com/2024/another-story"


def test_another_text_under_a_stored_canonical_is_another_article(
    opener: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # a CMS giving two articles one canonical URL: the second was dropped as a copy of the
    # first (news/dedupe/duplicate/url), its text never compared
    caplog.set_level(logging.INFO, logger="pipelines.dedupe")
    run = opener()
    first = run.pipeline.process_item(article(KEPT_URL, STORY))
    second = article(OTHER, DIFFERENT, canonical_url=KEPT_URL)
    assert run.pipeline.process_item(second) is second
    assert second.canonical_url == KEPT_URL  # what the page said
    assert run.stat("news/dedupe/unique") == 2
    assert run.stat("news/dedupe/canonical_conflict") == 1
    assert run.stat("news/dedupe/duplicate/url") is None
    conflicts = [r.getMessage() for r in caplog.records if "is a stored article's" in r.message]
    assert conflicts == [
        f"Kept {OTHER}: its URL or canonical URL {KEPT_URL} is a stored article's, its text is not"
    ]
    # each is an original: a copy of either is dropped, of the second by its text
    with pytest.raises(DuplicateArticle) as dropped:
        run.pipeline.process_item(article("https://example.com/amp/2", DIFFERENT))
    assert dropped.value.kind == "content"
    with pytest.raises(DuplicateArticle) as dropped:
        run.pipeline.process_item(article(AMP, COPY, canonical_url=KEPT_URL))
    assert dropped.value.kind == "url"
    # both rows are written; a third text under the same canonical is a third article
    commit(run.crawler, "f/part-1.parquet", first, second)
    assert run.pipeline.pending_urls == set()
    third = article("https://example.com/3", THIRD, canonical_url=KEPT_URL)
    assert run.pipeline.process_item(third) is third
    assert run.stat("news/dedupe/canonical_conflict") == 2


def test_another_text_under_a_canonical_stored_by_an_earlier_run(opener: Any) -> None:
    second = after_a_committed_run(opener, article(AMP, STORY, canonical_url=KEPT_URL))
    # its canonical URL is the stored row's; its URL is the stored row's canonical URL
    for page in (
        article(OTHER, DIFFERENT, canonical_url=KEPT_URL),
        article(KEPT_URL, THIRD),
    ):
        assert second.pipeline.process_item(page) is page
    assert second.stat("news/dedupe/canonical_conflict") == 2
    assert second.stat("news/dedupe/unique") == 2
    assert second.stat("news/dedupe/duplicate/url") is None


def test_a_short_text_under_a_stored_canonical_is_kept_unless_the_same(opener: Any) -> None:
    # too short to sign (as with DEDUPE_NEAR_ENABLED=False): only the same text is a copy
    run = opener()
    run.pipeline.process_item(article(KEPT_URL, "A short brief."))
    with pytest.raises(DuplicateArticle):
        run.pipeline.process_item(article(AMP, "A short brief.", canonical_url=KEPT_URL))
    other = article(AMP, "Another short brief.", canonical_url=KEPT_URL)
    assert run.pipeline.process_item(other) is other
    assert run.stat("news/dedupe/canonical_conflict") == 1


def test_dropped_article_leaves_no_keys(opener: Any) -> None:
    run = opener()
    run.pipeline.process_item(article("https://example.com/1", STORY))
    with pytest.raises(DuplicateArticle):
        run.pipeline.process_item(
            article("https://example.com/1", COPY, canonical_url="https://example.com/c")
        )
    # The dropped article's canonical URL and text were not remembered.
    assert content_hash(COPY) not in run.pipeline.pending_hashes
    assert run.pipeline.process_item(article("https://example.com/c", DIFFERENT))
    assert run.stat("news/dedupe/canonical_conflict") is None


def test_committed_keys_reach_the_state(opener: Any, tmp_path: Path) -> None:
    run = opener()
    item = article("https://example.com/1", STORY, canonical_url="https://example.com/c1")
    run.pipeline.process_item(item)
    assert run.pipeline.state is not None
    assert not run.pipeline.state.has_url("https://example.com/1")
    commit(run.crawler, "x/part.parquet", item)
    state = run.pipeline.state
    assert state.has_url("https://example.com/1")
    assert state.has_url("https://example.com/c1")
    assert state.has_content(content_hash(STORY))
    assert state.recorded_files() == {"x/part.parquet"}
    assert run.pipeline.pending_urls == set()
    assert run.pipeline.pending_hashes == set()
    # Still a duplicate within the run, now through the state.
    with pytest.raises(DuplicateArticle):
        run.pipeline.process_item(article("https://example.com/c1", COPY))
    # And visible to anyone opening the state file.
    other = CrawlState.open(state_dir(tmp_path))
    try:
        assert other.has_url("https://example.com/1")
    finally:
        other.close()


def test_committed_keys_are_known_to_the_next_run(opener: Any) -> None:
    first_run = opener()
    stored = article("https://example.com/1", STORY, canonical_url="https://example.com/c1")
    first_run.pipeline.process_item(stored)
    commit(first_run.crawler, "x/part.parquet", stored)
    first_run.pipeline.close_state()

    second_run = opener()
    assert second_run.crawler is not first_run.crawler
    for duplicate, kind in [
        # the same or nearly the same text at its URL or canonical URL, or elsewhere
        (article("https://example.com/1", COPY), "url"),
        (article("https://example.com/c1", COPY), "url"),
        (article("https://example.com/2", STORY, canonical_url="https://example.com/c1"), "url"),
        (article("https://example.com/3", STORY), "content"),
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


def write_file(output_dir: Path, *items: ArticleItem) -> CommittedFile:
    """Commit a data file holding the rows of ``items``, as the Parquet stage does."""
    rows = [
        {
            key: getattr(item, key)
            for key in ("id", "url", "canonical_url", "fetched_at", "text", "content_hash")
        }
        | {"word_count": item.word_count, "authors": [], "tags": [], "discovered_via": "url"}
        for item in items
    ]
    writer = DatasetWriter(output_dir)
    writer.open()
    writer.write(to_table(rows))
    committed = writer.commit()
    assert committed is not None
    return committed


def test_open_spider_recovers_files_the_state_missed(opener: Any, tmp_path: Path) -> None:
    # A data file committed by a crawl that died before its state recorded it.
    write_file(tmp_path, article("https://example.com/1", "one"))
    assert any(articles_dir(tmp_path).rglob("*.parquet"))

    run = opener()
    assert run.stat("news/dedupe/files_recovered") == 1
    with pytest.raises(DuplicateArticle):
        run.pipeline.process_item(article("https://example.com/1", "one"))


def test_open_spider_leaves_out_files_outside_the_partitions(
    opener: Any, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A partition copied by hand beside itself: not the dataset's, never recorded, named once.
    committed = write_file(tmp_path, article("https://example.com/1", "one"))
    partition = (articles_dir(tmp_path) / committed.name).parent
    shutil.copytree(partition, partition.with_name(f"{partition.name} copy"))

    run = opener()
    assert run.stat("news/dedupe/files_recovered") == 1
    assert run.stat("news/dedupe/stray_files") == 1
    assert run.pipeline.state is not None
    assert run.pipeline.state.recorded_files() == {committed.name}
    [line] = [r.getMessage() for r in caplog.records if "outside the dataset's" in r.getMessage()]
    assert line.startswith(f"The dataset's articles/{partition.name} copy/ holds 1 data file ")
    assert [r.levelname for r in caplog.records if r.getMessage() == line] == ["WARNING"]


def test_open_spider_forgets_files_the_dataset_no_longer_holds(opener: Any, tmp_path: Path) -> None:
    # A compaction that died between replacing files and recording it: the state lists a
    # file that is gone. Taken off its list; the keys of its rows stay.
    committed = write_file(tmp_path, article("https://example.com/1", "one"))
    opener().pipeline.close_state()  # recorded
    (articles_dir(tmp_path) / committed.name).unlink()

    run = opener()
    assert run.stat("news/dedupe/files_forgotten") == 1
    assert run.stat("news/dedupe/files_recovered") is None
    assert run.pipeline.state is not None
    assert run.pipeline.state.recorded_files() == set()
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
    ("settings", "message"),
    [
        ({"DEDUPE_ENABLED": False}, "DEDUPE_ENABLED is off"),
        ({"OUTPUT_DIR": ""}, "OUTPUT_DIR=''"),
    ],
)
def test_not_configured(tmp_path: Path, settings: dict[str, Any], message: str) -> None:
    """Switched off, the stage is not configured; configured wrong, it refuses to run."""
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path), **settings})
    refusal = NotConfigured if message.endswith("is off") else SettingError
    with pytest.raises(refusal, match=message):
        build_from_crawler(DedupePipeline, crawler)


def test_the_state_lives_in_the_crawls_backend(tmp_path: Path) -> None:
    settings = {"OUTPUT_DIR": str(tmp_path / "out"), "STATE_DIR": str(tmp_path / "state")}
    crawler = get_crawler(settings_dict=settings)
    pipeline = build_from_crawler(DedupePipeline, crawler)
    assert isinstance(pipeline.stores, EmbeddedStores)
    assert pipeline.stores.folder == tmp_path / "state"
    pipeline.open_spider()
    item = article("https://example.com/1", "one")
    pipeline.process_item(item)
    commit(crawler, "x/part.parquet", item)
    pipeline.close_state()
    assert not (tmp_path / "out" / "state").exists()
    # built without Scrapy, on stores of its own
    assert crawler.stats is not None
    direct = DedupePipeline(
        crawler.stats, stores=EmbeddedStores(tmp_path / "state"), output_dir=tmp_path / "out"
    )
    direct.open_spider()
    try:
        with pytest.raises(DuplicateArticle):
            direct.process_item(article("https://example.com/1", "one"))
    finally:
        direct.close_state()


def test_a_file_the_state_cannot_record_is_recorded_by_the_next_crawl(
    opener: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    run = opener()
    item = run.pipeline.process_item(article("https://example.com/1", "one"))
    committed = write_file(tmp_path, item)
    assert run.pipeline.state is not None

    def disk_full(*args: Any) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(run.pipeline.state, "record_file", disk_full)
    run.crawler.signals.send_catch_log(
        signal=articles_committed, file=committed.name, keys=committed.keys
    )
    assert run.stat("news/dedupe/state_error") == 1
    assert (
        f"Cannot record {committed.name} in the crawl state (database or disk is full): "
        "the next crawl will"
    ) in caplog.text
    assert run.pipeline.pending_urls == set()  # the file is in the dataset all the same
    run.pipeline.close_state()
    again = opener()
    assert again.stat("news/dedupe/files_recovered") == 1
    with pytest.raises(DuplicateArticle):
        again.pipeline.process_item(article("https://example.com/1", "one"))


def test_a_redis_server_that_stops_mid_crawl_drops_the_article(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    process, url = start_redis(tmp_path / "redis")
    try:
        crawler = get_crawler(
            settings_dict={
                "OUTPUT_DIR": str(tmp_path / "out"),
                "STATE_STORES": REDIS_STORES,  # what the Redis add-on sets
                "REDIS_URL": url,
            }
        )
        pipeline = build_from_crawler(DedupePipeline, crawler)
        pipeline.open_spider()
        first = article("https://example.com/1", "one")
        assert pipeline.process_item(first) is first
    finally:
        process.terminate()
        process.wait(timeout=10)
    with pytest.raises(StateUnavailable, match="cannot reach the crawl state") as raised:
        pipeline.process_item(article("https://example.com/2", "two"))
    assert isinstance(raised.value, DropItem)
    assert "<https://example.com/2>" in str(raised.value)
    assert pipeline.stats.get_value("news/dedupe/state_unavailable") == 1
    # a file committed meanwhile is in the dataset: the next crawl records it
    commit(crawler, "x/part.parquet", first)
    assert pipeline.stats.get_value("news/dedupe/state_error") == 1
    assert "Cannot record x/part.parquet in the crawl state" in caplog.text
    pipeline.close_state()  # the claims lapse with this worker's heartbeat
    assert "Cannot release this worker's claims" in caplog.text
    pipeline.stores.close()


# --- near-duplicates --------------------------------------------------------------------------


def test_near_copy_is_dropped_and_recorded(opener: Any, tmp_path: Path) -> None:
    run = opener()
    original = run.pipeline.process_item(article("https://a.example/story", STORY))
    with pytest.raises(DuplicateArticle, match="like stored row"):
        run.pipeline.process_item(article("https://b.example/wire/story", COPY))
    assert run.stat("news/dedupe/duplicate/near") == 1
    run.pipeline.process_item(article("https://c.example/music", DIFFERENT))
    assert run.stat("news/dedupe/unique") == 2
    with closing(sqlite3.connect(state_dir(tmp_path) / NEAR_STATE_FILE)) as db:
        copies = db.execute("SELECT url, kept_id, kind FROM copies").fetchall()
    assert copies == [("https://b.example/wire/story", original.id, "near")]


def test_near_copy_is_caught_across_runs_once_committed(opener: Any) -> None:
    second = after_a_committed_run(opener, article("https://a.example/story", STORY))
    with pytest.raises(DuplicateArticle):
        second.pipeline.process_item(article("https://b.example/wire/story", COPY))


def test_uncommitted_texts_are_not_known_to_the_next_run(opener: Any) -> None:
    first = opener()
    first.pipeline.process_item(article("https://a.example/story", STORY))
    first.pipeline.close_state()
    second = opener()
    assert second.pipeline.process_item(article("https://b.example/wire/story", COPY))


KEPT = "https://a.example/story"


@pytest.mark.parametrize(
    ("copy", "kind", "kept"),
    [
        (article("https://a.example/story?page=1", COPY, canonical_url=KEPT), "url", KEPT),
        (article("https://b.example/wire/story", STORY), "content", content_hash(STORY)),
        (article("https://b.example/wire/story", COPY), "near", content_hash(STORY)),
    ],
    ids=["url", "content", "near"],
)
@pytest.mark.parametrize("committed", [False, True], ids=["in this crawl", "committed"])
def test_a_drop_says_how_it_matched_and_what_was_kept(
    opener: Any, copy: ArticleItem, kind: str, kept: str, committed: bool
) -> None:
    # what the incremental middleware looks up to remember a copy of a committed row only
    run = opener()
    original = run.pipeline.process_item(article(KEPT, STORY))
    if committed:
        commit(run.crawler, "f/part-1.parquet", original)
    with pytest.raises(DuplicateArticle) as dropped:
        run.pipeline.process_item(copy)
    assert (dropped.value.kind, dropped.value.kept) == (kind, kept)


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
    ("settings", "message"),
    [
        ({"DEDUPE_POLICY": "merge"}, "DEDUPE_POLICY='merge': must be one of drop, flag"),
        ({"DEDUPE_NEAR_THRESHOLD": 0}, "DEDUPE_NEAR_THRESHOLD=0: must be > 0 and <= 1"),
        ({"DEDUPE_NEAR_THRESHOLD": 1.5}, "DEDUPE_NEAR_THRESHOLD=1.5: must be > 0 and <= 1"),
    ],
)
def test_bad_near_settings(tmp_path: Path, settings: dict[str, Any], message: str) -> None:
    crawler = get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path), **settings})
    with pytest.raises(SettingError, match=f"^{re.escape(message)}$"):
        build_from_crawler(DedupePipeline, crawler)


def _gone(run: Opened, item: ArticleItem, signal: object = signals.item_dropped) -> None:
    """What Scrapy sends when a stage drops an item (or fails on it)."""
    run.crawler.signals.send_catch_log(
        signal=signal, item=item, response=None, exception=DropItem("x"), spider=None
    )


@pytest.mark.parametrize("signal", [signals.item_dropped, signals.item_error])
def test_an_article_a_later_stage_drops_is_forgotten(opener: Any, signal: object) -> None:
    """Its row is never written: nothing of it may keep out the next page with its URL or
    text (issue 16: an empty row once kept 170 pages out)."""
    run = opener()
    text = "A story " + "with words " * 30
    first = article("https://example.com/1", text)
    assert run.pipeline.process_item(first) is first
    _gone(run, first, signal)  # say, the writer refused its row
    assert run.stat("news/dedupe/forgotten") == 1
    again = article("https://example.com/1", text)
    assert run.pipeline.process_item(again) is again  # not a duplicate of a row never written
    copy = article("https://example.com/copy", text)
    with pytest.raises(DuplicateArticle):  # but the accepted one counts again
        run.pipeline.process_item(copy)


def test_its_own_drops_and_the_articles_that_passed_are_not_forgotten(opener: Any) -> None:
    run = opener()
    text = "A story " + "with words " * 30
    first = article("https://example.com/1", text)
    run.pipeline.process_item(first)
    copy = article("https://example.com/copy", text)  # same text: dropped by this stage
    with pytest.raises(DuplicateArticle):
        run.pipeline.process_item(copy)
    _gone(run, copy)
    passed = article("https://example.com/2", "Another story " + "of more words " * 30)
    run.pipeline.process_item(passed)
    run.crawler.signals.send_catch_log(signal=signals.item_scraped, item=passed, spider=None)
    _gone(run, passed)  # an object with its id() later is another item: nothing to forget
    assert run.stat("news/dedupe/forgotten") is None
    for kept in (first, passed):
        with pytest.raises(DuplicateArticle):
            run.pipeline.process_item(article(kept.url, kept.text))


def test_another_text_under_a_canonical_another_worker_holds(shared_redis: RedisTarget) -> None:
    # Redis mode: the canonical URL claimed by a worker that has not committed its article;
    # another worker's article of another text under it was dropped, "taken by another worker"
    def worker(output_dir: str) -> DedupePipeline:
        settings = {
            "OUTPUT_DIR": output_dir,
            "STATE_STORES": REDIS_STORES,
            "REDIS_URL": shared_redis.url,
            "REDIS_KEY_PREFIX": shared_redis.prefix,
        }
        pipeline = build_from_crawler(DedupePipeline, get_crawler(settings_dict=settings))
        pipeline.stores.registry.join(run_keys=[])  # what the shared scheduler does
        pipeline.open_spider()
        return pipeline

    first, second = worker("out"), worker("out")
    workers = [first, second]
    try:
        first.process_item(article(AMP, STORY, canonical_url=KEPT_URL))
        other = article(OTHER, DIFFERENT, canonical_url=KEPT_URL)
        assert second.process_item(other) is other
        assert second.stats.get_value("news/dedupe/canonical_conflict") == 1
        # the first article at its own URL, nearly its text: a copy (found by its text in
        # what the other worker accepted, as before)
        with pytest.raises(DuplicateArticle) as dropped:
            second.process_item(article(KEPT_URL, COPY))
        assert (dropped.value.kind, dropped.value.kept) == ("near", content_hash(STORY))
        # and a copy of the second worker's article is one too
        with pytest.raises(DuplicateArticle) as dropped:
            first.process_item(article("https://example.com/amp/2", DIFFERENT))
        assert dropped.value.kept == content_hash(DIFFERENT)
        assert first.stats.get_value("news/dedupe/unique") == 1
        assert second.stats.get_value("news/dedupe/unique") == 1
        # the first article committed: a later worker (a later run) compares texts the same
        kept = article(AMP, STORY, canonical_url=KEPT_URL)
        first.on_articles_committed("f/part-1.parquet", keys_of(kept))
        later = worker("out")
        workers.append(later)
        third = article("https://example.com/3", THIRD, canonical_url=KEPT_URL)
        assert later.process_item(third) is third
        with pytest.raises(DuplicateArticle) as dropped:
            later.process_item(
                article("https://example.com/print/story", COPY, canonical_url=KEPT_URL)
            )
        assert (dropped.value.kind, dropped.value.kept) == ("url", KEPT_URL)
        assert later.stats.get_value("news/dedupe/canonical_conflict") == 1
    finally:
        for pipeline in workers:
            pipeline.close_state()
            pipeline.stores.close()
