"""The extractor (:mod:`extraction.extractor`): golden files for every bundled page, quality
against the corpus's truth, the seed acceptance case, and the reasons a page is no article."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from dataclasses import fields
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml.html import fromstring
from trafilatura.utils import load_html

from bench.scoring import body_overlap, normalize
from crawler.items import ArticleItem
from demo.site import PAGES_DIR, SEED_FILE, Page, load_site
from extraction import extractor
from extraction.article import COLUMNS
from extraction.authors import MAX_AUTHORS, Credits, outlet_keys
from extraction.extractor import (
    REASONS,
    Extraction,
    ExtractionError,
    MainText,
    decide_credits,
    drop_asides_and_footers,
    drop_inert_elements,
    extract_article,
    main_text,
    prose_size,
)
from extraction.language import LanguageDetector
from extraction.record import article_record

GOLDEN_DIR = Path(__file__).parent / "golden"
# Fixed so that golden files do not depend on the day the tests run.
FETCHED_AT = datetime(2030, 1, 1, tzinfo=UTC)
BASE = "http://demo.test"
SEED_BODY = (PAGES_DIR / SEED_FILE).read_bytes()
SEED_URL = f"{BASE}/articles/{SEED_FILE}"

# langdetect has no Zulu or Xhosa profile: those pages cannot be told apart by it.
UNDETECTABLE_LANGUAGES = frozenset({"zu", "xh"})

PAGES = load_site().pages


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    return {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in record.items()
    }


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


@pytest.fixture(scope="module")
def records(detector: LanguageDetector) -> dict[str, dict[str, Any]]:
    """The record of every bundled page, by page path."""
    return {
        page.path: _jsonable(
            article_record(page.body(), BASE + page.path, fetched_at=FETCHED_AT, detector=detector)
        )
        for page in PAGES
    }


@pytest.mark.parametrize("page", PAGES, ids=lambda page: page.path.removeprefix("/articles/"))
def test_golden(
    page: Page, records: dict[str, dict[str, Any]], request: pytest.FixtureRequest
) -> None:
    golden = GOLDEN_DIR / (page.path.removeprefix("/articles/").removesuffix(".html") + ".json")
    record = records[page.path]
    if request.config.getoption("--update-golden"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(json.dumps(record, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert golden.exists(), (
        f"missing golden file {golden}; run pytest --update-golden and review it"
    )
    assert record == json.loads(golden.read_text(encoding="utf-8"))


def _truth_pages() -> list[Page]:
    return [page for page in PAGES if page.record]


def test_body_quality_against_corpus_truth(records: dict[str, dict[str, Any]]) -> None:
    scores = {
        page.path: body_overlap(
            records[page.path]["text"], page.record["expected"]["body"], page.record["language"]
        ).f1
        for page in _truth_pages()
    }
    worst = min(scores, key=scores.__getitem__)
    assert scores[worst] >= 0.6, f"{worst} body F1 {scores[worst]:.3f}"
    assert sum(scores.values()) / len(scores) >= 0.95


def test_titles_match_corpus_truth(records: dict[str, dict[str, Any]]) -> None:
    titled = [page for page in _truth_pages() if page.record["expected"]["title"]]
    matching = [
        page
        for page in titled
        if normalize(page.record["expected"]["title"]) in normalize(records[page.path]["title"])
        or normalize(records[page.path]["title"]) in normalize(page.record["expected"]["title"])
    ]
    assert len(matching) >= 0.95 * len(titled)


def test_publication_days_match_corpus_truth(records: dict[str, dict[str, Any]]) -> None:
    # The corpus gives the publisher's local day; we store UTC, so allow one day either way.
    dated = [page for page in _truth_pages() if page.record["expected"]["date_day"]]
    assert len(dated) >= 30
    for page in dated:
        published = records[page.path]["published_at"]
        assert published, page.path
        expected = datetime.fromisoformat(page.record["expected"]["date_day"]).date()
        assert abs(datetime.fromisoformat(published).date() - expected) <= timedelta(days=1)


def test_languages_match_corpus_truth(records: dict[str, dict[str, Any]]) -> None:
    for page in _truth_pages():
        if page.record["language"] not in UNDETECTABLE_LANGUAGES:
            assert records[page.path]["language"] == page.record["language"], page.path


# --- the seed acceptance case ------------------------------------------------------------------

SEED_PARAGRAPHS = [
    (
        "The Russian defense official's remarks came during his participation in the XI Moscow "
        "Conference on International Security (MCIS) organized by the Russian Defense Ministry "
        "in Moscow on August 15."
    ),
    "African countries should have modern armed forces, Russia will expand interaction",
    '"We are convinced that African countries should have modern armed forces',
    "The Russian minister added that the fight against neocolonialism",
    '"Today we have an opportunity to discuss in detail the military aspects',
    "The Moscow Conference on International Security (MCIS) is an annual event",
    "The agenda of the conference usually includes the issues",
    "as well as representatives of academic circles and non-governmental experts.",
]
SEED_BOILERPLATE = [
    "Subscribe",
    "Newsfeed",
    "© Sputnik",
    "Go to the mediabank",
    "The image is a handout provided by a third party",
    "Sputnik Africa, 1920, 15.08.2023",
    "Moscow International Security Conference Comes Amid 'Drastic Change'",
    "XI Moscow Conference on International Security -",
    "Russian and African Militaries to Hold Joint Drills",  # related headlines
    "Share this story",
    "Telegram",
    "Terms of use",
    "We use cookies",
]


def test_seed_article_is_clean_and_complete(detector: LanguageDetector) -> None:
    record = article_record(SEED_BODY, SEED_URL, fetched_at=FETCHED_AT, detector=detector)
    assert record["title"] == (
        "Russia to Expand Military Cooperation With African Countries: Defense Minister"
    )
    assert record["published_at"].date().isoformat() == "2023-08-15"
    assert record["language"] == "en"
    assert record["site_name"] == "Sputnik Africa"
    text = record["text"]
    positions = [text.find(paragraph) for paragraph in SEED_PARAGRAPHS]
    assert -1 not in positions, [
        p for p, at in zip(SEED_PARAGRAPHS, positions, strict=True) if at < 0
    ]
    assert positions == sorted(positions), "paragraphs out of order"
    assert text.startswith(SEED_PARAGRAPHS[0]), "the lead must come first"
    assert text.endswith(SEED_PARAGRAPHS[-1])
    for boilerplate in SEED_BOILERPLATE:
        assert boilerplate not in text, boilerplate
    assert "\n\n" in text  # paragraphs separated by a blank line


# --- what is not an article -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type", "reason"),
    [
        (b"%PDF-1.4 ...", "application/pdf", "NotHtml"),
        (b"\x89PNG\r\n\x1a\n", "image/png", "NotHtml"),
        (bytes(range(256)) * 8, "text/html", "NotHtml"),
        (b"", "text/html", "EmptyPage"),
        (b"   \n ", "text/html; charset=utf-8", "EmptyPage"),
        (b"<html><body><p>Too short.</p></body></html>", "text/html", "NotAnArticle"),
    ],
)
def test_non_articles_are_refused(body: bytes, content_type: str, reason: str) -> None:
    with pytest.raises(ExtractionError) as raised:
        extract_article(body, "http://demo.test/x", content_type)
    assert raised.value.reason == reason


def test_listing_page_is_not_an_article() -> None:
    links = "".join(
        f'<li><a href="/news/{n}">Headline number {n} about something that happened today</a></li>'
        for n in range(30)
    )
    html = f"<html><head><title>Home</title></head><body><ul>{links}</ul></body></html>"
    with pytest.raises(
        ExtractionError, match="besides links and the excerpts under them"
    ) as raised:
        extract_article(html.encode(), "http://demo.test/", "text/html")
    assert raised.value.reason == "ListingPage"


def test_missing_content_type_is_taken_as_html() -> None:
    extraction = extract_article(SEED_BODY, SEED_URL, None)
    assert extraction.title
    assert extraction.text


def test_an_unknown_reason_is_refused() -> None:
    assert ExtractionError("ListingPage", "a listing").reason == "ListingPage"
    assert str(ExtractionError("EmptyPage", "empty body")) == "empty body"
    with pytest.raises(ValueError, match="unknown reason 'Boring'"):
        ExtractionError("Boring", "a dull page")
    assert set(REASONS) == {"NotHtml", "EmptyPage", "NotAnArticle", "ListingPage", "ErrorPage"}


def _kinds(annotation: object) -> set[str]:
    """The types a field's annotation allows (written as a string: the modules postpone their
    annotations): ``"list[str] | None"`` -> ``{"list[str]", "None"}``."""
    return {kind.strip() for kind in str(annotation).split("|")}


def test_each_field_of_an_extraction_is_the_items_field_of_the_same_name_and_type() -> None:
    # Extraction names again the article's fields the extraction fills (a class made from the
    # declaration as the code runs would be no type mypy can check), and the extract stage
    # copies each into the item's field of the same name (apply_extraction): each must be one,
    # of its type or a narrower one (never null where the item may hold null)
    item = {field.name: field.type for field in fields(ArticleItem)}
    wrong = [
        f"Extraction.{field.name}: {field.type} (the item's: {item.get(field.name)})"
        for field in fields(Extraction)
        if field.name not in item or not _kinds(field.type) <= _kinds(item[field.name])
    ]
    assert not wrong
    # the article's fields, and what the page says for the language stage only
    names = [field.name for field in fields(Extraction)]
    assert [name for name in names if name not in COLUMNS] == ["declared_language"]


def test_extraction_is_deterministic(detector: LanguageDetector) -> None:
    first = article_record(SEED_BODY, SEED_URL, fetched_at=FETCHED_AT, detector=detector)
    second = article_record(SEED_BODY, SEED_URL, fetched_at=FETCHED_AT, detector=LanguageDetector())
    assert first == second


def _teasers(count: int, *, excerpt: str) -> str:
    return "".join(
        f'<div class="teaser"><h2><a href="/news/{n}">Headline number {n} about the news of '
        f"day {n}</a></h2><p>{excerpt} Story {n} continues inside.</p></div>"
        for n in range(count)
    )


EXCERPT = "A short summary of what happened, written to make readers click on the headline."


@pytest.mark.parametrize(
    ("url", "teasers"),
    [
        ("http://demo.test/", 8),  # a home page: headlines with excerpts
        ("http://demo.test/tag/elections/", 3),  # a tag page: few headlines are enough
        ("http://demo.test/search?q=elections", 3),  # a search page
        ("http://demo.test/category/world/page/2", 3),  # a paginated section
    ],
)
def test_listings_with_excerpts_are_listings(url: str, teasers: int) -> None:
    html = (
        "<html><head><title>News</title></head><body>"
        f"<main>{_teasers(teasers, excerpt=EXCERPT)}</main></body></html>"
    )
    with pytest.raises(ExtractionError) as raised:
        extract_article(html.encode(), url, "text/html")
    assert raised.value.reason == "ListingPage"


def test_an_article_with_a_few_related_links_is_an_article() -> None:
    body = "".join(
        f"<p>Paragraph {n} of a real article explains one more detail of the story, "
        f"with quotes and numbers that only this article has, number {n}.</p>"
        for n in range(8)
    )
    html = (
        '<html><head><meta property="og:type" content="article"></head><body><article>'
        f"<h1>The story</h1>{body}</article>{_teasers(3, excerpt=EXCERPT)}</body></html>"
    )
    extraction = extract_article(html.encode(), "http://demo.test/tag/x/story", "text/html")
    assert "Paragraph 7 of a real article" in extraction.text


def test_a_gallery_without_text_is_not_an_article() -> None:
    images = "".join(
        f'<figure><img src="/p/{n}.jpg"><figcaption>Photo {n}</figcaption></figure>'
        for n in range(20)
    )
    html = (
        f"<html><head><title>Photos</title></head><body><h1>In pictures</h1>{images}</body></html>"
    )
    with pytest.raises(ExtractionError) as raised:
        extract_article(html.encode(), "http://demo.test/gallery/1", "text/html")
    assert raised.value.reason == "NotAnArticle"


def test_separator_characters_in_an_attribute_are_not_binary() -> None:
    # a real page (CNN) separates ad slots with \x02 in a meta attribute
    slots = "\x02".join(f"ST{n}" for n in range(20))
    page = SEED_BODY.replace(b"<head>", f'<head><meta name="ads" content="{slots}">'.encode(), 1)
    assert b"\x02" in page
    assert extract_article(page, SEED_URL, "text/html").text.startswith(SEED_PARAGRAPHS[0][:40])
    with pytest.raises(ExtractionError, match="binary"):
        extract_article(bytes(range(256)) * 16, SEED_URL, "text/html")


def test_inert_elements_are_dropped_and_the_text_around_them_kept() -> None:
    tree = load_html(
        "<html><head><style>p {color: red}</style>"
        '<script type="application/ld+json">{"@type": "NewsArticle"}</script>'
        "<script>var tracking = 1;</script></head><body><p>Before "
        '<svg class="icon"><title>Share</title><path d="M0 0"/></svg>after the icon.'
        "<script>window.ads = [];</script> And the rest.</p></body></html>"
    )
    drop_inert_elements(tree)
    assert [script.get("type") for script in tree.iter("script")] == ["application/ld+json"]
    assert next(tree.iter("style", "svg", "path"), None) is None
    assert tree.find(".//p").text_content() == "Before after the icon. And the rest."


def test_asides_and_footers_are_dropped_and_the_text_after_them_kept() -> None:
    tree = load_html(
        "<html><body><article><p>First paragraph.</p><aside><p>Read also: more</p></aside>"
        "Tail text.<footer>Copyright 2024</footer><p>Last paragraph.</p></article></body></html>"
    )
    drop_asides_and_footers(tree)
    assert next(tree.iter("aside", "footer"), None) is None
    assert tree.find(".//article").text_content() == "First paragraph.Tail text.Last paragraph."


def test_extraction_is_the_same_with_the_elements_trafilatura_ignores_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # they are dropped to save work, not to change what is extracted
    pages = [(page.body(), f"http://127.0.0.1{page.path}") for page in load_site().pages]

    def extract_all() -> list[Any]:
        results: list[Any] = []
        for body, url in pages:
            try:
                results.append(extract_article(body, url, "text/html"))
            except ExtractionError as exc:
                results.append(str(exc))
        return results

    dropped = extract_all()
    monkeypatch.setattr("extraction.extractor.drop_inert_elements", lambda tree: None)
    monkeypatch.setattr("extraction.extractor.drop_asides_and_footers", lambda tree: None)
    assert extract_all() == dropped
    assert sum(isinstance(result, Extraction) for result in dropped) >= len(pages) - 2


# --- timings ----------------------------------------------------------------------------------


def test_timings_add_the_cpu_seconds_of_decoding_and_trafilatura() -> None:
    timings = {"decode": 1.0, "trafilatura": 2.0, "elsewhere": 5.0}
    started = time.process_time()
    timed = extract_article(SEED_BODY, SEED_URL, "text/html", timings=timings)
    spent = time.process_time() - started
    assert set(timings) == {"decode", "trafilatura", "elsewhere"}
    assert timings["elsewhere"] == 5.0
    decode, trafilatura = timings["decode"] - 1.0, timings["trafilatura"] - 2.0
    assert decode >= 0.0
    assert trafilatura > 0.0  # it parses the page and extracts its text
    assert decode + trafilatura <= spent
    # a second page adds to what is there
    extract_article(SEED_BODY, SEED_URL, "text/html", timings=timings)
    assert timings["trafilatura"] > 2.0 + trafilatura
    # timed or not, the extraction is the same
    assert timed == extract_article(SEED_BODY, SEED_URL, "text/html")


def test_timings_start_empty_and_name_only_the_two_phases() -> None:
    timings: dict[str, float] = {}
    extract_article(SEED_BODY, SEED_URL, "text/html", timings=timings)
    assert set(timings) == {"decode", "trafilatura"}
    # a page refused before it is decoded costs nothing
    refused: dict[str, float] = {}
    with pytest.raises(ExtractionError):
        extract_article(b"%PDF-1.4", "http://demo.test/a.pdf", "application/pdf", timings=refused)
    assert refused == {}


MENU = "".join(f'<li><a href="/section/{n}">Section number {n}</a></li>' for n in range(40))
STORY = (
    "Frankfurt (dpa) - For a novel about the old Federal Republic the author received the "
    "book prize of the year. The jury praised its many episodes and fragments, told from the "
    "point of view of a thirteen-year-old, and the prize is the most important of the trade."
)


@pytest.mark.parametrize("markup", ["microdata", "json-ld"])
def test_a_short_article_the_extractor_misses_is_taken_from_its_declared_body(
    markup: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A short article on a link-heavy page, whose text trafilatura does not keep (only the
    menus, as on a real page of the second yardstick): the page's own article markup gives
    it, and it is no listing."""
    menus = [f"Section number {n}" for n in range(40)] * 2
    monkeypatch.setattr(extractor, "main_text", lambda tree, url, **_: MainText(list(menus)))
    if markup == "microdata":
        article = (
            '<section itemscope itemtype="http://schema.org/Article">'
            '<div class="teaser-detail" itemprop="articleBody">'
            f"<p>{STORY}</p></div></section>"
        )
        head = ""
    else:
        article = ""
        body = json.dumps({"@type": "NewsArticle", "headline": "Prize", "articleBody": STORY})
        head = f'<script type="application/ld+json">{body}</script>'
    page = (
        f"<html><head><title>Prize</title>{head}</head><body><nav><ul>{MENU}</ul></nav>"
        f"{article}<ul>{MENU}</ul></body></html>"
    )
    extraction = extract_article(page.encode(), "https://news.test/culture/prize-123.html")
    assert STORY in extraction.text
    assert "Section number" not in extraction.text


