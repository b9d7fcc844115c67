"""Tests for crawler/sitemaps.py: urlsets, indexes, gzip, and hostile sitemaps."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
import tracemalloc
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urljoin

import pytest

from crawler.sitemaps import (
    DEFAULT_SITEMAP_PATHS,
    ROBOTS_MAX_SIZE,
    ParsedSitemap,
    SitemapEntry,
    SitemapTooLarge,
    default_sitemap_urls,
    lastmod_datetime,
    news_published_datetime,
    parse_sitemap,
    sitemap_body,
    sitemaps_from_robots,
)

ROOT = Path(__file__).resolve().parent.parent

SITEMAP_URL = "https://news.example/sitemaps/news.xml"

URLSET = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url>
    <loc>https://news.example/2023/08/first</loc>
    <lastmod>2023-08-15T16:39:00+03:00</lastmod>
  </url>
  <url>
    <loc>https://news.example/2023/08/second</loc>
    <lastmod>2023-08-16</lastmod>
  </url>
  <url>
    <loc>https://news.example/2023/08/third</loc>
  </url>
  <url>
    <loc>https://news.example/2023/08/fourth-with-a-long-slug</loc>
    <lastmod>2023-08-17T09:00:00Z</lastmod>
  </url>
</urlset>
"""

SITEMAP_INDEX = b"""<?xml version="1.0" encoding="UTF-8"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap>
    <loc>https://news.example/sitemaps/2023-08.xml.gz</loc>
    <lastmod>2023-08-31T23:59:59Z</lastmod>
  </sitemap>
  <sitemap>
    <loc>2023-07.xml</loc>
  </sitemap>
</sitemapindex>
"""


def test_urlset_with_lastmod() -> None:
    sitemap = parse_sitemap(URLSET, SITEMAP_URL)
    assert isinstance(sitemap, ParsedSitemap)
    assert sitemap.kind == "urlset"
    assert sitemap.entries == [
        SitemapEntry(url="https://news.example/2023/08/first", lastmod="2023-08-15T16:39:00+03:00"),
        SitemapEntry(url="https://news.example/2023/08/second", lastmod="2023-08-16"),
        SitemapEntry(url="https://news.example/2023/08/third", lastmod=None),
        SitemapEntry(
            url="https://news.example/2023/08/fourth-with-a-long-slug",
            lastmod="2023-08-17T09:00:00Z",
        ),
    ]


def test_lastmod_datetime() -> None:
    first, second, third, fourth = parse_sitemap(URLSET, SITEMAP_URL).entries
    parsed = lastmod_datetime(first)
    assert parsed == datetime(2023, 8, 15, 13, 39, tzinfo=UTC)
    assert parsed is not None
    assert parsed.utcoffset() == timedelta(hours=3)
    assert lastmod_datetime(second) == datetime(2023, 8, 16)
    assert lastmod_datetime(third) is None
    assert lastmod_datetime(fourth) == datetime(2023, 8, 17, 9, 0, tzinfo=UTC)
    assert lastmod_datetime(SitemapEntry(url="https://x.example/", lastmod="soon")) is None


def test_sitemap_index() -> None:
    sitemap = parse_sitemap(SITEMAP_INDEX, "https://news.example/sitemaps/index.xml")
    assert sitemap.kind == "sitemapindex"
    assert sitemap.entries == [
        SitemapEntry(
            url="https://news.example/sitemaps/2023-08.xml.gz", lastmod="2023-08-31T23:59:59Z"
        ),
        SitemapEntry(url="https://news.example/sitemaps/2023-07.xml", lastmod=None),
    ]


def test_relative_loc_resolved_against_sitemap_url() -> None:
    body = b"""<?xml version="1.0"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>/world/story-1</loc></url>
<url><loc>story-2.html</loc></url>
<url><loc>  https://news.example/padded  </loc></url>
<url><lastmod>2023-08-15</lastmod></url>
</urlset>
"""
    sitemap = parse_sitemap(body, SITEMAP_URL)
    assert sitemap.kind == "urlset"
    assert [entry.url for entry in sitemap.entries] == [
        "https://news.example/world/story-1",
        "https://news.example/sitemaps/story-2.html",
        "https://news.example/padded",
    ]


