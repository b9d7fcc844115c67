"""Metadata pages state about themselves: JSON-LD, OpenGraph and other meta tags, links."""

from __future__ import annotations

import json
from typing import Any

import pytest
from lxml.html import HtmlElement, fromstring

from extraction.article import columns
from extraction.structured import (
    MAX_DESCRIPTION_CHARS,
    MAX_SITE_NAME_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    MAX_TITLE_CHARS,
    MAX_URL_CHARS,
    PageMetadata,
    clean_space,
    page_metadata,
    unique_texts,
    within,
)

URL = "https://news.example.com/world/2024/storm.html"


def _page(head: str = "", body: str = "<p>Text</p>", html_attributes: str = "") -> HtmlElement:
    return fromstring(
        f"<!DOCTYPE html><html{html_attributes}><head><title>T</title>{head}</head>"
        f"<body>{body}</body></html>"
    )


def _json_ld(data: Any) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def _meta(head: str = "", body: str = "<p>Text</p>", html_attributes: str = "") -> PageMetadata:
    return page_metadata(_page(head, body, html_attributes), URL)


NEWS_ARTICLE = {
    "@context": "https://schema.org",
    "@type": "NewsArticle",
    "headline": "Storm hits the coast",
    "description": "Thousands are without power.",
    "datePublished": "2024-05-01T10:00:00+02:00",
    "dateModified": "2024-05-02T08:30:00+02:00",
    "author": [
        {"@type": "Person", "name": "Jane Doe"},
        {"@type": "Person", "name": "John Roe"},
    ],
    "publisher": {"@type": "NewsMediaOrganization", "name": "The Daily Planet"},
    "keywords": "storm, weather , coast,",
    "articleSection": "World",
    "image": {"@type": "ImageObject", "url": "/images/storm.jpg"},
    "inLanguage": "en-GB",
    "articleBody": "  The storm reached the coast on Tuesday.  ",
}


# --- JSON-LD ------------------------------------------------------------------------------------


def test_news_article() -> None:
    meta = _meta(_json_ld(NEWS_ARTICLE))
    assert meta == PageMetadata(
        title="Storm hits the coast",
        description="Thousands are without power.",
        authors=["Jane Doe", "John Roe"],
        organization_authors=[],
        published="2024-05-01T10:00:00+02:00",
        modified="2024-05-02T08:30:00+02:00",
        site_name="The Daily Planet",
        tags=["storm", "weather", "coast", "World"],
        image_url="https://news.example.com/images/storm.jpg",
        canonical_url=None,
        language="en",
        is_article=True,
        is_listing=False,
        article_body="The storm reached the coast on Tuesday.",
    )


def test_value_objects_and_lists_give_their_text_never_a_python_repr() -> None:
    # each was stored as Python's str() of the object ("{'@value': ...}", "['A', 'B']"), a
    # date in a list lost its time of day, and true became the title 'True'
    article = {
        **NEWS_ARTICLE,
        "headline": {"@value": "Storm hits the coast", "@language": "en"},
        "description": ["Thousands are without power.", "Second summary"],
        "datePublished": ["2024-05-01T10:00:00+02:00"],
        "dateModified": [{"@value": "2024-05-02T08:30:00+02:00"}],
        "author": [{"@type": "Person", "name": {"@value": "Jane Doe"}}, {"name": 7}],
        "publisher": {"@type": "Organization", "name": {"@value": "The Daily Planet"}},
        "articleSection": [{"@value": "World"}, {"@id": "#section"}],
    }
    meta = _meta(_json_ld(article))
    assert meta.title == "Storm hits the coast"
    assert meta.description == "Thousands are without power."
    assert meta.published == "2024-05-01T10:00:00+02:00"
    assert meta.modified == "2024-05-02T08:30:00+02:00"
    assert meta.authors == ["Jane Doe", "7"]
    assert meta.site_name == "The Daily Planet"
    assert meta.tags == ["storm", "weather", "coast", "World"]
    for value in (True, {"@id": "#headline"}, [None, {"a": 1}]):
        assert _meta(_json_ld({**NEWS_ARTICLE, "headline": value})).title is None


def test_values_nested_hundreds_deep_are_not_looked_for() -> None:
    # lists that deep within a readable script: their walk recursed past Python's limit
    deep = "[" * 500 + '"x"' + "]" * 500
    head = (
        '<script type="application/ld+json">{"@type": "NewsArticle", '
        f'"headline": {deep}, "author": {deep}, "keywords": {deep}, "articleSection": {deep}}}'
        "</script>"
    )
    meta = _meta(head)
    assert (meta.title, meta.authors, meta.tags) == (None, [], [])
    shallow = _meta(_json_ld({**NEWS_ARTICLE, "headline": [["Storm hits the coast"]]}))
    assert shallow.title == "Storm hits the coast"


def test_json_ld_nested_deeper_than_python_goes_is_left_out() -> None:
    # a RecursionError from json.loads lost the whole article before (2 KB of brackets)
    deep = "[" * 100_000 + "]" * 100_000
    head = f'<script type="application/ld+json">{deep}</script>' + _json_ld(NEWS_ARTICLE)
    assert _meta(head).title == "Storm hits the coast"


def test_date_created_when_no_date_published() -> None:
    article = {**NEWS_ARTICLE, "dateCreated": "2024-04-30"}
    del article["datePublished"]
    assert _meta(_json_ld(article)).published == "2024-04-30"


def test_date_published_before_date_created() -> None:
    article = {**NEWS_ARTICLE, "dateCreated": "2024-04-30"}
    assert _meta(_json_ld(article)).published == "2024-05-01T10:00:00+02:00"


