"""Pages whose elements nest deeper than libxml2 builds: their article is recovered, in time
and memory linear in the page, and every other page is parsed as before."""

from __future__ import annotations

import functools
import json
import subprocess
import sys

import pytest
from lxml import etree
from lxml.html import HtmlElement, fromstring
from trafilatura.utils import HTML_PARSER
from trafilatura.utils import load_html as trafilatura_load_html

from demo.site import load_site
from extraction import extractor, markup
from extraction.markup import (
    LIBXML_MAX_DEPTH,
    MAX_DEPTH,
    MAX_DIV_CHILDREN,
    MAX_LIST_DEPTH,
    depth_truncated,
    flatten_deep_lists,
    load_html,
    parse_capped,
    parse_html,
    split_wide_divs,
)
from extraction.record import article_record
from extraction.second_opinion import readability_text

PARAGRAPHS = [
    (
        "The city council voted on Tuesday evening to approve a new plan for the harbour "
        "district, ending two years of debate over how the old warehouses should be used."
    ),
    (
        "Supporters of the plan said it would bring hundreds of homes to a part of the city that "
        "has been empty for decades, while critics warned that the cost had been underestimated."
    ),
    (
        "According to the council's own figures, the first phase will cost about 140 million "
        "euros and should be finished by the end of 2027, once the permits have been granted."
    ),
    (
        "Opposition members said they would ask the national audit office to review the "
        "financing of the project, pointing to a similar plan in a neighbouring town."
    ),
]
TITLE = "Council approves harbour district plan after two years of debate"
MARKER = "national audit office"  # in the last paragraph: the whole article, not its start
ARTICLE = (
    f"<article><h1>{TITLE}</h1>" + "".join(f"<p>{text}</p>" for text in PARAGRAPHS) + "</article>"
)
NAV = "<nav><ul><li><a href='/news'>News</a></li><li><a href='/sport'>Sport</a></li></ul></nav>"


