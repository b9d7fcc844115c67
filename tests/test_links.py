"""Tests for crawler/links.py: URL shapes of real news sites, links and pagination."""

from __future__ import annotations

import subprocess
import sys

import pytest

from crawler.links import (
    ARTICLE_SCORE_THRESHOLD,
    article_url_score,
    extract_links,
    is_listing_url,
    looks_like_article,
    next_page_links,
    normalize_domain,
    parse_page,
    same_site,
)

ARTICLES = [
    # Sputnik: date folder, slug, long numeric id.
    "https://en.sputniknews.africa/20230815/west-african-leaders-meet-in-abuja-1061432975.html",
    "https://sputnikglobe.com/20240102/russia-china-trade-1115869312.html",
    # BBC: slug with a numeric id, opaque ids under /articles/, live pages, sport.
    "https://www.bbc.com/news/world-europe-66512345",
    "https://www.bbc.com/news/articles/c4gl7z0yxy2o",
    "https://www.bbc.com/news/articles/c4gl7z0yxy2o?at_medium=RSS&at_campaign=rss",
    "https://www.bbc.co.uk/news/live/world-europe-66512345",
    "https://www.bbc.co.uk/sport/football/66512345",
    # Le Monde: section, /article/, date, slug and ids.
    "https://www.lemonde.fr/international/article/2023/08/15/la-guerre-en-ukraine_6185432_3210.html",
    "https://www.lemonde.fr/en/international/article/2023/08/15/ukraine-war_6095432_4.html",
    "https://www.lemonde.fr/international/live/2023/08/15/guerre-en-ukraine-en-direct_6185000_3210.html",
    # Spiegel: slug with a UUID, or the older a-<id>.html.
    "https://www.spiegel.de/politik/deutschland/olaf-scholz-verteidigt-heizungsgesetz-a-0e2c3d1f-1234-4abc-9def-0123456789ab",
    "https://www.spiegel.de/politik/ausland/a-1234567.html",
    "https://www.spiegel.de/wissenschaft/klima-a-5f3c9a1e-8c2d-4b1f-9d2e-1a2b3c4d5e6f",
    # New York Times: date, sections, .html.
    "https://www.nytimes.com/2023/08/15/us/politics/trump-indictment-georgia.html",
    "https://www.nytimes.com/live/2023/08/15/us/trump-indictment-georgia",
    # El País: ISO date folder.
    "https://elpais.com/internacional/2023-08-15/la-guerra-en-ucrania-entra-en-una-nueva-fase.html",
    "https://english.elpais.com/international/2023-08-15/ukraine.html",
    # Deutsche Welle: slug and /a-<id>, with and without the feed's tracking query.
    "https://www.dw.com/en/germany-heat-wave-record-temperatures/a-66512345",
    "https://www.dw.com/en/germany-heat-wave/a-66512345?maca=en-rss-en-all-1573-rdf",
    # Yonhap: /view/ and an id with the date inside.
    "https://en.yna.co.kr/view/AEN20230815000300315",
    "https://www.yna.co.kr/view/AKR20230815000300001?section=politics/all",
    # NPR: date, numeric or nx-s1 id, slug; also under /sections/<blog>/.
    "https://www.npr.org/2023/08/15/1193712345/hawaii-maui-wildfire-death-toll",
    "https://www.npr.org/2024/10/15/nx-s1-5153232/election-polls",
    "https://www.npr.org/sections/health-shots/2023/08/15/1193712345/long-covid-study",
    # Others: Guardian month names, Reuters date in the slug, Al Jazeera short dates,
    # The Atlantic under /archive/, CNN index.html, query ids, a plain .html page.
    "https://www.theguardian.com/world/2023/aug/15/ukraine-grain-deal-black-sea",
    "https://www.reuters.com/world/europe/russia-says-it-shot-down-drones-2023-08-15/",
    "https://www.aljazeera.com/news/2023/8/15/ukraine-says-it-has-retaken-village",
    "https://www.theatlantic.com/magazine/archive/2023/09/ai-chatbots-llm/674762/",
    "https://www.cnn.com/2023/08/15/politics/trump-georgia-indictment/index.html",
    "https://www.example.com/article.php?id=123456",
    "https://www.koreaherald.com/view.php?ud=20230815000512&idxno=123456",
    "https://blog.example.com/?p=123456",
    "https://www.example.com/a12345678",
    "https://www.example.com/politik/some-story.html",
    "https://www.example.com/news/regional/flood.shtml",
    "https://www.example.com/world/europe/ukraine-war-latest-news",
    "https://www.example.com/wirtschaft/b%C3%B6rse-schlie%C3%9Ft-mit-kleinem-plus",
]

