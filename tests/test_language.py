# Real-language samples contain Cyrillic letters and full-width punctuation on purpose.

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest
from langdetect.detector import Detector
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException
from scrapy import Request, signals
from scrapy.exceptions import NotConfigured
from scrapy.utils.misc import build_from_crawler
from scrapy.utils.test import get_crawler

from crawler.items import ArticleItem
from extraction.language import (
    CompactDetector,
    Detection,
    LanguageDetector,
    choose_language,
    profiles,
)
from extraction.pool import PagePool, WorkerFailed
from extraction.text import content_hash
from extraction.worker import Precomputed
from pipelines.extract import ExtractPipeline
from pipelines.language import LANGUAGE_MIN_CONFIDENCE, LanguagePipeline
from pipelines.setting import SettingError
from pipelines.signals import ARTICLE_META


def _process(pipeline: LanguagePipeline, item: Any) -> Any:
    return asyncio.run(pipeline.process_item(item))


SAMPLES = {
    "en": (
        "The city council approved the new budget on Tuesday after a long debate about "
        "public transport, schools and the renovation of the old library."
    ),
    "de": (
        "Der Stadtrat hat am Dienstag nach einer langen Debatte über den öffentlichen "
        "Nahverkehr, die Schulen und die Renovierung der alten Bibliothek den Haushalt "
        "beschlossen."
    ),
    "fr": (
        "Le conseil municipal a approuvé mardi le nouveau budget après un long débat sur "
        "les transports publics, les écoles et la rénovation de la vieille bibliothèque."
    ),
    "ru": (
        "Городской совет во вторник утвердил новый бюджет после долгих споров об "
        "общественном транспорте, школах и ремонте старой библиотеки."
    ),
    "ja": (
        "市議会は火曜日、公共交通機関や学校、古い図書館の改修について長い議論を"
        "行った後、新しい予算を承認しました。"
    ),
    "zh": (
        "北京是中华人民共和国的首都，也是全国的政治中心和文化中心。这座城市有三千多年的"
        "建城史，拥有许多著名的名胜古迹，例如故宫、天坛和长城。"
    ),
}

FETCHED = datetime(2024, 5, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    # Loading the profiles takes a moment: one detector for the module.
    return LanguageDetector()


def make_pipeline(settings: dict[str, Any] | None = None) -> LanguagePipeline:
    crawler = get_crawler(settings_dict=settings or {})
    assert crawler.stats is not None
    return build_from_crawler(LanguagePipeline, crawler)


# --- LanguageDetector -------------------------------------------------------------------------


@pytest.mark.parametrize(("expected", "text"), sorted(SAMPLES.items()))
def test_detects_language(detector: LanguageDetector, expected: str, text: str) -> None:
    language, confidence = detector.detect(text)
    assert language == expected
    assert confidence is not None
    assert 0.0 < confidence <= 1.0


def test_chinese_is_reported_as_zh_not_zh_cn(detector: LanguageDetector) -> None:
    language, _ = detector.detect(SAMPLES["zh"])
    assert language == "zh"


@pytest.mark.parametrize("text", ["", "12345", "   ", "!!! ??? ..."])
def test_no_letters_no_language(detector: LanguageDetector, text: str) -> None:
    assert detector.detect(text) == (None, None)


@pytest.mark.parametrize(
    "text",
    [
        SAMPLES["en"],
        # Short and ambiguous text is where an unseeded langdetect flips between answers.
        "Internet",
        "Hotel Restaurant Bar",
        "OK",
    ],
)
def test_detection_is_deterministic(detector: LanguageDetector, text: str) -> None:
    results = {detector.detect(text) for _ in range(5)}
    assert len(results) == 1
    other = LanguageDetector()
    assert {other.detect(text) for _ in range(5)} == results


def test_detection_says_how_it_was_made(detector: LanguageDetector) -> None:
    detection = detector.detection(SAMPLES["fr"])
    assert (detection.language, detection.confidence) == detector.detect(SAMPLES["fr"])
    assert (detection.seed, detection.sample_chars) == (0, 600)
    assert detection.made_with(seed=0, sample_chars=600)
    assert not detection.made_with(seed=1, sample_chars=600)
    assert not detection.made_with(seed=0, sample_chars=400)
    assert (
        LanguageDetector(seed=3, sample_chars=50).detection("").made_with(seed=3, sample_chars=50)
    )


def test_detection_reads_only_sample_chars() -> None:
    short = LanguageDetector(sample_chars=len(SAMPLES["de"]))
    # German first, then much more French: only the German part is read.
    text = SAMPLES["de"] + " " + SAMPLES["fr"] * 5
    assert short.detect(text)[0] == "de"
    assert LanguageDetector().detect(text)[0] == "fr"


# --- choose_language --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("detected", "confidence", "declared", "expected"),
    [
        # Confident detection wins over the declaration.
        ("de", 0.99, "en", ("de", 0.99)),
        ("de", 0.8, "en", ("de", 0.8)),
        ("de", 0.99, None, ("de", 0.99)),
        # Unsure detection: the declaration is used, with no confidence.
        ("de", 0.79, "en", ("en", None)),
        (None, None, "en", ("en", None)),
        # No declaration: the unsure detection is kept.
        ("de", 0.5, None, ("de", 0.5)),
        ("de", 0.5, "", ("de", 0.5)),
        (None, None, None, (None, None)),
    ],
)
def test_choose_language(
    detected: str | None,
    confidence: float | None,
    declared: str | None,
    expected: tuple[str | None, float | None],
) -> None:
    result = choose_language(detected, confidence, declared, min_confidence=0.8)
    assert result == expected


