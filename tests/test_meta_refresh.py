"""crawler.meta_refresh: Scrapy's meta-refresh redirects, the same answers without decoding
the pages that cannot have one."""

from __future__ import annotations

import gzip
from typing import TYPE_CHECKING, Any

import pytest
from scrapy.downloadermiddlewares.redirect import (
    MetaRefreshMiddleware as ScrapyMetaRefreshMiddleware,
)
from scrapy.http import HtmlResponse, Request, Response
from scrapy.settings.default_settings import DOWNLOADER_MIDDLEWARES_BASE
from scrapy.utils.test import get_crawler

from crawler import settings as project_settings
from crawler.meta_refresh import SCAN_BYTES, MetaRefreshMiddleware, may_refresh
from tests.conftest import ROOT

if TYPE_CHECKING:
    from pathlib import Path

URL = "https://news.example/a/story.html"
REFRESH = '<meta http-equiv="Refresh" content="0; url=/b/moved.html">'


def _page(head: str = "", body: str = "<p>Text of the article.</p>") -> str:
    return f"<html><head><title>A story</title>{head}</head><body>{body}</body></html>"


def _response(body: bytes, content_type: str = "text/html; charset=utf-8") -> HtmlResponse:
    return HtmlResponse(
        URL, body=body, headers={"Content-Type": content_type}, request=Request(URL)
    )


def _answer(result: Request | Response) -> str | None:
    """What a middleware made of a response: the URL it redirects to, or ``None``."""
    return result.url if isinstance(result, Request) else None


def _middleware(cls: type[ScrapyMetaRefreshMiddleware]) -> ScrapyMetaRefreshMiddleware:
    return cls.from_crawler(get_crawler())


def _both(body: bytes, content_type: str = "text/html; charset=utf-8") -> tuple[Any, Any]:
    ours = _middleware(MetaRefreshMiddleware).process_response(
        Request(URL), _response(body, content_type)
    )
    scrapys = _middleware(ScrapyMetaRefreshMiddleware).process_response(
        Request(URL), _response(body, content_type)
    )
    return _answer(ours), _answer(scrapys)


BUNDLED = sorted((ROOT / "demo" / "pages").rglob("*.html.gz"))

CASES = {
    "refresh": (_page(REFRESH).encode(), "text/html; charset=utf-8"),
    "upper case": (_page(REFRESH.upper().replace("/B/MOVED", "/b/moved")).encode(), "text/html"),
    "content first": (
        _page('<meta content="5;URL=\'/b/later.html\'" HTTP-EQUIV="refresh">').encode(),
        "text/html",
    ),
    "in a script": (_page(f"<script>var s = '{REFRESH}';</script>").encode(), "text/html"),
    "latin-1": (_page(REFRESH, "<p>Caf\xe9 cr\xe8me</p>").encode("latin-1"), "text/html"),
    "utf-16": (_page(REFRESH).encode("utf-16"), "text/html; charset=utf-16"),
    "utf-16 without a BOM": (_page(REFRESH).encode("utf-16-le"), "text/html; charset=utf-16le"),
    "too late": (_page(body="<p>" + "x" * 5000 + "</p>" + REFRESH).encode(), "text/html"),
    "late in bytes, early in characters": (
        _page(body="<p>" + "\u4e2d" * 3000 + "</p>" + REFRESH).encode(),
        "text/html; charset=utf-8",
    ),
    "no refresh": (_page().encode(), "text/html"),
    "the word elsewhere": (_page(body="<p>Refresh the page.</p>").encode(), "text/html"),
}


@pytest.mark.parametrize("name", CASES)
def test_same_answer_as_scrapy(name: str) -> None:
    body, content_type = CASES[name]
    ours, scrapys = _both(body, content_type)
    assert ours == scrapys


def test_the_cases_include_redirects_and_passes() -> None:
    answers = {name: _both(*case)[1] for name, case in CASES.items()}
    assert answers["refresh"] == "https://news.example/b/moved.html"
    assert answers["utf-16"] == "https://news.example/b/moved.html"
    assert answers["late in bytes, early in characters"] == "https://news.example/b/moved.html"
    assert answers["too late"] is None
    assert answers["no refresh"] is None


@pytest.mark.parametrize("path", BUNDLED, ids=lambda path: path.name)
def test_same_answer_as_scrapy_on_real_pages(path: Path) -> None:
    body = gzip.decompress(path.read_bytes())
    ours, scrapys = _both(body, "text/html")
    assert ours == scrapys


def test_real_pages_are_passed_on_undecoded() -> None:
    assert BUNDLED
    undecoded = 0
    for path in BUNDLED:
        response = _response(gzip.decompress(path.read_bytes()), "text/html")
        result = _middleware(MetaRefreshMiddleware).process_response(Request(URL), response)
        assert result is response
        undecoded += response._cached_ubody is None  # what Scrapy's middleware decodes into
    # the few that name the word in their first 16 KB are decoded, as Scrapy always did
    assert undecoded >= len(BUNDLED) * 0.8


def test_a_page_without_refresh_is_not_decoded_and_scrapys_is() -> None:
    ours, scrapys = _response(_page().encode()), _response(_page().encode())
    _middleware(MetaRefreshMiddleware).process_response(Request(URL), ours)
    _middleware(ScrapyMetaRefreshMiddleware).process_response(Request(URL), scrapys)
    assert ours._cached_ubody is None
    assert scrapys._cached_ubody is not None


def test_may_refresh() -> None:
    assert may_refresh(b"<meta http-equiv=REFRESH content=0;url=/x>")
    assert may_refresh("<p>x</p>".encode("utf-16-le"))  # NUL bytes: not ruled out
    assert not may_refresh(b"<p>" + b"x" * SCAN_BYTES + b"refresh")
    assert not may_refresh(b"<html><p>Nothing here.</p></html>")


def test_replaces_scrapys_in_the_project() -> None:
    middlewares = project_settings.DOWNLOADER_MIDDLEWARES
    assert middlewares["scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"] is None
    assert (
        middlewares["crawler.meta_refresh.MetaRefreshMiddleware"]
        == (
            DOWNLOADER_MIDDLEWARES_BASE[
                "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware"
            ]
        )
    )


def test_metarefresh_enabled_still_switches_it_off() -> None:
    assert MetaRefreshMiddleware.enabled_setting == "METAREFRESH_ENABLED"