def test_organization_author() -> None:
    article = {**NEWS_ARTICLE, "author": {"@type": "Organization", "name": "Reuters"}}
    meta = _meta(_json_ld(article))
    assert meta.authors == []
    assert meta.organization_authors == ["Reuters"]


def test_people_and_organizations_among_authors() -> None:
    article = {
        **NEWS_ARTICLE,
        "author": [
            {"@type": "NewsMediaOrganization", "name": "AFP"},
            {"@type": "Person", "name": "Jane Doe"},
            "John Roe",
        ],
    }
    meta = _meta(_json_ld(article))
    assert meta.authors == ["Jane Doe", "John Roe"]
    assert meta.organization_authors == ["AFP"]


def test_author_meta_tags_when_no_json_ld_person() -> None:
    head = (
        '<meta name="author" content="Jane Doe">'
        '<meta property="article:author" content="https://facebook.com/jane">'
        '<meta property="article:author" content="John Roe">'
        '<meta name="author" content="jane doe">'
    )
    assert _meta(head).authors == ["Jane Doe", "John Roe"]


def test_json_ld_people_win_over_author_meta_tags() -> None:
    head = _json_ld(NEWS_ARTICLE) + '<meta name="author" content="Someone Else">'
    assert _meta(head).authors == ["Jane Doe", "John Roe"]


YOAST_GRAPH = {
    "@context": "https://schema.org",
    "@graph": [
        {
            "@type": "NewsArticle",
            "@id": "https://news.example.com/a#article",
            "headline": "Storm hits the coast",
            "author": {"@id": "https://news.example.com/#/schema/person/1"},
        },
        {"@type": "Person", "@id": "https://news.example.com/#/schema/person/1", "name": "Evan"},
        {"@type": "Organization", "@id": "https://news.example.com/#org", "name": "Example"},
    ],
}


def test_author_references_are_resolved_in_the_graph() -> None:
    meta = _meta(_json_ld(YOAST_GRAPH))
    assert meta.authors == ["Evan"]
    assert meta.organization_authors == []
    # a reference to an organization of the graph is an organization
    graph = json.loads(json.dumps(YOAST_GRAPH))
    graph["@graph"][0]["author"] = [{"@id": "https://news.example.com/#org"}]
    meta = _meta(_json_ld(graph))
    assert (meta.authors, meta.organization_authors) == ([], ["Example"])


def test_a_reference_to_nothing_named_names_no_one() -> None:
    graph = json.loads(json.dumps(YOAST_GRAPH))
    graph["@graph"][0]["author"] = {"@id": "https://elsewhere.example/#me"}
    meta = _meta(_json_ld(graph) + '<meta name="author" content="Meta Author">')
    assert meta.authors == ["Meta Author"]


def test_the_web_pages_author_when_the_article_names_none() -> None:
    graph = json.loads(json.dumps(YOAST_GRAPH))
    del graph["@graph"][0]["author"]
    graph["@graph"].append(
        {"@type": "WebPage", "author": {"@id": "https://news.example.com/#/schema/person/1"}}
    )
    assert _meta(_json_ld(graph)).authors == ["Evan"]


def test_byline_meta_tags_are_kept_apart() -> None:
    head = (
        '<meta name="author" content="Badische Zeitung">'
        '<meta name="cxenseparse:author" content="Lisa Petrich">'
        '<meta name="byl" content="By Ann Lee">'
        '<meta property="article:byline" content="https://example.com/lisa">'
    )
    meta = _meta(head)
    assert meta.authors == ["Badische Zeitung"]
    assert meta.meta_bylines == ["Lisa Petrich", "By Ann Lee"]


@pytest.mark.parametrize(
    ("keywords", "section", "expected"),
    [
        ("storm, weather", "World", ["storm", "weather", "World"]),
        (
            ["storm", "weather", "Storm"],
            ["World", "Europe"],
            ["storm", "weather", "World", "Europe"],
        ),
        (["storm, weather", "coast"], None, ["storm", "weather", "coast"]),
        (None, "World", ["World"]),
        (42, None, []),
    ],
)
def test_keywords_and_section(keywords: Any, section: Any, expected: list[str]) -> None:
    article = {**NEWS_ARTICLE, "keywords": keywords, "articleSection": section}
    assert _meta(_json_ld(article)).tags == expected


def test_meta_tags_come_before_json_ld_keywords() -> None:
    head = '<meta property="article:tag" content="Floods">' + _json_ld(NEWS_ARTICLE)
    assert _meta(head).tags == ["Floods", "storm", "weather", "coast", "World"]


@pytest.mark.parametrize(
    ("image", "expected"),
    [
        ({"@type": "ImageObject", "url": "/images/a.jpg"}, "https://news.example.com/images/a.jpg"),
        (
            ["https://cdn.example.com/1.jpg", "https://cdn.example.com/2.jpg"],
            "https://cdn.example.com/1.jpg",
        ),
        ([{"url": "https://cdn.example.com/3.jpg"}], "https://cdn.example.com/3.jpg"),
        ("images/b.jpg", "https://news.example.com/world/2024/images/b.jpg"),
        ("//cdn.example.com/c.jpg", "https://cdn.example.com/c.jpg"),
        ("data:image/png;base64,AAAA", None),
        (None, None),
    ],
)
def test_image(image: Any, expected: str | None) -> None:
    assert _meta(_json_ld({**NEWS_ARTICLE, "image": image})).image_url == expected


def test_og_image_before_json_ld_image() -> None:
    head = '<meta property="og:image" content="/og.jpg">' + _json_ld(NEWS_ARTICLE)
    assert _meta(head).image_url == "https://news.example.com/og.jpg"