def test_gzipped_sitemap() -> None:
    body = gzip.compress(URLSET)
    xml = sitemap_body(body, max_size=1_000_000)
    assert xml == URLSET
    sitemap = parse_sitemap(xml, SITEMAP_URL + ".gz")
    assert sitemap.kind == "urlset"
    assert len(sitemap.entries) == 4


def test_plain_body_returned_as_is() -> None:
    # Only a gzip stream is limited; a plain body was already limited by the download.
    assert sitemap_body(URLSET, max_size=10) == URLSET


def test_gzipped_sitemap_within_max_size() -> None:
    body = gzip.compress(URLSET)
    assert sitemap_body(body, max_size=len(URLSET)) == URLSET


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"   \n\t ",
        b"not xml at all",
        b"<<<garbage",
        bytes(range(256)),
        b"<!DOCTYPE html><html><head><title>x</title></head><body><p>hi</p></body></html>",
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>',
        b'<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title></feed>',
    ],
    ids=["empty", "blank", "text", "garbage", "binary", "html", "rss", "atom"],
)
def test_not_a_sitemap(body: bytes) -> None:
    sitemap = parse_sitemap(body, SITEMAP_URL)
    assert sitemap.kind is None
    assert sitemap.entries == []


def test_truncated_sitemap_keeps_entries_before_the_break() -> None:
    cut = URLSET.index(b"<url>\n    <loc>https://news.example/2023/08/third")
    sitemap = parse_sitemap(URLSET[:cut], SITEMAP_URL)
    assert sitemap.kind == "urlset"
    assert sitemap.entries == [
        SitemapEntry(url="https://news.example/2023/08/first", lastmod="2023-08-15T16:39:00+03:00"),
        SitemapEntry(url="https://news.example/2023/08/second", lastmod="2023-08-16"),
    ]


def test_truncated_sitemap_keeps_entries_before_a_break_inside_loc() -> None:
    cut = URLSET.index(b"https://news.example/2023/08/fourth") + len(b"https://news.example/2023")
    sitemap = parse_sitemap(URLSET[:cut], SITEMAP_URL)
    assert sitemap.kind == "urlset"
    assert [entry.url for entry in sitemap.entries][:3] == [
        "https://news.example/2023/08/first",
        "https://news.example/2023/08/second",
        "https://news.example/2023/08/third",
    ]


def test_truncated_sitemap_does_not_invent_a_url_from_the_cut_loc() -> None:
    # A download cut short (or a truncated .xml.gz, which sitemap_body returns as far as it
    # inflates) ends inside a <loc>: the half URL is not an entry of the sitemap.
    cut = URLSET.index(b"https://news.example/2023/08/fourth") + len(b"https://news.example/2023")
    sitemap = parse_sitemap(URLSET[:cut], SITEMAP_URL)
    assert [entry.url for entry in sitemap.entries] == [
        "https://news.example/2023/08/first",
        "https://news.example/2023/08/second",
        "https://news.example/2023/08/third",
    ]


def test_truncated_gzip_returns_what_inflates() -> None:
    body = gzip.compress(URLSET)[:-12]  # trailer and some deflate data lost
    xml = sitemap_body(body, max_size=1_000_000)
    assert URLSET.startswith(xml)
    assert b"https://news.example/2023/08/first" in xml


