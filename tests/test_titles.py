"""The headline without the site name pages add to their titles."""

from __future__ import annotations

import pytest

from extraction.titles import clean_title

HEADLINE = "Storm hits the coast"
SITE = "The Daily Planet"


@pytest.mark.parametrize(
    "title",
    [
        f"{HEADLINE} - {SITE}",
        f"{HEADLINE} | {SITE}",
        f"{HEADLINE} – {SITE}",
        f"{HEADLINE} — {SITE}",
        f"{HEADLINE} · {SITE}",
        f"{HEADLINE} » {SITE}",
        f"{HEADLINE} : {SITE}",
        f"{HEADLINE}｜{SITE}",
        f"{HEADLINE}|{SITE}",
        f"{SITE} | {HEADLINE}",
        f"{SITE} - {HEADLINE}",
        f"{SITE}｜{HEADLINE}",
        f"{HEADLINE} | {SITE.upper()}",
        f"{HEADLINE} | TheDailyPlanet.com",
        f"{HEADLINE} | {SITE} | 23.05.2011",
        f"{HEADLINE} - {SITE} - 2024-05-01",
        f"  {HEADLINE}  |  {SITE}  ",
    ],
)
def test_site_name_is_removed(title: str) -> None:
    assert clean_title(title, site_name=SITE) == HEADLINE


@pytest.mark.parametrize(
    ("title", "site_name", "expected"),
    [
        ("国务院出台新措施-新华网", "新华网", "国务院出台新措施"),
        ("国务院出台新措施_央广网", "央广网", "国务院出台新措施"),
        ("国务院出台新措施 - 新华网", "新华网", "国务院出台新措施"),
        ("停戦合意に近づく｜毎日新聞", "毎日新聞", "停戦合意に近づく"),
        ("新华网-国务院出台新措施", "新华网", "国务院出台新措施"),
    ],
)
def test_site_name_is_removed_next_to_cjk_text(title: str, site_name: str, expected: str) -> None:
    assert clean_title(title, site_name=site_name) == expected


@pytest.mark.parametrize(
    ("title", "host"),
    [
        (f"{HEADLINE} - Example News", "www.examplenews.com"),
        (f"{HEADLINE} | examplenews.com", "www.examplenews.com"),
        (f"{HEADLINE} - BBC News", "www.bbc.co.uk"),
        (f"{HEADLINE} | Spiegel", "m.spiegel.de"),
        (f"{HEADLINE} | news.example.org", "news.example.org"),
        (f"Example | {HEADLINE}", "example.org"),
    ],
)
def test_site_is_recognised_from_the_host(title: str, host: str) -> None:
    assert clean_title(title, host=host) == HEADLINE


def test_short_host_labels_and_the_top_level_domain_are_no_site_keys() -> None:
    # "co" and "uk" are not the site: the part after the dash stays
    assert clean_title("Trade deal - UK", host="www.bbc.co.uk") == "Trade deal - UK"


def test_only_the_site_segment_is_removed() -> None:
    title = f"{HEADLINE} - Politics - {SITE}"
    assert clean_title(title, site_name=SITE) == f"{HEADLINE} - Politics"


@pytest.mark.parametrize(
    "title",
    [
        f"{HEADLINE} | AOC media - Analyse Opinion Critique",
        f"{HEADLINE} - AOC media | Analyse Opinion Critique",
        f"AOC media - Analyse Opinion Critique | {HEADLINE}",
    ],
)
def test_a_site_name_with_a_separator_of_its_own_is_removed_whole(title: str) -> None:
    site_name = "AOC media - Analyse Opinion Critique"
    assert clean_title(title, site_name=site_name.replace(" | ", " - ")) == HEADLINE


def test_a_separated_part_that_only_holds_the_site_name_stays() -> None:
    # only the whole site name, word for word, is taken for it after an earlier separator
    title = f"{HEADLINE} - AOC media and friends - Opinion"
    assert clean_title(title, site_name="AOC media") == title


def test_date_segment_is_removed_with_the_site_name() -> None:
    assert clean_title(f"{HEADLINE} | 23.05.2011 | {SITE}", site_name=SITE) == HEADLINE


def test_title_that_is_only_the_site_name_is_kept() -> None:
    assert clean_title(SITE, site_name=SITE) == SITE


@pytest.mark.parametrize(
    ("title", "headings", "expected"),
    [
        (f"{HEADLINE} | {SITE}", [HEADLINE], HEADLINE),
        (f"{HEADLINE} | Politics | Somewhere", [HEADLINE], HEADLINE),
        # the heading's own spelling is taken
        (f"{HEADLINE.upper()} - Some Site", [HEADLINE], HEADLINE),
        (f"{HEADLINE} | {SITE}", ["", "Unrelated heading", HEADLINE], HEADLINE),
        (f"{HEADLINE} | {SITE}", [" Storm  hits\nthe coast "], HEADLINE),
        (f"Tom &amp; Jerry return | {SITE}", ["Tom &amp; Jerry return"], "Tom & Jerry return"),
    ],
)
def test_heading_that_starts_the_title_is_the_headline(
    title: str, headings: list[str], expected: str
) -> None:
    assert clean_title(title, headings=headings) == expected


def test_heading_shorter_than_half_the_title_is_not_taken() -> None:
    title = "Storm | A long subtitle about the weather on the coast"
    assert clean_title(title, headings=["Storm"]) == title


def test_kicker_before_the_heading_is_kept() -> None:
    title = "Kenia: Nairobi von unten"
    assert clean_title(title, site_name="junge Welt", headings=["Nairobi von unten"]) == title


@pytest.mark.parametrize(
    "title",
    [
        "Biden: We will act now",
        "Re-election - a bid for power",
        "Storm hits the coast - thousands without power",
        "Election 2024: what we know so far",
        "Paris – Berlin: a new axis?",
    ],
)
def test_colons_and_dashes_in_the_headline_are_kept(title: str) -> None:
    assert clean_title(title, site_name=SITE, host="www.dailyplanet.com") == title


def test_title_without_site_keys_is_returned_whole() -> None:
    title = f"{HEADLINE} - Somewhere"
    assert clean_title(title) == title


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Tom &amp; Jerry return", "Tom & Jerry return"),
        ("Tom &amp;amp; Jerry return", "Tom & Jerry return"),
        ("&quot;Never again&quot;, says mayor", '"Never again", says mayor'),
        ("  Storm \n hits\tthe coast ", HEADLINE),
    ],
)
def test_entities_and_space(title: str, expected: str) -> None:
    assert clean_title(title) == expected


def test_entities_are_decoded_before_the_site_name_is_removed() -> None:
    assert clean_title("Storm &#124; The Daily Planet", site_name=SITE) == "Storm"


@pytest.mark.parametrize("title", [None, "", "   ", "&nbsp;"])
def test_no_title(title: str | None) -> None:
    assert clean_title(title, site_name=SITE, headings=[HEADLINE]) is None