@pytest.mark.parametrize("says_article", [True, False])
def test_an_article_whose_fast_text_is_links_is_rescued_by_the_full_mode(
    says_article: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page that says it is an article, whose fast-mode text is its menus and which declares
    no article body: trafilatura's full mode, on the page as fetched, gives its story. A page
    that does not say so is not asked again (a listing is links by design)."""
    menus = [f"Section number {n}" for n in range(40)] * 2
    monkeypatch.setattr(extractor, "main_text", lambda tree, url, **_: MainText(list(menus)))
    asked: list[str] = []
    rescue = extractor.rescued_text

    def rescued_text(html: str, url: str) -> list[str]:
        asked.append(url)
        return rescue(html, url)

    monkeypatch.setattr(extractor, "rescued_text", rescued_text)
    head = '<meta property="og:type" content="article">' if says_article else ""
    page = (
        f"<html><head><title>Prize</title>{head}</head><body><nav><ul>{MENU}</ul></nav>"
        f"<main><aside><a href='mailto:?body=x'>Send</a></aside><h1>Prize</h1>"
        f"<div class='teaser'><p>{STORY}</p></div></main><ul>{MENU}</ul></body></html>"
    )
    url = "https://news.test/culture/prize-123.html"
    if not says_article:
        with pytest.raises(ExtractionError):
            extract_article(page.encode(), url)
        assert asked == []
        return
    extraction = extract_article(page.encode(), url)
    assert asked == [url]
    assert STORY in extraction.text
    assert "Section number" not in extraction.text


SENTENCE = "The council met on Tuesday evening and agreed the budget for the coming year. "
ARTICLE_IN_DIVS = (
    "<html><body><header><p>" + SENTENCE + "</p></header><nav><a href='/a'>" + SENTENCE
    + "</a></nav><ul><li>" + SENTENCE + "</li></ul><div class='story'>"
    + "<br>".join([SENTENCE * 2] * 6) + "<br>Short line.</div></body></html>"
)  # fmt: skip


def test_prose_size_counts_running_text_wherever_it_stands() -> None:
    tree = fromstring(ARTICLE_IN_DIVS)
    # the six long lines of the story; not the header, the link, the list item, the short line
    assert prose_size(tree) == 6 * len((SENTENCE * 2).strip())


@pytest.mark.parametrize(("lines", "full"), [(12, True), (1, False)])
def test_full_mode_runs_where_the_fast_text_misses_running_text_outside_paragraphs(
    lines: int, full: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An article set in ``<div>``s with ``<br>``s, of which the fast mode kept a little: the
    share of ``<p>`` text cannot show it (there are few), its running text does."""
    asked: list[bool] = []
    kept = [(SENTENCE * 4).strip()]  # more than FULL_EXTRACTION_BELOW_CHARS

    def paragraphs(tree: Any, url: str, *, fast: bool, comments: bool) -> MainText:
        asked.append(fast)
        return MainText(kept)

    monkeypatch.setattr(extractor, "_trafilatura_paragraphs", paragraphs)
    page = ARTICLE_IN_DIVS.replace(
        "<br>".join([SENTENCE * 2] * 6), "<br>".join([SENTENCE * 2] * lines)
    )
    assert main_text(fromstring(page), "https://news.test/a").paragraphs == kept
    assert asked == ([True, False] if full else [True])


def test_without_declared_body_a_page_of_links_is_still_a_listing() -> None:
    page = f"<html><head><title>News</title></head><body><ul>{MENU}</ul></body></html>"
    with pytest.raises(ExtractionError) as raised:
        extract_article(page.encode(), "https://news.test/culture/")
    assert raised.value.reason in ("ListingPage", "NotAnArticle")


LEVEL_AFTER_EXTRACTING = """
import logging
logging.getLogger("htmldate").setLevel(logging.CRITICAL)  # as the crawl's extract stage does
import sys
from extraction.extractor import extract_article
with open(sys.argv[1], "rb") as page:
    extract_article(page.read(), "https://x.test/a")  # trafilatura is imported here, lazily
print(logging.getLogger("htmldate").level, logging.getLogger("trafilatura").level)
"""


def test_importing_trafilatura_late_keeps_the_quieted_htmldate_log() -> None:
    # trafilatura sets htmldate's level to WARNING when imported: an inline crawl then logged
    # htmldate's cache-reset errors (and exited 1)
    done = subprocess.run(
        [sys.executable, "-c", LEVEL_AFTER_EXTRACTING, str(PAGES_DIR / SEED_FILE)],
        capture_output=True, text=True, timeout=60, check=False, cwd=PAGES_DIR.parents[1],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(logging.CRITICAL), str(logging.NOTSET)]


# --- authors and author organizations ------------------------------------------------------

ARTICLE_TEXT = "".join(
    f"<p>Paragraph {n} of the article tells what happened at the harbour on Monday morning, "
    "and what the witnesses said about the storm that hit the coast.</p>"
    for n in range(4)
)


def _credited(head: str = "", header: str = "", end: str = "", lang: str = "en") -> Extraction:
    """The extraction of an article page with ``head`` in its head, ``header`` under its
    headline and ``end`` after its text."""
    html = (
        f"<!DOCTYPE html><html lang='{lang}'><head><title>Storm at the harbour</title>"
        "<meta property='og:site_name' content='The Harbour Times'>"
        f"{head}</head><body><article><h1>Storm at the harbour</h1>{header}"
        f"<div class='text'>{ARTICLE_TEXT}{end}</div></article></body></html>"
    )
    return extract_article(html.encode(), "https://www.harbourtimes.example/a", "text/html")


def _json_ld(author: object) -> str:
    data = {"@type": "NewsArticle", "headline": "Storm at the harbour", "author": author}
    return f"<script type='application/ld+json'>{json.dumps(data)}</script>"


def _credits(extraction: Extraction) -> tuple[list[str], list[str]]:
    return extraction.authors, extraction.author_organizations


def test_the_people_structured_data_names_win() -> None:
    extraction = _credited(
        _json_ld({"@type": "Person", "name": "Jane Doe"}),
        "<p>By John Roe</p><div class='byline'>Ann Lee</div>",
    )
    assert _credits(extraction) == (["Jane Doe"], [])


def test_people_and_agencies_are_credited_apart() -> None:
    extraction = _credited("<meta name='author' content='Jane Doe, AFP'>")
    assert _credits(extraction) == (["Jane Doe"], ["AFP"])


def test_the_outlet_as_author_lets_the_byline_markup_speak() -> None:
    extraction = _credited(
        "<meta name='author' content='The Harbour Times'>",
        "<div class='author-name'>Lisa Petrich</div>",
    )
    assert _credits(extraction) == (["Lisa Petrich"], [])


def test_the_outlet_is_the_organization_when_no_one_else_is_credited() -> None:
    extraction = _credited(_json_ld({"@type": "Organization", "name": "The Harbour Times"}))
    assert _credits(extraction) == ([], ["The Harbour Times"])


def test_an_agency_credited_as_author_settles_it() -> None:
    extraction = _credited(_json_ld({"@type": "Person", "name": "CNN Wire"}), "<p>By Jo Li</p>")
    assert _credits(extraction) == ([], ["CNN Wire"])


@pytest.mark.parametrize(
    "head",
    [
        _json_ld("www.example.com"),
        _json_ld({"@type": "Organization", "name": "https://example.com/"}),
        "<meta name='author' content='example.com'>",
        "<meta name='byl' content='By www.example.com'>",
    ],
)
def test_a_web_address_is_no_author(head: str) -> None:
    # it was the row's author organization
    assert _credits(_credited(head)) == ([], [])
    # and gives way to the byline
    assert _credits(_credited(head, "<p>By Jane Doe</p>")) == (["Jane Doe"], [])


def test_at_most_twelve_organizations() -> None:
    # the JSON-LD organizations and the agencies its names credit were 12 each, 24 together
    agencies = [{"@type": "Organization", "name": f"Agency {n}"} for n in range(20)]
    names = [f"News Agency {n}" for n in range(20)]
    organizations = _credited(_json_ld(agencies + names)).author_organizations
    assert MAX_AUTHORS == 12
    assert organizations == [f"Agency {n}" for n in range(MAX_AUTHORS)]


def test_a_labelled_byline_line_when_the_markup_names_no_one() -> None:
    assert _credits(_credited(header="<p>By Jane Doe | 12 May 2024</p>")) == (["Jane Doe"], [])
    assert _credits(_credited(end="<p>Por Agencia EFE</p>")) == ([], ["Agencia EFE"])


def test_a_name_line_counts_only_where_the_outlet_stood_for_the_author() -> None:
    line = "<p>Mathatisi Sebusi/Mohalenyane Phakela</p>"
    outlet = "<meta name='author' content='The Harbour Times'>"
    assert _credits(_credited(outlet, end=line)) == (
        ["Mathatisi Sebusi", "Mohalenyane Phakela"],
        [],
    )
    # a heading of capitalized words is no byline on a page that credits no one
    assert _credits(_credited(end="<p>Historischer Markt</p>")) == ([], [])


def test_a_chinese_reporters_credit_in_the_text() -> None:
    text = "".join(
        f"<p>第{n}段：港口昨天早上遭遇风暴，目击者讲述了当时的情况和损失。</p>" for n in range(8)
    )
    html = (
        "<html lang='zh'><head><title>港口风暴</title></head><body><h1>港口风暴</h1>"
        f"<p>本报记者 王建宏</p>{text}<p>（责任编辑：魏喆）</p></body></html>"
    )
    extraction = extract_article(html.encode(), "https://news.example.cn/a", "text/html")
    assert _credits(extraction) == (["王建宏"], [])


@pytest.mark.parametrize(
    ("credited", "expected"),
    [
        # the first source that names a person decides
        ([Credits(["Ann"]), Credits(["Bob"])], Credits(["Ann"])),
        # the outlet lets the next source speak, and goes when someone is named
        (
            [Credits([], ["The Harbour Times"]), Credits(["Bob"], ["AFP"])],
            Credits(["Bob"], ["AFP"]),
        ),
        # an agency settles it, and stays beside the people named after
        ([Credits([], ["AFP"]), Credits(["Bob"])], Credits([], ["AFP"])),
        # no one but the outlet: the first source that names it
        (
            [Credits(), Credits([], ["harbourtimes.example"]), Credits([], ["The Harbour Times"])],
            Credits([], ["harbourtimes.example"]),
        ),
        ([Credits(), Credits()], Credits()),
        # twelve organizations at most, agencies or outlets (here, Chinese outlets' names)
        (
            [Credits([], [f"Agency {n}" for n in range(20)])],
            Credits([], [f"Agency {n}" for n in range(12)]),
        ),
        (
            [Credits([], [f"{n}号新闻网" for n in range(20)]), Credits()],
            Credits([], [f"{n}号新闻网" for n in range(12)]),
        ),
    ],
)
def test_decide_credits(credited: list[Credits], expected: Credits) -> None:
    assert decide_credits(credited, outlet_keys(["The Harbour Times"])) == expected


def commented_page() -> bytes:
    comments = "".join(
        # the widget's lines as a blog's template writes them, which trafilatura keeps
        f'<li class="comment"><p>{name} wrote:</p><p>{said}</p>'
        "<p>18/02/2020 at 16:42</p><p>ReplyDelete</p></li>"
        for name, said in READERS
    )
    return (
        "<html><head><title>Prize</title></head><body><article><h1>Prize</h1>"
        f"<p>{STORY}</p><p>{STORY}</p></article>"
        '<div id="comments" class="comments-area"><h2>2 comments</h2>'
        f'<ol class="comment-list">{comments}</ol>'
        "<p>Please log in to leave a comment.</p></div></body></html>"
    ).encode()


READERS = [
    ("Anna", "A well deserved prize: her last novel was the best book I read this year."),
    ("Ben", "I disagree, the jury overlooked the younger writers again, as it does every year."),
]


def test_readers_comments_are_kept_apart_from_the_text_without_the_widget() -> None:
    extraction = extract_article(commented_page(), "https://news.test/culture/prize-123.html")
    assert extraction.comments == "\n\n".join(said for _, said in READERS)
    assert all(said not in extraction.text for _, said in READERS)
    assert STORY in extraction.text


def unrecognised_comments_page() -> bytes:
    # a comment widget named in a way trafilatura does not take apart (it keeps it as text)
    comments = "".join(
        f'<div class="sf_comment"><p class="sf_comment_info"><span>{name}</span>'
        f'<span class="date">Hace 37 minutos</span></p></div>'
        f'<div class="sf_comment_text"><p>{said}</p></div>'
        for name, said in READERS
    )
    return (
        "<html><head><title>Prize</title></head><body><div class='content'><h1>Prize</h1>"
        f"<p>{STORY}</p><p>{STORY}</p><p>{STORY}</p><p>{STORY}</p>"
        f"<div class='lista_comentarios'>{comments}</div></div></body></html>"
    ).encode()


def test_readers_comments_trafilatura_leaves_in_the_text_are_kept_apart() -> None:
    url = "https://news.test/culture/prize-123.html"
    extraction = extract_article(unrecognised_comments_page(), url)
    assert extraction.comments == "\n\n".join(said for _, said in READERS)
    assert all(said not in extraction.text for _, said in READERS)
    assert STORY in extraction.text
    without = extract_article(unrecognised_comments_page(), url, comments=False)
    assert without.comments is None
    assert without.text == extraction.text


def test_comments_are_left_out_when_not_asked_for() -> None:
    url = "https://news.test/culture/prize-123.html"
    without = extract_article(commented_page(), url, comments=False)
    assert without.comments is None
    assert without.text == extract_article(commented_page(), url).text


def test_readability_trims_the_short_ends_it_does_not_keep(monkeypatch: pytest.MonkeyPatch) -> None:
    """The second opinion on a page whose text ends with a short line readability leaves out;
    ``second_opinion=False`` does not ask it."""
    note = "Share this story with your friends"
    page = (
        f"<html><head><title>Prize</title></head><body><article><h1>Prize</h1><p>{STORY}</p>"
        f"<p>{STORY.replace('novel', 'book')}</p><p>{note}</p></article></body></html>"
    ).encode()
    asked: list[str] = []

    def readability_text(tree: Any) -> str:
        asked.append("asked")
        return f"{STORY}\n{STORY.replace('novel', 'book')}"

    monkeypatch.setattr(extractor, "readability_text", readability_text)
    url = "https://news.test/culture/prize-123.html"
    trimmed = extract_article(page, url)
    assert asked == ["asked"]
    assert note not in trimmed.text
    assert STORY in trimmed.text
    kept = extract_article(page, url, second_opinion=False)
    assert asked == ["asked"]
    assert note in kept.text


def test_trimming_the_ends_never_makes_an_article_a_non_article(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A short article whose last line readability leaves out: trimmed, it would fall under
    the minimum and be dropped as no article; it is kept untrimmed instead."""
    body = "The council approved the ferry terminal on Tuesday after a long debate."
    note = "The vote was twelve to three, with two councillors absent."
    page = (
        f"<html><head><title>Ferry</title></head><body><article><h1>Ferry</h1><p>{body}</p>"
        f"<p>{note}</p></article></body></html>"
    ).encode()
    monkeypatch.setattr(extractor, "readability_text", lambda tree: body)
    url = "https://news.test/local/ferry-12.html"
    minimum = len(body) + len(note)  # both paragraphs are needed to reach it
    kept = extract_article(page, url, min_text_chars=minimum)
    assert note in kept.text
    # with more text to spare, the same line is trimmed
    assert note not in extract_article(page, url, min_text_chars=len(body)).text


@pytest.mark.parametrize(
    ("lang", "published"),
    [
        ("en-GB", datetime(2022, 10, 5)),
        ("en-US", datetime(2022, 5, 10)),
        ("de", datetime(2022, 10, 5)),
    ],
)
def test_numeric_dates_follow_the_pages_country(lang: str, published: datetime) -> None:
    paragraph = "<p>" + "The council met on Tuesday and voted for the new bus plan. " * 8 + "</p>"
    html = (
        f'<html lang="{lang}"><head><title>Bus plan</title>'
        '<meta property="article:published_time" content="05/10/2022"></head>'
        f"<body><article><h1>Bus plan</h1>{paragraph * 3}</article></body></html>"
    )
    extraction = extract_article(html.encode(), "http://demo.test/news/bus-plan", "text/html")
    assert extraction.published_at == published


def test_zero_width_joiners_stay_in_the_text() -> None:
    # trafilatura keeps what str.isprintable() takes: Persian words ran together and emoji
    # sequences fell apart
    persian = "دولت می\u200cخواهد شبکه اتوبوس\u200cها را گسترش دهد و شهروندان استقبال کردند."
    family = "Family day \U0001f468\u200d\U0001f469\u200d\U0001f467 at the new bus depot went well."
    body = "".join(f"<p>{persian} {n}</p><p>{family} {n}</p>" for n in range(4))
    html = f'<html lang="fa"><head><title>t</title></head><body><article>{body}</article></body>'
    text = extract_article(html.encode(), "http://demo.test/news/bus", "text/html").text
    assert text.count("\u200c") == body.count("\u200c")
    assert text.count("\u200d") == body.count("\u200d")


@pytest.mark.parametrize("reference", ["&#11;", "&#x0c;", "&#x1c;", "&#x1f;"])
def test_white_space_xml_refuses_written_as_a_reference(reference: str) -> None:
    # libxml2 keeps a vertical tab, a form feed or a separator written as a reference;
    # trafilatura's filter kept them as white space and lxml refused its title's text
    # (ValueError out of extract_title, and so out of the extraction worker)
    paragraph = "<p>" + "The council met on Tuesday and voted for the new bus plan. " * 4 + "</p>"
    html = (
        f"<html><head></head><body><article><h1>Bus{reference}plan</h1>"
        f"<p>The{reference}council met. {paragraph}</p>{paragraph * 3}</article></body></html>"
    )
    extraction = extract_article(html.encode(), "http://demo.test/news/bus-plan", "text/html")
    assert extraction.title == "Bus plan"
    assert "The council met." in extraction.text


def _scripted_page(shell: str, body: str) -> bytes:
    ld = json.dumps(
        {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Bus plan",
         "articleBody": body}
    )  # fmt: skip
    return (
        f'<html lang="en"><head><title>Bus plan</title><script type="application/ld+json">{ld}'
        f'</script></head><body><div id="root">{shell}</div></body></html>'
    ).encode()


BODY = "\n".join(
    f"The council voted on Tuesday to expand the bus network, paragraph {n} of the plan." * 3
    for n in range(8)
)


@pytest.mark.parametrize(
    "shell",
    [
        "<p>" + "This site needs JavaScript to show you its articles. " * 5 + "</p>",
        "<p>" + "We and our partners use cookies to personalise what you read here. " * 5 + "</p>",
    ],
)
def test_the_declared_article_wins_over_a_notice_the_page_shows(shell: str) -> None:
    # a page its script draws: the notice it shows was stored as the text (20 of 20), or
    # the pages dropped as copies of each other
    text = extract_article(_scripted_page(shell, BODY), "http://demo.test/news/bus").text
    assert "paragraph 7 of the plan" in text
    assert "JavaScript" not in text
    assert "cookies" not in text


def test_the_extracted_text_stays_when_the_declared_one_holds_it() -> None:
    # a JSON-LD body with more besides (captions, a box) than the text shown: the extractor's
    # choice stands
    shown = "\n".join(f"<p>{line}</p>" for line in BODY.splitlines()[:2])
    declared = BODY + "\n" + "A caption of a photo of the depot. " * 60
    text = extract_article(_scripted_page(shown, declared), "http://demo.test/news/bus").text
    assert "caption" not in text


PAYWALL_BOX = (
    '<div class="paywall"><h3>Subscribe to continue reading</h3><p>This article is for '
    "subscribers only. Subscribe now for unlimited access to all our journalism from just $1 "
    'a week. Already a subscriber? <a href="/login">Log in</a>.</p></div>'
)
TEASER = (
    "The council voted on Tuesday to expand the bus network to the northern suburbs, after a "
    "debate that lasted well into the night and divided the governing coalition.\n"
    "The plan adds four lines and forty buses by next spring, and the mayor said the city would "
    "pay for it without raising fares for the people who ride the buses every day."
).splitlines()


def paywalled_page(declared: Any = False, *, declared_body: str | None = None) -> bytes:
    """A paywalled article as a metered site serves it once the meter has run out: its first
    paragraphs and a "subscribe" box, the article declared not free (``declared``, with the
    paywalled part: schema.org ``isAccessibleForFree`` in JSON-LD, as Google asks), unless
    ``declared`` is ``None``; with ``declared_body``, the whole article in its JSON-LD."""
    data: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "NewsArticle",
        "headline": "Council expands the bus network",
        "datePublished": "2024-05-01T08:00:00Z",
    }
    if declared is not None:
        data["isAccessibleForFree"] = declared
        data["hasPart"] = {
            "@type": "WebPageElement",
            "isAccessibleForFree": declared,
            "cssSelector": ".paywall",
        }
    if declared_body is not None:
        data["articleBody"] = declared_body
    paragraphs = "".join(f"<p>{paragraph}</p>" for paragraph in TEASER)
    return (
        '<html lang="en"><head><title>Council expands the bus network</title>'
        f'<script type="application/ld+json">{json.dumps(data)}</script></head><body>'
        f"<article><h1>Council expands the bus network</h1>{paragraphs}{PAYWALL_BOX}</article>"
        "</body></html>"
    ).encode()


@pytest.mark.parametrize(("declared", "expected"), [("False", False), (True, True), (None, None)])
def test_the_access_a_page_declares_is_extracted(declared: Any, expected: bool | None) -> None:
    # a paywall's teaser was stored as an article, nothing in the row said it could be a part
    # (twelfth fault hunt, F6)
    extraction = extract_article(paywalled_page(declared), "https://news.test/city/buses-1.html")
    assert extraction.accessible_for_free is expected
    assert extraction.text.startswith(TEASER[0])


def test_a_page_declared_not_free_may_hold_the_whole_article() -> None:
    # false is what the page says, not that the text is cut: here its JSON-LD holds it all
    whole = paywalled_page(False, declared_body=BODY)
    extraction = extract_article(whole, "https://news.test/city/buses-1.html")
    assert extraction.accessible_for_free is False
    assert "paragraph 7 of the plan" in extraction.text


# --- error pages and walls ----------------------------------------------------------------------


def _walled_page(
    title: str, body: str, *, head: str = "", heading: str = "", url: str = "http://news.test/x"
) -> Extraction:
    """``body`` in a site's template (menus, teasers, a footer), under ``title``."""
    menu = "".join(f'<li><a href="/{section}/">{section}</a></li>' for section in SECTIONS)
    teasers = "".join(
        f'<li><a href="/2024/05/0{n}/story-{n}.html">Another story of the day, number {n}</a></li>'
        for n in range(1, 4)
    )
    html = (
        f"<html lang='en'><head><title>{title}</title>"
        f"<meta property='og:site_name' content='Fixture News'>{head}</head><body>"
        f"<header><a href='/'>Fixture News</a><nav><ul>{menu}</ul></nav></header>"
        f"<main>{heading}{body}</main><aside><ul>{teasers}</ul></aside>"
        "<footer><p>(c) Fixture News 2024</p></footer></body></html>"
    )
    return extract_article(html.encode(), url, "text/html")


SECTIONS = ("world", "politics", "business", "sport", "culture")
SOFT_404 = (
    "<p>Sorry, the page you are looking for does not exist or may have been moved. It may have "
    "been removed, had its name changed, or is temporarily unavailable.</p><p>Please check the "
    "address in the address bar, or use the search box above to find what you are looking "
    "for. You can also return to our home page.</p>"
)
ARTICLE_TEXT = "".join(
    f"<p>The ministry lost the file in March, paragraph {n}: officials searched the archive "
    "for weeks before the auditors found the missing pages in a basement cupboard.</p>"
    for n in range(12)
)
DECLARED = '<meta property="og:type" content="article">'


@pytest.mark.parametrize(
    ("title", "heading", "said"),
    [
        ("Page not found | Fixture News", "<h1>Page not found</h1>", 'not found: "Page not found"'),
        ("Fixture News", "<h1>Diese Seite existiert nicht</h1>", "Diese Seite existiert nicht"),
        ("Fixture News", "<h2>We value your privacy</h2>", 'consent: "We value your privacy"'),
        ("Just a moment...", "", 'bot check: "Just a moment..."'),
        ("Sign in | Fixture News", "<h2>Sign in to your account</h2>", 'sign-in: "Sign in"'),
    ],
)
def test_a_page_that_says_it_is_an_error_or_a_wall_is_an_error_page(
    title: str, heading: str, said: str
) -> None:
    # 290 characters of well-formed prose in the site's template: stored as an article
    with pytest.raises(ExtractionError) as raised:
        _walled_page(title, SOFT_404, heading=heading)
    assert raised.value.reason == "ErrorPage"
    assert str(raised.value).startswith("the page says it is an error or a wall (")
    assert said in str(raised.value)


def test_a_short_error_page_is_an_error_page_not_a_page_without_text() -> None:
    # under EXTRACT_MIN_TEXT_CHARS: it was NotAnArticle, remembered for a week
    with pytest.raises(ExtractionError) as raised:
        _walled_page("Access Denied", "<p>You don't have permission to access this page.</p>")
    assert raised.value.reason == "ErrorPage"


def test_a_headline_holding_an_error_phrase_is_an_article() -> None:
    title = "Page not found: how a missing file shook the ministry"
    extraction = _walled_page(title, ARTICLE_TEXT[:900], heading=f"<h1>{title}</h1>")
    assert extraction.title == title


def test_a_declared_article_with_a_walls_title_is_an_article() -> None:
    # a page that declares itself an article is never judged by its title
    extraction = _walled_page(
        "Access Denied | Fixture News", ARTICLE_TEXT[:500], head=DECLARED,
        heading="<h1>Access Denied</h1>",
    )  # fmt: skip
    assert "basement cupboard" in extraction.text
    long = _walled_page("Log In", ARTICLE_TEXT, head=DECLARED, heading="<h1>Log In</h1>")
    assert "paragraph 11" in long.text


def test_a_page_with_a_walls_title_and_a_long_text_is_kept() -> None:
    # three times EXTRACT_MIN_TEXT_CHARS or more of text: an article, whatever its title says
    extraction = _walled_page("Sign in", ARTICLE_TEXT, heading="<h1>Sign in</h1>")
    assert "paragraph 11" in extraction.text
    with pytest.raises(ExtractionError) as raised:
        _walled_page("Sign in", ARTICLE_TEXT[:450], heading="<h1>Sign in</h1>")
    assert raised.value.reason == "ErrorPage"


def test_an_app_shell_whose_text_is_a_javascript_notice_is_an_error_page() -> None:
    notice = (
        "<p>Please enable JavaScript in your browser to view this website. Our site uses modern "
        "web technologies that require JavaScript to be enabled for the best experience. To "
        "enable JavaScript, visit your browser settings and allow scripts for this site.</p>"
    )
    with pytest.raises(ExtractionError) as raised:
        _walled_page("News Today", notice)
    assert raised.value.reason == "ErrorPage"
    assert '(notice: "Please enable JavaScript in your browser' in str(raised.value)


def test_a_cookie_notice_is_not_part_of_the_article() -> None:
    notice = (
        "<p>This website uses cookies and other technology to enhance quality of service. "
        "Continuous usage of the website will be considered as giving consent to the "
        "application of such technology.</p>"
    )
    extraction = _walled_page("Ministry finds its file", ARTICLE_TEXT[:900] + notice)
    assert "cookies" not in extraction.text
    assert "basement cupboard" in extraction.text


# --- a title or site name too long to be one, or read past its end --------------------------------

URL_OF_STORY = "https://news.example.com/2024/05/01/storm.html"


def _unclosed_title_page(title: str, *, swallowed: str = f"<nav><ul>{MENU}</ul></nav>") -> bytes:
    """A page whose ``<title>`` is never closed: the parser reads the page into the title up
    to the next ``</title>`` (an icon's, here), the head's tags and ``swallowed`` with it."""
    return (
        f"<html lang='en'><head><title>{title}<meta name='description' content='Storm'></head>"
        f"<body><header>{swallowed}<svg><title>Search</title></svg>"
        "<h1><a href='/'>Daily Planet</a></h1></header>"
        f"<article><h1>Storm hits the coast</h1><p>{STORY}</p><p>{STORY}</p></article>"
        "</body></html>"
    ).encode()


def test_a_title_never_closed_gives_way_to_the_main_heading() -> None:
    # the <title> swallowed the menu (1,000 characters): it was the row's title
    extraction = extract_article(_unclosed_title_page("Storm hits the coast"), URL_OF_STORY)
    assert extraction.title == "Storm hits the coast"
    assert STORY[:40] in extraction.text


def test_a_title_never_closed_names_no_site() -> None:
    # trafilatura reads the site's name after the title's separator: there, the rest of the page
    swallowed = "<p>" + "Read more on news.example.com today " * 20 + "</p>"
    page = _unclosed_title_page("Storm hits the coast | ", swallowed=swallowed)
    extraction = extract_article(page, URL_OF_STORY)
    assert extraction.site_name is None
    assert extraction.title == "Storm hits the coast"


def test_a_short_title_never_closed_gives_way_to_the_main_heading() -> None:
    # the <title> swallowed the head's last tag and the header's up to an icon's </title>
    # (100 characters, within the bound): it was the row's title
    extraction = extract_article(
        _unclosed_title_page("Storm hits the coast", swallowed=""), URL_OF_STORY
    )
    assert extraction.title == "Storm hits the coast"


def test_a_short_title_never_closed_names_no_site() -> None:
    # trafilatura's site name, after the title's separator, was the swallowed markup
    page = (
        "<html><head><title>Storm hits the coast | Daily Planet<link rel='icon' href='/a.ico'>"
        f"</head><body><svg><title>Search</title></svg><article><p>{STORY}</p><p>{STORY}</p>"
        "</article></body></html>"
    )
    extraction = extract_article(page.encode(), URL_OF_STORY)
    assert (extraction.title, extraction.site_name) == ("Storm hits the coast", None)


def test_meta_tags_read_past_their_end_give_nothing() -> None:
    # an og:site_name and a keywords meta tag whose quotes are never closed each swallowed the
    # next tag: they were the row's site name ("Daily Planet><meta name=") and one of its tags
    page = (
        "<html lang='en'><head><title>Storm hits the coast | Daily Planet</title>"
        '<meta property="og:site_name" content="Daily Planet><meta name="description" content="'
        'Thousands are without power."><meta name="keywords" content="storm, coast>'
        '<meta name="author" content="Jane Doe"></head><body><article>'
        f"<h1>Storm hits the coast</h1><p>{STORY}</p><p>{STORY}</p></article></body></html>"
    )
    extraction = extract_article(page.encode(), URL_OF_STORY)
    assert (extraction.site_name, extraction.description) == (None, None)
    assert (extraction.tags, extraction.authors) == ([], [])
    assert extraction.title == "Storm hits the coast"


def test_a_json_ld_author_read_past_its_end_gives_way_to_the_author_meta_tag() -> None:
    # the JSON-LD author holding the head's tags was the row's author, cut ("Jane Doe<")
    person = {"@type": "Person", "name": "Jane Doe</title><meta charset=utf-8>"}
    article = {"@type": "NewsArticle", "headline": "Storm", "author": person}
    page = (
        f'<html><head><script type="application/ld+json">{json.dumps(article)}</script>'
        '<meta name="author" content="John Roe"></head>'
        f"<body><article><p>{STORY}</p><p>{STORY}</p></article></body></html>"
    )
    extraction = extract_article(page.encode(), URL_OF_STORY)
    assert (extraction.authors, extraction.author_organizations) == (["John Roe"], [])


def test_an_author_too_long_gives_way_to_the_byline_meta_tag() -> None:
    article = {"@type": "NewsArticle", "headline": "Storm", "author": {"name": "Jane " * 50_000}}
    page = (
        f'<html><head><script type="application/ld+json">{json.dumps(article)}</script>'
        '<meta name="byl" content="By John Roe"></head>'
        f"<body><article><p>{STORY}</p><p>{STORY}</p></article></body></html>"
    )
    extraction = extract_article(page.encode(), URL_OF_STORY)
    assert (extraction.authors, extraction.author_organizations) == (["John Roe"], [])