@pytest.fixture(scope="module")
def gzip_bomb() -> bytes:
    """50 MB of ``a`` gzipped (about 50 kB), built in 1 MB pieces so it never sits in memory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)  # gzip container
    piece = b"a" * 1_000_000
    parts = [compressor.compress(piece) for _ in range(50)]
    parts.append(compressor.flush())
    return b"".join(parts)


def test_gzip_bomb_fixture_is_a_real_bomb(gzip_bomb: bytes) -> None:
    assert gzip_bomb.startswith(b"\x1f\x8b")
    assert len(gzip_bomb) < 200_000
    decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
    total = 0
    data = gzip_bomb
    while data:
        total += len(decompressor.decompress(data, 1_000_000))
        data = decompressor.unconsumed_tail
    total += len(decompressor.flush())
    assert total == 50_000_000


def test_gzip_bomb_raises_sitemap_too_large_without_inflating(gzip_bomb: bytes) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(SitemapTooLarge):
            sitemap_body(gzip_bomb, max_size=1_000_000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Inflating stops just past max_size: nowhere near the 50 MB of the whole stream.
    assert peak < 10 * 1024 * 1024


def test_sitemap_too_large_is_a_value_error() -> None:
    assert issubclass(SitemapTooLarge, ValueError)


@pytest.mark.parametrize(
    "body",
    [
        # An unknown compression method in the gzip header.
        gzip.compress(URLSET)[:2] + b"\x07" + gzip.compress(URLSET)[3:],
        # A valid gzip header followed by garbage instead of deflate data.
        b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03garbage-garbage-garbage",
        # The magic number and nothing else.
        b"\x1f\x8b",
        # A header with no data at all.
        gzip.compress(URLSET)[:10],
    ],
    ids=["bad-method", "bad-deflate", "magic-only", "header-only"],
)
def test_corrupt_gzip_raises_oserror(body: bytes) -> None:
    # The spider catches (SitemapTooLarge, OSError); any other exception escapes it.
    with pytest.raises(OSError):  # noqa: PT011
        sitemap_body(body, max_size=1_000_000)


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE urlset [
<!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://news.example/a?leak=&xxe;</loc><lastmod>&xxe;</lastmod></url>
<url><loc>&xxe;</loc></url>
<url><loc>https://news.example/ok</loc></url>
</urlset>
"""


def test_external_entity_in_loc_not_resolved() -> None:
    sitemap = parse_sitemap(XXE, SITEMAP_URL)
    assert "https://news.example/ok" in [entry.url for entry in sitemap.entries]
    for entry in sitemap.entries:
        assert "root:" not in entry.url
        assert "/bin/" not in entry.url
        assert "root:" not in (entry.lastmod or "")


def test_billion_laughs_not_expanded() -> None:
    levels = "\n".join(
        f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10)
    )
    body = f"""<?xml version="1.0"?>
<!DOCTYPE urlset [
<!ENTITY lol0 "lol">
{levels}
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>https://news.example/&lol9;</loc></url>
<url><loc>https://news.example/ok</loc></url>
</urlset>
""".encode()
    assert b"&lol8;&lol8;" in body  # the bomb is really there
    sitemap = parse_sitemap(body, SITEMAP_URL)
    # libxml2 may give up on the document (its amplification limit): never expand it.
    assert all(len(entry.url) < 10_000 for entry in sitemap.entries)
    assert all("lollol" not in entry.url for entry in sitemap.entries)


def test_truncated_right_after_an_opening_loc_keeps_the_entry_before() -> None:
    # The cut <url> has no URL at all: the complete entry before it is not the one dropped.
    cut = URLSET.index(b"https://news.example/2023/08/fourth")
    sitemap = parse_sitemap(URLSET[:cut], SITEMAP_URL)
    assert [entry.url for entry in sitemap.entries] == [
        "https://news.example/2023/08/first",
        "https://news.example/2023/08/second",
        "https://news.example/2023/08/third",
    ]


def test_truncated_inside_lastmod_keeps_the_url_without_a_cut_date() -> None:
    cut = URLSET.index(b"2023-08-17T09:00:00Z") + len(b"2023-08-1")
    sitemap = parse_sitemap(URLSET[:cut], SITEMAP_URL)
    # "2023-08-1" would read as 1 August: the half date is left out, the whole URL kept.
    assert sitemap.entries[-1] == SitemapEntry(
        url="https://news.example/2023/08/fourth-with-a-long-slug", lastmod=None
    )
    assert len(sitemap.entries) == 4


def test_loc_with_an_unresolved_entity_is_not_half_read() -> None:
    sitemap = parse_sitemap(XXE, SITEMAP_URL)
    # The text before "&xxe;" is not the URL: "https://news.example/a?leak=" is never made up.
    assert [entry.url for entry in sitemap.entries] == ["https://news.example/ok"]


def test_loc_that_is_not_a_url_is_skipped() -> None:
    body = b"""<?xml version="1.0"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>http://[::1/broken-ipv6</loc></url>
<url><loc>https://news.example/after</loc></url>
</urlset>
"""
    sitemap = parse_sitemap(body, SITEMAP_URL)
    assert [entry.url for entry in sitemap.entries] == ["https://news.example/after"]
    assert sitemap.skipped == ("http://[::1/broken-ipv6",)