def wrapped(variant: str, n: int) -> str:
    """The article in ``n`` elements of a variant's markup."""
    kinds = {
        "div_closed": lambda: "<div>" * n + ARTICLE + "</div>" * n,
        "div_unclosed": lambda: "<div>" * n + ARTICLE,
        "span_unclosed": lambda: "<span>" * n + ARTICLE,
        "font_unclosed": lambda: '<font size="2">' * n + ARTICLE,
        "table_nested": lambda: (
            "<table><tr><td>" * (n // 3) + ARTICLE + "</td></tr></table>" * (n // 3)
        ),
        "ul_li_nested": lambda: "<ul><li>" * (n // 2) + ARTICLE + "</li></ul>" * (n // 2),
        "deep_before": lambda: "<div>" * n + "x" + "</div>" * n + ARTICLE,  # a deep menu first
        "p_unclosed": lambda: "<p>x" * n + ARTICLE,  # libxml2 closes each: wide, not deep
        "deep_after": lambda: ARTICLE + "<div>" * n + "tail" + "</div>" * n,
    }
    return kinds[variant]()


def page(variant: str, n: int) -> bytes:
    return (
        f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{TITLE} | News"
        f"</title></head><body>{NAV}{wrapped(variant, n)}<footer>© News</footer></body></html>"
    ).encode()


def depth(tree: HtmlElement) -> int:
    deepest, stack = 0, [(tree.getroottree().getroot(), 1)]
    while stack:
        element, level = stack.pop()
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in element)
    return deepest


DEEP = ["div_closed", "div_unclosed", "span_unclosed", "font_unclosed", "table_nested",
        "ul_li_nested", "deep_before"]  # fmt: skip


@pytest.mark.parametrize("variant", DEEP)
@pytest.mark.parametrize("n", [1_000, 10_000])
def test_an_article_under_deep_markup_is_recovered(variant: str, n: int) -> None:
    record = article_record(page(variant, n), "https://news.test/harbour-plan")
    assert MARKER in record["text"]
    assert all(text[:60] in record["text"] for text in PARAGRAPHS)
    assert record["title"] == TITLE


def test_libxml2_alone_loses_it() -> None:
    """What the recovery is for: libxml2's tree stops at the 256th level."""
    tree = fromstring(page("div_unclosed", 1_000).decode(), parser=HTML_PARSER)
    assert MARKER not in tree.text_content()
    assert depth_truncated(tree)


@pytest.mark.parametrize("variant", ["p_unclosed", "deep_after"])
def test_wide_or_late_markup_keeps_its_article(variant: str) -> None:
    assert MARKER in article_record(page(variant, 1_000), "https://news.test/a")["text"]


def test_depth_truncated_tells_libxml2s_halt() -> None:
    article = "<article><p>" + "word " * 50 + "</p></article>"
    # html, body, the divs, article, p: libxml2 builds 256 levels and stops at the next
    for divs, complete, truncated in (
        (251, True, False),
        (252, True, True),  # at the limit exactly: told truncated (recovered alike)
        (253, False, True),
        (1_000, False, True),
    ):
        html = f"<html><body>{'<div>' * divs}{article}</body></html>"
        tree = fromstring(html, parser=HTML_PARSER)
        assert ("word" in tree.text_content()) is complete, divs
        assert depth_truncated(tree) is truncated, divs


def test_libxml2_applies_no_depth_limit_to_a_parser_target() -> None:
    """What the capped parse stands on: the limit is in libxml2's own tree builder."""

    class Count:
        starts = 0

        def start(self, tag: str, attrib: dict[str, str]) -> None:
            self.starts += 1

        def end(self, tag: str) -> None:
            pass

        def data(self, data: str) -> None:
            pass

        def close(self) -> int:
            return self.starts

    parser = etree.HTMLParser(target=Count())
    assert etree.fromstring("<html><body>" + "<div>" * 5_000 + "x", parser) >= 5_002


@pytest.mark.parametrize("n", [300, 10_000])
def test_the_capped_tree_keeps_the_text_within_its_depth(n: int) -> None:
    tree = parse_capped(page("div_unclosed", n).decode())
    assert tree is not None
    assert depth(tree) <= MAX_DEPTH + 1 < LIBXML_MAX_DEPTH
    assert MARKER in tree.text_content()
    assert tree.find(".//article/p") is not None  # the paragraphs stay in their article


def test_normal_pages_are_parsed_as_before() -> None:
    for site_page in load_site().pages[:20]:
        html = site_page.body().decode("utf-8", "replace")
        tree = load_html(html)
        assert tree is not None
        assert not depth_truncated(tree)
        reference = trafilatura_load_html(html)
        assert etree.tostring(tree) == etree.tostring(reference)


@pytest.mark.parametrize(
    "html",
    [
        "<html><body><form><input name=q><label>Q</label></form><p>Text</p></body></html>",
        # a string declaring its encoding: libxml2 takes it as bytes only
        '<?xml version="1.0" encoding="utf-8"?><html><body><p>Text</p></body></html>',
        '<html/><head><meta charset="utf-8"></head><body><p>Repaired</p></body></html>',
        "just some text, no markup",  # no HTML: no tree
        "<p>one block</p>",  # a fragment trafilatura takes for no HTML
        "",
        "<html><body>\x00<p>control characters\x0b</p></body></html>",
    ],
)
def test_parse_html_parses_as_trafilatura_does(html: str) -> None:
    tree = parse_html(html)
    reference = trafilatura_load_html(html)
    if reference is None:
        assert tree is None
        return
    assert tree is not None
    assert etree.tostring(tree) == etree.tostring(reference)


def test_trees_have_the_html_classes_looked_up_in_c() -> None:
    tree = parse_html("<html><body><form><input name=q></form><p>Text</p></body></html>")
    assert tree is not None
    # one class for every element (lxml.html's own parser makes a FormElement, an InputElement)
    assert {type(element) for element in tree.iter()} == {HtmlElement}
    assert tree.find(".//p").text_content() == "Text"  # the HTML methods are there
    assert type(HTML_PARSER.makeelement("form")) is not HtmlElement  # lxml.html's parser


BOUNDED = """
import json, resource, sys
resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3))
from extraction.record import article_record
record = article_record(sys.stdin.buffer.read(), "https://news.test/harbour-plan")
# the peak of this program's memory (getrusage's ru_maxrss keeps the forking parent's across exec)
with open("/proc/self/status") as status:
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"text": record["text"], "peak_kib": peak}))
"""


@pytest.mark.parametrize("variant", ["div_closed", "font_unclosed", "table_nested"])
def test_200000_nested_elements_in_bounded_memory(variant: str) -> None:
    """A 2 MB page of 200,000 nested elements, in a process whose address space is capped
    (the test guards the machine, not a time): the article, in a small multiple of the page."""
    body = page(variant, 200_000)
    done = subprocess.run(
        [sys.executable, "-c", BOUNDED], input=body, capture_output=True, timeout=120, check=True
    )
    result = json.loads(done.stdout)
    assert MARKER in result["text"]
    assert result["peak_kib"] * 1024 < 400 * 1024**2  # 84 MB measured


def list_depth(tree: HtmlElement) -> int:
    """How many lists the most deeply nested list is in."""
    return max((len(el.xpath("ancestor::ul|ancestor::ol|ancestor::dl")) for el in
                tree.iter("ul", "ol", "dl")), default=-1)  # fmt: skip


def test_lists_nested_past_the_limit_are_flattened() -> None:
    # trafilatura walks an item's descendants again for each list it is in: 150,000 items
    # under 120 nested lists (1.5 MB) took 47 s of CPU
    items = "".join(f"<li>item {n}</li>" for n in range(50))
    deep = "<ul><li>" * 120 + items + "</li></ul>" * 120
    tree = parse_html(f"<html><body><ol><li>{deep}</li></ol><dl><dt>a</dt></dl></body></html>")
    text = tree.text_content()
    assert flatten_deep_lists(tree) == 1
    assert list_depth(tree) == MAX_LIST_DEPTH - 1
    assert tree.text_content() == text
    assert len(tree.xpath("//li[not(ancestor::ul or ancestor::ol)]")) == 0
    assert flatten_deep_lists(tree) == 0


def test_menus_keep_their_lists() -> None:
    menu = "<ul><li>a<ul><li>b<ul><li>c<ol><li>d</li></ol></li></ul></li></ul></li></ul>"
    tree = parse_html(f"<html><body><nav>{menu}</nav>{ARTICLE}</body></html>")
    before = etree.tostring(tree)
    assert flatten_deep_lists(tree) == 0
    assert etree.tostring(tree) == before
    # and the deep variant's article is still whole (test_an_article_under_deep_markup...)
    record = article_record(page("ul_li_nested", 10_000), "https://news.test/harbour-plan")
    assert MARKER in record["text"]


@pytest.mark.parametrize("tag", ["label", "video", "picture", "object"])
def test_a_page_that_is_one_element_is_read_from_its_root(tag: str) -> None:
    # lxml gives such a fragment as its one element; htmldate copied it (no parent then) and
    # failed an assertion dropping it, as it drops every <label>, <video>, <picture>...
    body = f"<{tag}>{ARTICLE}<p>Published 2024-05-03 10:00</p></{tag}>"
    record = article_record(body.encode(), "https://news.test/harbour-plan")
    assert MARKER in record["text"]
    assert record["published_at"].date().isoformat() == "2024-05-03"
    tree = load_html(body)
    assert tree is not None
    assert tree.tag == "html"


def wide_div(n: int) -> str:
    """A ``div`` of ``n`` paragraphs with loose text after each (readability makes each such
    text a paragraph, inserted at its index)."""
    return "<div>lead" + "".join(f"<p>block {i}</p>tail {i} " for i in range(n)) + "</div>"


def test_wide_divs_are_split_in_order() -> None:
    # readability's time was quadratic in a div's children: 40,000 (750 KB) took 71 s of CPU
    html = f"<html><body>{wide_div(MAX_DIV_CHILDREN * 3 + 1)}<div><p>a</p></div></body></html>"
    tree = parse_html(html)
    text = tree.text_content()
    assert split_wide_divs(tree) == 1
    assert max(len(el) for el in tree.iter()) <= MAX_DIV_CHILDREN
    assert tree.text_content() == text
    assert [len(wrapper) for wrapper in tree.find("body/div")] == [MAX_DIV_CHILDREN] * 3 + [1]
    assert split_wide_divs(tree) == 0


def test_divs_too_wide_for_their_wrappers_are_split_again() -> None:
    tree = parse_html(f"<html><body>{wide_div(30)}</body></html>")
    text = tree.text_content()
    assert split_wide_divs(tree, max_children=3) == 1
    assert max(len(el) for el in tree.iter()) <= 3
    assert tree.text_content() == text
    assert [el.text_content() for el in tree.iter("p")] == [f"block {i}" for i in range(30)]


def test_a_split_page_gives_the_same_article(monkeypatch: pytest.MonkeyPatch) -> None:
    body = "".join(f"<p>{text}</p>" for text in PARAGRAPHS * 3) + "<p>Share this</p>"
    html = f"<html><body>{NAV}<div><h1>{TITLE}</h1>{body}</div></body></html>".encode()
    texts = []
    for split in (lambda tree: 0, functools.partial(split_wide_divs, max_children=3)):
        monkeypatch.setattr(markup, "split_wide_divs", split)
        extraction = extractor.extract_article(html, "https://news.test/harbour-plan")
        texts.append(extraction.text)
        tree = parse_html(html.decode())
        split(tree)
        texts.append(readability_text(tree))
    assert MARKER in texts[0]
    assert texts[2:] == texts[:2]