# --- LanguagePipeline -------------------------------------------------------------------------


def test_pipeline_sets_detected_language() -> None:
    pipeline = make_pipeline()
    item = ArticleItem(
        url="https://example.de/a",
        fetched_at=FETCHED,
        text=SAMPLES["de"],
        declared_language="en",
    )
    assert _process(pipeline, item) is item
    assert item.language == "de"
    assert item.language_confidence is not None
    assert item.language_confidence >= 0.8
    assert pipeline.stats.get_value("news/language/detected") == 1
    assert pipeline.stats.get_value("news/language/declared") is None
    assert pipeline.stats.get_value("news/language/unknown") is None


def test_pipeline_falls_back_to_declared_language() -> None:
    pipeline = make_pipeline()
    item = ArticleItem(
        url="https://example.com/a", fetched_at=FETCHED, text="12345", declared_language="it"
    )
    _process(pipeline, item)
    assert item.language == "it"
    assert item.language_confidence is None
    assert pipeline.stats.get_value("news/language/declared") == 1
    assert pipeline.stats.get_value("news/language/detected") is None


def test_pipeline_declared_language_wins_over_unsure_detection(
    detector: LanguageDetector,
) -> None:
    text = "Taxi Hotel"  # two words that belong to no language in particular
    detected, confidence = detector.detect(text)
    assert detected is not None
    assert confidence is not None
    assert confidence < LANGUAGE_MIN_CONFIDENCE.default
    pipeline = make_pipeline()
    item = ArticleItem(
        url="https://example.com/a", fetched_at=FETCHED, text=text, declared_language="en"
    )
    _process(pipeline, item)
    assert item.language == "en"
    assert item.language_confidence is None
    assert pipeline.stats.get_value("news/language/declared") == 1
    assert pipeline.stats.get_value("news/language/detected") is None


def test_pipeline_the_sources_language_comes_before_the_pages() -> None:
    # a source's `language` in a sources file was checked, then never read
    pipeline = make_pipeline()
    item = ArticleItem(
        url="https://example.com/a",
        fetched_at=FETCHED,
        text="12345",
        declared_language="en",  # templates say en on pages in other languages
        source_language="de",
    )
    _process(pipeline, item)
    assert (item.language, item.language_confidence) == ("de", None)
    confident = ArticleItem(
        url="https://example.com/b",
        fetched_at=FETCHED,
        text="Der Bundestag hat am Donnerstag über den Haushalt für das kommende Jahr beraten.",
        source_language="fr",
    )
    _process(pipeline, confident)
    assert confident.language == "de"  # a hint, never an override of a sure detection


def test_pipeline_keeps_unsure_detection_without_declaration(
    detector: LanguageDetector,
) -> None:
    text = "Taxi Hotel"
    expected = detector.detect(text)
    pipeline = make_pipeline()
    item = ArticleItem(url="https://example.com/a", fetched_at=FETCHED, text=text)
    _process(pipeline, item)
    assert (item.language, item.language_confidence) == expected
    assert pipeline.stats.get_value("news/language/detected") == 1


def test_pipeline_unknown_language() -> None:
    pipeline = make_pipeline()
    item = ArticleItem(url="https://example.com/a", fetched_at=FETCHED, text="")
    _process(pipeline, item)
    assert item.language is None
    assert item.language_confidence is None
    assert pipeline.stats.get_value("news/language/unknown") == 1
    assert pipeline.stats.get_value("news/language/detected") is None
    assert pipeline.stats.get_value("news/language/declared") is None