LISTINGS = [
    # Home pages.
    "https://en.sputniknews.africa/",
    "https://www.lemonde.fr",
    "https://www.example.com/index.html",
    # Sections.
    "https://en.sputniknews.africa/africa/",
    "https://www.bbc.com/news",
    "https://www.bbc.com/news/world",
    "https://www.bbc.com/news/world/europe",
    "https://www.bbc.com/news/world-us-canada",
    "https://www.bbc.com/news/world/us_and_canada",
    "https://www.bbc.com/sport/football/",
    "https://www.lemonde.fr/international/",
    "https://www.lemonde.fr/guerre-en-ukraine/",
    "https://www.spiegel.de/politik/deutschland/",
    "https://elpais.com/internacional/",
    "https://www.dw.com/en/",
    "https://www.dw.com/en/top-stories/s-9097",
    "https://en.yna.co.kr/nk/index",
    "https://www.yna.co.kr/politics/all",
    "https://www.example.com/world/index.html",
    # Tags, topics, categories, authors, search.
    "https://en.sputniknews.africa/tags/keyword_niger/",
    "https://www.bbc.com/news/topics/c302m85q5ljt",
    "https://www.spiegel.de/thema/ukraine_konflikt/",
    "https://www.nytimes.com/section/world/europe",
    "https://www.npr.org/sections/news/",
    "https://elpais.com/noticias/guerra-de-ucrania/",
    "https://elpais.com/autor/jane-doe/",
    "https://www.lemonde.fr/signataires/jean-dupont/",
    "https://www.example.com/tag/climate-change/",
    "https://www.example.com/tags/war-in-ukraine-live-updates/",
    "https://www.example.com/topic/12345/",
    "https://www.example.com/category/world/",
    "https://www.example.com/authors/jane-smith",
    "https://www.example.com/search?q=ukraine+war+latest+news",
    "https://www.example.com/search/ukraine",
    # Pagination and archives.
    "https://www.example.com/category/world/page/2/",
    "https://www.example.com/world/?page=3",
    "https://www.spiegel.de/politik/p2/",
    "https://www.example.com/live/russia-ukraine-war-updates/page-3",
    "https://www.yna.co.kr/politics/all/2",
    "https://www.example.com/archive/",
    "https://www.example.com/archive/2023/08/",
    "https://www.example.com/2023/08/15/",
    "https://en.sputniknews.africa/20230815/",
    "https://www.theguardian.com/world/2023/aug/15/all",
]

NEITHER = [
    # Resources.
    "https://www.example.com/images/2023/08/15/photo-12345.jpg",
    "https://www.example.com/static/app.css",
    "https://www.example.com/static/app.js?v=12345",
    "https://www.example.com/report-2023-08-15-annual-results.pdf",
    "https://cdn.example.com/video/clip-1234567.MP4",
    # Feeds.
    "https://en.sputniknews.africa/export/rss2/archive/index.xml",
    "https://feeds.bbci.co.uk/news/rss.xml",
    "https://rss.dw.com/rdf/rss-en-all",
    "https://feeds.npr.org/1001/rss.xml",
    "https://www.example.com/feed/",
    "https://www.example.com/2023/08/15/slug-of-the-story/feed/",
    # Not web pages.
    "mailto:news@example.com",
    "javascript:void(0)",
    "tel:+123456789",
    "ftp://example.com/2023/08/15/story-12345.html",
    "data:text/html,<p>2023/08/15/story</p>",
    "//www.example.com/2023/08/15/story",  # scheme-relative: resolve it first
    "/2023/08/15/story-of-the-day",  # relative: resolve it first
    "",
    "http://[::1/2023/08/15/broken",
    # Utility pages.
    "https://www.example.com/about/",
    "https://www.example.com/privacy-policy",
    "https://www.spiegel.de/impressum",
    "https://www.example.com/help/how-to-reset-your-password",
    "https://www.example.com/contact/index.html",
]


