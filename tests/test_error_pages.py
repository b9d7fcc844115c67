"""Pages a site answers with ``200`` in place of its articles, saying what they are (the twelfth
fault hunt): a soft 404, a consent wall reached by a redirect to ``consent.<site>``. Crawls
against a local site; each page is dropped as ``ErrorPage``, a site walled whole is named
unhealthy, and the article served later at a soft 404's address is stored."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import quote, urlsplit

from demo.site import Response as Route
from tests.conftest import dataset_rows, run_crawl
from tests.hostile_site import redirect, serve
from tests.newssite import Article

if TYPE_CHECKING:
    from pathlib import Path

    from tests.conftest import CrawlResult
    from tests.hostile_site import HostileServer

HTML = {"Content-Type": "text/html; charset=utf-8"}
RESOLVER = "TWISTED_DNS_RESOLVER=tests.local_names.LocalNamesResolver"
TEMPLATE = (
    "<!DOCTYPE html><html lang='en'><head><title>{title}</title>"
    "<meta property='og:site_name' content='Fixture News'></head><body>"
    "<nav><a href='/'>Home</a> <a href='/world/'>World</a> <a href='/sport/'>Sport</a></nav>"
    "<main>{body}</main><footer>(c) Fixture News</footer></body></html>"
)
SOFT_404 = TEMPLATE.format(
    title="Page not found | Fixture News",
    body=(
        "<h1>Page not found</h1><p>Sorry, the page you are looking for does not exist or may "
        "have been moved. It may have been removed, had its name changed, or is temporarily "
        "unavailable.</p><p>Please check the address in the address bar, or use the search "
        "box above to find what you are looking for. You can also return to our "
        "<a href='/'>home page</a>.</p>"
    ),
).encode()
CONSENT = (
    b"<!DOCTYPE html><html lang='en'><head><title>Fixture News is part of the Fixture family "
    b"of brands</title></head><body><div class='wizard'><h2>We value your privacy</h2>"
    b"<p>Fixture News is part of the Fixture family of brands, the sites and apps that we own "
    b"and operate, and our digital advertising service.</p><p>If you click 'Accept all', we "
    b"and our partners will store and access information on a device (in other words, use "
    b"cookies) and use precise geolocation data and other personal data such as IP address "
    b"and browsing data, for personalised advertising and content.</p><p>If you would like "
    b"to customise your choices, click 'Manage privacy settings'. You can change your choices "
    b"at any time in the privacy dashboard of our sites and apps.</p><form method='post'>"
    b"<button>Accept all</button><button>Reject all</button></form></div></body></html>"
)


def _sitemap(server: HostileServer, paths: list[str]) -> Route:
    urls = "".join(f"<url><loc>{server.url(path)}</loc></url>" for path in paths)
    body = f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{urls}</urlset>'
    return Route(200, {"Content-Type": "application/xml"}, body.encode())


def _publish(server: HostileServer, articles: list[Article]) -> None:
    for article in articles:
        server.routes[article.path] = Route(200, HTML, article.html())
    server.routes["/sitemap.xml"] = _sitemap(server, [article.path for article in articles])


def _crawl(out: Path, server: HostileServer) -> CrawlResult:
    return run_crawl(out, "-a", f"sitemaps={server.url('/sitemap.xml')}", settings=(RESOLVER,))


def _drop_lines(result: CrawlResult, url: str) -> list[str]:
    return [
        line
        for line in result.log.splitlines()
        if "Dropped: ErrorPage: " in line and line.endswith(f"<{url}>")
    ]


def test_error_pages_and_walls_are_dropped_and_the_article_is_asked_for_again(
    tmp_path: Path,
) -> None:
    # a soft 404 ("Page not found" answered 200) was stored as an article, and the row made
    # its URL known: the article served there later was never fetched; a site sending every
    # article to consent.<site> stored the consent page once, dropped the others as copies of
    # it, and exited 0 with no unhealthy source
    with serve("alpha.test") as server:
        port = urlsplit(server.base_url).port
        for run in (0, 1):  # two healthy runs: the source is judged from the third on
            _publish(server, [Article(10 * run + n, "sitemap") for n in range(3)])
            assert _crawl(tmp_path, server).returncode == 0
        soft_404, *walled = [Article(20 + n, "sitemap") for n in range(3)]
        _publish(server, [soft_404, *walled])
        server.routes[soft_404.path] = Route(200, HTML, SOFT_404)
        consent_urls = []
        for article in walled:
            consent = (
                f"http://consent.alpha.test:{port}/v2/collectConsent"
                f"?continue={quote(server.url(article.path), safe='')}"
            )
            server.routes[article.path] = redirect(consent)
            consent_urls.append(consent)
        server.routes["/v2/collectConsent"] = Route(200, HTML, CONSENT)
        walled_run = _crawl(tmp_path, server)
        _publish(server, [soft_404, *walled])  # the articles served at last, the wall lifted
        next_run = _crawl(tmp_path, server)
    stats = walled_run.report["stats"]
    assert stats["news/extract/dropped/ErrorPage"] == 3
    assert stats["item_dropped_reasons_count/ErrorPage"] == 3
    assert "news/extract/articles" not in stats
    assert len(_drop_lines(walled_run, server.url(soft_404.path))) == 1
    assert '(not found: "Page not found")' in _drop_lines(walled_run, server.url(soft_404.path))[0]
    for url in consent_urls:
        (line,) = _drop_lines(walled_run, url)
        assert '(consent: "We value your privacy")' in line
    # the run's exit status: a source whose fetched pages were all walls is unhealthy
    assert walled_run.returncode == 4, walled_run.log[-3000:]
    assert "source alpha.test is unhealthy (extraction): 3 of 3 fetched pages were no article " in (
        walled_run.log
    )
    assert "(ErrorPage 3)" in walled_run.log
    # not remembered as no article: the next run asks for the page again and stores it
    assert next_run.returncode == 0, next_run.log[-3000:]
    assert "news/incremental/rejected_remembered/ErrorPage" not in stats
    assert next_run.report["stats"]["news/extract/articles"] == 3
    stored = {urlsplit(row["url"]).path: row["title"] for row in dataset_rows(tmp_path)}
    assert stored == {
        article.path: article.title
        for article in [Article(n, "sitemap") for n in (0, 1, 2, 10, 11, 12, 20, 21, 22)]
    }
