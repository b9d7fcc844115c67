"""URL normalization (:mod:`extraction.urls`): one normal form per page, and its host."""

from __future__ import annotations

import pytest
from lxml.html import fromstring

from extraction.urls import (
    DEFAULT_TRACKING_PARAMS,
    host_of,
    http_url,
    normalize_url,
    page_base,
    plausible_canonical,
    url_problem,
)

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


# --- host_of ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://www.example.com/a", "example.com"),
        ("https://WWW.Example.COM/a", "example.com"),
        ("https://news.example.co.uk/a", "news.example.co.uk"),
        ("https://www2.example.com/a", "www2.example.com"),
        ("https://example.com:8080/a", "example.com"),
        # what the site boilerplate stage calls a site
        ("https://www.planet.test/x", "planet.test"),
        ("http://news.planet.test:8080/x", "news.planet.test"),
        ("not a url", None),
    ],
)
def test_host_of(url: str, expected: str | None) -> None:
    assert host_of(url) == expected


def test_every_default_tracking_parameter_is_removed() -> None:
    names = [pattern.replace("*", "x") for pattern in DEFAULT_TRACKING_PARAMS]
    query = "&".join(f"{name}=1" for name in names)
    assert normalize_url(f"https://example.com/a?id=4&{query}") == "https://example.com/a?id=4"


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com./",  # a fully qualified name
        "https://bücher.example/a",
        "http://[::1]:8080/a",
        "http://my_blog.example/",  # an underscore: not a DNS name, but hosts use them
        "http://" + "a" * 63 + ".example/",
        "http://news.example/a b.html",  # white space: refused in an argument only
    ],
)
def test_urls_a_request_can_be_made_for_pass(url: str) -> None:
    assert url_problem(url) is None


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        (" /a/b.html ", "https://news.example/a/b.html"),
        ("https://other.example/x", "https://other.example/x"),
        ("", None),  # the page itself
        ("mailto:desk@news.example", None),
        ("http://[::1/broken", None),
        ("https://news.example:99999/", None),
        ("https://news.example:0/", None),
        ("https://news..example/", None),
    ],
)
def test_http_url_resolves_a_link_a_request_can_be_made_for(
    href: str, expected: str | None
) -> None:
    assert http_url(href, "https://news.example/world/") == expected


@pytest.mark.parametrize(
    ("href", "expected"),
    [
        # a JSON-LD "image": "a\u001b.jpg" gave an image_url holding an escape character
        ("/img/a\x1bb\x00c\x7f.jpg", "https://news.example/img/a%1Bb%00c%7F.jpg"),
        ("\x00 /img/a.jpg\x01 \x1f", "https://news.example/img/a.jpg"),
        ("\x07", None),
    ],
)
def test_http_url_encodes_the_control_characters_of_a_link(href: str, expected: str | None) -> None:
    assert http_url(href, "https://news.example/world/") == expected


PAGE = "https://news.test/news/2024/bus-plan.html"


@pytest.mark.parametrize(
    ("canonical", "kept"),
    [
        ("https://news.test/news/2024/bus-plan.html", True),
        ("https://www.news.test/news/2024/bus-plan.html", True),
        ("https://amp.news.test/news/2024/bus-plan/", True),
        ("https://other.test/syndicated/bus-plan", True),
        ("https://news.test/news/2024/bus-plan.html?page=all", True),
        # above the page: every article of the site was dropped as a copy of the first
        ("https://news.test/", False),
        ("https://news.test", False),
        ("https://www.news.test/", False),
        ("https://other.test/", False),
        ("https://news.test/news/", False),
        ("https://news.test/news/2024/", False),
        ("https://news.test/news", False),  # a section without its slash
        (None, False),
    ],
)
def test_a_canonical_above_the_page_is_no_canonical(canonical: str | None, kept: bool) -> None:
    assert plausible_canonical(canonical, PAGE) == (canonical if kept else None)


def test_a_home_page_is_its_own_canonical() -> None:
    assert plausible_canonical("https://news.test/", "https://news.test/") == "https://news.test/"
    assert plausible_canonical("https://news.test/", "https://news.test/?p=12") is None


@pytest.mark.parametrize(
    ("head", "base"),
    [
        ('<base href="https://cdn.test/static/">', "https://cdn.test/static/"),
        ('<base href="/amp/">', "https://news.test/amp/"),
        ('<base target="_blank">', PAGE),
        ('<base href="javascript:void(0)">', PAGE),
        ("", PAGE),
    ],
)
def test_page_base(head: str, base: str) -> None:
    tree = fromstring(f"<html><head>{head}</head><body><p>x</p></body></html>")
    assert page_base(tree, PAGE) == base


@pytest.mark.parametrize(
    ("canonical", "page", "kept"),
    [
        # the script or folder whose query names the page: every article of such a template
        # was dropped as a copy of the first (1 of 8 stored)
        ("https://n.test/article.php", "https://n.test/article.php?id=5", False),
        ("https://n.test/blog/", "https://n.test/blog/?p=12", False),
        ("https://n.test/index.php", "https://n.test/index.php?option=x&id=3", False),
        # the page without its tracking parameters, its other versions, another query
        ("https://n.test/story/", "https://n.test/story/?utm_source=rss&utm_medium=rss", True),
        ("https://n.test/news/story.html", "https://n.test/news/story.html?ref=home", True),
        ("https://n.test/story/", "https://n.test/story/amp/", True),
        ("https://n.test/story", "https://n.test/story/print", True),
        ("https://n.test/a.php?id=5", "https://n.test/a.php?id=5&page=2", True),
        ("https://other.test/article.php", "https://n.test/article.php?id=5", True),
    ],
)
def test_a_canonical_naming_the_template_not_the_page(
    canonical: str, page: str, kept: bool
) -> None:
    assert plausible_canonical(canonical, page) == (canonical if kept else None)