def test_pipeline_counts_every_item() -> None:
    pipeline = make_pipeline()
    items = [
        ArticleItem(url="https://example.com/1", fetched_at=FETCHED, text=SAMPLES["en"]),
        ArticleItem(url="https://example.com/2", fetched_at=FETCHED, text=SAMPLES["ru"]),
        ArticleItem(
            url="https://example.com/3", fetched_at=FETCHED, text="", declared_language="fr"
        ),
        ArticleItem(url="https://example.com/4", fetched_at=FETCHED, text="2024"),
    ]
    for item in items:
        _process(pipeline, item)
    assert [item.language for item in items] == ["en", "ru", "fr", None]
    assert pipeline.stats.get_value("news/language/detected") == 2
    assert pipeline.stats.get_value("news/language/declared") == 1
    assert pipeline.stats.get_value("news/language/unknown") == 1


def test_pipeline_reads_settings() -> None:
    pipeline = make_pipeline(
        {"LANGUAGE_SAMPLE_CHARS": 50, "LANGUAGE_MIN_CONFIDENCE": 0.5, "LANGUAGE_SEED": 7}
    )
    assert pipeline.min_confidence == 0.5
    assert pipeline.detector.sample_chars == 50


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"LANGUAGE_ENABLED": False}, "LANGUAGE_ENABLED is off"),
        ({"LANGUAGE_MIN_CONFIDENCE": 1.5}, "LANGUAGE_MIN_CONFIDENCE=1.5: must be >= 0 and <= 1"),
        ({"LANGUAGE_MIN_CONFIDENCE": -0.1}, "LANGUAGE_MIN_CONFIDENCE=-0.1: must be >= 0 and <= 1"),
        ({"LANGUAGE_SAMPLE_CHARS": 5}, "LANGUAGE_SAMPLE_CHARS=5: must be >= 20"),
        ({"LANGUAGE_SAMPLE_CHARS": 0}, "LANGUAGE_SAMPLE_CHARS=0: must be >= 20"),
    ],
)
def test_pipeline_not_configured(settings: dict[str, Any], message: str) -> None:
    crawler = get_crawler(settings_dict=settings)
    refusal = NotConfigured if message.endswith("is off") else SettingError
    with pytest.raises(refusal) as raised:
        build_from_crawler(LanguagePipeline, crawler)
    assert str(raised.value) == message


# --- the worker's detection -------------------------------------------------------------------

# what no detector says of this text: used, it shows that the detection was reused
WORKERS = Detection(language="xx", confidence=0.97, seed=0, sample_chars=600)


def _precomputed(text: str, detection: Detection | None = WORKERS) -> Precomputed:
    return Precomputed(text_hash=content_hash(text), detection=detection)


def test_pipeline_reuses_the_workers_detection_of_this_text() -> None:
    pipeline = make_pipeline()
    text = SAMPLES["de"]
    item = ArticleItem(
        url="https://example.de/a", fetched_at=FETCHED, text=text, precomputed=_precomputed(text)
    )
    _process(pipeline, item)
    assert (item.language, item.language_confidence) == ("xx", 0.97)
    assert pipeline.stats.get_value("news/language/reused") == 1
    assert pipeline.stats.get_value("news/language/detected") == 1
    assert pipeline._detector is None  # nothing was detected here


@pytest.mark.parametrize(
    ("precomputed", "settings"),
    [
        (None, {}),
        (_precomputed(SAMPLES["de"], detection=None), {}),  # the language stage was off
        (_precomputed("Other. " + SAMPLES["de"]), {}),  # another text
        (_precomputed(SAMPLES["de"]), {"LANGUAGE_SEED": 1}),
        (_precomputed(SAMPLES["de"]), {"LANGUAGE_SAMPLE_CHARS": 400}),
    ],
    ids=["none", "no-detection", "other-text", "other-seed", "other-sample"],
)
def test_pipeline_detects_again_unless_the_detection_holds(
    precomputed: Precomputed | None, settings: dict[str, Any]
) -> None:
    pipeline = make_pipeline(settings)
    item = ArticleItem(
        url="https://example.de/a", fetched_at=FETCHED, text=SAMPLES["de"], precomputed=precomputed
    )
    _process(pipeline, item)
    assert item.language == "de"
    assert pipeline.stats.get_value("news/language/reused") is None
    assert pipeline.stats.get_value("news/language/detected") == 1


# --- the compact profiles: langdetect's answers, in a sixth of the memory ---------------------


def _page_texts() -> list[str]:
    """The main text of every bundled page (31 languages and scripts among them)."""
    import gzip  # noqa: PLC0415

    from extraction.extractor import ExtractionError, extract_article  # noqa: PLC0415
    from tests.conftest import ROOT  # noqa: PLC0415

    texts = []
    for path in sorted((ROOT / "demo" / "pages").rglob("*.html.gz")):
        try:
            texts.append(
                extract_article(gzip.decompress(path.read_bytes()), "https://x.test/a").text
            )
        except ExtractionError:
            continue
    return texts


