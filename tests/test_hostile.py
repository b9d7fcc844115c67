"""Hostile responses (issue 8): real ``scrapy crawl news`` runs against a local server that
answers with everything a crawler meets in the wild, mixed with real articles from
``demo/pages``.

Three crawls cover every case: one over a list of pages (binary, PDF, image, video, empty,
4xx/5xx, redirect loops and chains across hosts, a body cut before its Content-Length, a body
trickling one byte every two seconds, a 40 MB page, gzip/deflate/brotli bombs, 200,000 nested
elements, NUL bytes and invalid UTF-8, legacy charsets undeclared or mislabelled, malformed
markup); one over hostile feeds and sitemaps (not XML, truncated, billion laughs, external
entities, a sitemap of 100,000 URLs, a sitemap bomb); one over sites whose robots.txt is
HTML, huge, or never answers.

Each crawl must finish with exit status 0, log every failure in one line (no traceback),
count it (``news/<stage>/...``), stay within its memory (the crawl runs under an address
space limit, and its peak resident size is checked), end in bounded time, and store every
real article of the mix with the right text.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from scrapy.exceptions import (
    UsageError,
)
from scrapy.settings import Settings
from scrapy.utils.project import get_project_settings

from crawler.robots import not_robots_txt
from crawler.sitemaps import parse_sitemap
from crawler.spiders.news import NewsSpider
from dataset.layout import data_files
from dataset.state.embedded import CrawlState
from demo.site import Page, Response, load_site
from extraction.charset import decode_html
from extraction.extractor import extract_article
from tests import hostile_site
from tests.conftest import FAST_SETTINGS, ROOT, CrawlResult, dataset_rows, run_crawl
from tests.hostile_site import (
    HostileServer,
    brotli_bomb,
    deflate_bomb,
    encoded,
    endless_redirects,
    gzip_bomb,
    hang,
    redirect,
    stream,
    trickle,
    truncated,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from pathlib import Path

# --- limits the crawls are held to ----------------------------------------------------------

# The crawls run under this address-space limit (RLIMIT_AS): a regression that inflates a
# bomb or holds a 40 MB page many times over fails the crawl, not the machine.
ADDRESS_SPACE_LIMIT = 3 * 1024**3
# ... and their peak resident size (extraction workers included) must stay below this: these
# crawls peak near 330 MiB; a bomb inflated or a 40 MB page parsed would go far above.
MAX_RSS = 700 * 1024**2
# The trickling body and the silent robots.txt are abandoned after this many seconds.
SHORT_TIMEOUT = 3
# A crawl that outlives this is killed (and fails its test).
KILL_AFTER = 110
MIB = 1024 * 1024

_LIMITED = """
import os, resource, sys
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
"""


@dataclass
class HostileCrawl:
    result: CrawlResult
    killed: bool
    """Whether the crawl had to be killed after :data:`KILL_AFTER` seconds (it hung)."""
    max_rss: int
    """Peak resident size of the crawl process (or of a process it waited for), in bytes."""
    rows: list[dict[str, Any]]

    @property
    def stats(self) -> dict[str, Any]:
        return self.result.stats

    @property
    def log(self) -> str:
        return self.result.log

    def row(self, url: str) -> dict[str, Any]:
        matches = [row for row in self.rows if row["url"] == url]
        assert len(matches) == 1, f"{url}: {len(matches)} rows; stored: {self.urls()}"
        return matches[0]

    def urls(self) -> list[str]:
        return sorted(row["url"] for row in self.rows)


def run_limited_crawl(
    output_dir: Path, *arguments: str, settings: tuple[str, ...] = ()
) -> HostileCrawl:
    """``scrapy crawl news`` in a subprocess under :data:`ADDRESS_SPACE_LIMIT`, killed after
    :data:`KILL_AFTER` seconds (a hang); its peak resident size is measured."""
    output_dir.mkdir(parents=True, exist_ok=True)
    log_file = output_dir / "crawl.log"
    command = [sys.executable, "-c", _LIMITED, str(ADDRESS_SPACE_LIMIT)]
    command += ["-m", "scrapy", "crawl", "news", *arguments]
    for setting in (f"OUTPUT_DIR={output_dir}", *FAST_SETTINGS, *settings):
        command += ["-s", setting]
    command += ["--logfile", str(log_file)]
    started = time.monotonic()
    with (
        (output_dir / "stdout.txt").open("wb") as out,
        (output_dir / "stderr.txt").open("wb") as err,
    ):
        process = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=err)
        # os.wait4 rather than Popen.wait: it gives this child's own resource usage.
        killed = False
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > KILL_AFTER:
                process.send_signal(signal.SIGKILL)
                _, status, usage = os.wait4(process.pid, 0)
                killed = True
                break
            time.sleep(0.05)
    process.returncode = os.waitstatus_to_exitcode(status)
    log = log_file.read_text(encoding="utf-8", errors="replace") if log_file.exists() else ""
    log += (output_dir / "stderr.txt").read_text(encoding="utf-8", errors="replace")
    log += (output_dir / "stdout.txt").read_text(encoding="utf-8", errors="replace")
    reports = sorted((output_dir / "state" / "crawls").glob("*.json"))
    report = json.loads(reports[-1].read_text(encoding="utf-8")) if reports else {}
    result = CrawlResult(process.returncode, log, report)
    rows = dataset_rows(output_dir) if (output_dir / "articles").exists() else []
    return HostileCrawl(result, killed, usage.ru_maxrss * 1024, rows)


# --- real articles, as served and as expected -----------------------------------------------

_SITE_PAGES = {page.path.removeprefix("/articles/"): page for page in load_site().pages}
_CHARSET_META = re.compile(rb"<meta[^>]*charset[^>]*>", re.IGNORECASE)


def _page(name: str) -> Page:
    return _SITE_PAGES[name]


def golden_text(name: str) -> str:
    """The text the crawl stores for this demo page when it is served as is."""
    path = ROOT / "tests" / "golden" / (name.removesuffix(".html") + ".json")
    return str(json.loads(path.read_text(encoding="utf-8"))["text"])


def sentences(name: str) -> list[str]:
    """Known sentences of a page: its first, middle and last long paragraphs."""
    paragraphs = [p for p in golden_text(name).split("\n\n") if len(p) >= 60]
    return [paragraphs[0], paragraphs[len(paragraphs) // 2], paragraphs[-1]]


def page_text(name: str) -> str:
    html, _ = decode_html(_page(name).body())
    return html


def reencoded(name: str, codec: str, meta: str = "") -> bytes:
    """The page in another charset, its ``<meta charset>`` replaced by ``meta`` (removed by
    default); characters the charset lacks become character references."""
    body = page_text(name).encode(codec, errors="xmlcharrefreplace")
    return _CHARSET_META.sub(meta.encode("ascii"), body)


def html(body: bytes, content_type: str = "text/html") -> Response:
    return Response(200, {"Content-Type": content_type}, body)


def malformed(name: str) -> bytes:
    """A real article wrapped in broken markup: junk before the doctype, a second <html> and
    <head>, stray closing tags, unclosed elements, an unterminated attribute, bogus
    comments and CDATA, and an unclosed <script> at the very end."""
    text = page_text(name)
    junk_head = (
        "\x0c\x0b<<<>>> </div></span></p>\n<!-- broken -- comment -- >\n"
        "<html><html lang=en><head><head><title>Broken</title>\n"
    )
    opened = '<div class="wrap" id=x"y <span><b><i><table><tr><td><font color=red>\n'
    closers = "</td></tr></table></i></b></span></div></div></div></p></li></ul>\n"
    junk_tail = (
        '<![CDATA[ not xml ]]><p <p <p>>>\n<div title="unterminated>\n'
        "<img src=x onerror=alert(1)//>\n</html></html>\n<script>var x = '<div>"
    )
    start = text.index(">", text.lower().index("<body")) + 1
    end = text.lower().rindex("</body")
    return (junk_head + text[:start] + opened + text[start:end] + closers + junk_tail).encode()


def with_nul_and_invalid_utf8(name: str) -> bytes:
    """A UTF-8 page with NUL bytes and invalid UTF-8 sequences in its body (not in the known
    sentences): between tags, inside a paragraph's markup, at the end."""
    body = _page(name).body()
    start = body.lower().index(b"<body")
    # a lone continuation byte, an overlong NUL, a surrogate, a cut 3-byte sequence, 0xff
    bad = b"\x00\x80\xc0\x80\xed\xa0\x80\xe2\x82\x00\xff\x00"
    body = body[:start] + bad + body[start:]
    for marker in (b"</p>", b"</div>"):
        position = body.find(marker, len(body) // 2)
        if position > 0:
            body = body[:position] + b"\x00\xfe" + body[position:]
    return body + b"\x00" * 64 + b"\xff\xfe\xfd"


def nested(depth: int, inner: bytes = b"") -> bytes:
    """``depth`` nested <div> elements, ``inner`` at the bottom."""
    return (
        b"<!DOCTYPE html><html><head><title>Deep</title></head><body>"
        + b"<div>" * depth
        + inner
        + b"</div>" * depth
        + b"</body></html>"
    )


def nested_after_article(name: str, depth: int) -> bytes:
    """A real article followed (before ``</body>``) by ``depth`` nested elements."""
    body = _page(name).body()
    end = body.lower().rindex(b"</body")
    return body[:end] + b"<div>" * depth + b"x" + b"</div>" * depth + body[end:]


# --- servers ----------------------------------------------------------------------------------


@dataclass
class Servers:
    main: HostileServer
    other: HostileServer
    """Another host (``localhost`` on another port) for redirect chains."""
    robots_html: HostileServer
    robots_huge: HostileServer
    robots_huge_declared: HostileServer
    robots_silent: HostileServer

    def all(self) -> list[HostileServer]:
        return [
            self.main,
            self.other,
            self.robots_html,
            self.robots_huge,
            self.robots_huge_declared,
            self.robots_silent,
        ]

    def requested(self) -> list[str]:
        return [path for server in self.all() for path in server.requested]


# Real articles of the page crawl: path -> (demo page, whether the whole text must be exact).
PAGE_ARTICLES: dict[str, tuple[str, bool]] = {
    "/real/seed.html": ("seed/sputnik-africa-shoigu.html", True),
    "/real/voa.html": ("fundus/us-VoiceOfAmerica_2024_04_28.html", True),
    "/charset/ru-windows-1251.html": ("fundus/ru-Kommersant_2025_05_14.html", True),
    "/charset/ja-shift-jis.html": ("fundus/jp-MainichiShimbun_2025_01_14.html", True),
    "/charset/zh-gbk.html": ("cwced/47f387e6-6467-41fd-a165-b13c1171c6e7.html", True),
    "/charset/ja-shift-jis-says-utf-8.html": ("newspaper4k/japanese_article2.html", True),
    "/charset/zh-gbk-says-latin-1.html": ("newspaper4k/chinese_article_002.html", True),
    "/markup/broken.html": ("newspaper4k/cnn_article.html", False),
    "/nul/merkur.html": ("fundus/de-Merkur_2023_04_28.html", True),
    "/nested/lemonde.html": ("fundus/fr-LeMonde_2023_09_01.html", True),
}
# Listed in the hostile feeds and sitemaps (and in a good feed and sitemap beside them).
DISCOVERY_ARTICLES: dict[str, tuple[str, bool]] = {
    "/real/ru-says-latin-1.html": ("fundus/ru-Kommersant_2025_05_14.html", True),
    "/real/zh-gbk-says-windows-1252.html": (
        "cwced/f70d9c97-9d64-415e-a7e4-840c9258eaf5.html",
        True,
    ),
    "/real/lavanguardia.html": ("fundus/es-LaVanguardia_2026_07_11.html", True),
    "/real/taipei.html": ("fundus/tw-TaipeiTimes_2024_10_15.html", True),
    "/real/orf.html": ("fundus/at-ORF_2024_11_22.html", True),
    "/real/namibian.html": ("fundus/na-TheNamibian_2024_02_20.html", True),
    "/real/ilgiornale.html": ("fundus/it-IlGiornale_2025_02_04.html", True),
}
# One article per robots.txt variant.
ROBOTS_ARTICLES = {
    "robots_html": "fundus/de-JungeWelt_2026_05_18.html",
    "robots_huge": "fundus/it-LaRepubblica_2025_01_05.html",
    "robots_huge_declared": "fundus/ch-SRF_2025_01_05.html",
    "robots_silent": "fundus/no-VerdensGang_2024_08_05.html",
}

NESTED_DEPTH = 200_000
HUGE_PAGE = 40 * 1000 * 1000
BOMB_MIB = 1024
SECRET = "xxe-secret-7c1e5d"  # the content of the local file the XXE entities point at


def _page_routes(servers: Servers) -> None:
    main, other = servers.main, servers.other
    routes = main.routes
    for path, (name, _) in PAGE_ARTICLES.items():
        routes[path] = html(_page(name).body())
    # reached only through a redirect chain via another local host
    routes["/real/publico.html"] = html(_page("fundus/es-Publico_2025_05_29.html").body())
    routes["/charset/ru-windows-1251.html"] = html(
        reencoded("fundus/ru-Kommersant_2025_05_14.html", "cp1251")
    )
    routes["/charset/ja-shift-jis.html"] = html(
        reencoded("fundus/jp-MainichiShimbun_2025_01_14.html", "shift_jis")
    )
    routes["/charset/zh-gbk.html"] = html(
        reencoded("cwced/47f387e6-6467-41fd-a165-b13c1171c6e7.html", "gbk")
    )
    routes["/charset/ja-shift-jis-says-utf-8.html"] = html(
        reencoded("newspaper4k/japanese_article2.html", "shift_jis", '<meta charset="utf-8">'),
        "text/html; charset=utf-8",
    )
    routes["/charset/zh-gbk-says-latin-1.html"] = html(
        reencoded("newspaper4k/chinese_article_002.html", "gbk"), "text/html; charset=ISO-8859-1"
    )
    routes["/markup/broken.html"] = html(malformed("newspaper4k/cnn_article.html"))
    routes["/nul/merkur.html"] = html(with_nul_and_invalid_utf8("fundus/de-Merkur_2023_04_28.html"))
    routes["/nested/lemonde.html"] = html(
        nested_after_article("fundus/fr-LeMonde_2023_09_01.html", NESTED_DEPTH)
    )
    routes["/nested/deep.html"] = html(nested(NESTED_DEPTH, b"<p>bottom</p>"))
    # not HTML
    routes["/bin/binary.html"] = html(bytes(range(256)) * 64)
    routes["/bin/report.pdf"] = html(
        b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <</Type /Catalog>> endobj\n" + bytes(4096),
        "application/pdf",
    )
    routes["/bin/photo.jpg"] = html(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(8192), "image/jpeg")
    routes["/bin/clip.mp4"] = stream(
        3 * MIB, "video/mp4", chunk=b"\x00\x00\x00\x18ftypmp42" + bytes(4084)
    )
    routes["/bin/empty.html"] = html(b"")
    # errors
    for status in (403, 404, 410, 500, 503):
        routes[f"/status/{status}.html"] = Response(
            status, {"Content-Type": "text/html"}, b"<html><body>error</body></html>"
        )
    # redirects: a loop, a loop across two hosts, a chain through another host, a file: URL
    routes["/redirect/loop-a.html"] = redirect(main.url("/redirect/loop-b.html"))
    routes["/redirect/loop-b.html"] = redirect(main.url("/redirect/loop-a.html"), 301)
    main.prefix_routes["/redirect/endless/"] = endless_redirects("/redirect/endless/")
    routes["/redirect/cross.html"] = redirect(other.url("/redirect/cross.html"))
    other.routes["/redirect/cross.html"] = redirect(main.url("/redirect/cross.html"), 307)
    routes["/redirect/chain.html"] = redirect(other.url("/redirect/hop.html"))
    other.routes["/redirect/hop.html"] = redirect(main.url("/real/publico.html"), 301)
    routes["/redirect/file.html"] = redirect("file:///etc/passwd")
    # cut, slow, huge
    article = _page("fundus/uk-iNews_2025_01_28.html").body()
    routes["/broken/truncated.html"] = truncated(article[:30_000], declared=len(article))
    routes["/slow/trickle.html"] = trickle(article, interval=2.0)
    routes["/huge/declared.html"] = stream(HUGE_PAGE)
    routes["/huge/streamed.html"] = stream(HUGE_PAGE, declare_length=False)
    # decompression bombs: 1 GiB of zeros each
    routes["/bomb/gzip.html"] = encoded(gzip_bomb(BOMB_MIB), "gzip")
    routes["/bomb/deflate.html"] = encoded(deflate_bomb(BOMB_MIB), "deflate")
    routes["/bomb/brotli.html"] = encoded(brotli_bomb(BOMB_MIB), "br")
    for name, encoding in (("gzip", "gzip"), ("deflate", "deflate"), ("brotli", "br")):
        routes[f"/corrupt/{name}.html"] = encoded(b"<html>not compressed at all</html>", encoding)


PAGE_FAILURES = [
    "/nested/deep.html",
    "/bin/binary.html",
    "/bin/report.pdf",
    "/bin/photo.jpg",
    "/bin/clip.mp4",
    "/bin/empty.html",
    *(f"/status/{status}.html" for status in (403, 404, 410, 500, 503)),
    "/redirect/loop-a.html",
    "/redirect/cross.html",
    "/redirect/endless/0",
    "/redirect/file.html",
    "/broken/truncated.html",
    "/slow/trickle.html",
    "/huge/declared.html",
    "/huge/streamed.html",
    "/bomb/gzip.html",
    "/bomb/deflate.html",
    "/bomb/brotli.html",
    "/corrupt/gzip.html",
    "/corrupt/deflate.html",
    "/corrupt/brotli.html",
]


# --- feeds and sitemaps -------------------------------------------------------------------------

LAUGHS_DTD = '<!ENTITY lol "lol">' + "".join(
    f'<!ENTITY lol{n} "{("&lol" + (str(n - 1) if n > 1 else "") + ";") * 10}">'
    for n in range(1, 10)
)


def _xxe_dtd(servers: Servers, secret_file: Path) -> str:
    main = servers.main
    return (
        f'<!ENTITY secret SYSTEM "file://{secret_file}">'
        '<!ENTITY passwd SYSTEM "file:///etc/passwd">'
        f'<!ENTITY web SYSTEM "{main.url("/xxe/entity")}">'
        f'<!ENTITY % remote SYSTEM "{main.url("/xxe/parameter")}"> %remote;'
    )


def _rss(items: list[str], doctype: str = "") -> bytes:
    head = '<?xml version="1.0" encoding="utf-8"?>\n'
    if doctype:
        head += f"<!DOCTYPE rss [{doctype}]>\n"
    body = "".join(items)
    return (
        head + '<rss version="2.0"><channel><title>Hostile news</title>'
        "<link>http://127.0.0.1/</link><description>d</description>" + body + "</channel></rss>"
    ).encode()


def _item(url: str, title: str = "A story") -> str:
    return f"<item><title>{title}</title><link>{url}</link></item>"


def _urlset(entries: list[str], doctype: str = "") -> bytes:
    head = '<?xml version="1.0" encoding="UTF-8"?>\n'
    if doctype:
        head += f"<!DOCTYPE urlset [{doctype}]>\n"
    return (
        head
        + '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(entries)
        + "</urlset>"
    ).encode()


def _url(loc: str, lastmod: str = "") -> str:
    return (
        f"<url><loc>{loc}</loc>" + (f"<lastmod>{lastmod}</lastmod>" if lastmod else "") + "</url>"
    )


BIG_SITEMAP_URLS = 100_000
OLD = "2001-01-01T00:00:00+00:00"


def _big_sitemap(servers: Servers) -> bytes:
    """100,000 URLs (about 11 MB): twice the sitemap protocol's limit. All are older than
    the crawl's maximum age except the last one, a real article."""
    base = servers.main.url("/archive/2001/01/01/a-long-story-slug-of-the-archive-number-")
    entries = [_url(f"{base}{n:06d}.html", OLD) for n in range(BIG_SITEMAP_URLS - 1)]
    now = datetime.now(UTC).isoformat(timespec="seconds")
    entries.append(_url(servers.main.url("/real/namibian.html"), now))
    return _urlset(entries)


UNUSABLE_URLS = ("mailto:desk@example.com", "http://[::1", "http://127.0.0.1:99999/a.html")
"""Entry URLs no request can be made for (each ended the reading of its listing before)."""


def _between_unusable(main: Any, kind: str, unusable: Sequence[str]) -> list[str]:
    """``unusable`` URLs, each followed by a URL that must still be requested."""
    urls = [main.url(f"/after-unusable/{kind}-0.html")]
    for n, url in enumerate(unusable, start=1):
        urls += [url, main.url(f"/after-unusable/{kind}-{n}.html")]
    return urls


def _discovery_routes(servers: Servers, secret_file: Path) -> None:

    main = servers.main
    routes = main.routes
    for path, (name, _) in DISCOVERY_ARTICLES.items():
        routes[path] = html(_page(name).body())
    routes["/real/ru-says-latin-1.html"] = html(
        reencoded("fundus/ru-Kommersant_2025_05_14.html", "cp1251"),
        "text/html; charset=iso-8859-1",
    )
    routes["/real/zh-gbk-says-windows-1252.html"] = html(
        reencoded("cwced/f70d9c97-9d64-415e-a7e4-840c9258eaf5.html", "gbk"),
        "text/html; charset=windows-1252",
    )
    xxe = _xxe_dtd(servers, secret_file)
    rss, xml = "application/rss+xml", "application/xml"
    # feeds
    routes["/feeds/good.xml"] = html(
        _rss(
            [_item(main.url(p)) for p in ("/real/ru-says-latin-1.html", "/real/lavanguardia.html")]
        ),
        rss,
    )
    routes["/feeds/html.xml"] = html(_page("fundus/us-TheIntercept_2024_02_28.html").body(), rss)
    routes["/feeds/binary.xml"] = html(bytes(range(256)) * 32, rss)
    routes["/feeds/json.xml"] = html(b'{"items": [{"url": "http://127.0.0.1/x"}]}', rss)
    routes["/feeds/empty.xml"] = html(b"", rss)
    full = _rss(
        [_item(main.url("/real/taipei.html"))]
        + [_item(main.url(f"/cut/{n}.html")) for n in range(5)]
    )
    routes["/feeds/truncated.xml"] = html(full[: full.index(b"/cut/1.html")], rss)
    routes["/feeds/laughs.xml"] = html(
        _rss([_item(main.url("/feed-laughs/1.html"), "&lol9;")], LAUGHS_DTD), rss
    )
    routes["/feeds/xxe.xml"] = html(
        _rss(
            [
                _item(main.url("/feed-xxe/&secret;.html"), "&secret;"),
                _item(main.url("/feed-xxe/web.html"), "&web; &passwd;"),
            ],
            xxe,
        ),
        rss,
    )
    routes["/feeds/bomb.xml"] = encoded(gzip_bomb(BOMB_MIB), "gzip", rss)
    # entries whose URL cannot be fetched, between others (left out; the others are read)
    routes["/feeds/unusable.xml"] = html(
        _rss([_item(url) for url in _between_unusable(main, "feed", UNUSABLE_URLS[:2])]), rss
    )
    # sitemaps
    routes["/sitemaps/unusable.xml"] = html(
        _urlset([_url(url) for url in _between_unusable(main, "sitemap", UNUSABLE_URLS)]), xml
    )
    routes["/sitemaps/good.xml"] = html(
        _urlset([_url(main.url("/real/zh-gbk-says-windows-1252.html"))]), xml
    )
    routes["/sitemaps/html.xml"] = html(_page("fundus/us-TheIntercept_2024_02_28.html").body(), xml)
    routes["/sitemaps/binary.xml"] = html(bytes(range(256)) * 32, xml)
    urlset = _urlset(
        [_url(main.url("/real/orf.html"))] + [_url(main.url(f"/cut/{n}.html")) for n in range(5)]
    )
    routes["/sitemaps/truncated.xml"] = html(urlset[: urlset.index(b"/cut/2.html")], xml)
    # (hashes in the URLs keep it from compressing to nothing: the cut leaves 60% of it)
    compressed = gzip.compress(
        _urlset(
            [_url(main.url("/real/ilgiornale.html"))]
            + [
                _url(main.url(f"/cut-gz/{hashlib.sha256(bytes([n])).hexdigest()}.html"))
                for n in range(30)
            ]
        )
    )
    routes["/sitemaps/truncated.xml.gz"] = html(
        compressed[: len(compressed) * 6 // 10], "application/gzip"
    )
    routes["/sitemaps/laughs.xml"] = html(
        _urlset([_url(main.url("/sitemap-laughs/&lol9;.html")), _url("&lol9;")], LAUGHS_DTD), xml
    )
    routes["/sitemaps/xxe.xml"] = html(
        _urlset(
            [
                _url(main.url("/sitemap-xxe/&secret;.html")),
                _url("&web;"),
                _url(main.url("/real/orf.html")),
            ],
            xxe,
        ),
        xml,
    )
    routes["/sitemaps/external-dtd.xml"] = html(
        b'<?xml version="1.0"?>\n<!DOCTYPE urlset SYSTEM "'
        + main.url("/xxe/dtd").encode()
        + b'">\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"></urlset>',
        xml,
    )
    routes["/sitemaps/big.xml.gz"] = html(
        gzip.compress(_big_sitemap(servers), compresslevel=1), "application/gzip"
    )
    routes["/sitemaps/bomb.xml.gz"] = html(gzip_bomb(BOMB_MIB), "application/gzip")
    routes["/sitemaps/index-loop.xml"] = html(
        (
            '<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>{main.url('/sitemaps/index-loop.xml')}</loc></sitemap>"
            "</sitemapindex>"
        ).encode(),
        xml,
    )
    for name, other in (("index-a.xml", "index-b.xml"), ("index-b.xml", "index-a.xml")):
        routes[f"/sitemaps/{name}"] = html(
            (
                '<?xml version="1.0"?>'
                '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                f"<sitemap><loc>{main.url(f'/sitemaps/{other}')}</loc></sitemap>"
                "</sitemapindex>"
            ).encode(),
            xml,
        )


FEEDS = [
    "good", "html", "binary", "json", "empty", "truncated", "laughs", "xxe", "bomb", "unusable"
]  # fmt: skip
SITEMAPS = [
    "unusable.xml",
    "good.xml",
    "html.xml",
    "binary.xml",
    "truncated.xml",
    "truncated.xml.gz",
    "laughs.xml",
    "xxe.xml",
    "external-dtd.xml",
    "big.xml.gz",
    "bomb.xml.gz",
    "index-loop.xml",
    "index-a.xml",
]


# --- robots.txt variants ------------------------------------------------------------------------

ROBOTS_HUGE_SIZE = 20 * 1000 * 1000
PRIVATE_PAGE = b"<html><head><title>Private</title></head><body><p>Members only.</p></body></html>"


def _robots_routes(servers: Servers) -> None:
    for attribute, name in ROBOTS_ARTICLES.items():
        server: HostileServer = getattr(servers, attribute)
        server.routes["/real/article.html"] = html(_page(name).body())
        server.routes["/private/secret.html"] = html(PRIVATE_PAGE)
    servers.robots_html.routes["/robots.txt"] = html(
        _page("fundus/us-TheIntercept_2024_02_28.html").body()
    )
    rules = b"User-agent: *\nDisallow: /private/\n"
    servers.robots_huge.routes["/robots.txt"] = stream(
        ROBOTS_HUGE_SIZE,
        "text/plain",
        declare_length=False,
        chunk=rules + b"# " + b"padding " * 120 + b"\n" + b"Disallow: /nothing-here/\n" * 40,
    )
    servers.robots_huge_declared.routes["/robots.txt"] = stream(
        ROBOTS_HUGE_SIZE, "text/plain", chunk=rules + b"# " + b"padding " * 120 + b"\n"
    )
    servers.robots_silent.routes["/robots.txt"] = hang()


# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("xxe") / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def servers(secret_file: Path) -> Iterator[Servers]:
    with (
        hostile_site.serve() as main,
        hostile_site.serve("localhost") as other,
        hostile_site.serve() as robots_html,
        hostile_site.serve() as robots_huge,
        hostile_site.serve() as robots_huge_declared,
        hostile_site.serve() as robots_silent,
    ):
        found = Servers(main, other, robots_html, robots_huge, robots_huge_declared, robots_silent)
        _page_routes(found)
        _discovery_routes(found, secret_file)
        _robots_routes(found)
        yield found


@pytest.fixture(scope="module")
def page_crawl(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> HostileCrawl:
    main = servers.main
    urls = [main.url(path) for path in PAGE_ARTICLES]
    urls += [main.url(path) for path in PAGE_FAILURES]
    # to another local host, and back to an article: the address guard refuses the hop
    urls.append(main.url("/redirect/chain.html"))
    url_file = tmp_path_factory.mktemp("urls") / "urls.txt"
    url_file.write_text("\n".join(urls) + "\n", encoding="utf-8")
    return run_limited_crawl(
        tmp_path_factory.mktemp("pages"),
        "-a",
        f"urls=@{url_file}",
        settings=(f"DOWNLOAD_TIMEOUT={SHORT_TIMEOUT}",),
    )


@pytest.fixture(scope="module")
def discovery_crawl(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> HostileCrawl:
    main = servers.main
    return run_limited_crawl(
        tmp_path_factory.mktemp("discovery"),
        "-a",
        "feeds=" + ",".join(main.url(f"/feeds/{name}.xml") for name in FEEDS),
        "-a",
        "sitemaps=" + ",".join(main.url(f"/sitemaps/{name}") for name in SITEMAPS),
        settings=("DISCOVERY_MAX_AGE=30d",),
    )


@pytest.fixture(scope="module")
def robots_crawl(servers: Servers, tmp_path_factory: pytest.TempPathFactory) -> HostileCrawl:
    urls = [
        getattr(servers, attribute).url(path)
        for attribute in ROBOTS_ARTICLES
        for path in ("/real/article.html", "/private/secret.html")
    ]
    return run_limited_crawl(
        tmp_path_factory.mktemp("robots"),
        "-a",
        "urls=" + ",".join(urls),
        settings=(f"DOWNLOAD_TIMEOUT={SHORT_TIMEOUT}",),
    )


CRAWLS = ["page_crawl", "discovery_crawl", "robots_crawl"]


# --- every crawl: finished, quiet, bounded --------------------------------------------------------


def test_project_download_timeout_is_sane() -> None:
    settings = Settings()
    settings.setmodule("crawler.settings")
    timeout = settings.getfloat("DOWNLOAD_TIMEOUT")
    assert 0 < timeout <= 30
    # the longest a page that never completes can hold the crawl, retries included
    assert timeout * (settings.getint("RETRY_TIMES") + 1) <= 120
    assert 0 < settings.getint("DOWNLOAD_MAXSIZE") <= 64 * MIB


@pytest.mark.parametrize("crawl_name", CRAWLS)
def test_crawl_finishes_cleanly(crawl_name: str, request: pytest.FixtureRequest) -> None:
    crawl: HostileCrawl = request.getfixturevalue(crawl_name)
    assert crawl.result.returncode == 0, crawl.log[-5000:]
    assert crawl.result.report.get("finish_reason") == "finished"
    assert "Traceback" not in crawl.log, crawl.log[max(0, crawl.log.find("Traceback") - 2000) :][
        :6000
    ]
    assert " ERROR: " not in crawl.log, [
        line for line in crawl.log.splitlines() if " ERROR: " in line
    ]
    assert " CRITICAL: " not in crawl.log


@pytest.mark.parametrize("crawl_name", CRAWLS)
def test_crawl_memory_is_bounded(crawl_name: str, request: pytest.FixtureRequest) -> None:
    crawl: HostileCrawl = request.getfixturevalue(crawl_name)
    assert crawl.max_rss < MAX_RSS, f"peak RSS {crawl.max_rss / MIB:.0f} MiB"
    assert "MemoryError" not in crawl.log


@pytest.mark.parametrize("crawl_name", ["page_crawl", "discovery_crawl", "robots_crawl"])
def test_crawl_ends_by_itself(crawl_name: str, request: pytest.FixtureRequest) -> None:
    """A trickling page and a silent robots.txt are abandoned at DOWNLOAD_TIMEOUT (the
    counters of the tests below): the crawl ends on its own, not killed as hung."""
    crawl: HostileCrawl = request.getfixturevalue(crawl_name)
    assert not crawl.killed


# --- the page crawl ---------------------------------------------------------------------------


@pytest.mark.parametrize("path", list(PAGE_ARTICLES))
def test_real_article_stored_with_its_text(
    path: str, page_crawl: HostileCrawl, servers: Servers
) -> None:
    name, exact = PAGE_ARTICLES[path]
    row = page_crawl.row(servers.main.url(path))
    if exact:
        assert row["text"] == golden_text(name)
    for sentence in sentences(name):
        assert sentence in row["text"]
    assert "\x00" not in row["text"]
    assert "\ufffd" not in row["text"]


def test_only_the_real_articles_are_stored(page_crawl: HostileCrawl, servers: Servers) -> None:
    assert page_crawl.urls() == sorted(servers.main.url(path) for path in PAGE_ARTICLES)


@pytest.mark.parametrize(
    ("stat", "value"),
    [
        # binary labelled HTML, PDF, image, video, and 200,000 nested elements without text
        ("news/extract/dropped/NotHtml", 4),
        ("news/extract/dropped/EmptyPage", 1),
        ("news/extract/dropped/NotAnArticle", 1),
        ("news/fetch/http_error/403", 1),
        ("news/fetch/http_error/404", 1),
        ("news/fetch/http_error/410", 1),
        ("news/fetch/http_error/500", 1),
        ("news/fetch/http_error/503", 1),
        ("news/fetch/http_error/302", 1),  # the redirect to file:///etc/passwd, not followed
        ("news/fetch/error/redirect_loop", 1),  # a loop on one host
        # the hops to another local host (a loop across two hosts, a chain): the address
        # guard refuses internal addresses the crawl was not given
        ("news/guard/refused/private_address", 2),
        ("news/fetch/error/too_many_redirects", 1),  # new URLs, endlessly
        ("news/fetch/error/truncated", 1),
        ("news/fetch/error/timeout", 1),
        ("news/fetch/error/too_large", 2),  # 40 MB, announced or not
        ("news/fetch/error/too_large_decompressed", 3),  # gzip, deflate, brotli bombs
        # bodies that are not what their Content-Encoding says (they were "error")
        ("news/fetch/error/undecodable", 3),
        ("news/extract/articles", len(PAGE_ARTICLES)),
    ],
)
def test_page_failures_are_counted(page_crawl: HostileCrawl, stat: str, value: int) -> None:
    assert page_crawl.stats.get(stat) == value, {
        key: count for key, count in page_crawl.stats.items() if key.startswith("news/")
    }


@pytest.mark.parametrize(
    "line",
    [
        "Dropped: NotHtml: content type 'application/pdf' is not HTML",
        "Dropped: NotHtml: content type 'image/jpeg' is not HTML",
        "Dropped: NotHtml: content type 'video/mp4' is not HTML",
        "Dropped: NotHtml: binary content",
        "Dropped: EmptyPage: empty body",
        "HTTP 404, skipped:",
        "HTTP 503, skipped:",
        "HTTP 302, skipped:",
        "Fetch failed (redirect_loop",
        "Fetch failed (too_many_redirects",
        "Fetch failed (truncated",
        "Fetch failed (timeout",
        "Fetch failed (too_large",
        "Fetch failed (too_large_decompressed",
    ],
)
def test_page_failures_are_logged_in_one_line(page_crawl: HostileCrawl, line: str) -> None:
    assert line in page_crawl.log


def test_each_failure_is_one_line_naming_its_url(
    page_crawl: HostileCrawl, servers: Servers
) -> None:
    lines = page_crawl.log.splitlines()
    for path in PAGE_FAILURES:
        url = servers.main.url(path)
        assert any(url in line and (" WARNING: " in line or " INFO: " in line) for line in lines), (
            path
        )


def test_redirects_to_another_internal_host_are_refused(
    page_crawl: HostileCrawl, servers: Servers
) -> None:
    assert "/redirect/hop.html" not in servers.other.requested
    assert "/redirect/cross.html" not in servers.other.requested
    other = servers.other.url("/redirect/hop.html")
    assert f"Refused private address: {other} (redirected from " in page_crawl.log


def test_with_private_addresses_allowed_the_chain_is_followed(
    servers: Servers, tmp_path_factory: pytest.TempPathFactory
) -> None:
    before = len(servers.other.requested)
    crawl = run_limited_crawl(
        tmp_path_factory.mktemp("allowed"),
        "-a",
        f"urls={servers.main.url('/redirect/chain.html')}",
        settings=("ADDRESS_GUARD_ALLOW_PRIVATE=True",),
    )
    assert crawl.result.returncode == 0, crawl.log[-3000:]
    assert "/redirect/hop.html" in servers.other.requested[before:]
    row = crawl.row(servers.main.url("/real/publico.html"))
    assert sentences("fundus/es-Publico_2025_05_29.html")[0] in row["text"]


def test_redirect_to_a_file_url_is_not_followed(page_crawl: HostileCrawl) -> None:
    assert "root:x:0:0" not in page_crawl.log
    assert "Unsupported URL scheme" not in page_crawl.log


def test_redirect_loops_stop(servers: Servers, page_crawl: HostileCrawl) -> None:
    # a loop ends when it comes back to a URL of its chain
    loop = [p for p in servers.main.requested if p.startswith("/redirect/loop-")]
    assert loop == ["/redirect/loop-a.html", "/redirect/loop-b.html"]
    assert servers.main.requested.count("/redirect/cross.html") == 1
    # an endless chain of new URLs after REDIRECT_MAX_TIMES (5) redirects
    endless = [p for p in servers.main.requested if p.startswith("/redirect/endless/")]
    assert endless == [f"/redirect/endless/{n}" for n in range(6)]


def test_bombs_and_huge_pages_are_not_retried(servers: Servers, page_crawl: HostileCrawl) -> None:
    for path in ("/bomb/gzip.html", "/bomb/brotli.html", "/huge/declared.html"):
        assert servers.main.requested.count(path) == 1, path


# --- the discovery crawl ------------------------------------------------------------------------


@pytest.mark.parametrize("path", list(DISCOVERY_ARTICLES))
def test_listed_real_article_stored_with_its_text(
    path: str, discovery_crawl: HostileCrawl, servers: Servers
) -> None:
    name, _ = DISCOVERY_ARTICLES[path]
    row = discovery_crawl.row(servers.main.url(path))
    assert row["text"] == golden_text(name)


def test_no_entity_is_ever_resolved(discovery_crawl: HostileCrawl, servers: Servers) -> None:
    requested = servers.requested()
    assert not [path for path in requested if path.startswith("/xxe/")]
    assert not [path for path in requested if SECRET in path or "root:" in path]
    assert SECRET not in discovery_crawl.log
    assert "root:x:0:0" not in discovery_crawl.log
    for row in discovery_crawl.rows:
        assert SECRET not in json.dumps(row, default=str)
    # billion laughs: nothing was expanded into a URL
    assert not [path for path in requested if "lollol" in path]


@pytest.mark.parametrize(
    ("stat", "value"),
    [
        ("news/discovery/feeds", 5),  # good, truncated, laughs, xxe, unusable
        ("news/discovery/feed_invalid", 4),  # html, binary, json, empty
        ("news/discovery/feed_malformed", 3),  # truncated, laughs, xxe
        ("news/discovery/sitemap_invalid", 3),  # html, binary, gzip bomb
        # truncated (plain and gzip), billion laughs, XXE, external DTD
        ("news/discovery/sitemap_malformed", 5),
        ("news/fetch/error/too_large_decompressed", 1),  # the feed sent as a gzip bomb
        ("news/discovery/too_old", BIG_SITEMAP_URLS - 1),
    ],
)
def test_discovery_failures_are_counted(
    discovery_crawl: HostileCrawl, stat: str, value: int
) -> None:
    assert discovery_crawl.stats.get(stat) == value, {
        key: count for key, count in discovery_crawl.stats.items() if key.startswith("news/")
    }


def test_entries_after_an_unusable_url_are_still_requested(
    discovery_crawl: HostileCrawl, servers: Servers
) -> None:
    requested = servers.main.requested
    for kind, count in (("feed", 2), ("sitemap", 3)):
        for n in range(count + 1):
            assert f"/after-unusable/{kind}-{n}.html" in requested, (kind, n)
    assert discovery_crawl.stats.get("news/discovery/unusable_urls") == 5
    assert "Traceback" not in discovery_crawl.log
    assert "Spider error" not in discovery_crawl.log
    lines = [line for line in discovery_crawl.log.splitlines() if "cannot be fetched" in line]
    assert len(lines) == 2, lines  # one line a listing
    assert any("3 entries left out" in line and "mailto:desk@example.com" in line for line in lines)


def test_big_sitemap_is_read_whole(discovery_crawl: HostileCrawl) -> None:
    assert discovery_crawl.stats.get("news/discovery/sitemap_urls", 0) >= BIG_SITEMAP_URLS
    assert f"lists {BIG_SITEMAP_URLS} URLs" in discovery_crawl.log


def test_a_sitemap_index_loop_is_read_once_and_named(
    discovery_crawl: HostileCrawl, servers: Servers
) -> None:
    # an index listing itself, and two indexes listing each other (a -> b -> a)
    for path in ("/sitemaps/index-loop.xml", "/sitemaps/index-a.xml", "/sitemaps/index-b.xml"):
        assert servers.main.requested.count(path) == 1, path
    assert discovery_crawl.stats.get("news/discovery/sitemap_loops") == 2
    loops = [line for line in discovery_crawl.log.splitlines() if "an index above it" in line]
    assert len(loops) == 2, loops
    assert any("index-b.xml lists itself or an index above it" in line for line in loops)


@pytest.mark.parametrize(
    "line",
    [
        "Not a feed, ignored:",
        "Malformed feed",
        "Not a sitemap, ignored:",
        "Unreadable sitemap",
        "Malformed sitemap",
    ],
)
def test_discovery_failures_are_logged_in_one_line(
    discovery_crawl: HostileCrawl, line: str
) -> None:
    assert line in discovery_crawl.log


# --- the robots crawl -----------------------------------------------------------------------------


@pytest.mark.parametrize("attribute", list(ROBOTS_ARTICLES))
def test_article_behind_each_robots_txt_is_stored(
    attribute: str, robots_crawl: HostileCrawl, servers: Servers
) -> None:
    server: HostileServer = getattr(servers, attribute)
    row = robots_crawl.row(server.url("/real/article.html"))
    assert row["text"] == golden_text(ROBOTS_ARTICLES[attribute])


def test_huge_robots_txt_is_obeyed_from_its_start(
    robots_crawl: HostileCrawl, servers: Servers
) -> None:
    assert "/private/secret.html" not in servers.robots_huge.requested
    # and it was not downloaded whole: reading stops after the first 500 KiB
    assert robots_crawl.stats.get("news/robots/truncated") == 1


@pytest.mark.parametrize(
    ("stat", "value"),
    [
        ("news/robots/not_robots_txt", 1),  # the HTML page
        ("news/robots/truncated", 1),  # 20 MB, read up to 500 KiB
        # 20 MB announced: refused before a byte arrives (larger than DOWNLOAD_MAXSIZE)
        ("news/robots/error/too_large", 1),
        ("news/robots/error/timeout", 1),  # never answers
    ],
)
def test_robots_failures_are_counted(robots_crawl: HostileCrawl, stat: str, value: int) -> None:
    assert robots_crawl.stats.get(stat) == value, {
        key: count for key, count in robots_crawl.stats.items() if "robots" in key
    }


@pytest.mark.parametrize(
    "line",
    [
        "is not a robots.txt",
        "robots.txt of 127.0.0.1:",  # the silent one: could not be fetched
    ],
)
def test_robots_failures_are_logged_in_one_line(robots_crawl: HostileCrawl, line: str) -> None:
    assert line in robots_crawl.log


def test_memory_limit_is_really_applied() -> None:
    """The limit the crawls run under is real: a process that tries to go past it fails."""
    code = "x = bytearray(4 * 1024**3)"
    completed = subprocess.run(
        [sys.executable, "-c", _LIMITED, str(ADDRESS_SPACE_LIMIT), "-c", code],
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert completed.returncode != 0
    assert b"MemoryError" in completed.stderr


# --- the fixes, offline -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (reencoded("fundus/ru-Kommersant_2025_05_14.html", "cp1251"), "text/html; charset=latin-1"),
        (reencoded("newspaper4k/chinese_article_002.html", "gbk"), "text/html; charset=iso-8859-1"),
        (
            reencoded("cwced/f70d9c97-9d64-415e-a7e4-840c9258eaf5.html", "gbk"),
            "text/html; charset=windows-1252",
        ),
    ],
    ids=["windows-1251", "gbk", "gbk-small"],
)
def test_a_latin_1_label_on_another_charset_is_not_believed(body: bytes, content_type: str) -> None:
    text, encoding = decode_html(body, content_type)
    assert encoding != "cp1252"
    assert text == body.decode(encoding)


def test_a_latin_1_page_labelled_latin_1_stays_latin_1() -> None:
    # a German page in windows-1252: accented letters read as such, not as mojibake
    body = page_text("fundus/de-Merkur_2023_04_28.html").encode("cp1252", "xmlcharrefreplace")
    assert not body.isascii()
    text, encoding = decode_html(body, "text/html; charset=ISO-8859-1")
    assert encoding == "cp1252"
    assert text == body.decode("cp1252")


def test_utf8_with_a_few_invalid_bytes_is_read_as_utf8() -> None:
    body = with_nul_and_invalid_utf8("fundus/de-Merkur_2023_04_28.html")
    text, encoding = decode_html(body, "text/html")
    assert encoding == "utf-8"
    assert "für" in text


def test_sitemap_problems_are_reported() -> None:
    sound = _urlset([_url("https://news.test/a.html")])
    assert parse_sitemap(sound, "https://news.test/s.xml").error is None
    cut = parse_sitemap(sound[:-20], "https://news.test/s.xml")
    assert cut.error
    assert "truncated" in cut.error
    laughs = parse_sitemap(
        _urlset([_url("https://news.test/&lol9;")], LAUGHS_DTD), "https://news.test/s.xml"
    )
    assert laughs.error
    assert "DOCTYPE" in laughs.error


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (b"User-agent: *\nDisallow: /private/\n", None),
        (b"\xef\xbb\xbf\n\nUser-agent: *\n", None),
        (b"  <!DOCTYPE html><html><body>Not found</body></html>", "HTML"),
        (b"\x00\x01\x02binary", "binary data"),
    ],
)
def test_not_robots_txt(body: bytes, kind: str | None) -> None:
    assert not_robots_txt(body) == kind


def test_real_article_with_a_nul_in_its_first_kilobyte_is_kept() -> None:
    name = "fundus/de-Merkur_2023_04_28.html"
    body = _page(name).body()
    head = body.lower().index(b"<head")
    body = b"\x00\x00" + body[:head] + b"\x00" + body[head:]
    result = extract_article(body, "http://127.0.0.1/nul/leading.html", "text/html")
    assert sentences(name)[0] in result.text


# --- a damaged dataset ------------------------------------------------------------------------


def site_arguments(site_url: str) -> tuple[str, ...]:
    return ("-a", f"feeds={site_url}/feed.xml", "-a", f"sitemaps={site_url}/sitemap.xml")


def _another_table() -> bytes:
    sink = io.BytesIO()
    pq.write_table(pa.table({"a": [1], "b": ["x"]}), sink)
    return sink.getvalue()


@pytest.mark.parametrize(
    "content",
    [b"", b"PAR1 copied half-way", _another_table()],
    ids=["empty", "cut-short", "another-table"],
)
def test_a_data_file_that_cannot_be_read_fails_the_crawl_in_one_line(
    tmp_path: Path, site_url: str, site: Any, content: bytes
) -> None:
    # A file the state does not know (copied in half-way, say): the crawl opened the dedupe
    # stage, failed on it, and hung (the Parquet stage never opened). It crawls on, and says
    # which file, every time until the file is moved out.
    output_dir = tmp_path / "out"
    damaged = output_dir / "articles" / "fetch_date=2026-01-01" / "part-copied.parquet"
    damaged.parent.mkdir(parents=True)
    damaged.write_bytes(content)
    result = run_crawl(output_dir, *site_arguments(site_url))
    assert result.returncode == 1, result.log[-3000:]
    assert "Traceback" not in result.log
    errors = [line for line in result.log.splitlines() if "] ERROR: " in line]
    assert len(errors) == 1, errors
    assert "Cannot read the data file fetch_date=2026-01-01/part-copied.parquet" in errors[0]
    lines = result.log.splitlines()
    after = lines[lines.index(errors[0]) + 1 :][:1]
    assert all(line.startswith("20") for line in after), after  # no lines of its own after it
    assert result.report["stats"]["news/dedupe/unreadable_files"] == 1
    damaged.unlink()
    urls = [row["url"] for row in dataset_rows(output_dir)]
    assert len(urls) == len(set(urls)) == len(site.pages)  # nothing lost meanwhile


def test_a_damaged_state_file_stops_the_crawl_before_it_starts(
    tmp_path: Path, site_url: str
) -> None:
    state = tmp_path / "out" / "state"
    state.mkdir(parents=True)
    (state / "near-duplicates.sqlite3").write_bytes(b"overwritten" * 1000)
    result = run_crawl(tmp_path / "out", *site_arguments(site_url))
    assert result.returncode == 2
    assert "Traceback" not in result.log
    assert (
        result.log.strip()
        .splitlines()[-1]
        .startswith(
            f"scrapy: error: the crawl state file {state / 'near-duplicates.sqlite3'} is damaged"
            " (file is not a database)"
        )
    )


def test_an_error_logged_as_the_crawl_closes_fails_it(tmp_path: Path, site_url: str) -> None:
    # The run history cannot be read to judge the sources (a file of it cut short): logged as
    # the spider closes, after Scrapy stopped counting errors, so the crawl exited 0.
    output_dir = tmp_path / "out"
    first = run_crawl(output_dir, *site_arguments(site_url))
    assert first.returncode == 0, first.log[-3000:]
    (history,) = (output_dir / "runs").rglob("*.parquet")
    history.write_bytes(history.read_bytes()[:100])
    again = run_crawl(output_dir, *site_arguments(site_url))
    assert "Cannot read the run history to judge the sources" in again.log
    assert again.returncode == 1
    assert again.log.strip().splitlines()[-1] == "crawl failed: 1 errors were logged"


def test_a_file_of_another_table_in_the_run_history_is_one_error_line(
    tmp_path: Path, site_url: str
) -> None:
    output_dir = tmp_path / "out"
    foreign = output_dir / "runs" / "run_date=2026-01-01" / "notes.parquet"
    foreign.parent.mkdir(parents=True)
    pq.write_table(pa.table({"note": ["not a run"]}), foreign)
    result = run_crawl(output_dir, *site_arguments(site_url))
    assert result.returncode == 1
    assert "Traceback" not in result.log
    assert (
        "Cannot read the run history to judge the sources: run_date=2026-01-01/notes.parquet"
        " is not a run-history file (no run_id, source, started_at)"
    ) in result.log


# --- a full disk -----------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MB tmpfs (mounting needs root: skipped otherwise)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    folder = tmp_path / "disk"
    folder.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(folder)],
        capture_output=True, check=False,
    )  # fmt: skip
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def test_a_full_disk_stops_the_crawl_cleanly_and_the_next_crawl_loses_nothing(
    small_disk: Path, site_url: str, site: Any
) -> None:
    filler = small_disk / "filler"
    filler.write_bytes(bytes(1536 * 1024))  # half the disk
    output_dir = small_disk / "out"
    arguments = ("-a", f"feeds={site_url}/feed.xml", "-a", f"sitemaps={site_url}/sitemap.xml")
    settings = (
        "HTML_ARCHIVE_ENABLED=True",  # pages fill the disk fast
        "PARQUET_ROW_GROUP_ROWS=3",
        "PARQUET_FILE_ROWS=6",
    )
    log_file = small_disk.parent / "crawl.log"  # not on the full disk
    full = run_crawl(output_dir, *arguments, settings=settings, log_file=log_file)
    assert full.returncode == 1
    assert "Cannot write the dataset, stopping the crawl: " in full.log
    assert "No space left on device" in full.log
    assert "Traceback" not in full.log
    # counted (read from the stats Scrapy logs: the crawl report itself may not fit on the
    # full disk, which is logged in one line too)
    assert re.search(r"'news/parquet/write_error': 1,", full.log)
    files = data_files(output_dir / "articles")
    for path in files:
        pq.read_table(path)  # every committed file reads
    assert list((output_dir / "state" / "tmp").iterdir()) == []
    # the state never claims a file (or its articles) that is not in the dataset
    state = CrawlState.open(output_dir / "state")
    on_disk = {path.relative_to(output_dir / "articles").as_posix() for path in files}
    assert state.recorded_files() <= on_disk
    state.close()

    filler.unlink()  # room again: the same crawl stores what was lost, once
    again = run_crawl(output_dir, *arguments, settings=settings, log_file=log_file)
    assert again.returncode == 0, again.log[-3000:]
    urls = [row["url"] for row in dataset_rows(output_dir)]
    assert len(urls) == len(set(urls)) == len(site.pages)
    state = CrawlState.open(output_dir / "state")
    files = data_files(output_dir / "articles")
    assert state.recorded_files() == {
        path.relative_to(output_dir / "articles").as_posix() for path in files
    }
    state.close()


