"""Tests for crawler/sitemaps.py: urlsets, indexes, gzip, and hostile sitemaps."""

from __future__ import annotations

import gzip
import time
import tracemalloc
import zlib
from datetime import UTC, datetime, timedelta

import pytest

from crawler.sitemaps import (
    ParsedSitemap,
    SitemapEntry,
    SitemapTooLarge,
    lastmod_datetime,
    parse_sitemap,
    sitemap_body,
)

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
    started = time.monotonic()
    try:
        with pytest.raises(SitemapTooLarge):
            sitemap_body(gzip_bomb, max_size=1_000_000)
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # Inflating stops just past max_size: nowhere near the 50 MB of the whole stream.
    assert peak < 10 * 1024 * 1024
    assert elapsed < 5


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
    started = time.monotonic()
    sitemap = parse_sitemap(body, SITEMAP_URL)
    assert time.monotonic() - started < 5
    # libxml2 may give up on the document (its amplification limit): never expand it.
    assert all(len(entry.url) < 10_000 for entry in sitemap.entries)
    assert all("lollol" not in entry.url for entry in sitemap.entries)