@pytest.mark.parametrize("kind", ["urlset", "sitemapindex"])
def test_locs_no_request_can_be_made_for_are_skipped_and_named(kind: str) -> None:
    tag = "url" if kind == "urlset" else "sitemap"
    locs = [
        "https://news.example/a",
        "mailto:desk@news.example",
        "javascript:void(0)",
        "https://news.example:99999/b",
        "https://news.example:0/c",
        "https://a..b/d",
        "relative/e",  # resolved against the sitemap's URL
    ]
    body = (
        f'<{kind} xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + "".join(f"<{tag}><loc>{loc}</loc></{tag}>" for loc in locs)
        + f"</{kind}>"
    ).encode()
    sitemap = parse_sitemap(body, SITEMAP_URL)
    assert [entry.url for entry in sitemap.entries] == [
        "https://news.example/a",
        urljoin(SITEMAP_URL, "relative/e"),
    ]
    assert sitemap.skipped == tuple(locs[1:6])
    assert sitemap.error is None


# --- Google News sitemaps -------------------------------------------------------------------

NEWS_SITEMAP = b"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"
        xmlns:image="http://www.google.com/schemas/sitemap-image/1.1">
  <url>
    <loc>https://news.example/2024/05/merger</loc>
    <lastmod>2024-05-01T12:00:00Z</lastmod>
    <image:image>
      <image:loc>https://news.example/img/merger.jpg</image:loc>
      <image:title>A photo, not the story</image:title>
    </image:image>
    <news:news>
      <news:publication>
        <news:name>The Example Times</news:name>
        <news:language>en</news:language>
      </news:publication>
      <news:publication_date>2024-05-01T10:00:00+02:00</news:publication_date>
      <news:title>  Companies A &amp; B
        in merger talks  </news:title>
    </news:news>
  </url>
  <url>
    <loc>/2024/05/zusammenschluss</loc>
    <news:news>
      <news:publication>
        <news:name>Die Beispielzeitung</news:name>
        <news:language>de</news:language>
      </news:publication>
      <news:publication_date>2024-05-02</news:publication_date>
      <news:title><![CDATA[Fusion: A & B verhandeln]]></news:title>
    </news:news>
  </url>
  <url>
    <loc>https://news.example/2024/05/not-news</loc>
  </url>