@pytest.mark.parametrize("url", ARTICLES)
def test_article_urls_look_like_articles(url: str) -> None:
    assert looks_like_article(url)
    assert article_url_score(url) >= ARTICLE_SCORE_THRESHOLD
    assert not is_listing_url(url)


@pytest.mark.parametrize("url", LISTINGS)
def test_listing_urls_are_listings(url: str) -> None:
    assert is_listing_url(url)
    assert not looks_like_article(url)
    assert article_url_score(url) < ARTICLE_SCORE_THRESHOLD


@pytest.mark.parametrize("url", NEITHER)
def test_resources_and_utility_pages_are_neither(url: str) -> None:
    assert not looks_like_article(url)
    assert not is_listing_url(url)


@pytest.mark.parametrize(
    "url",
    ["mailto:news@example.com", "https://www.example.com/logo.png", "javascript:go()"],
)
def test_non_pages_score_far_below_pages(url: str) -> None:
    assert article_url_score(url) < article_url_score("https://www.example.com/")


def test_score_ranks_stronger_evidence_higher() -> None:
    dated_with_id = "https://en.sputniknews.africa/20230815/leaders-meet-in-abuja-1061432975.html"
    id_only = "https://www.bbc.com/news/world-europe-66512345"
    assert article_url_score(dated_with_id) > article_url_score(id_only)


def test_a_listing_word_does_not_hide_a_dated_article() -> None:
    # A tag word alone makes a listing; a date, an id and a slug outweigh it.
    assert is_listing_url("https://www.example.com/sections/health/")
    assert looks_like_article(
        "https://www.example.com/sections/health/2023/08/15/1193712345/long-covid-study"
    )


def test_date_must_be_followed_by_more_path() -> None:
    assert not looks_like_article("https://www.example.com/2023/08/15/")
    assert looks_like_article("https://www.example.com/2023/08/15/storm")


@pytest.mark.parametrize(
    "url",
    [
        "https://www.example.com/news/1999/13/45/x",  # no such month or day
        "https://www.example.com/news/2023-13-45/x",
    ],
)
def test_impossible_dates_are_no_dates(url: str) -> None:
    assert not looks_like_article(url)


def test_numbers_are_not_slug_words() -> None:
    # Four parts, but only two are words: "2023" and "08" are not.
    assert not looks_like_article("https://www.example.com/results/league-table-2023-08")


def test_uppercase_and_percent_encoding_understood() -> None:
    assert is_listing_url("https://www.example.com/TAG/Ukraine/")
    assert is_listing_url("https://www.example.com/%74ag/ukraine/")  # %74 is "t"


# --- same_site ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "domains", "expected"),
    [
        ("https://www.bbc.com/news", ["bbc.com"], True),
        ("https://bbc.com/news", ["www.bbc.com"], True),
        ("https://news.bbc.co.uk/x", ["bbc.co.uk"], True),
        ("https://a.b.bbc.co.uk/x", ["bbc.co.uk"], True),
        ("https://WWW.BBC.COM./news", ["bbc.com"], True),
        ("https://www.bbc.com:443/news", ["bbc.com"], True),
        ("https://en.sputniknews.africa/", ["sputniknews.africa"], True),
        ("https://sputniknews.africa/", ["en.sputniknews.africa"], False),
        ("https://notbbc.com/", ["bbc.com"], False),
        ("https://bbc.com.evil.example/", ["bbc.com"], False),
        ("https://bbc.co.uk/", ["bbc.com"], False),
        ("https://www.dw.com/en/", ["bbc.com", "dw.com"], True),
        ("https://www.dw.com/en/", [], False),
        ("https://www.dw.com/en/", [""], False),
        ("mailto:someone@bbc.com", ["bbc.com"], False),
        ("/relative/path", ["bbc.com"], False),
        ("http://[::1/", ["bbc.com"], False),
        ("https://xn--mnchen-3ya.example/", ["münchen.example"], True),
        ("https://münchen.example/", ["xn--mnchen-3ya.example"], True),
    ],
)
def test_same_site(url: str, domains: list[str], expected: bool) -> None:
    assert same_site(url, domains) is expected


