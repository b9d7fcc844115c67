"""Learning and stripping the lines that repeat across one site's pages: the learner
(:mod:`extraction.site_boilerplate`), its SQLite store and the stage
(:mod:`pipelines.site_boilerplate`)."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from bench.site_boilerplate import INJECTED, fixture_pages, run
from crawler.items import ArticleItem
from dataset.state.embedded import (
    SITE_BOILERPLATE_FILE,
    EmbeddedStores,
    SqliteSiteBoilerplateStore,
)
from extraction.site_boilerplate import LineCounts, SiteBoilerplate, line_key
from extraction.text import content_hash, normalized
from extraction.worker import PageOptions, Precomputed, precompute
from pipelines.extract import NotAnArticle
from pipelines.language import LanguagePipeline
from pipelines.normalize import NormalizePipeline
from pipelines.setting import SettingError
from pipelines.site_boilerplate import SiteBoilerplatePipeline

if TYPE_CHECKING:
    from pathlib import Path

PROMO = "Subscribe to the Daily Planet channel for the news that matters to you."


def _article(n: int) -> list[str]:
    return [
        f"Paragraph one of article {n} tells what happened in town number {n}.",
        PROMO,
        f"Paragraph two of article {n} adds the reactions of {n} residents.",
    ]


def test_nothing_is_stripped_before_enough_pages() -> None:
    learner = SiteBoilerplate(min_pages=5, min_share=0.5)
    for n in range(4):
        learner.observe("planet.test", _article(n))
        assert learner.strip("planet.test", _article(n)) == _article(n)


def test_repeated_line_is_stripped_once_learned() -> None:
    learner = SiteBoilerplate(min_pages=5, min_share=0.5)
    for n in range(5):
        learner.observe("planet.test", _article(n))
    assert learner.strip("planet.test", _article(99)) == [_article(99)[0], _article(99)[2]]
    # white space and case do not hide a line
    assert learner.strip("planet.test", [PROMO.upper().replace(" ", "  ")]) == []


def test_learning_is_per_site() -> None:
    learner = SiteBoilerplate(min_pages=5, min_share=0.5)
    for n in range(6):
        learner.observe("planet.test", _article(n))
    assert learner.strip("other.test", [PROMO]) == [PROMO]


def test_a_line_on_few_pages_is_kept() -> None:
    learner = SiteBoilerplate(min_pages=5, min_share=0.5)
    for n in range(10):
        paragraphs = _article(n) if n < 3 else [p for p in _article(n) if p != PROMO]
        learner.observe("planet.test", paragraphs)
    assert learner.strip("planet.test", [PROMO]) == [PROMO]  # 3 of 10 pages


def test_long_paragraphs_are_never_counted() -> None:
    learner = SiteBoilerplate(min_pages=2, min_share=0.5, max_line_chars=50)
    for _ in range(5):
        learner.observe("planet.test", [PROMO])
    assert learner.strip("planet.test", [PROMO]) == [PROMO]


def test_memory_stays_bounded() -> None:
    learner = SiteBoilerplate(min_pages=5, min_share=0.5, max_lines=200)
    for n in range(500):
        learner.observe("planet.test", [*_article(n), f"unique line {n}"])
    site = learner.sites["planet.test"]
    assert len(site.counts) <= 200
    assert learner.strip("planet.test", [PROMO]) == []  # the frequent line survived pruning


def test_store_keeps_what_was_learned(tmp_path: Path) -> None:
    store = SqliteSiteBoilerplateStore(tmp_path / SITE_BOILERPLATE_FILE)
    learner = SiteBoilerplate(min_pages=5, min_share=0.5)
    for n in range(6):
        learner.observe("planet.test", _article(n))
    assert store.save(learner) == 1
    assert store.save(learner) == 0  # nothing changed since
    store.close()
    store = SqliteSiteBoilerplateStore(tmp_path / SITE_BOILERPLATE_FILE)
    fresh = SiteBoilerplate(min_pages=5, min_share=0.5)
    store.load(fresh, "planet.test")
    assert fresh.sites["planet.test"].pages == 6
    assert fresh.strip("planet.test", [PROMO]) == []
    store.close()


def test_store_counts_a_page_once(tmp_path: Path) -> None:
    store = SqliteSiteBoilerplateStore(tmp_path / SITE_BOILERPLATE_FILE)
    assert store.first_visit("https://planet.test/a")
    assert not store.first_visit("https://planet.test/a")
    assert store.first_visit("https://planet.test/b")
    store.close()


# --- the Scrapy component -------------------------------------------------------------------


def _pipeline(tmp_path: Path, **settings: Any) -> tuple[SiteBoilerplatePipeline, Any]:
    crawler = get_crawler(
        settings_dict={"OUTPUT_DIR": str(tmp_path), "EXTRACT_MIN_TEXT_CHARS": 50, **settings}
    )
    pipeline = build_from_crawler(SiteBoilerplatePipeline, crawler)
    pipeline.open_spider()
    return pipeline, crawler


def _item(n: int, paragraphs: list[str] | None = None) -> ArticleItem:
    return ArticleItem(
        url=f"https://planet.test/news/{n}",
        fetched_at=datetime(2026, 1, 1, tzinfo=UTC),
        text="\n\n".join(paragraphs or _article(n)),
    )


def test_pipeline_strips_and_counts(tmp_path: Path) -> None:
    pipeline, crawler = _pipeline(tmp_path, SITE_BOILERPLATE_MIN_PAGES=3)
    texts = [ItemAdapter(pipeline.process_item(_item(n)))["text"] for n in range(6)]
    assert PROMO in texts[0]
    assert PROMO not in texts[-1]
    assert texts[-1].startswith("Paragraph one of article 5")
    assert crawler.stats.get_value("news/site_boilerplate/lines_removed") >= 3
    pipeline.close_store()


def test_pipeline_state_carries_to_the_next_crawl(tmp_path: Path) -> None:
    first, _ = _pipeline(tmp_path, SITE_BOILERPLATE_MIN_PAGES=3)
    for n in range(5):
        first.process_item(_item(n))
    first.close_store()
    second, _ = _pipeline(tmp_path, SITE_BOILERPLATE_MIN_PAGES=3)
    assert PROMO not in ItemAdapter(second.process_item(_item(100)))["text"]
    # pages seen by the first crawl are not counted again
    second.process_item(_item(0))
    assert second.learner.sites["planet.test"].pages == 6
    second.close_store()


def test_pipeline_drops_a_page_that_is_only_boilerplate(tmp_path: Path) -> None:
    pipeline, crawler = _pipeline(tmp_path, SITE_BOILERPLATE_MIN_PAGES=3)
    for n in range(4):
        pipeline.process_item(_item(n))
    with pytest.raises(NotAnArticle, match="boilerplate"):
        pipeline.process_item(_item(50, [PROMO, "Short."]))
    assert crawler.stats.get_value("news/site_boilerplate/dropped") == 1
    pipeline.close_store()


def test_sites_in_memory_are_bounded_and_nothing_learned_is_lost(tmp_path: Path) -> None:
    pipeline, crawler = _pipeline(
        tmp_path, SITE_BOILERPLATE_MIN_PAGES=3, SITE_BOILERPLATE_MAX_SITES=4
    )

    def page(site: int, n: int) -> ArticleItem:
        paragraphs = [line.replace("Daily Planet", f"Planet {site}") for line in _article(n)]
        item = _item(n, paragraphs)
        item.url = f"https://planet{site}.test/news/{n}"
        return item

    most = 0
    for n in range(5):  # five pages from each of twelve sites, sites taking turns
        for site in range(12):
            pipeline.process_item(page(site, n))
            most = max(most, len(pipeline.learner.sites))
    assert most <= 4
    assert crawler.stats.get_value("news/site_boilerplate/sites_unloaded") >= 8
    # every site's promo line was learned, though its table left memory in between
    for site in range(12):
        text = ItemAdapter(pipeline.process_item(page(site, 99)))["text"]
        assert f"Planet {site} channel" not in text
        assert text.startswith("Paragraph one of article 99")
    pipeline.close_store()


def test_pipeline_keeps_what_it_learns_in_the_stores_given(tmp_path: Path) -> None:
    crawler = get_crawler()
    assert crawler.stats is not None
    pipeline = SiteBoilerplatePipeline(
        crawler.stats,
        stores=EmbeddedStores(tmp_path),
        learner=SiteBoilerplate(min_pages=3),
        min_text_chars=50,
    )
    pipeline.open_spider()
    for n in range(4):
        pipeline.process_item(_item(n))
    pipeline.close_store()
    store = SqliteSiteBoilerplateStore(tmp_path / SITE_BOILERPLATE_FILE)
    learner = SiteBoilerplate(min_pages=3)
    store.load(learner, "planet.test")
    store.close()
    assert learner.sites["planet.test"].pages == 4
    assert learner.strip("planet.test", [PROMO]) == []


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"SITE_BOILERPLATE_ENABLED": False}, "SITE_BOILERPLATE_ENABLED is off"),
        ({"SITE_BOILERPLATE_MIN_PAGES": 1}, "SITE_BOILERPLATE_MIN_PAGES=1: must be >= 2"),
        ({"SITE_BOILERPLATE_MIN_SHARE": 0}, "SITE_BOILERPLATE_MIN_SHARE=0: must be > 0 and <= 1"),
        (
            {"SITE_BOILERPLATE_MIN_SHARE": 1.5},
            "SITE_BOILERPLATE_MIN_SHARE=1.5: must be > 0 and <= 1",
        ),
        ({"SITE_BOILERPLATE_MAX_LINES": 10}, "SITE_BOILERPLATE_MAX_LINES=10: must be >= 100"),
        ({"SITE_BOILERPLATE_SAVE_EVERY": 0}, "SITE_BOILERPLATE_SAVE_EVERY=0: must be >= 1"),
        ({"SITE_BOILERPLATE_MAX_SITES": 0}, "SITE_BOILERPLATE_MAX_SITES=0: must be >= 1"),
    ],
)
def test_bad_settings(tmp_path: Path, settings: dict[str, Any], message: str) -> None:
    refusal = NotConfigured if message.endswith("is off") else SettingError
    with pytest.raises(refusal) as raised:
        build_from_crawler(
            SiteBoilerplatePipeline,
            get_crawler(settings_dict={"OUTPUT_DIR": str(tmp_path), **settings}),
        )
    assert str(raised.value) == message


# --- the worker's work on a cleaned page ------------------------------------------------------

# more than the language detection reads (600 characters)
LEAD = " ".join(
    f"Sentence {n} of the long lead tells the residents of the town what the council decided."
    for n in range(10)
)


def _learned(tmp_path: Path) -> tuple[SiteBoilerplatePipeline, Any]:
    """A pipeline that learned that ``PROMO`` is the site's boilerplate."""
    pipeline, crawler = _pipeline(tmp_path, SITE_BOILERPLATE_MIN_PAGES=3)
    for n in range(4):
        pipeline.process_item(_item(n))
    return pipeline, crawler