@pytest.mark.parametrize(
    ("in_language", "expected"),
    [("de-AT", "de"), (["pt-BR", "en"], "pt"), ({"@type": "Language", "name": "es"}, "es")],
)
def test_in_language(in_language: Any, expected: str) -> None:
    assert _meta(_json_ld({**NEWS_ARTICLE, "inLanguage": in_language})).language == expected


def test_graph_wrapper() -> None:
    data = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "The Daily Planet"},
            {"@type": "BreadcrumbList", "itemListElement": []},
            {"@type": ["NewsArticle"], "headline": "From the graph"},
        ],
    }
    meta = _meta(_json_ld(data))
    assert meta.title == "From the graph"
    assert meta.is_article
    assert not meta.is_listing


def test_list_wrapper() -> None:
    data = [{"@type": "BreadcrumbList"}, [{"@type": "BlogPosting", "headline": "In a list"}]]
    meta = _meta(_json_ld(data))
    assert meta.title == "In a list"
    assert meta.is_article


def test_type_given_as_url() -> None:
    meta = _meta(_json_ld({"@type": "https://schema.org/NewsArticle", "headline": "Typed by URL"}))
    assert meta.title == "Typed by URL"


def test_article_with_the_longest_body_is_the_main_one() -> None:
    teaser = {"@type": "NewsArticle", "headline": "Teaser", "articleBody": "Short."}
    main = {"@type": "NewsArticle", "headline": "Main", "articleBody": "A much longer body."}
    assert _meta(_json_ld([teaser, main])).title == "Main"


@pytest.mark.parametrize(
    "script",
    [
        '<script type="application/ld+json">{"@type": "NewsArticle", "headline": </script>',
        '<script type="application/ld+json">   </script>',
        '<script type="application/ld+json">"just a string"</script>',
        '<script type="text/javascript">{"@type": "NewsArticle", "headline": "JS"}</script>',
    ],
)
def test_invalid_or_other_scripts_are_ignored(script: str) -> None:
    head = script + '<meta property="og:title" content="From OpenGraph">'
    meta = _meta(head)
    assert meta.title == "From OpenGraph"
    assert not meta.is_article


def test_invalid_json_ld_does_not_hide_a_valid_one() -> None:
    head = (
        '<script type="application/ld+json">{broken</script>'
        '<script type=" Application/LD+JSON ">'
        + json.dumps({"@type": "NewsArticle", "headline": "Valid"})
        + "</script>"
    )
    assert _meta(head).title == "Valid"


def test_control_characters_inside_json_strings_are_accepted() -> None:
    raw = '{"@type": "NewsArticle", "headline": "Line\tone\nand two"}'
    head = f'<script type="application/ld+json">{raw}</script>'
    assert _meta(head).title == "Line one and two"


# --- OpenGraph and other meta tags --------------------------------------------------------------

OPEN_GRAPH = (
    '<meta property="og:title" content="OG title">'
    '<meta property="og:description" content="OG description">'
    '<meta name="description" content="Plain description">'
    '<meta property="og:site_name" content="The Daily Planet">'
    '<meta property="og:image" content="/og/storm.jpg">'
    '<meta property="og:url" content="https://news.example.com/storm">'
    '<meta property="og:type" content="article">'
    '<meta property="article:published_time" content="2024-05-01T10:00:00Z">'
    '<meta property="article:modified_time" content="2024-05-02T10:00:00Z">'
)


def test_open_graph_fallbacks() -> None:
    meta = _meta(OPEN_GRAPH)
    assert meta.title == "OG title"
    assert meta.description == "OG description"
    assert meta.site_name == "The Daily Planet"
    assert meta.image_url == "https://news.example.com/og/storm.jpg"
    assert meta.canonical_url == "https://news.example.com/storm"
    assert meta.published == "2024-05-01T10:00:00Z"
    assert meta.modified == "2024-05-02T10:00:00Z"
    assert meta.is_article
    assert not meta.is_listing


def test_json_ld_headline_before_og_title() -> None:
    assert _meta(OPEN_GRAPH + _json_ld(NEWS_ARTICLE)).title == "Storm hits the coast"


def test_og_description_before_json_ld_description() -> None:
    assert _meta(OPEN_GRAPH + _json_ld(NEWS_ARTICLE)).description == "OG description"


def test_og_site_name_before_the_publisher() -> None:
    article = {**NEWS_ARTICLE, "publisher": {"@type": "Organization", "name": "Publisher Inc"}}
    assert _meta(OPEN_GRAPH + _json_ld(article)).site_name == "The Daily Planet"
    assert _meta(_json_ld(article)).site_name == "Publisher Inc"


def test_application_name_as_the_last_site_name() -> None:
    assert _meta('<meta name="application-name" content="Planet">').site_name == "Planet"


def test_empty_meta_content_is_skipped() -> None:
    head = '<meta property="og:title" content="  "><meta name="twitter:title" content="Tw title">'
    assert _meta(head).title == "Tw title"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("Tom &amp; Jerry", "Tom & Jerry"),
        ("Tom &amp;amp; Jerry", "Tom & Jerry"),
        ("&amp;quot;Never again&amp;quot;", '"Never again"'),
        ("&amp;#8220;Quoted&amp;#8221;", "\u201cQuoted\u201d"),
        ("Two\n  lines", "Two lines"),
    ],
)
def test_entities_in_meta_tags_are_decoded(content: str, expected: str) -> None:
    assert _meta(f'<meta property="og:title" content="{content}">').title == expected