def test_same_site_accepts_any_iterable() -> None:
    assert same_site("https://www.dw.com/", (domain for domain in ["dw.com"]))


@pytest.mark.parametrize(
    ("domain", "expected"),
    [
        ("WWW.Example.COM.", "example.com"),
        (" example.com ", "example.com"),
        ("www2.example.com", "www2.example.com"),
        ("München.example", "xn--mnchen-3ya.example"),
    ],
)
def test_normalize_domain(domain: str, expected: str) -> None:
    assert normalize_domain(domain) == expected


# --- extract_links -------------------------------------------------------------------------

PAGE_URL = "https://news.example/world/index.html"

LINKS_PAGE = """<!DOCTYPE html>
<html><head><title>World</title></head><body>
<nav><a href="/">Home</a> <a href="/world/">World</a> <a href="sport/">Sport</a></nav>
<a href="/2023/08/15/storm-hits-coast.html#comments">Storm</a>
<a href="/2023/08/15/storm-hits-coast.html">Storm again</a>
<a href="https://other.example/story?id=123456">Elsewhere</a>
<a href="//cdn.news.example/live">Scheme-relative</a>
<a href="  /padded  ">Padded</a>
<a href="/split
/path">Newline inside</a>
<a href="javascript:void(0)">Menu</a>
<a href="mailto:desk@news.example">Mail</a>
<a href="tel:+1234">Call</a>
<a href="ftp://files.news.example/x">FTP</a>
<a href="#top">Top</a>
<a href="">Empty</a>
<a>No href</a>
<a href="index.html">Itself</a>
<a href="http://[::1/broken">Broken</a>
<a href="https://news.example:99999/">Bad port</a>
<a href="https://news.example:0/">Port 0</a>
<a href="https://news..example/">Empty host label</a>
<a href="/caf\u00e9 au lait">Non-ASCII</a>
<area href="/map-area-link">
</body></html>
"""


def test_extract_links_resolves_dedupes_and_keeps_order() -> None:
    assert extract_links(LINKS_PAGE, PAGE_URL) == [
        "https://news.example/",
        "https://news.example/world/",
        "https://news.example/world/sport/",
        "https://news.example/2023/08/15/storm-hits-coast.html",
        "https://other.example/story?id=123456",
        "https://cdn.news.example/live",
        "https://news.example/padded",
        "https://news.example/split/path",
        "https://news.example/caf%C3%A9%20au%20lait",
    ]


def test_extract_links_from_bytes_with_declared_charset() -> None:
    html = '<meta charset="iso-8859-1"><a href="/caf\u00e9">x</a>'.encode("latin-1")
    assert extract_links(html, "https://news.example/") == ["https://news.example/caf%C3%A9"]


def test_extract_links_from_utf8_bytes() -> None:
    html = '<a href="/stra\u00dfe">x</a>'.encode()
    assert extract_links(html, "https://news.example/") == ["https://news.example/stra%C3%9Fe"]


def test_extract_links_uses_base_href() -> None:
    html = '<head><base href="https://static.example/en/"></head><a href="story-1">x</a>'
    assert extract_links(html, "https://news.example/page") == ["https://static.example/en/story-1"]


def test_extract_links_relative_base_href_resolved_against_page() -> None:
    html = '<base href="/archive/"><a href="a">x</a><a href="/b">y</a>'
    assert extract_links(html, "https://news.example/x/y") == [
        "https://news.example/archive/a",
        "https://news.example/b",
    ]


def test_extract_links_ignores_unusable_base_href() -> None:
    html = '<base href="javascript:alert(1)"><base href="/second/"><a href="a">x</a>'
    assert extract_links(html, "https://news.example/x/y") == ["https://news.example/second/a"]