</urlset>
"""

NEWS_ENTRIES = [
    SitemapEntry(
        url="https://news.example/2024/05/merger",
        lastmod="2024-05-01T12:00:00Z",
        news_title="Companies A & B in merger talks",
        news_published="2024-05-01T10:00:00+02:00",
        news_language="en",
    ),
    SitemapEntry(
        url="https://news.example/2024/05/zusammenschluss",
        news_title="Fusion: A & B verhandeln",
        news_published="2024-05-02",
        news_language="de",
    ),
    SitemapEntry(url="https://news.example/2024/05/not-news"),
]


def test_google_news_sitemap() -> None:
    sitemap = parse_sitemap(NEWS_SITEMAP, SITEMAP_URL)
    assert sitemap.kind == "urlset"
    assert sitemap.entries == NEWS_ENTRIES


def test_news_published_datetime_keeps_the_offset() -> None:
    first, second, third = parse_sitemap(NEWS_SITEMAP, SITEMAP_URL).entries
    published = news_published_datetime(first)
    assert published == datetime(2024, 5, 1, 8, 0, tzinfo=UTC)
    assert published is not None
    assert published.utcoffset() == timedelta(hours=2)
    assert news_published_datetime(second) == datetime(2024, 5, 2)
    assert news_published_datetime(third) is None
    assert lastmod_datetime(first) == datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    garbled = SitemapEntry(url="https://news.example/x", news_published="yesterday-ish")
    assert news_published_datetime(garbled) is None


@pytest.mark.parametrize(
    "body",
    [
        # An unusual prefix for the news namespace.
        NEWS_SITEMAP.replace(b"xmlns:news=", b"xmlns:gn=")
        .replace(b"<news:", b"<gn:")
        .replace(b"</news:", b"</gn:"),
        # The news prefix used but never declared.
        NEWS_SITEMAP.replace(b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"', b""),
        # The news namespace declared under an outdated URI.
        NEWS_SITEMAP.replace(b"sitemap-news/0.9", b"sitemap-news/0.8"),
        # No namespace declarations at all, prefixes left in place.
        NEWS_SITEMAP.replace(b'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"', b"")
        .replace(b'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9"', b"")
        .replace(b'xmlns:image="http://www.google.com/schemas/sitemap-image/1.1"', b""),
        # The news elements in the default namespace, without a prefix.
        NEWS_SITEMAP.replace(b"<news:", b"<").replace(b"</news:", b"</"),
    ],
    ids=["odd-prefix", "undeclared-prefix", "other-uri", "no-namespaces", "no-prefix"],
)
def test_google_news_sitemap_with_odd_namespaces(body: bytes) -> None:
    assert body != NEWS_SITEMAP  # the variant really differs
    sitemap = parse_sitemap(body, SITEMAP_URL)
    assert sitemap.kind == "urlset"
    assert sitemap.entries == NEWS_ENTRIES


def test_truncated_news_sitemap_leaves_out_a_cut_title() -> None:
    cut = NEWS_SITEMAP.index(b"Companies A") + len(b"Companies")
    sitemap = parse_sitemap(NEWS_SITEMAP[:cut], SITEMAP_URL)
    assert sitemap.entries == [
        SitemapEntry(
            url="https://news.example/2024/05/merger",
            lastmod="2024-05-01T12:00:00Z",
            news_title=None,  # not "Companies"
            news_published="2024-05-01T10:00:00+02:00",
            news_language="en",
        )
    ]


def test_news_fields_are_read_only_where_google_news_puts_them() -> None:
    body = b"""<?xml version="1.0"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url>
  <loc>https://news.example/a</loc>
  <news:title>Not inside news:news</news:title>
  <news:news>
    <news:language>en-outside-publication</news:language>
    <news:publication_date></news:publication_date>
  </news:news>
</url>
</urlset>
"""
    assert parse_sitemap(body, SITEMAP_URL).entries == [SitemapEntry(url="https://news.example/a")]


# --- a large sitemap ------------------------------------------------------------------------

LARGE_SITEMAP_URLS = 100_000


@pytest.fixture(scope="module")
def large_sitemap() -> bytes:
    """A 100,000-URL sitemap (about 11 MB): twice the most the sitemap protocol allows."""
    head = b'<?xml version="1.0" encoding="UTF-8"?>\n'
    head += b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
    urls = b"".join(
        b"<url><loc>https://news.example/2024/05/story-%06d</loc>"
        b"<lastmod>2024-05-01T10:00:00+02:00</lastmod></url>\n" % number
        for number in range(LARGE_SITEMAP_URLS)
    )
    return head + urls + b"</urlset>\n"


_MEASURE_PARSE = """
import json, sys
from pathlib import Path
from crawler.sitemaps import parse_sitemap

def peak():
    # this program's own peak (getrusage's ru_maxrss keeps the forking parent's across exec:
    # under the whole suite, pytest's, which would hide the growth measured here)
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) * 1024

xml = Path(sys.argv[1]).read_bytes()
before = peak()
sitemap = parse_sitemap(xml, "https://news.example/sitemap.xml")
after = peak()
last = sitemap.entries[-1]
print(json.dumps({"entries": len(sitemap.entries), "peak_growth": after - before,
                  "last": [last.url, last.lastmod]}))