def _worked(paragraphs: list[str]) -> ArticleItem:
    """A page as the extract stage hands it on, with the worker's work on its text."""
    item = _item(100, paragraphs)
    item.precomputed = precompute(item.text, PageOptions())
    return item


def test_a_page_cleaned_after_its_start_keeps_the_workers_detection(tmp_path: Path) -> None:
    pipeline, crawler = _learned(tmp_path)
    assert len(LEAD) > 600
    item = _worked([LEAD, PROMO, "The last paragraph."])
    worked = item.precomputed
    assert worked is not None
    pipeline.process_item(item)
    pipeline.close_store()
    assert item.text == f"{LEAD}\n\nThe last paragraph."
    precomputed = item.precomputed
    assert isinstance(precomputed, Precomputed)
    assert precomputed.for_text(item.text)
    assert precomputed.detection == worked.detection
    # what was computed on the whole text is gone
    assert (precomputed.normalized, precomputed.signature) == (None, None)
    # the later stages: the detection is reused, the text normalized anew
    language = build_from_crawler(LanguagePipeline, crawler)
    asyncio.run(language.process_item(item))
    assert crawler.stats.get_value("news/language/reused") == 1
    assert item.language == "en"
    build_from_crawler(NormalizePipeline, crawler).process_item(item)
    assert item.content_hash == normalized(f"{LEAD}\n\nThe last paragraph.").content_hash


