"""The extraction benchmark's per-page run and scoring, on pages bundled in ``demo/pages`` (the
same manifest format as the corpus), so that ``make test`` exercises it without the corpus."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from bench.corpus_authors import AUTHOR_KINDS, expected_people, load_not_people
from bench.extraction import (
    day_scores,
    main,
    run_page,
    score_page,
    title_scores,
)
from bench.extraction_runs import Output
from bench.harness.corpus import CorpusPage, load_pages
from bench.scoring import author_f1
from demo.site import PAGES_DIR
from extraction.language import LanguageDetector

GOOD_PAGE = "fundus/us-VoiceOfAmerica_2024_04_28"
# GB-encoded Chinese page without a URL: character tokens and the placeholder URL.
CHINESE_PAGE = "cwced/f70d9c97-9d64-415e-a7e4-840c9258eaf5"


@pytest.fixture(scope="module")
def pages() -> dict[str, CorpusPage]:
    return {page.id: page for page in load_pages(PAGES_DIR)}


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


def test_known_good_page_scores_high(
    pages: dict[str, CorpusPage], detector: LanguageDetector
) -> None:
    run = run_page(pages[GOOD_PAGE], detector)
    ours, theirs = score_page(run.page, run.ours), score_page(run.page, run.trafilatura)
    assert ours.body is not None
    assert ours.body.f1 > 0.95
    assert ours.title == ours.day == ours.day_near == ours.authors == ours.language == 1.0
    assert ours.empty == 0.0
    assert theirs.body is not None
    assert theirs.body.f1 > 0.9
    assert ours.prefix is ours.must_contain is None  # a fundus page has neither expectation
    assert min(run.timing.extract, run.timing.bare, run.timing.ours) >= 0.0


def test_chinese_page_uses_character_tokens(
    pages: dict[str, CorpusPage], detector: LanguageDetector
) -> None:
    run = run_page(pages[CHINESE_PAGE], detector, turn=1)
    score = score_page(run.page, run.ours)
    assert score.body is not None
    assert score.body.f1 > 0.9
    assert score.title is None  # cwced has no titles
    assert score.day_near == score.language == 1.0


def test_metadata_scores() -> None:
    assert title_scores(" Manila  launch WAR games ", "Manila launch war games") == (1.0, 1.0)
    assert title_scores("Headline - Site", "Headline") == (0.0, 1.0)
    assert title_scores(None, "Headline") == (0.0, 0.0)
    assert title_scores("Headline", None) == (None, None)
    assert day_scores(date(2024, 10, 15), "2024-10-16") == (0.0, 1.0)
    assert day_scores(date(2024, 10, 13), "2024-10-16") == (0.0, 0.0)
    assert day_scores(None, "2024-10-16") == (0.0, 0.0)
    assert day_scores(date(2024, 10, 16), None) == (None, None)
    assert author_f1(["Jane Doe", "AFP"], ["jane  doe"]) == pytest.approx(2 / 3)
    assert author_f1([], ["Jane Doe"]) == 0.0
    assert author_f1(["Jane Doe"], []) is None


def _authors_page(page_id: str, authors: list[str]) -> CorpusPage:
    return CorpusPage(
        id=page_id,
        source="fundus",
        language="en",
        url="https://example.invalid/",
        file=Path("unused"),
        expected={"authors": authors},
    )


def test_authors_are_scored_whole_and_people_only() -> None:
    page = _authors_page("p", ["Jane Doe", "AFP"])
    not_people = {"p": frozenset({"AFP"})}
    ours = Output(authors=("Jane Doe",), organizations=("AFP",))
    score = score_page(page, ours, not_people)
    assert (score.authors, score.people) == (1.0, 1.0)
    # one list of names (trafilatura's): the organization costs the people F1
    theirs = score_page(page, Output(authors=("Jane Doe", "AFP")), not_people)
    assert theirs.authors == 1.0
    assert theirs.people == pytest.approx(2 / 3)
    # without the labels every expected name is taken for a person
    assert score_page(page, ours).people == pytest.approx(2 / 3)


def test_a_page_expecting_only_organizations_has_no_people_score() -> None:
    page = _authors_page("org", ["ORF.at"])
    score = score_page(page, Output(organizations=("ORF.at",)), {"org": frozenset({"ORF.at"})})
    assert (score.authors, score.people) == (1.0, None)
    assert score_page(_authors_page("none", []), Output(authors=("X",))).people is None


def test_the_committed_corpus_labels_name_organizations_and_places() -> None:
    not_people = load_not_people(AUTHOR_KINDS)
    assert len(not_people) == 41
    assert not_people["fundus/at-ORF_2024_11_22"] == {"ORF.at"}
    assert not_people["fundus/de-JungeWelt_2026_05_18"] == {"Nairobi"}
    assert expected_people(
        "fundus/de-JungeWelt_2026_05_18", ["Anna Martel", "Nairobi"], not_people
    ) == ["Anna Martel"]
    assert expected_people("x", None, not_people) is None
    assert load_not_people(Path("nowhere.jsonl")) == {}


def test_snippets_and_prefix() -> None:
    page = CorpusPage(
        id="trafilatura/x",
        source="trafilatura",
        language="en",
        url="https://example.invalid/x",
        file=Path("unused"),
        expected={
            "must_contain": ["The first  paragraph", "missing words"],
            "must_not_contain": ["Subscribe now", "Cookies"],
            "body_prefix": "THE FIRST paragraph\n\nof the text.",
        },
    )
    score = score_page(page, Output(text="The first paragraph of the text.\n\nSubscribe now!"))
    assert (score.must_contain, score.must_not_contain, score.clean) == (0.5, 0.5, 0.0)
    assert score.prefix == 1.0
    assert score.body is score.title is None
    assert score_page(page, Output()).empty == 1.0


def test_missing_corpus_exits_with_status_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWS_CORPUS_DIR", str(tmp_path / "nowhere"))
    assert main([]) == 2
    error = capsys.readouterr().err
    assert str(tmp_path / "nowhere") in error
    assert "NEWS_CORPUS_DIR" in error


def test_missing_second_set_exits_with_status_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("NEWS_CORPUS_DIR", str(PAGES_DIR))
    monkeypatch.setenv("NEWS_EVALSET_DIR", str(tmp_path / "nowhere"))
    assert main(["--limit", "1"]) == 2
    error = capsys.readouterr().err
    assert "No second set found" in error
    assert "NEWS_EVALSET_DIR" in error
    assert "--no-evalset" in error


def test_second_set_is_scored_beside_the_corpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second set of one page (a bundled page with snippets of its own) reported in its own
    section, pooled as its README says; without it, no such section."""
    page = {page.id: page for page in load_pages(PAGES_DIR)}[GOOD_PAGE]
    (tmp_path / "html").mkdir()
    (tmp_path / "html" / "page.html.gz").write_bytes(page.file.read_bytes())
    record = {
        "id": "second/page",
        "file": "html/page.html.gz",
        "url": page.url,
        "expected": {
            "must_contain": ["child care", "words that are nowhere on the page"],
            "must_not_contain": ["a snippet the page lacks"],
        },
    }
    (tmp_path / "manifest.jsonl").write_text(json.dumps(record) + "\n")
    monkeypatch.setenv("NEWS_CORPUS_DIR", str(PAGES_DIR))
    monkeypatch.setenv("NEWS_EVALSET_DIR", str(tmp_path))
    assert main(["--limit", "1"]) == 0
    report = capsys.readouterr().out
    assert f"### Second set: trafilatura's evaluation pages\n\n1 pages of `{tmp_path}`" in report
    assert "| ours | 1 | 0 | 0.500 | 1.000 | 0.000 |" in report
    assert "| trafilatura | 1 | 0 | 0.500 | 1.000 | 0.000 |" in report
    assert "1 the same, 0 worse" in report
    assert main(["--limit", "1", "--no-evalset"]) == 0
    assert "Second set" not in capsys.readouterr().out
