"""Tests for crawler/feeds.py: RSS 2.0, RSS 1.0 and Atom entries, and hostile feeds."""

from __future__ import annotations

import tracemalloc
from datetime import UTC, datetime, timedelta
from urllib.parse import urljoin

import pytest

from crawler.feeds import FEED_TYPES, FeedEntry, ParsedFeed, feed_links, parse_feed

FEED_URL = "https://news.example/feeds/main.xml"

RSS2 = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0">
<channel>
  <title>Example News</title>
  <link>https://news.example/</link>
  <description>All the news</description>
  <item>
    <title>  First story  </title>
    <link>https://news.example/2023/08/first</link>
    <pubDate>Tue, 15 Aug 2023 16:39:00 +0300</pubDate>
  </item>
  <item>
    <title>Second story</title>
    <link>https://news.example/2023/08/second</link>
    <pubDate>Wed, 16 Aug 2023 08:00:00 GMT</pubDate>
  </item>
  <item>
    <title>Third story</title>
    <link>https://news.example/2023/08/third</link>
  </item>
</channel>
</rss>
"""


def test_rss2_entries_in_order() -> None:
    feed = parse_feed(RSS2, FEED_URL)
    assert isinstance(feed, ParsedFeed)
    assert feed.is_feed
    assert feed.error is None
    assert [entry.url for entry in feed.entries] == [
        "https://news.example/2023/08/first",
        "https://news.example/2023/08/second",
        "https://news.example/2023/08/third",
    ]
    assert [entry.title for entry in feed.entries] == [
        "First story",
        "Second story",
        "Third story",
    ]


def test_rss2_pubdate_is_utc_datetime() -> None:
    first, second, third = parse_feed(RSS2, FEED_URL).entries
    assert first.published_at == datetime(2023, 8, 15, 13, 39, tzinfo=UTC)
    assert first.published_at is not None
    assert first.published_at.utcoffset() == timedelta(0)
    assert first.published_at.tzinfo is UTC
    assert second.published_at == datetime(2023, 8, 16, 8, 0, tzinfo=UTC)
    assert third.published_at is None


ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Example Atom</title>
  <id>urn:uuid:60a76c80-d399-11d9-b93C-0003939e0af6</id>
  <updated>2023-08-16T00:00:00Z</updated>
  <entry>
    <title>Atom one</title>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <link rel="self" href="https://news.example/api/entries/1"/>
    <link rel="alternate" type="text/html" href="https://news.example/atom/one"/>
    <updated>2023-08-15T16:39:00+03:00</updated>
  </entry>
  <entry>
    <title>Atom two</title>
    <id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6b</id>
    <link rel="enclosure" href="https://news.example/media/two.mp3"/>
    <link href="https://news.example/atom/two"/>
    <updated>2023-08-16T00:00:00Z</updated>
  </entry>
</feed>
"""


def test_atom_alternate_link_and_updated() -> None:
    feed = parse_feed(ATOM, FEED_URL)
    assert feed.is_feed
    assert feed.error is None
    assert feed.entries == [
        FeedEntry(
            url="https://news.example/atom/one",
            title="Atom one",
            published_at=datetime(2023, 8, 15, 13, 39, tzinfo=UTC),
        ),
        FeedEntry(
            url="https://news.example/atom/two",
            title="Atom two",
            published_at=datetime(2023, 8, 16, 0, 0, tzinfo=UTC),
        ),
    ]


def test_atom_entry_without_link_uses_id_only_when_it_is_an_http_url() -> None:
    body = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>t</title><id>urn:x</id><updated>2023-08-16T00:00:00Z</updated>
  <entry><title>By id</title><id>https://news.example/by-id</id>
    <updated>2023-08-16T00:00:00Z</updated></entry>
  <entry><title>Urn id</title><id>urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a</id>
    <updated>2023-08-16T00:00:00Z</updated></entry>
  <entry><title>Tag id</title><id>tag:news.example,2023:story-7</id>
    <updated>2023-08-16T00:00:00Z</updated></entry>
</feed>
"""
    feed = parse_feed(body, FEED_URL)
    # An entry whose only identifier is a URN or tag URI has no link: it is skipped, and
    # never becomes a request for "urn:uuid:..." or "tag:...".
    assert [entry.url for entry in feed.entries] == ["https://news.example/by-id"]


def test_rss_guid_that_is_not_a_url_is_not_a_link() -> None:
    body = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>t</title><link>https://news.example/</link>
<item><title>Numeric guid</title><guid>123456</guid></item>
<item><title>Permalink guid</title><guid>https://news.example/perma</guid></item>
<item><title>Not permalink</title><guid isPermaLink="false">https://news.example/x</guid></item>
</channel></rss>
"""
    feed = parse_feed(body, FEED_URL)
    # "123456" must not be resolved into https://news.example/feeds/123456.
    assert [entry.url for entry in feed.entries] == [
        "https://news.example/perma",
        "https://news.example/x",
    ]