def test_extract_links_handles_xml_declaration_in_text() -> None:
    html = '<?xml version="1.0" encoding="utf-8"?><html><body><a href="/x">x</a></body></html>'
    assert extract_links(html, "https://news.example/") == ["https://news.example/x"]


def test_extract_links_from_broken_html() -> None:
    html = (
        "<html><body><div><a href='/one'>one<p><a href=/two>two<table><td><a href=\"/three\">three"
    )
    assert extract_links(html, "https://news.example/") == [
        "https://news.example/one",
        "https://news.example/two",
        "https://news.example/three",
    ]


def test_extract_links_uppercase_tags_and_attributes() -> None:
    html = "<A HREF='/upper'>x</A>"
    assert extract_links(html, "https://news.example/") == ["https://news.example/upper"]


@pytest.mark.parametrize(
    "html",
    [
        b"",
        "",
        "   \n\t",
        b"\x00\x00\x00",
        bytes(range(256)) * 16,
        b"\xff\xfe\x00garbage",
        "<!-- only a comment -->",
        "<<<>>>&&&",
        "\ud800 lone surrogate",
        "<a href='javascript:alert(1)'>x</a><a href='mailto:x@y'>y</a>",
    ],
)
def test_extract_links_without_usable_links_is_empty(html: bytes | str) -> None:
    assert extract_links(html, "https://news.example/") == []


def test_extract_links_survives_nul_bytes() -> None:
    html = b"\x00\x00<a href='/after-nul'>x</a>"
    assert extract_links(html, "https://news.example/") == ["https://news.example/after-nul"]


def test_extract_links_with_unusable_page_url_keeps_absolute_links() -> None:
    html = "<a href='/relative'>x</a><a href='https://news.example/abs'>y</a>"
    assert extract_links(html, "not a url") == ["https://news.example/abs"]


def test_extract_links_of_a_large_page() -> None:
    html = "".join(f"<li><a href='/story-{n}'>Story {n}</a></li>" for n in range(5000))
    links = extract_links(html, "https://news.example/")
    assert len(links) == 5000
    assert links[-1] == "https://news.example/story-4999"


@pytest.mark.parametrize("as_bytes", [False, True])
def test_extract_links_after_markup_deeper_than_libxml2_builds(as_bytes: bool) -> None:
    """libxml2 builds no element past 256 levels and drops everything after the first: a
    listing whose links come inside or after 1,000 nested elements keeps them all."""
    deep = "<div>" * 1000 + "<a href='/inside'>Inside</a>" + "</div>" * 1000
    html = f"<html><body><a href='/before'>b</a>{deep}<a href='/after'>a</a></body></html>"
    page = html.encode() if as_bytes else html
    assert extract_links(page, "https://news.example/") == [
        "https://news.example/before",
        "https://news.example/inside",
        "https://news.example/after",
    ]


def test_links_are_read_without_loading_trafilatura() -> None:
    """The crawl process reads listings' links; trafilatura stays in the extraction workers."""
    program = (
        "import sys; from crawler.links import extract_links; "
        "deep = '<div>' * 1000 + \"<a href='/x'>x</a>\" + '</div>' * 1000; "
        "assert extract_links(deep, 'https://news.example/') == ['https://news.example/x']; "
        "print('trafilatura' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True, timeout=60
    )
    assert done.stdout.strip() == "False"


# --- next_page_links -----------------------------------------------------------------------

LISTING_URL = "https://news.example/world/"


def test_link_rel_next_in_head() -> None:
    html = '<head><link rel="next" href="/world/page/2/"></head><body><p>x</p></body>'
    assert next_page_links(html, LISTING_URL) == ["https://news.example/world/page/2/"]


def test_anchor_rel_next_among_other_rel_tokens() -> None:
    html = '<a rel="nofollow NEXT" href="?page=2">go</a>'
    assert next_page_links(html, LISTING_URL) == ["https://news.example/world/?page=2"]