"""


def test_large_sitemap_parsed_with_its_tree_freed_as_it_goes(
    large_sitemap: bytes, tmp_path: Path
) -> None:
    pytest.importorskip("resource")
    # The growth of the peak resident size of a fresh process: Python's objects and libxml2's
    # alike (tracemalloc sees Python's alone, at ~30 s of the suite on a slow machine). It
    # shows whether the tree is cleared while parsing (about 30 MB, the entries; the input, 11
    # MB, is read before) or kept whole (about 100 MB more).
    path = tmp_path / "sitemap.xml"
    path.write_bytes(large_sitemap)
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE_PARSE, str(path)],
        cwd=ROOT,
        capture_output=True,
        check=True,
        timeout=120,
    )
    measured = json.loads(result.stdout)
    assert measured["entries"] == LARGE_SITEMAP_URLS
    assert measured["last"] == [
        "https://news.example/2024/05/story-099999",
        "2024-05-01T10:00:00+02:00",
    ]
    assert measured["peak_growth"] < 60 * 1024 * 1024


# --- robots.txt and default locations -------------------------------------------------------

ROBOTS_URL = "https://news.example/robots.txt"


def test_sitemaps_from_robots() -> None:
    body = (
        b"\xef\xbb\xbfSitemap: https://news.example/sitemap.xml\r\n"
        b"User-agent: *\r\n"
        b"Disallow: /private/\r\n"
        b"sitemap: /sitemaps/news.xml\r\n"  # relative, lower case
        b"  SITEMAP:   https://news.example/sitemap.xml   \r\n"  # a repeat
        b"Sitemap: https://news.example/sitemaps/news.xml\r\n"  # the relative one, absolute
        b"Sitemap: ftp://news.example/sitemap.xml\r\n"
        b"Sitemap: mailto:webmaster@news.example\r\n"
        b"Sitemap: http://[::1/broken-ipv6.xml\r\n"
        b"Sitemap:\r\n"
        b"Sitemap: https://news.example/archive.xml # the old articles\r\n"
        b"Sitemap: https://cdn.example/other-host.xml.gz\r\n"
        b"# Sitemap: https://news.example/commented-out.xml\r\n"
    )
    assert sitemaps_from_robots(body, ROBOTS_URL) == [
        "https://news.example/sitemap.xml",
        "https://news.example/sitemaps/news.xml",
        "https://news.example/archive.xml",
        "https://cdn.example/other-host.xml.gz",
    ]


def test_sitemaps_from_robots_skips_values_that_are_not_urls() -> None:
    body = (
        b"User-agent: *\n"
        b"Sitemap: <a href='/sitemap.xml'>our sitemap</a>\n"
        b"Sitemap: see https://news.example/sitemap.xml\n"
        b'Sitemap: "https://news.example/quoted.xml"\n'
        b"Sitemap: \x00\x01\x02\x7f\n"
        b"Sitemap: https://news.example/tab\tseparated.xml\n"
        b"Sitemap: https://news.example/real.xml\n"
    )
    assert sitemaps_from_robots(body, ROBOTS_URL) == ["https://news.example/real.xml"]


def test_sitemaps_from_robots_with_old_mac_line_endings() -> None:
    body = b"User-agent: *\rSitemap: /a.xml\rSitemap: /b.xml\r"
    assert sitemaps_from_robots(body, ROBOTS_URL) == [
        "https://news.example/a.xml",
        "https://news.example/b.xml",
    ]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        (
            b"\n<!DOCTYPE html>\n<html><head><title>Not found</title></head><body>\n"
            b"Sitemap: /sitemap.xml\n<p>Sorry, no page here.</p></body></html>\n"
        ),
        b"  <html><body><p>Our pages:\nSitemap: <a href='/sitemap'>site map</a></p>\n",
        bytes(range(256)) * 100,
        b"Sitemap: \xff\xfe\xfd-not-utf-8\n",
        b"x" * (2 * ROBOTS_MAX_SIZE),
        b"Sitemap: " + b"\x00\x01" * ROBOTS_MAX_SIZE,
    ],
    ids=["empty", "html", "html-fragment", "binary", "undecodable", "huge", "huge-line"],
)
def test_sitemaps_from_robots_that_is_not_a_robots_txt(body: bytes) -> None:
    assert sitemaps_from_robots(body, ROBOTS_URL) == []


def test_sitemaps_from_robots_reads_only_the_first_500_kib() -> None:
    padding = b"# padding\n" * (ROBOTS_MAX_SIZE // 10)
    body = b"Sitemap: /first.xml\n" + padding + b"Sitemap: /beyond-the-limit.xml\n"
    assert len(body) > ROBOTS_MAX_SIZE
    assert sitemaps_from_robots(body, ROBOTS_URL) == ["https://news.example/first.xml"]


def test_sitemaps_from_robots_drops_a_line_cut_at_the_limit() -> None:
    filler = b"# " + b"x" * (ROBOTS_MAX_SIZE - 40) + b"\n"
    body = filler + b"Sitemap: https://news.example/sitemap-with-a-long-name.xml\n"
    assert ROBOTS_MAX_SIZE - len(filler) < len(b"Sitemap: https://news.example/sitemap-with")
    # Never "https://news.example/sitemap-wi", a URL the site does not have.
    assert sitemaps_from_robots(body, ROBOTS_URL) == []


def test_default_sitemap_urls_at_the_site_root() -> None:
    assert DEFAULT_SITEMAP_PATHS == ("/sitemap.xml", "/sitemap_index.xml", "/news-sitemap.xml")
    assert default_sitemap_urls("https://example.com/some/page") == [
        "https://example.com/sitemap.xml",
        "https://example.com/sitemap_index.xml",
        "https://example.com/news-sitemap.xml",
    ]


def test_default_sitemap_urls_keep_the_port_and_drop_the_query() -> None:
    assert default_sitemap_urls("http://news.example:8080/a/b.html?page=2#top") == [
        "http://news.example:8080/sitemap.xml",
        "http://news.example:8080/sitemap_index.xml",
        "http://news.example:8080/news-sitemap.xml",
    ]


@pytest.mark.parametrize(
    "site_url", ["", "/relative/page", "ftp://news.example/", "mailto:x@news.example"]
)
def test_default_sitemap_urls_need_an_http_url(site_url: str) -> None:
    assert default_sitemap_urls(site_url) == []


def test_a_bare_ampersand_in_a_location_loses_no_entry() -> None:
    # libxml2's recovery lost the entry and took the sound rest of the file for cut short
    xml = (
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://news.example/a-1</loc></url>"
        b"<url><loc>https://news.example/story?id=2&lang=en</loc></url>"
        b"<url><loc>https://news.example/c-3?x=1&amp;y=2</loc></url>"
        b"<url><loc>https://news.example/d-4</loc>"
        b"<news:news xmlns:news='http://www.google.com/schemas/sitemap-news/0.9'>"
        b"<news:title><![CDATA[A & B &amp; C]]></news:title></news:news></url>"
        b"</urlset>"
    )
    sitemap = parse_sitemap(xml, SITEMAP_URL)
    assert [entry.url for entry in sitemap.entries] == [
        "https://news.example/a-1",
        "https://news.example/story?id=2&lang=en",
        "https://news.example/c-3?x=1&y=2",
        "https://news.example/d-4",
    ]
    assert sitemap.entries[-1].news_title == "A & B &amp; C"  # CDATA is text as it stands
    assert sitemap.error is None


def test_an_entry_without_a_location_is_counted() -> None:
    xml = (
        b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        b"<url><loc>https://news.example/a-1</loc></url><url><lastmod>2024-05-01</lastmod></url>"
        b"</urlset>"
    )
    sitemap = parse_sitemap(xml, SITEMAP_URL)
    assert len(sitemap.entries) == 1
    assert sitemap.skipped == ("",)


def test_a_text_sitemap_lists_one_url_a_line() -> None:
    # the sitemap protocol's text format (one URL a line, UTF-8) was "Not a sitemap"
    body = (
        b"\xef\xbb\xbfhttps://news.test/2024/05/01/a.html\r\n\n"
        b"  https://news.test/2024/05/02/b.html  \nHTTP://news.test:99999/c.html\n"
    )
    sitemap = parse_sitemap(body, "https://news.test/sitemap.txt")
    assert sitemap.kind == "text"
    assert [entry.url for entry in sitemap.entries] == [
        "https://news.test/2024/05/01/a.html",
        "https://news.test/2024/05/02/b.html",
    ]
    assert sitemap.skipped == ("HTTP://news.test:99999/c.html",)
    assert sitemap.error is None


@pytest.mark.parametrize(
    "body",
    [
        b"https://news.test/a.html and some prose\n",  # prose: not a list of URLs
        b"https://news.test/a.html\n/relative.html\n",
        b"<html><body>https://news.test/a.html</body></html>",
        b"https://news.test/\xff\xfe.html",  # not UTF-8
        b"",
    ],
)
def test_text_that_is_not_a_url_a_line_is_no_sitemap(body: bytes) -> None:
    assert parse_sitemap(body, "https://news.test/sitemap.txt").kind is None