def test_og_type_other_than_article() -> None:
    meta = _meta('<meta property="og:type" content="website">')
    assert not meta.is_article
    assert not meta.is_listing


def test_og_type_is_compared_without_case() -> None:
    assert _meta('<meta property="og:type" content="Article">').is_article


# --- canonical link -----------------------------------------------------------------------------


def test_canonical_link_before_og_url() -> None:
    head = '<link rel="canonical" href="/world/storm">' + OPEN_GRAPH
    assert _meta(head).canonical_url == "https://news.example.com/world/storm"


@pytest.mark.parametrize(
    ("link", "expected"),
    [
        (
            '<link rel="canonical" href="storm-2.html">',
            "https://news.example.com/world/2024/storm-2.html",
        ),
        ('<link rel="Canonical" href=" https://example.org/a ">', "https://example.org/a"),
        ('<link rel="alternate canonical" href="/b">', "https://news.example.com/b"),
        ('<link rel="canonical" href="javascript:void(0)">', None),
        ('<link rel="canonical" href="ftp://example.org/file">', None),
        ('<link rel="canonical" href="mailto:desk@example.org">', None),
        # no request can be made for these (extraction.urls.url_problem)
        ('<link rel="canonical" href="https://example.org:0/a">', None),
        ('<link rel="canonical" href="https://example..org/a">', None),
        ('<link rel="alternate" href="https://example.org/amp">', None),
    ],
)
def test_canonical_link(link: str, expected: str | None) -> None:
    assert _meta(link).canonical_url == expected


# --- language -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("html_attributes", "head", "expected"),
    [
        (' lang="pt-BR"', "", "pt"),
        (' lang="EN"', "", "en"),
        (' lang="zh-Hans-CN"', "", "zh"),
        ("", '<meta property="og:locale" content="es_ES">', "es"),
        ("", '<meta http-equiv="content-language" content="de-AT, en">', "de"),
        ("", '<meta http-equiv="content-language" content="utf-8">', None),
        ("", '<meta http-equiv="content-language" content="deu">', None),
        ("", '<meta name="language" content="English">', None),
        (' lang="de"', '<meta property="og:locale" content="en_US">', "de"),
        (' lang="utf-8"', '<meta property="og:locale" content="en_US">', "en"),
        ("", "", None),
    ],
)
def test_language(html_attributes: str, head: str, expected: str | None) -> None:
    assert _meta(head, html_attributes=html_attributes).language == expected


def test_xml_lang_on_the_html_element() -> None:
    # BUG: lxml's HTML parser keeps "xml:lang" as a plain attribute name, so the namespaced
    # lookup "{http://www.w3.org/XML/1998/namespace}lang" never finds it
    assert _meta(html_attributes=' xml:lang="fr"').language == "fr"


def test_html_lang_before_json_ld_in_language() -> None:
    assert _meta(_json_ld(NEWS_ARTICLE), html_attributes=' lang="fr"').language == "fr"


# --- article or listing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "listing", ["CollectionPage", "SearchResultsPage", "ItemList", "ProfilePage"]
)
def test_listing_page(listing: str) -> None:
    meta = _meta(_json_ld({"@type": listing, "name": "World news"}))
    assert meta.is_listing
    assert not meta.is_article


def test_website_alone_is_no_listing() -> None:
    meta = _meta(_json_ld({"@type": "WebSite", "name": "The Daily Planet"}))
    assert not meta.is_listing
    assert not meta.is_article


@pytest.mark.parametrize(
    "head",
    [
        _json_ld([{"@type": "CollectionPage"}, {"@type": "NewsArticle", "headline": "A"}]),
        _json_ld({"@type": "CollectionPage"}) + '<meta property="og:type" content="article">',
    ],
)
def test_listing_with_an_article_is_an_article(head: str) -> None:
    meta = _meta(head)
    assert meta.is_article
    assert not meta.is_listing


# --- dates from the body ------------------------------------------------------------------------


def test_time_element_marked_date_published() -> None:
    body = (
        '<p><time datetime="2020-01-01">Old</time></p>'
        '<time itemprop="datePublished" datetime="2024-03-03T08:00:00Z">3 March</time>'
    )
    assert _meta(body=body).published == "2024-03-03T08:00:00Z"


def test_time_element_with_pubdate() -> None:
    body = '<time pubdate datetime="2024-03-05">5 March</time>'
    assert _meta(body=body).published == "2024-03-05"


def test_first_time_element_in_the_article() -> None:
    body = (
        '<aside><time datetime="2020-01-01">Old</time></aside>'
        '<article><time datetime="2024-03-04">4 March</time>'
        '<time datetime="2024-03-09">9 March</time></article>'
    )
    assert _meta(body=body).published == "2024-03-04"


def test_time_element_outside_an_article_is_not_a_date() -> None:
    assert _meta(body='<time datetime="2024-03-04">4 March</time>').published is None


def test_meta_date_before_the_time_element() -> None:
    head = '<meta name="pubdate" content="2024-02-02">'
    body = '<time itemprop="datePublished" datetime="2024-03-03">3 March</time>'
    assert _meta(head, body).published == "2024-02-02"


def test_page_without_metadata() -> None:
    assert _meta() == PageMetadata()


# --- isAccessibleForFree -----------------------------------------------------------------------