RSS1 = b"""<?xml version="1.0" encoding="utf-8"?>
<rdf:RDF
  xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
  xmlns:dc="http://purl.org/dc/elements/1.1/"
  xmlns="http://purl.org/rss/1.0/">
  <channel rdf:about="https://news.example/">
    <title>Example RDF</title>
    <link>https://news.example/</link>
    <description>d</description>
    <items><rdf:Seq>
      <rdf:li rdf:resource="https://news.example/rdf/1"/>
      <rdf:li rdf:resource="https://news.example/rdf/2"/>
    </rdf:Seq></items>
  </channel>
  <item rdf:about="https://news.example/rdf/1">
    <title>RDF one</title>
    <link>https://news.example/rdf/1</link>
    <dc:date>2023-08-15T16:39:00+03:00</dc:date>
  </item>
  <item rdf:about="https://news.example/rdf/2">
    <title>RDF two</title>
    <link>https://news.example/rdf/2</link>
  </item>
</rdf:RDF>
"""


def test_rss1_rdf_feed() -> None:
    feed = parse_feed(RSS1, FEED_URL)
    assert feed.is_feed
    assert feed.error is None
    assert feed.entries == [
        FeedEntry(
            url="https://news.example/rdf/1",
            title="RDF one",
            published_at=datetime(2023, 8, 15, 13, 39, tzinfo=UTC),
        ),
        FeedEntry(url="https://news.example/rdf/2", title="RDF two", published_at=None),
    ]


def test_relative_links_resolved_against_feed_url() -> None:
    body = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>t</title><link>https://news.example/</link>
<item><title>Root relative</title><link>/world/story-1</link></item>
<item><title>Path relative</title><link>story-2.html</link></item>
<item><title>Dot dot</title><link>../archive/story-3</link></item>
<item><title>Padded</title><link>
   story-4
</link></item>
<item><title>Absolute</title><link>https://other.example/x</link></item>
</channel></rss>
"""
    feed = parse_feed(body, FEED_URL)
    assert [entry.url for entry in feed.entries] == [
        "https://news.example/world/story-1",
        "https://news.example/feeds/story-2.html",
        "https://news.example/archive/story-3",
        "https://news.example/feeds/story-4",
        "https://other.example/x",
    ]


def test_entries_without_link_skipped() -> None:
    body = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>t</title><link>https://news.example/</link>
<item><title>No link at all</title><description>text</description></item>
<item><title>Has a link</title><link>https://news.example/a</link></item>
<item><title>Non-permalink guid</title><guid isPermaLink="false">tag-123</guid></item>
<item><title>Empty link</title><link></link></item>
</channel></rss>
"""
    feed = parse_feed(body, FEED_URL)
    assert feed.is_feed
    assert [entry.url for entry in feed.entries] == ["https://news.example/a"]


def test_links_no_request_can_be_made_for_are_skipped_and_named() -> None:
    body = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>t</title><link>https://news.example/</link>
<item><title>Before</title><link>https://news.example/a</link></item>
<item><title>Mail</title><link>mailto:desk@news.example</link></item>
<item><title>Broken host</title><link>http://[::1</link></item>
<item><title>Bad port</title><link>https://news.example:99999/b</link></item>
<item><title>After</title><link>/c</link></item>
</channel></rss>
"""
    feed = parse_feed(body, FEED_URL)
    assert [entry.url for entry in feed.entries] == [
        "https://news.example/a",
        urljoin(FEED_URL, "/c"),
    ]
    assert feed.skipped == (
        "mailto:desk@news.example",
        "http://[::1",
        "https://news.example:99999/b",
    )


def test_empty_title_becomes_none() -> None:
    body = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>t</title><link>https://news.example/</link>
<item><title>   </title><link>https://news.example/a</link></item>
<item><link>https://news.example/b</link></item>
</channel></rss>
"""
    feed = parse_feed(body, FEED_URL)
    assert [(entry.url, entry.title) for entry in feed.entries] == [
        ("https://news.example/a", None),
        ("https://news.example/b", None),
    ]