@pytest.mark.parametrize(
    "text",
    [
        "2",
        "Next",
        "next page",
        "Next Page",
        "Next »",
        "Next ›",
        "Older",
        "« Older posts",
        "More",
        "Load more",
        "Weiter",
        "Nächste Seite",
        "Siguiente",
        "Página siguiente",
        "Suivant",
        "Page suivante",
        "Successiva",
        "Próxima",
        "›",
        "»",
        "→",
        "&gt;",
        "  Next\n  page  ",
        "<span>Next</span> <i class='icon'></i>",
    ],
)
def test_anchor_text_says_next(text: str) -> None:
    html = f'<ul class="pager"><li><a href="/world/?page=2">{text}</a></li></ul>'
    assert next_page_links(html, LISTING_URL) == ["https://news.example/world/?page=2"]


@pytest.mark.parametrize(
    "text",
    [
        "Previous",
        "‹",
        "«",
        "Newer",
        "1",
        "3",
        "Next article: storm hits coast",
        "More about the storm",
        "Read more",
        "",
    ],
)
def test_anchor_text_not_next(text: str) -> None:
    html = f'<a href="/world/?page=2">{text}</a>'
    assert next_page_links(html, LISTING_URL) == []


def test_icon_anchor_with_aria_label() -> None:
    html = '<a href="/world/p2" aria-label="Next page">\n  <svg></svg>\n</a>'
    assert next_page_links(html, LISTING_URL) == ["https://news.example/world/p2"]


def test_icon_anchor_with_title() -> None:
    html = '<a href="/world/p2" title="Weiter"><img src="arrow.svg"></a>'
    assert next_page_links(html, LISTING_URL) == ["https://news.example/world/p2"]


def test_next_links_on_other_hosts_ignored() -> None:
    html = (
        '<link rel="next" href="https://other.example/world/2">'
        '<a href="https://ads.example/more">More</a>'
        '<a href="https://www.news.example/world/?page=2">Next</a>'
    )
    # www. is the same host; other hosts are not pagination.
    assert next_page_links(html, LISTING_URL) == ["https://www.news.example/world/?page=2"]


def test_subdomain_is_not_the_same_host() -> None:
    html = '<a href="https://sport.news.example/?page=2">Next</a>'
    assert next_page_links(html, LISTING_URL) == []


def test_rel_next_first_then_text_anchors_without_repeats() -> None:
    html = """
    <html><head><link rel="next" href="/world/page/2/"></head><body>
    <nav class="pagination">
      <a href="/world/">1</a> <a href="/world/page/2/">2</a> <a href="/world/page/3/">3</a>
      <a href="/world/page/2/#list">Next »</a>
    </nav>
    <a href="/world/more-from-the-archive/">Older</a>
    </body></html>
    """
    assert next_page_links(html, LISTING_URL) == [
        "https://news.example/world/page/2/",
        "https://news.example/world/more-from-the-archive/",
    ]


def test_link_to_the_page_itself_is_not_next() -> None:
    html = '<a href="/world/">2</a><a href="#">Next</a>'
    assert next_page_links(html, LISTING_URL) == []


def test_next_page_in_bytes_with_base_href() -> None:
    html = b'<base href="https://news.example/archive/"><a href="p3">Next</a>'
    assert next_page_links(html, LISTING_URL) == ["https://news.example/archive/p3"]


@pytest.mark.parametrize("html", [b"", "", bytes(range(256)) * 4, "<a href='javascript:x'>Next"])
def test_next_page_links_garbage_is_empty(html: bytes | str) -> None:
    assert next_page_links(html, LISTING_URL) == []


def test_next_page_links_with_unusable_page_url() -> None:
    html = "<a href='https://news.example/?page=2'>Next</a>"
    assert next_page_links(html, "not a url") == []


def test_pages_are_parsed_with_the_html_classes_looked_up_in_c() -> None:
    # one class for every element: lxml.html's own parser picks each one's in Python
    tree = parse_page(b"<html><body><form><input name=q></form><a href='/a'>A</a></body></html>")
    assert tree is not None
    assert {type(element).__name__ for element in tree.iter()} == {"HtmlElement"}
    assert tree.find(".//a").text_content() == "A"
