"""Bylines the page's text writes (:mod:`extraction.bylines`): where they are looked for."""

from __future__ import annotations

import pytest
from lxml.html import HtmlElement, fromstring

from extraction.bylines import (
    HEADER_TEXT_NODES,
    TextBylines,
    closing_names,
    east_asian_bylines,
    header_bylines,
    markup_in_chinese,
    name_lines,
    paragraph_bylines,
    text_bylines,
    writes_chinese,
)


def _tree(body: str) -> HtmlElement:
    return fromstring(f"<html><head><title>T</title></head><body>{body}</body></html>")


# --- under the headline ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "names"),
    [
        ("<p>By Jane Doe | 12 May 2024</p>", ["Jane Doe"]),
        ("<p class='meta'><span>By</span> <a href='/a/jane'>Jane Doe</a></p>", ["Jane Doe"]),
        ("<div><em>Von Gregory Lipinski</em></div>", ["Gregory Lipinski"]),
        ("<p>Posted by Stadler at 12:53</p>", ["Stadler"]),
        # a teaser's byline is inside its link; no label, no byline
        ("<a href='/other'><span>By Someone Else</span></a>", []),
        ("<p>Jane Doe</p>", []),
    ],
)
def test_header_bylines(header: str, names: list[str]) -> None:
    tree = _tree(f"<h1>Headline</h1>{header}<p>The article's first paragraph.</p>")
    assert header_bylines(tree) == names


def test_only_the_text_right_under_the_headline_is_searched() -> None:
    filler = "".join(f"<p>Paragraph {n}.</p>" for n in range(HEADER_TEXT_NODES))
    tree = _tree(f"<h1>Headline</h1>{filler}<p>By Jane Doe</p>")
    assert header_bylines(tree) == []
    assert header_bylines(_tree("<p>By Jane Doe</p>")) == []  # no headline: nothing to go by


# --- Chinese labels anywhere ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reporters", "editors"),
    [
        ("<p>光明日报记者 王建宏 张文攀</p><p>正文。</p>", ["王建宏", "张文攀"], []),
        ("<p>记者 <span>王建宏</span> <span>张文攀</span></p>", ["王建宏", "张文攀"], []),
        ("<div>正文。<span>（ 责任编辑：魏喆 ）</span></div>", [], ["魏喆"]),
        ("<td>来源：新华网</td><td><span>责任编辑：</span><span>焦鹏</span></td>", [], ["焦鹏"]),
        # the reporter is named after the editor: both found, in their own lists
        ("<p>(责编：牛镛)</p><p>记者 刘涛</p>", ["刘涛"], ["牛镛"]),
        # navigation: links, a link to the author's articles
        ("<p><a href='/1'>记者调查</a> <a href='/2'>记者 王五</a></p>", [], []),
        ("<p><a href='/list'>■ 该作者文章</a></p>", [], []),
        ("<p>记者 才扬 摄</p>", [], []),
    ],
)
def test_east_asian_bylines(body: str, reporters: list[str], editors: list[str]) -> None:
    assert east_asian_bylines(_tree(body)) == (reporters, editors)


def test_chinese_labels_are_searched_only_on_chinese_pages() -> None:
    tree = _tree("<h1>标题</h1><p>记者 王建宏</p><p>By Jane Doe</p>")
    assert text_bylines(tree, chinese=True) == TextBylines(
        header=["Jane Doe"], reporters=["王建宏"]
    )
    assert text_bylines(tree, chinese=False) == TextBylines(header=["Jane Doe"])


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<html><body>" + "中文新闻正文" * 10 + "</body></html>", True),
        # Japanese: kana among the Han characters
        ("<html><body>" + "東京で記者会見を開いた" * 10 + "</body></html>", False),
        # the middle dot and the long vowel mark are no kana
        ("<html><body>" + "中文・新闻ー正文" * 10 + "</body></html>", True),
        ("<html><body>English text, one word 中文.</body></html>", False),
        ("<html><head><title>" + "中文" * 50 + "</title></head><body>Text</body></html>", False),
        ("<html><body>Plain text, nothing else.</body></html>", False),
        # only the start of the body is looked at
        ("<html><body>" + "Text. " * 5000 + "中文新闻正文" * 10 + "</body></html>", False),
    ],
)
def test_markup_in_chinese(html: str, expected: bool) -> None:
    assert markup_in_chinese(html) is expected


@pytest.mark.parametrize(
    ("paragraphs", "expected"),
    [(["中文新闻正文。"], True), (["東京で記者会見を開いた。"], False), (["English."], False)],
)
def test_writes_chinese(paragraphs: list[str], expected: bool) -> None:
    assert writes_chinese(paragraphs) is expected


# --- the article's paragraphs ---------------------------------------------------------------


def test_paragraph_bylines_are_read_at_either_end() -> None:
    middle = ["A paragraph."] * 10
    assert paragraph_bylines(["By Jane Doe", *middle, "Von Max Muster"]) == [
        "Jane Doe",
        "Max Muster",
    ]
    assert paragraph_bylines(["First.", "Second.", "Third.", "By Jane Doe", *middle]) == []


def test_closing_names_end_an_article_paragraph() -> None:
    article = "，".join(["国家电网公司的改革仍在进行之中"] * 6)
    paragraphs = [f"{article}。（姚峰 上海报道） | |", "| | ·点击注册 |"]
    assert closing_names(paragraphs) == ["姚峰"]
    # a last paragraph of one long sentence (70 characters) ends an article too
    last = (
        "而对于电改渐渐成为利益再分配的过程的观点，该人士付之一笑："
        "“这样的说法没有道理，所有的改革难道不都是利益再分配的过程吗？”（姚峰 上海报道）"
    )
    assert len(last) == 70
    assert closing_names([article, last]) == ["姚峰"]
    # a short paragraph (a caption) is no article paragraph
    assert closing_names(["图片说明。（张三）"]) == []
    assert (
        closing_names([article, "市民在广场上观看烟花表演，现场气氛热烈，许多人拍照留念。（张三）"])
        == []
    )


def test_name_lines_are_the_first_paragraphs_or_the_last() -> None:
    text = ["A first paragraph of the article.", "More text.", "And more."]
    assert name_lines(["Mathatisi Sebusi/Mohalenyane Phakela", *text]) == [
        "Mathatisi Sebusi",
        "Mohalenyane Phakela",
    ]
    assert name_lines([*text, "Lê Phương"]) == ["Lê Phương"]
    assert name_lines([*text, "Jane Doe", "The end of the article."]) == []