def test_truncated_feed_keeps_entries_read_before_the_break() -> None:
    cut = RSS2.index(b"https://news.example/2023/08/third") + len(b"https://news.exa")
    feed = parse_feed(RSS2[:cut], FEED_URL)
    assert feed.is_feed
    assert feed.error  # the parser's complaint is reported
    urls = [entry.url for entry in feed.entries]
    assert urls[:2] == [
        "https://news.example/2023/08/first",
        "https://news.example/2023/08/second",
    ]
    # The entry cut in its link never yields a made-up URL.
    assert "https://news.exa" not in urls
    assert all(url.startswith("https://news.example/2023/08/") for url in urls)
    assert feed.entries[0].published_at == datetime(2023, 8, 15, 13, 39, tzinfo=UTC)


def test_truncated_feed_mid_tag() -> None:
    cut = RSS2.index(b"<title>Second story") + len(b"<tit")
    feed = parse_feed(RSS2[:cut], FEED_URL)
    assert feed.is_feed
    assert feed.error
    assert [entry.url for entry in feed.entries] == ["https://news.example/2023/08/first"]


def test_html_page_is_not_a_feed() -> None:
    body = (
        b"<!DOCTYPE html><html><head><title>Front page</title></head><body>"
        b"<h1>News</h1><a href='/world/story-1'>Story</a>"
        b"<a href='/feed.xml'>RSS</a></body></html>"
    )
    feed = parse_feed(body, "https://news.example/")
    assert not feed.is_feed
    assert feed.entries == []


def test_empty_bytes_is_not_a_feed() -> None:
    feed = parse_feed(b"", FEED_URL)
    assert not feed.is_feed
    assert feed.entries == []


def test_garbage_is_not_a_feed() -> None:
    feed = parse_feed(bytes(range(256)) * 4, FEED_URL)
    assert not feed.is_feed
    assert feed.entries == []


_LOL_LEVELS = "\n".join(
    f'<!ENTITY lol{level} "{f"&lol{level - 1};" * 10}">' for level in range(1, 10)
)
BILLION_LAUGHS = f"""<?xml version="1.0"?>
<!DOCTYPE rss [
<!ENTITY lol0 "lol">
{_LOL_LEVELS}
]>
<rss version="2.0"><channel><title>&lol9;</title><link>https://news.example/</link>
<description>&lol9;</description>
<item><title>&lol9;</title><link>https://news.example/a/&lol9;</link>
<description>&lol9;</description></item>
<item><title>Plain</title><link>https://news.example/plain</link></item>
</channel></rss>
""".encode()


def test_billion_laughs_returns_without_huge_strings() -> None:
    assert b"&lol8;&lol8;" in BILLION_LAUGHS  # the bomb is really there
    tracemalloc.start()
    try:
        feed = parse_feed(BILLION_LAUGHS, FEED_URL)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # A full expansion is 3 * 10**9 characters per reference: gigabytes.
    assert peak < 50 * 1024 * 1024
    for entry in feed.entries:
        assert len(entry.url) < 10_000
        assert entry.title is None or len(entry.title) < 10_000
        assert "lollol" not in entry.url
        assert "lollol" not in (entry.title or "")


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE rss [
<!ENTITY xxe SYSTEM "file:///etc/passwd">
]>
<rss version="2.0"><channel><title>&xxe;</title><link>https://news.example/</link>
<item><title>&xxe;</title><link>https://news.example/a?leak=&xxe;</link></item>
<item><title>Safe &xxe; title</title><link>https://news.example/b</link></item>
</channel></rss>
"""


def test_external_entity_never_read() -> None:
    feed = parse_feed(XXE, FEED_URL)
    for entry in feed.entries:
        assert "root:" not in entry.url
        assert "root:" not in (entry.title or "")
        assert "/bin/" not in entry.url
        assert "/bin/" not in (entry.title or "")


# --- feed autodiscovery ---------------------------------------------------------------------

PAGE_URL = "https://news.example/world/index.html"

FRONT_PAGE = b"""<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>World news</title>
  <link rel="stylesheet" type="text/css" href="/static/site.css">
  <link rel="alternate" type="application/rss+xml" title="World (RSS)" href="/world/rss.xml">
  <link rel="alternate" hreflang="fr" href="https://news.example/fr/monde/">
  <link rel="alternate" hreflang="x-default" href="https://news.example/world/">
  <link rel="alternate" media="only screen and (max-width: 640px)" href="https://m.news.example/">
  <link rel="alternate" type="application/atom+xml" title="World (Atom)" href="atom.xml">
  <link rel="alternate" type="application/json" href="/world/feed.json">
  <link rel="alternate" type="application/feed+json" href="/world/feed.json">
  <link rel="canonical" href="https://news.example/world/">
  <link rel="alternate" type="application/rss+xml" href="/world/rss.xml">
  <link rel="alternate" type="text/html" href="/world/print.html">