PAYWALL = {"@type": "WebPageElement", "isAccessibleForFree": False, "cssSelector": ".paywall"}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (False, False),
        (True, True),
        ("False", False),
        ("false", False),
        ("True", True),
        (" TRUE ", True),
        ("http://schema.org/False", False),
        ("https://schema.org/True", True),
        ("https://schema.org/false", False),
        ({"@value": "false"}, False),
        ({"@id": "http://schema.org/False"}, False),
        (["False"], False),
        ("yes", None),
        ("", None),
        (0, None),
        (None, None),
        ({"@type": "Boolean"}, None),
        ("https://example.com/False", None),
    ],
)
def test_what_the_article_declares_of_its_access(value: Any, expected: bool | None) -> None:
    # a paywalled page declares it (as Google asks); its teaser was stored as a whole article
    # with nothing in the row to say so (twelfth fault hunt, F6)
    meta = _meta(_json_ld({**NEWS_ARTICLE, "isAccessibleForFree": value}))
    assert meta.accessible_for_free is expected


@pytest.mark.parametrize(
    ("article", "parts", "expected"),
    [
        (False, PAYWALL, False),
        (None, PAYWALL, False),  # only the paywalled part says it
        ("http://schema.org/True", {**PAYWALL, "isAccessibleForFree": "False"}, False),
        (True, [{**PAYWALL, "isAccessibleForFree": True}, PAYWALL], False),
        (True, {**PAYWALL, "isAccessibleForFree": True}, True),
        (None, {**PAYWALL, "isAccessibleForFree": "true"}, True),
        ("maybe", PAYWALL, False),
        (True, {**PAYWALL, "isAccessibleForFree": "maybe"}, True),
        (None, {"@type": "WebPageElement", "cssSelector": ".paywall"}, None),
        (None, "a part as text", None),
    ],
)
def test_a_part_declared_not_free_makes_the_article_not_free(
    article: Any, parts: Any, expected: bool | None
) -> None:
    data = {**NEWS_ARTICLE, "hasPart": parts}
    if article is not None:
        data["isAccessibleForFree"] = article
    assert _meta(_json_ld(data)).accessible_for_free is expected


def test_access_declared_in_a_graph_or_a_list() -> None:
    graph = {
        "@context": "https://schema.org",
        "@graph": [
            {"@type": "WebSite", "name": "The Daily Planet"},
            {**NEWS_ARTICLE, "isAccessibleForFree": "False", "hasPart": PAYWALL},
        ],
    }
    assert _meta(_json_ld(graph)).accessible_for_free is False
    listed = [{"@type": "BreadcrumbList"}, [{**NEWS_ARTICLE, "isAccessibleForFree": "true"}]]
    assert _meta(_json_ld(listed)).accessible_for_free is True


def test_access_the_web_page_declares_when_the_article_does_not() -> None:
    # The Nation declares it on the WebPage of its graph, not on an article object
    page = {"@type": "WebPage", "isAccessibleForFree": "false", "hasPart": PAYWALL}
    assert _meta(_json_ld({"@graph": [page]})).accessible_for_free is False
    assert _meta(_json_ld([NEWS_ARTICLE, page])).accessible_for_free is False
    # the article's own word comes first
    free = {**NEWS_ARTICLE, "isAccessibleForFree": True}
    assert _meta(_json_ld([page, free])).accessible_for_free is True


def test_access_of_an_article_nested_as_the_main_entity() -> None:
    nested = {**NEWS_ARTICLE, "isAccessibleForFree": False, "hasPart": PAYWALL}
    page = {"@context": "https://schema.org", "@type": "WebPage", "mainEntity": nested}
    assert _meta(_json_ld(page)).accessible_for_free is False
    listed = {**page, "mainEntity": [{"@type": "Person"}, nested]}
    assert _meta(_json_ld(listed)).accessible_for_free is False


@pytest.mark.parametrize(
    ("content", "expected"),
    [("false", False), ("False", False), ("https://schema.org/True", True), ("no", None)],
)
def test_access_declared_in_microdata(content: str, expected: bool | None) -> None:
    body = (
        '<main itemscope itemtype="http://schema.org/Article">'
        f'<meta itemprop="isAccessibleForFree" content="{content}"><p>Text</p></main>'
    )
    assert _meta(body=body).accessible_for_free is expected


def test_json_ld_comes_before_microdata() -> None:
    head = _json_ld({**NEWS_ARTICLE, "isAccessibleForFree": True})
    body = '<meta itemprop="isAccessibleForFree" content="false"><p>Text</p>'
    assert _meta(head, body).accessible_for_free is True
    # a declaration JSON-LD does not make (no value read as a Boolean) leaves it to microdata
    head = _json_ld({**NEWS_ARTICLE, "isAccessibleForFree": "sometimes"})
    assert _meta(head, body).accessible_for_free is False


def test_access_not_declared_is_none() -> None:
    assert _meta(_json_ld(NEWS_ARTICLE)).accessible_for_free is None
    assert _meta().accessible_for_free is None
    # another object's declaration (a video's) is not the article's
    video = {"@type": "VideoObject", "isAccessibleForFree": False}
    assert _meta(_json_ld([NEWS_ARTICLE, video])).accessible_for_free is None
    # JavaScript that looks like it (a subscription script's settings) is no JSON-LD
    script = "<script>init({type: 'NewsArticle', isAccessibleForFree: false});</script>"
    assert _meta(script).accessible_for_free is None


# --- clean_space and unique_texts ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        ("", None),
        ("  \n\t ", None),
        ("&nbsp;", None),
        (" a \n b ", "a b"),
        ("&amp;amp;x", "&x"),
        ("AT&T", "AT&T"),
        (2024, "2024"),
    ],
)
def test_clean_space(value: Any, expected: str | None) -> None:
    assert clean_space(value) == expected