def test_a_page_cleaned_at_its_start_is_detected_again(tmp_path: Path) -> None:
    pipeline, crawler = _learned(tmp_path)
    item = _worked([PROMO, LEAD, "The last paragraph."])
    pipeline.process_item(item)
    pipeline.close_store()
    assert item.text == f"{LEAD}\n\nThe last paragraph."
    assert item.precomputed == Precomputed(text_hash=content_hash(item.text))
    language = build_from_crawler(LanguagePipeline, crawler)
    asyncio.run(language.process_item(item))
    assert crawler.stats.get_value("news/language/reused") is None
    assert crawler.stats.get_value("news/language/detected") == 1
    assert item.language == "en"


def test_a_page_left_as_it_is_keeps_all_the_workers_work(tmp_path: Path) -> None:
    pipeline, _ = _learned(tmp_path)
    item = _worked([LEAD, "The last paragraph."])
    worked = item.precomputed
    pipeline.process_item(item)
    pipeline.close_store()
    assert item.precomputed is worked


def test_benchmark_fixture_shows_the_gain() -> None:
    pages = fixture_pages()
    assert len(pages) >= 30
    assert sum(INJECTED[1].encode() in page.body for page in pages) >= 0.9 * len(pages)
    rows = run(pages)

    def dirty(row: str) -> float:
        return float(row.rstrip(" |").rsplit("|", 1)[-1])

    plain, learning, second = (dirty(row) for row in rows)
    assert plain >= 0.85
    assert learning < plain / 2
    assert second < 0.1