</head>
<body><a rel="alternate" type="application/rss+xml" href="/anchor-is-not-a-link.xml">RSS</a></body>
</html>
"""


def test_feed_links_rss_atom_and_json_feed_in_document_order() -> None:
    assert feed_links(FRONT_PAGE, PAGE_URL) == [
        "https://news.example/world/rss.xml",
        "https://news.example/world/atom.xml",  # relative to the page, repeat dropped
        "https://news.example/world/feed.json",  # application/feed+json, not application/json
    ]


def test_feed_types_are_the_xml_feeds_and_json_feed() -> None:
    assert {
        "application/rss+xml",
        "application/atom+xml",
        "application/rdf+xml",
        "application/feed+json",
    } == FEED_TYPES


def test_feed_links_rel_tokens_and_type_case() -> None:
    page = """<html><head>
<LINK REL="Alternate Feed" TYPE="Application/RSS+XML" HREF="/a.rss">
<link rel="  feed   alternate " type="application/atom+xml; charset=utf-8" href="/b.atom">
<link rel="alternate" type=" APPLICATION/RDF+XML " href="/c.rdf">
<link rel="alternative" type="application/rss+xml" href="/not-the-alternate-token.rss">
<link rel="alternate-feed" type="application/rss+xml" href="/not-a-token-either.rss">
<link rel="feed" type="application/rss+xml" href="/feed-without-alternate.rss">
<link type="application/rss+xml" href="/no-rel.rss">
<link rel="alternate" href="/no-type.rss">
</head></html>"""
    assert feed_links(page, PAGE_URL) == [
        "https://news.example/a.rss",
        "https://news.example/b.atom",
        "https://news.example/c.rdf",
    ]


def test_feed_links_resolved_against_base_href() -> None:
    page = b"""<html><head>
<link rel="alternate" type="application/rss+xml" href="before-base.xml">
<base href="/feeds/">
<base href="https://ignored.example/">
<link rel="alternate" type="application/rss+xml" href="main.xml">
<link rel="alternate" type="application/atom+xml" href="//cdn.example/atom.xml">
<link rel="alternate" type="application/rss+xml" href="https://other.example/rss">
</head><body></body></html>"""
    # The first <base href> sets the document's base URL, for links before it too.
    assert feed_links(page, PAGE_URL) == [
        "https://news.example/feeds/before-base.xml",
        "https://news.example/feeds/main.xml",
        "https://cdn.example/atom.xml",
        "https://other.example/rss",
    ]


def test_feed_links_base_without_href_is_ignored() -> None:
    page = b"""<head><base target="_blank">
<link rel="alternate" type="application/rss+xml" href="rss.xml"></head>"""
    assert feed_links(page, PAGE_URL) == ["https://news.example/world/rss.xml"]


def test_feed_links_only_http_urls_without_repeats() -> None:
    page = b"""<head>
<link rel="alternate" type="application/rss+xml" href="javascript:alert(1)">
<link rel="alternate" type="application/rss+xml" href="feed://news.example/rss.xml">
<link rel="alternate" type="application/rss+xml" href="data:application/rss+xml,<rss/>">
<link rel="alternate" type="application/rss+xml" href="">
<link rel="alternate" type="application/rss+xml" href="   ">
<link rel="alternate" type="application/rss+xml" href="http://[::1/broken">
<link rel="alternate" type="application/rss+xml" href="  http://news.example/rss.xml  ">
<link rel="alternate" type="application/rss+xml" href="http://news.example/rss.xml">
<link rel="alternate" type="application/rss+xml" href="/rss.xml?edition=us&amp;format=rss">
</head>"""
    assert feed_links(page, PAGE_URL) == [
        "http://news.example/rss.xml",
        "https://news.example/rss.xml?edition=us&format=rss",
    ]


def test_feed_links_in_broken_html() -> None:
    page = b"""<title>No html, no head</title><meta charset=utf-8>
<div><p><b>Nothing closed
<link rel=alternate type=application/rss+xml href=/in-body.xml>
<table><tr><td><link rel='alternate' type='application/atom+xml' href='/in-a-cell.xml'>
</span></i></html></body>
<link rel="alternate" type="application/rss+xml" href="/after-the-end.xml">
<p><link rel="alternate" type="application/rss+xml" href="/unterminated"""
    links = feed_links(page, PAGE_URL)
    assert links[:2] == ["https://news.example/in-body.xml", "https://news.example/in-a-cell.xml"]
    # A tag cut at the end of the document never yields a link.
    assert "https://news.example/unterminated" not in links