# --- crashes and security (the cases of the issue tested elsewhere are also named here) ------


def test_kill_9_twice_then_the_same_crawl_loses_and_doubles_nothing(tmp_path: Path) -> None:
    from bench import kill_crawl  # noqa: PLC0415 - the benchmark's scenario, on two kills

    outcome = kill_crawl.run(2, seed=11, workdir=tmp_path)
    assert outcome.ok, kill_crawl.report(outcome, "test")
    assert outcome.final_urls == outcome.reference_urls >= 30


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"urls": "file:///etc/passwd"}, "unsupported scheme"),
        ({"feeds": "ftp://news.test/rss"}, "unsupported scheme"),
        ({"sitemaps": "http://"}, "has no host"),
        ({"urls": "https://news.test/a", "colour": "red"}, "unknown spider argument colour"),
    ],
)
def test_bad_spider_arguments_are_refused(arguments: dict[str, str], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        NewsSpider.check_arguments(**arguments)


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ('[[source]]\nname = "x"\nhome = "https://x.test/"\ncolour = "red"\n', "unknown key"),
        ('[[source]]\nname = "x"\nfeeds = ["file:///etc/passwd"]\n', "unsupported scheme"),
    ],
)
def test_bad_sources_files_are_refused(tmp_path: Path, toml: str, message: str) -> None:
    path = tmp_path / "sources.toml"
    path.write_text(toml, encoding="utf-8")
    with pytest.raises(UsageError, match=message):
        NewsSpider.check_arguments(sources=str(path))


def test_no_remote_control_by_default() -> None:
    settings = get_project_settings()
    assert not settings.getbool("TELNETCONSOLE_ENABLED")
    assert not settings.getbool("REMOTE_CONTROL_ENABLED")
    assert settings.getbool("ADDRESS_GUARD_ENABLED", True)
    assert not settings.getbool("ADDRESS_GUARD_ALLOW_PRIVATE")
