"""A generated news site for the discovery tests: every way a site lists its articles.

* ``/robots.txt``: disallows ``/private/``, names ``/sitemap_index.xml``;
* ``/sitemap_index.xml`` -> ``/news-sitemap.xml`` (Google News, with dates and titles) and
  ``/sitemap-archive.xml`` (which also lists a disallowed article);
* ``/rss.xml`` (RSS 2.0) and ``/atom.xml`` (Atom), advertised by ``<link rel=alternate>`` on
  the home page;
* ``/world/`` with a second page ``/world/page/2/`` (``rel=next``), and a tag page
  ``/tag/elections/``, reached from the home page;
* article pages ``/2024/05/<day>/<slug>-<id>.html`` with NewsArticle JSON-LD.

Each article is listed in exactly one place, so a crawl that misses a discovery path misses
articles. :meth:`NewsSite.publish` adds new articles (to the feed and the news sitemap).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from demo.site import Response

WORDS = (
    "council",
    "budget",
    "river",
    "harbour",
    "election",
    "school",
    "hospital",
    "railway",
    "museum",
    "festival",
    "farmers",
    "drought",
    "bridge",
    "vaccine",
    "court",
    "ministry",
    "strike",
    "airport",
    "forest",
    "library",
)


# An article's words: each stem with each ending, 625 English-looking words. Text that reads as
# no language kept langdetect trying for ~13 ms a page (English: ~8), the largest cost of the
# crawls of these sites (thousands of pages in the suite).
STEMS = (
    "report", "council", "market", "water", "school", "health", "power", "street", "house",
    "farm", "price", "train", "court", "field", "story", "light", "river", "paper", "money",
    "plant", "table", "night", "world", "sound", "green",
)  # fmt: skip
ENDINGS = (
    "", "s", "ing", "ed", "er", "ers", "ly", "ness", "ment", "ful", "less", "hood", "ward",
    "side", "land", "work", "room", "line", "way", "time", "man", "book", "shop", "yard", "port",
)  # fmt: skip


@dataclass(frozen=True)
class Article:
    number: int
    listed_in: str

    @property
    def path(self) -> str:
        day = 1 + self.number % 28
        return f"/2024/05/{day:02d}/{self.slug}-{100000 + self.number}.html"

    @property
    def slug(self) -> str:
        first, second = WORDS[self.number % len(WORDS)], WORDS[(self.number * 7 + 3) % len(WORDS)]
        return f"{first}-and-{second}-news-story-number-{self.number}"

    @property
    def title(self) -> str:
        return self.slug.replace("-", " ").capitalize()

    @property
    def published(self) -> str:
        return f"2024-05-{1 + self.number % 28:02d}T09:30:00+02:00"

    def sentences(self) -> list[str]:
        """Five paragraphs of text of this article's own (different articles share no run of
        three words, as different stories do not)."""
        rng = random.Random(self.number)
        vocabulary = [f"{stem}{ending}" for stem in STEMS for ending in ENDINGS]
        return [
            " ".join(rng.choice(vocabulary) for _ in range(24)).capitalize() + "." for _ in range(5)
        ]

    def html(self, revision: int = 0) -> bytes:
        update = (
            f"<p>Update {revision}: officials corrected figure {self.number + revision} in "
            "this report after new information reached the newsroom.</p>"
            if revision
            else ""
        )
        paragraphs = update + "".join(f"<p>{sentence}</p>" for sentence in self.sentences())
        return (
            "<!DOCTYPE html><html lang='en'><head>"
            f"<title>{escape(self.title)} - Fixture News</title>"
            '<meta property="og:type" content="article">'
            '<script type="application/ld+json">{"@type": "NewsArticle", '
            f'"headline": "{self.title}", "datePublished": "{self.published}"}}</script>'
            "</head><body><nav><a href='/'>Home</a> <a href='/world/'>World</a></nav>"
            f"<article><h1>{escape(self.title)}</h1>{paragraphs}</article></body></html>"
        ).encode()


@dataclass
class NewsSite:
    """The fixture site; ``routes`` may add or override responses."""

    articles: list[Article] = field(default_factory=list)
    routes: dict[str, Response] = field(default_factory=dict)
    revisions: dict[str, tuple[int, str]] = field(default_factory=dict)
    """Revised articles: path -> (revision number, sitemap lastmod)."""
    first: int = 0
    """The number of its first article: sites built with different ones share no article."""

    @classmethod
    def build(cls, *, first: int = 0) -> NewsSite:
        layout = [
            ("news-sitemap", 6),
            ("archive-sitemap", 3),
            ("rss", 5),
            ("atom", 4),
            ("world-1", 3),
            ("world-2", 3),
            ("tag", 2),
        ]
        site = cls(first=first)
        for listed_in, count in layout:
            site.add(listed_in, count)
        return site

    def add(self, listed_in: str, count: int) -> list[Article]:
        new = [Article(self.first + len(self.articles) + n, listed_in) for n in range(count)]
        self.articles.extend(new)
        return new

    def publish(self, count: int) -> list[Article]:
        """New articles: half in the RSS feed, half in the news sitemap."""
        return [*self.add("rss", count - count // 2), *self.add("news-sitemap", count // 2)]

    def revise(self, article: Article, lastmod: str) -> None:
        """Change an article's text and give it a new ``lastmod`` in its sitemap."""
        number = self.revisions.get(article.path, (0, ""))[0] + 1
        self.revisions[article.path] = (number, lastmod)

    def listed(self, place: str) -> list[Article]:
        return [article for article in self.articles if article.listed_in == place]

    @property
    def private_path(self) -> str:
        return "/private/2024/05/01/secret-report-999999.html"

    def resolve(self, path: str, base_url: str) -> Response:
        if path in self.routes:
            return self.routes[path]
        if path == "/robots.txt":
            text = f"User-agent: *\nDisallow: /private/\nSitemap: {base_url}/sitemap_index.xml\n"
            return Response(200, {"Content-Type": "text/plain"}, text.encode())
        xml = {
            "/sitemap_index.xml": self._sitemap_index,
            "/news-sitemap.xml": self._news_sitemap,
            "/sitemap-archive.xml": self._archive_sitemap,
            "/rss.xml": self._rss,
            "/atom.xml": self._atom,
        }.get(path)
        if xml is not None:
            return Response(200, {"Content-Type": "application/xml"}, xml(base_url).encode())
        pages = {
            "/": self._home,
            "/world/": lambda: self._listing(self.listed("world-1"), "/world/page/2/"),
            "/world/page/2/": lambda: self._listing(self.listed("world-2"), None),
            "/tag/elections/": lambda: self._listing(self.listed("tag"), None),
        }
        if path in pages:
            return Response(
                200, {"Content-Type": "text/html; charset=utf-8"}, pages[path]().encode()
            )
        for article in self.articles:
            if article.path == path:
                revision = self.revisions.get(path, (0, ""))[0]
                html = article.html(revision)
                return Response(200, {"Content-Type": "text/html; charset=utf-8"}, html)
        if path == self.private_path:
            return Response(200, {"Content-Type": "text/html"}, Article(999, "private").html())
        return Response(404, {"Content-Type": "text/html"}, b"<html><body>Not found</body></html>")

    # --- documents ------------------------------------------------------------------------

    def _home(self) -> str:
        return (
            "<!DOCTYPE html><html><head><title>Fixture News</title>"
            '<meta property="og:type" content="website">'
            '<link rel="alternate" type="application/rss+xml" href="/rss.xml">'
            '<link rel="alternate" type="application/atom+xml" href="/atom.xml">'
            "</head><body><nav><a href='/world/'>World</a> "
            "<a href='/tag/elections/'>Elections</a> <a href='/about/'>About us</a></nav>"
            f"<p><a href='{self.private_path}'>Members only</a></p>"
            "<h1>Fixture News</h1></body></html>"
        )

    def _listing(self, articles: list[Article], next_page: str | None) -> str:
        teasers = "".join(
            f"<div class='teaser'><h2><a href='{a.path}'>{escape(a.title)}</a></h2>"
            f"<p>A short summary of story {a.number}.</p></div>"
            for a in articles
        )
        more = f"<a rel='next' href='{next_page}'>Next page</a>" if next_page else ""
        return (
            "<!DOCTYPE html><html><head><title>World - Fixture News</title></head><body>"
            f"<h1>World</h1>{teasers}{more}</body></html>"
        )

    def _sitemap_index(self, base: str) -> str:
        entries = "".join(
            f"<sitemap><loc>{base}{path}</loc></sitemap>"
            for path in ("/news-sitemap.xml", "/sitemap-archive.xml")
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><sitemapindex '
            f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</sitemapindex>'
        )

    def _news_sitemap(self, base: str) -> str:
        entries = "".join(
            f"<url><loc>{base}{a.path}</loc><news:news><news:publication><news:name>Fixture"
            "</news:name><news:language>en</news:language></news:publication>"
            f"<news:publication_date>{a.published}</news:publication_date>"
            f"<news:title>{escape(a.title)}</news:title></news:news></url>"
            for a in self.listed("news-sitemap")
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><urlset '
            'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">{entries}</urlset>'
        )

    def _archive_sitemap(self, base: str) -> str:
        paths = [a.path for a in self.listed("archive-sitemap")] + [self.private_path]
        entries = "".join(
            f"<url><loc>{base}{path}</loc>"
            f"<lastmod>{self.revisions.get(path, (0, '2024-05-02'))[1]}</lastmod></url>"
            for path in paths
        )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><urlset '
            f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{entries}</urlset>'
        )

    def _rss(self, base: str) -> str:
        items = "".join(
            f"<item><title>{escape(a.title)}</title><link>{base}{a.path}</link></item>"
            for a in self.listed("rss")
        )
        return (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Fixture</title>'
            f"<link>{base}/</link><description>d</description>{items}</channel></rss>"
        )

    def _atom(self, base: str) -> str:
        entries = "".join(
            f'<entry><title>{escape(a.title)}</title><link href="{base}{a.path}"/>'
            f"<id>{base}{a.path}</id><updated>{a.published}</updated></entry>"
            for a in self.listed("atom")
        )
        return (
            '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f"<title>Fixture</title><id>{base}/</id><updated>2024-05-28T00:00:00Z</updated>"
            f"{entries}</feed>"
        )