def test_feed_links_decoding() -> None:
    declared = (
        b'<head><meta charset="windows-1252">'
        b'<link rel="alternate" type="application/rss+xml" href="/caf\xe9.xml"></head>'
    )
    utf8 = '<link rel="alternate" type="application/rss+xml" href="/café.xml">'.encode()
    xml_declaration = (
        "<?xml version='1.0' encoding='iso-8859-1'?>"
        '<html><head><link rel="alternate" type="application/rss+xml" href="/café.xml">'
    )
    assert feed_links(declared, PAGE_URL) == ["https://news.example/café.xml"]
    assert feed_links(utf8, PAGE_URL) == ["https://news.example/café.xml"]
    assert feed_links(xml_declaration, PAGE_URL) == ["https://news.example/café.xml"]


@pytest.mark.parametrize(
    "html",
    [
        b"",
        "",
        b"   \n\t",
        bytes(range(256)) * 16,
        b"\x00" * 1000,
        b"<<<garbage>>>",
        b"\x89PNG\r\n\x1a\n" + bytes(512),
        "\ud800 lone surrogate, no links",
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>',
    ],
    ids=["empty", "empty-str", "blank", "binary", "nul", "garbage", "png", "surrogate", "rss"],
)
def test_feed_links_without_a_page(html: bytes | str) -> None:
    assert feed_links(html, PAGE_URL) == []


def test_feed_links_after_a_nul_byte() -> None:
    page = b'<head>\x00<link rel="alternate" type="application/rss+xml" href="/rss.xml"></head>'
    assert feed_links(page, PAGE_URL) == ["https://news.example/rss.xml"]


def test_feed_links_in_xhtml() -> None:
    page = b"""<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN"
  "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">
<html xmlns="http://www.w3.org/1999/xhtml"><head>
<link rel="alternate" type="application/rss+xml" href="/xhtml.rss" />
</head><body /></html>"""
    assert feed_links(page, PAGE_URL) == ["https://news.example/xhtml.rss"]


def test_an_item_without_a_link_is_counted() -> None:
    # it disappeared: "lists 1 articles", nothing said of the two others
    rss = (
        b'<rss version="2.0"><channel><title>t</title>'
        b"<item><title>a</title><link>https://news.example/a-1</link></item>"
        b"<item><title>no link</title></item>"
        b'<item><title>no permalink</title><guid isPermaLink="false">x-2</guid></item>'
        b"</channel></rss>"
    )
    feed = parse_feed(rss, "https://news.example/rss.xml")
    assert [entry.url for entry in feed.entries] == ["https://news.example/a-1"]
    assert list(feed.skipped) == ["", ""]


def test_a_json_feed_gives_its_items_links_titles_and_dates() -> None:
    # feedparser 6.0 reads no JSON Feed: such a feed was "Not a feed, ignored"
    body = (
        b'{"version": "https://jsonfeed.org/version/1.1", "title": "News", "items": ['
        b'{"id": "1", "url": "https://news.test/2024/05/01/a.html", "title": " Quake ",'
        b' "date_published": "2024-05-01T10:00:00+02:00"},'
        b'{"id": "2", "url": "/2024/05/02/b.html", "date_published": "May 2"},'
        b'{"id": "3", "url": "mailto:desk@news.test"}, {"id": "4"}]}'
    )
    feed = parse_feed(body, "https://news.test/feed.json")
    assert feed.is_feed
    assert feed.error is None
    assert feed.entries == [
        FeedEntry(
            url="https://news.test/2024/05/01/a.html",
            title="Quake",
            published_at=datetime(2024, 5, 1, 8, tzinfo=UTC),
        ),
        FeedEntry(url="https://news.test/2024/05/02/b.html"),
    ]
    assert feed.skipped == ("mailto:desk@news.test", "")


@pytest.mark.parametrize(
    "body",
    [b'{"items": []}', b'{"version": "1.0", "items": []}', b"[1, 2]", b"{not json"],
)
def test_json_that_is_no_json_feed_is_no_feed(body: bytes) -> None:
    assert not parse_feed(body, "https://news.test/feed.json").is_feed


def test_a_page_announces_its_json_feed_but_not_its_rest_api_view() -> None:
    # WordPress gives every page <link rel="alternate" type="application/json"> (its REST API)
    page = (
        b'<html><head><link rel="alternate" type="application/feed+json" href="/feed.json">'
        b'<link rel="alternate" type="application/json" href="/wp-json/wp/v2/posts/1">'
        b"</head><body></body></html>"
    )
    assert feed_links(page, "https://news.test/") == ["https://news.test/feed.json"]