def test_unique_texts() -> None:
    values = ["Jane Doe", "JANE DOE", None, "  ", "B &amp; C", "b &amp; c", " x \n y ", "Jane  Doe"]
    assert unique_texts(values) == ["Jane Doe", "B & C", "x y"]


def test_unique_texts_with_another_cleaner() -> None:
    assert unique_texts(["a", "B", "b"], lambda value: value and value.upper()) == ["A", "B"]


@pytest.mark.parametrize("href", ["http://[::1/x", "https://news.example:99999/a", "http://a:b/"])
def test_a_malformed_canonical_or_image_url_of_the_page_is_left_out(href: str) -> None:
    # urlsplit's ValueError came out of the extraction: the article lost, every run failed
    head = f'<link rel="canonical" href="{href}"><meta property="og:image" content="{href}">'
    meta = _meta(head + _json_ld(NEWS_ARTICLE))
    assert (meta.canonical_url, meta.image_url) == (None, None)
    assert meta.title == "Storm hits the coast"


@pytest.mark.parametrize(
    ("html_attributes", "head", "month_first"),
    [
        (' lang="en"', "", True),
        (' lang="en-US"', "", True),
        (' lang="en_PH"', "", True),
        (' lang="en-GB"', "", False),
        (' lang="en-au"', "", False),
        (' lang="en-IN"', "", False),
        (' lang="fr-FR"', "", False),
        ("", '<meta property="og:locale" content="en_GB">', False),
        ("", '<meta property="og:locale" content="en_US">', True),
        ("", "", False),
    ],
)
def test_numeric_dates_are_month_first_in_american_english_only(
    html_attributes: str, head: str, month_first: bool
) -> None:
    # British, Australian, Indian pages' 05/10/2022 was read as May 10
    assert _meta(head, html_attributes=html_attributes).month_first is month_first


def test_relative_urls_resolve_against_the_base_and_a_canonical_home_is_none() -> None:
    # the image was resolved against the page's URL; every article of a template whose
    # canonical is the home page was dropped as a copy of the first
    meta = _meta(
        '<base href="https://cdn.test/static/"><meta property="og:image" content="img/bus.jpg">'
        '<link rel="canonical" href="/">'
    )
    assert meta.image_url == "https://cdn.test/static/img/bus.jpg"
    assert meta.canonical_url is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("<p>The council <strong>voted</strong> for it.</p>", "The council voted for it."),
        ("Bus<b>es</b> run<br/>again", "Buses run again"),
        ("&lt;b&gt;Bus&lt;/b&gt; plan", "Bus plan"),
        ("3 < 5 buses", "3 < 5 buses"),
        ("<Name> said so", "<Name> said so"),
        ("\u200b", None),
        ("\u200b \u00ad", None),
        ("null", None),
        ("Undefined", None),
        ("[object Object]", None),
        ("NaN", None),
        ("{{ article.title }}", None),
        ("%%title%% %%sep%% %%sitename%%", None),
        ("${headline}", None),
        ("Nonesuch council votes", "Nonesuch council votes"),
        ("2024", "2024"),
    ],
)
def test_clean_space_removes_markup_and_empty_values_in_disguise(
    value: str, expected: str | None
) -> None:
    # markup was written into title and description; a placeholder or a zero-width space
    # won over the <title> and <h1> that held the headline
    assert clean_space(value) == expected


def test_a_placeholder_headline_gives_way_to_the_pages_title() -> None:
    meta = _meta(_json_ld({**NEWS_ARTICLE, "headline": "{{ article.title }}"}))
    assert meta.title is None  # the extraction then asks the page's <title> and <h1>


# --- bounds: a value too long to be its field ---------------------------------------------------

# What a page holds where a short value belongs: its article, its scripts' data, or the rest of
# the page (words, so that no one value is cut where another begins).
SWALLOWED = "the rest of the page " * 100_000  # 2.1 MB


def _meta_tag(name: str, content: str) -> str:
    return f'<meta property="{name}" content="{content}">'


def test_within() -> None:
    assert within("Storm", 5) == "Storm"
    assert within("Storms", 5) is None
    assert within(None, 5) is None


def test_a_headline_too_long_gives_way_to_the_og_title() -> None:
    # a JSON-LD headline of 100,000 characters was the row's title
    article = {**NEWS_ARTICLE, "headline": "Storm " * 20_000}
    head = _json_ld(article) + _meta_tag("og:title", "Storm hits the coast | Planet")
    assert _meta(head).title == "Storm hits the coast | Planet"
    # and to the next title tag when the og:title is too long as well
    head = (
        _json_ld(article)
        + _meta_tag("og:title", SWALLOWED)
        + _meta_tag("twitter:title", "Storm hits the coast")
    )
    assert _meta(head).title == "Storm hits the coast"
    assert _meta(_json_ld(article) + _meta_tag("og:title", SWALLOWED)).title is None


def test_a_title_as_long_as_a_title_may_be_is_kept() -> None:
    headline = ("Storm " * 100)[: MAX_TITLE_CHARS - 1] + "s"
    assert _meta(_json_ld({**NEWS_ARTICLE, "headline": headline})).title == headline
    headline += "!"
    assert _meta(_json_ld({**NEWS_ARTICLE, "headline": headline})).title is None


def test_a_title_read_past_its_end_gives_way_to_the_next() -> None:
    # an og:title whose quote is never closed holds the next tags up to the next quote: it was
    # the row's title ("Storm hits the coast><meta name=")
    head = (
        '<meta property="og:title" content="Storm hits the coast>'
        '<meta name="description" content="Thousands are without power.">'
        + _meta_tag("twitter:title", "Storm hits the coast | Planet")
    )
    assert _meta(head).title == "Storm hits the coast | Planet"
    article = {**NEWS_ARTICLE, "headline": "Storm hits the coast</title><meta charset=utf-8>"}
    assert _meta(_json_ld(article)).title is None