def _answer(detector: Any, text: str) -> Any:
    """What a langdetect detector says of ``text`` with our number of trials."""
    detector.n_trial = LanguageDetector.TRIALS
    detector.append(text)
    try:
        return [(found.lang, found.prob) for found in detector.get_probabilities()]
    except LangDetectException as exc:
        return str(exc)


@pytest.mark.parametrize("seed", [0, 7])
def test_compact_profiles_give_langdetects_exact_answers(seed: int) -> None:
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.seed = seed
    ours = profiles()
    assert ours.languages == factory.langlist
    texts = [*_page_texts(), *SAMPLES.values(), "", "1234 5678", "日本語のテキスト"]
    assert len(texts) > 40
    samples = [text[:size] for text in texts for size in (30, 600, 3000)]
    answers = [_answer(factory.create(), sample) for sample in samples]
    assert len({str(answer) for answer in answers}) > 20  # varied: languages, probabilities
    assert [_answer(CompactDetector(ours, seed), sample) for sample in samples] == answers


@pytest.mark.parametrize(
    "text",
    [
        "NASA and the FBI said the ISS was fine",  # runs of capitals: no n-grams of theirs
        "aB Cd EF gH  ijk   Lmn",
        "Ünïcödé ÀÉÎ ß ȘȚșț ẠẾ ابی",  # normalized characters (Romanian, Vietnamese, Farsi)
        "中文 English 日本語 한국어 ひらがな カタカナ",
        "mail me at a@b.example or https://x.example/path",
        "",
        " ",
        "X",
    ],
)
def test_ngrams_are_langdetects(text: str) -> None:
    detector = CompactDetector(profiles(), 0)
    detector.append(text)
    detector.cleaning_text()
    assert detector._extract_ngrams() == Detector._extract_ngrams(detector)


def test_compact_profiles_hold_every_ngram_and_probability() -> None:
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    ours = profiles()
    assert ours.rows.keys() == factory.word_lang_prob_map.keys()
    for word, probabilities in factory.word_lang_prob_map.items():
        row = ours.rows[word]
        dense = [0.0] * len(ours.languages)
        for at in range(ours.starts[row], ours.starts[row + 1]):
            dense[ours.language_of[at]] = ours.probability[at]
        assert dense == probabilities[: len(ours.languages)], word
    # langdetect's table, one Python float per language and n-gram, against ours
    assert len(ours.probability) < 0.05 * len(ours.rows) * len(ours.languages)


# --- a text changed after extraction: detected again by a worker --------------------------------


def _changed_text_item() -> ArticleItem:
    # no worker detection for this text (a later stage changed it): it must be detected again
    return ArticleItem(
        url="https://example.fr/a", fetched_at=FETCHED, text=SAMPLES["fr"], declared_language="en"
    )


def test_a_changed_text_is_detected_again_by_a_worker_not_here() -> None:
    crawler = get_crawler()
    pipeline = build_from_crawler(LanguagePipeline, crawler)
    pool = PagePool(1)
    extract = ExtractPipeline(pipeline.stats, pool=pool, signals=crawler.signals)
    extract.open_spider()
    try:
        assert pipeline.pool is None  # no article asked for yet: no worker
        article = Request("https://example.fr/a", meta={ARTICLE_META: True})
        # the first article asked for starts the workers, and the language stage is told
        crawler.signals.send_catch_log(
            signals.request_reached_downloader, request=article, spider=None
        )
        assert pipeline.pool is pool
        item = _changed_text_item()
        _process(pipeline, item)
    finally:
        extract.close_spider()
    assert item.language == "fr"
    assert pipeline._detector is None  # no profiles loaded in this process
    assert pipeline.stats.get_value("news/language/detected") == 1


def test_without_workers_the_text_is_detected_here() -> None:
    crawler = get_crawler()
    pipeline = build_from_crawler(LanguagePipeline, crawler)
    ExtractPipeline(pipeline.stats, pool=PagePool(0), signals=crawler.signals).open_spider()
    assert pipeline.pool is None
    item = _changed_text_item()
    _process(pipeline, item)
    assert item.language == "fr"
    assert pipeline._detector is not None


def test_a_failed_worker_leaves_the_detection_to_this_process() -> None:
    class FailingPool:
        workers = 1

        async def call(self, *args: Any) -> Any:
            raise WorkerFailed("the worker died", timed_out=False)

    pipeline = make_pipeline()
    pipeline.pool = FailingPool()  # type: ignore[assignment]
    item = _changed_text_item()
    _process(pipeline, item)
    assert item.language == "fr"
    assert pipeline._detector is not None