def test_line_counts_answer_like_a_dict() -> None:
    generator = random.Random(7)
    digests = [line_key(f"line {n}") for n in range(300)]
    counts = LineCounts([(digests[0], 2), (digests[1], 1), (digests[0], 3)])
    expected = {digests[0]: 5, digests[1]: 1}  # pairs of one line add up
    for _ in range(2000):
        digest = generator.choice(digests)
        times = generator.randint(1, 3)
        counts.add(digest, times)
        expected[digest] = expected.get(digest, 0) + times
    assert len(counts) == len(expected)
    assert dict(counts.items()) == expected
    assert set(counts) == set(expected)
    for digest in digests:
        assert counts.get(digest) == expected.get(digest, 0)
        assert (digest in counts) == (digest in expected)
    absent = line_key("never counted")
    assert absent not in counts
    with pytest.raises(KeyError):
        counts[absent]
    assert counts[digests[0]] == expected[digests[0]]
    floor = sorted(expected.values())[len(expected) // 2]
    kept = counts.above(floor)
    assert dict(kept.items()) == {d: n for d, n in expected.items() if n > floor}
    assert dict(LineCounts(counts.items()).items()) == expected  # as a store reads them back


def test_a_long_standard_paragraph_is_learned_too() -> None:
    # a 690-character disclaimer under every short article of a site was never counted (500
    # at most): kept in every text, it made distinct briefs near copies of each other (24 of
    # 30 dropped; 4 now, from the pages before the learner knows the site)
    disclaimer = (
        "Disclaimer: the information in this article is provided for general information "
        "purposes only and does not constitute investment, financial, legal or tax advice. "
    ) * 4
    assert 600 < len(disclaimer) <= 2000
    learner = SiteBoilerplate()
    for n in range(10):
        learner.observe("site.test", [*_article(n), disclaimer])
    kept = learner.strip("site.test", [*_article(10), disclaimer])
    assert kept == [p for p in _article(10) if p != PROMO]  # the promotion is, as before