@pytest.mark.parametrize(
    "title",
    ["Is 3 < 5? Maths for <Name>", "std::vector<int> explained", "A <headline> of its own"],
)
def test_a_title_that_writes_a_less_than_sign_is_kept(title: str) -> None:
    assert _meta(_json_ld({**NEWS_ARTICLE, "headline": title})).title == title


def _unclosed_meta(name: str, content: str, swallowed: str = '<meta name="robots">') -> str:
    """A meta tag whose quote is never closed: the parser reads the tags after it into its
    value, up to the next quote (``content><meta name=``)."""
    return f'<meta property="{name}" content="{content}>{swallowed}'


def test_a_site_name_read_past_its_end_gives_way_to_the_next() -> None:
    # an og:site_name whose quote is never closed was the row's site name ("Daily Planet><meta
    # name=")
    head = _unclosed_meta("og:site_name", "Daily Planet") + _json_ld(NEWS_ARTICLE)
    assert _meta(head).site_name == "The Daily Planet"  # the JSON-LD publisher
    publisher = {"@type": "Organization", "name": "Daily Planet</title><meta charset=utf-8>"}
    head = (
        _unclosed_meta("og:site_name", "Daily Planet")
        + _json_ld({**NEWS_ARTICLE, "publisher": publisher})
        + '<meta name="application-name" content="Planet">'
    )
    assert _meta(head).site_name == "Planet"
    assert _meta(_unclosed_meta("application-name", "Planet")).site_name is None


def test_a_description_read_past_its_end_gives_way_to_the_next() -> None:
    # the og:description swallowed the head's end and the body's start up to the next quote
    head = _unclosed_meta(
        "og:description", "Thousands are without power.", swallowed='</head><body><div id="top">'
    )
    assert _meta(head).description is None
    head = _unclosed_meta("og:description", "Thousands are without power.") + _meta_tag(
        "twitter:description", "Thousands lost power."
    )
    assert _meta(head).description == "Thousands lost power."
    article = {**NEWS_ARTICLE, "description": "Thousands are without power.><meta name="}
    head = _unclosed_meta("description", "Thousands are without power.") + _json_ld(article)
    assert _meta(head).description is None


def test_an_author_read_past_its_end_gives_way_to_the_next() -> None:
    # a JSON-LD author holding the head's tags was a row's author, cut ("Jane Doe<")
    person = {"@type": "Person", "name": "Jane Doe</title><meta charset=utf-8>"}
    head = _json_ld({**NEWS_ARTICLE, "author": person}) + _meta_tag("author", "John Roe")
    assert _meta(head).authors == ["John Roe"]
    head = _unclosed_meta("author", "Jane Doe") + _meta_tag("author", "John Roe")
    assert _meta(head).authors == ["John Roe"]
    organization = {"@type": "Organization", "name": "Daily Planet<meta name="}
    meta = _meta(
        _json_ld({**NEWS_ARTICLE, "author": [person, organization]})
        + _unclosed_meta("byl", "By Jane Doe")
    )
    assert (meta.authors, meta.organization_authors, meta.meta_bylines) == ([], [], [])


def test_tags_read_past_their_end_are_left_out() -> None:
    # a keywords meta tag whose quote is never closed gave the tag "coast><meta name=": the
    # value read past its end gives none, not even the keywords before the markup
    article = {
        **NEWS_ARTICLE,
        "keywords": ["flood", "power</title><meta charset=utf-8>"],
        "articleSection": "World</head><body>",
    }
    head = (
        _meta_tag("article:tag", "weather")
        + _unclosed_meta("keywords", "storm, coast")
        + _unclosed_meta("article:section", "World")
        + _json_ld(article)
    )
    assert _meta(head).tags == ["weather", "flood"]


def test_values_that_write_a_less_than_sign_are_kept() -> None:
    article = {
        **NEWS_ARTICLE,
        "description": "Is 3 < 5? The <header> element, std::vector<int> explained",
        "author": {"@type": "Person", "name": "Jane <Doe>"},
        "publisher": {"@type": "Organization", "name": "<Daily> Planet"},
        "keywords": "vector<int>, <Name>",
        "articleSection": "C++ <templates>",
    }
    meta = _meta(_json_ld(article))
    assert (meta.description, meta.authors, meta.site_name) == (
        article["description"],
        ["Jane <Doe>"],
        "<Daily> Planet",
    )
    assert meta.tags == ["vector<int>", "<Name>", "C++ <templates>"]


def test_a_description_too_long_gives_way_to_the_next() -> None:
    # a description meta tag of 2 MB was the row's description
    head = _meta_tag("og:description", SWALLOWED) + _meta_tag(
        "twitter:description", "Thousands are without power."
    )
    assert _meta(head).description == "Thousands are without power."
    head = _meta_tag("og:description", SWALLOWED) + _json_ld(NEWS_ARTICLE)
    assert _meta(head).description == "Thousands are without power."  # JSON-LD's, last
    article = {**NEWS_ARTICLE, "description": SWALLOWED}
    assert _meta(_meta_tag("og:description", SWALLOWED) + _json_ld(article)).description is None
    # a long summary is one
    summary = "The storm reached the coast on Tuesday. " * 100  # 4,000 characters
    assert len(summary) < MAX_DESCRIPTION_CHARS
    assert _meta(_meta_tag("og:description", summary)).description == summary.strip()


def test_a_site_name_too_long_gives_way_to_the_next() -> None:
    # an og:site_name of 1.8 MB was the row's site name
    head = _meta_tag("og:site_name", SWALLOWED) + _json_ld(NEWS_ARTICLE)
    assert _meta(head).site_name == "The Daily Planet"  # the JSON-LD publisher
    article = {**NEWS_ARTICLE, "publisher": {"@type": "Organization", "name": "x" * 201}}
    head = (
        _meta_tag("og:site_name", SWALLOWED)
        + _json_ld(article)
        + '<meta name="application-name" content="Planet">'
    )
    assert _meta(head).site_name == "Planet"
    assert _meta(_meta_tag("og:site_name", "x" * (MAX_SITE_NAME_CHARS + 1))).site_name is None


def test_a_tag_too_long_is_left_out() -> None:
    keywords = f"storm, {'x' * (MAX_TAG_CHARS + 1)}, coast, {'y' * MAX_TAG_CHARS}"
    article = {**NEWS_ARTICLE, "keywords": keywords, "articleSection": SWALLOWED}
    assert _meta(_json_ld(article)).tags == ["storm", "coast", "y" * MAX_TAG_CHARS]


def test_the_first_tags_are_kept() -> None:
    # 100,000 keywords (1.1 MB) were the row's tags
    keywords = ", ".join(f"tag {n}" for n in range(100_000))
    tags = _meta(_json_ld({**NEWS_ARTICLE, "keywords": keywords})).tags
    assert MAX_TAGS == 250
    assert tags == [f"tag {n}" for n in range(MAX_TAGS)]


# A URL as long as a page may make one: its path a megabyte long.
LONG_URL = "https://news.example.com/" + "storm/" * 200_000


def test_an_image_url_too_long_gives_way_to_the_next() -> None:
    # an og:image of 1.2 MB was the row's image_url
    head = _meta_tag("og:image", LONG_URL) + _meta_tag("twitter:image", "/twitter.jpg")
    assert _meta(head).image_url == "https://news.example.com/twitter.jpg"
    head = _meta_tag("og:image", LONG_URL) + _json_ld(NEWS_ARTICLE)
    assert _meta(head).image_url == "https://news.example.com/images/storm.jpg"  # JSON-LD's
    article = {**NEWS_ARTICLE, "image": LONG_URL}
    assert _meta(_meta_tag("og:image", LONG_URL) + _json_ld(article)).image_url is None


def test_a_canonical_url_too_long_gives_way_to_the_og_url() -> None:
    head = f'<link rel="canonical" href="{LONG_URL}">' + _meta_tag("og:url", "/world/storm")
    assert _meta(head).canonical_url == "https://news.example.com/world/storm"
    head = f'<link rel="canonical" href="{LONG_URL}">' + _meta_tag("og:url", LONG_URL)
    assert _meta(head).canonical_url is None  # the row's is then the fetched URL


def test_a_url_as_long_as_a_url_may_be_is_kept() -> None:
    url = "https://news.example.com/" + "s" * (MAX_URL_CHARS - len("https://news.example.com/"))
    meta = _meta(f'<link rel="canonical" href="{url}">' + _meta_tag("og:image", url))
    assert (meta.canonical_url, meta.image_url) == (url, url)
    meta = _meta(f'<link rel="canonical" href="{url}s">' + _meta_tag("og:image", f"{url}s"))
    assert (meta.canonical_url, meta.image_url) == (None, None)


def test_a_url_read_past_its_end_gives_way_to_the_next() -> None:
    # an og:image or og:url whose quote is never closed was the row's image_url or
    # canonical_url ("https://news.example.com/a.jpg%3E%3Cmeta%20name=")
    head = _unclosed_meta("og:image", "/a.jpg") + _meta_tag("twitter:image", "/twitter.jpg")
    assert _meta(head).image_url == "https://news.example.com/twitter.jpg"
    head = _unclosed_meta("og:image", "/a.jpg") + _json_ld(NEWS_ARTICLE)
    assert _meta(head).image_url == "https://news.example.com/images/storm.jpg"  # JSON-LD's
    head = _unclosed_meta("og:url", "https://news.example.com/world/storm")
    assert _meta(head).canonical_url is None  # the row's is then the fetched URL
    swallowed = '<link rel="canonical" href="/world/storm><meta name="robots">'
    assert _meta(swallowed + _meta_tag("og:url", "/world/og")).canonical_url == (
        "https://news.example.com/world/og"
    )


def test_a_base_that_makes_a_url_too_long_gives_none() -> None:
    # the image and the canonical are short, but resolved against a <base href> of 1.2 MB
    head = (
        f'<base href="{LONG_URL}"><meta property="og:image" content="storm.jpg">'
        '<link rel="canonical" href="storm.html">'
    )
    meta = _meta(head)
    assert (meta.canonical_url, meta.image_url) == (None, None)


@pytest.mark.parametrize(
    ("name", "bound"),
    [
        ("title", MAX_TITLE_CHARS),
        ("description", MAX_DESCRIPTION_CHARS),
        ("site_name", MAX_SITE_NAME_CHARS),
        ("tags", MAX_TAG_CHARS),
        ("image_url", MAX_URL_CHARS),
        ("canonical_url", MAX_URL_CHARS),
    ],
)
def test_the_dataset_docs_say_each_bound(name: str, bound: int) -> None:
    assert f"longer than {bound:,} characters" in columns()[name].doc


def test_the_dataset_docs_say_how_many_tags() -> None:
    assert f"the first {MAX_TAGS:,} at most" in columns()["tags"].doc
