"""Bylines a page writes in its text rather than marks up: where in the parsed page they are
looked for (the lines under the headline, the short lines of Chinese text that hold a
reporter's or an editor's label) and in the article's paragraphs. What a line says is read by
:mod:`extraction.authors`.

Only the text nodes that may start a byline are visited (selected by XPath, in C), and only on
pages whose structured data and byline markup credit no one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from lxml.etree import XPath

from extraction.authors import (
    MAX_BYLINE_LINE_CHARS,
    bracketed_names,
    east_asian_byline,
    labelled_byline,
    name_line,
    starts_with_label,
)
from extraction.markup import link_share

if TYPE_CHECKING:
    from lxml.html import HtmlElement

HEADER_TEXT_NODES = 60
"""How many text nodes after the page's first ``<h1>`` may hold its byline line."""
TEXT_EDGE_PARAGRAPHS = 3
"""How many paragraphs at each end of the article's text may be its byline line."""
MAX_BLOCK_CHARS = 400
"""A block of text longer than this holds no Chinese byline (only its bracketed segments of a
shorter block are read)."""
MIN_BRACKETED_PARAGRAPH_CHARS = 60
"""Names in brackets end an article's paragraph at least this long (in Chinese, a sentence of
several clauses), not a caption."""
MAX_LINK_SHARE = 0.5
"""A block whose text is more than this share of link text is navigation, not a byline."""
BLOCK_LEVELS = 3
"""How many elements up from a label's text node a byline's block is looked for (names often
stand in elements of their own: ``<p>记者 <span>王建宏</span></p>``)."""

_HEADER_TEXT = XPath(
    f"(//h1)[1]/following::text()[normalize-space()][position() <= {HEADER_TEXT_NODES}]"
)
# Text nodes holding an East-Asian byline label ("记者", "责任编辑：", "文/"), outside scripts.
_EAST_ASIAN_LABELS = ("记者", "記者", "通讯员", "通訊員", "作者", "撰文", "采写", "编", "編")
_EAST_ASIAN_TEXT = XPath(
    "//body//text()[not(ancestor::script)]["
    + " or ".join(f"contains(., '{label}')" for label in _EAST_ASIAN_LABELS)
    + " or contains(., '文/') or contains(., '文／') or contains(., '文：') or contains(., '文:')]"
)
# Hiragana and katakana, but not the middle dot and the long vowel mark Chinese pages use too.
_KANA = re.compile(r"[\u3040-\u309f\u30a0-\u30fa]")
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
_TABLE_EDGE = re.compile(r"[\s|]+$")


@dataclass(kw_only=True)
class TextBylines:
    """What the page's text says of its authors, outside its markup, for the sources after
    structured data and byline markup."""

    header: list[str] = field(default_factory=list)
    """Labelled byline lines under the headline ("By Jane Doe"), names only, in page order."""
    reporters: list[str] = field(default_factory=list)
    """Chinese names after a reporter's or author's label ("记者 王建宏")."""
    editors: list[str] = field(default_factory=list)
    """Chinese names after an editor's label ("责任编辑：魏喆"): when no reporter is named."""


def _text(element: HtmlElement) -> str:
    return " ".join(element.text_content().split())


def _in_link(element: HtmlElement) -> bool:
    return element.tag == "a" or next(element.iterancestors("a"), None) is not None


def _blocks(node: str) -> list[HtmlElement]:
    """The elements around a text node, innermost first: its own (for a tail, its parent's)
    and up to ``BLOCK_LEVELS`` in all."""
    element = node.getparent()  # type: ignore[attr-defined]
    if element is not None and node.is_tail:  # type: ignore[attr-defined]
        element = element.getparent()
    found: list[HtmlElement] = []
    while element is not None and len(found) < BLOCK_LEVELS and element.tag != "body":
        found.append(element)
        element = element.getparent()
    return found


def header_bylines(tree: HtmlElement) -> list[str]:
    """The names of labelled byline lines ("By Jane Doe", "Von Max Mustermann | 12.03.2020")
    among the text nodes under the page's first headline; a label inside a link (a teaser's)
    does not count."""
    found = []
    for node in _HEADER_TEXT(tree):
        if not starts_with_label(node):
            continue
        blocks = _blocks(node)
        if not blocks or _in_link(blocks[0]):
            continue
        for block in blocks:
            text = _text(block)
            if len(text) > MAX_BYLINE_LINE_CHARS:
                break
            names = labelled_byline(text)
            if names:
                found.append(names)
                break
    return found


def east_asian_bylines(tree: HtmlElement) -> tuple[list[str], list[str]]:
    """The reporters, and the editors, the page's Chinese text credits with a label before
    their names (the first credit of each kind, in page order). Navigation (a block mostly of
    link text) does not count."""
    reporters: list[str] = []
    editors: list[str] = []
    seen: set[HtmlElement] = set()
    for node in _EAST_ASIAN_TEXT(tree):
        if reporters:
            break
        for block in _blocks(node):
            if block in seen:
                break
            seen.add(block)
            text = _text(block)
            if len(text) > MAX_BLOCK_CHARS or _in_link(block):
                break
            if link_share(block, text) > MAX_LINK_SHARE:
                continue
            found_reporters, found_editors = east_asian_byline(text)
            if found_reporters or found_editors:
                reporters = reporters or found_reporters
                editors = editors or found_editors
                break
    return reporters, editors


def text_bylines(tree: HtmlElement, *, chinese: bool) -> TextBylines:
    """Bylines in the page's text outside the article's paragraphs: labelled lines under the
    headline, and, on a ``chinese`` page (:func:`markup_in_chinese`), labelled credits
    anywhere (searching every text node for their labels costs milliseconds)."""
    reporters, editors = east_asian_bylines(tree) if chinese else ([], [])
    return TextBylines(header=header_bylines(tree), reporters=reporters, editors=editors)


def paragraph_bylines(paragraphs: list[str]) -> list[str]:
    """The names of labelled byline lines among the first and last paragraphs of the
    article's text, in that order."""
    edges = paragraphs[:TEXT_EDGE_PARAGRAPHS] + paragraphs[-TEXT_EDGE_PARAGRAPHS:]
    return [names for names in map(labelled_byline, edges) if names]


MIN_HAN_CHARACTERS = 20
"""A page whose body starts with fewer Han characters than this holds no Chinese article."""
CHINESE_SAMPLE_CHARS = 20_000
"""How much of a page's markup, from its ``<body``, :func:`markup_in_chinese` looks at."""
MAX_KANA_SHARE = 0.1
"""Kana more than this share of the Han characters: Japanese."""


def markup_in_chinese(html: str) -> bool:
    """Whether a page's markup may hold a Chinese article: Han characters at the start of its
    body, and few kana (a quick test on the decoded page before it is searched for Chinese
    bylines)."""
    start = max(html.find("<body"), 0)
    sample = html[start : start + CHINESE_SAMPLE_CHARS]
    if sample.isascii():
        return False
    han = len(_HAN.findall(sample))
    return han >= MIN_HAN_CHARACTERS and len(_KANA.findall(sample)) <= MAX_KANA_SHARE * han


def writes_chinese(paragraphs: list[str]) -> bool:
    """Whether a text is Chinese (Han characters in its first paragraphs, and no kana:
    Japanese writes "記者会見", a press conference, where Chinese would credit a reporter)."""
    start = " ".join(paragraphs[:5])
    return _HAN.search(start) is not None and _KANA.search(start) is None


def closing_names(paragraphs: list[str]) -> list[str]:
    """Unlabelled names in brackets that end a paragraph of the article ("……（常书香 马丹阳 ）"),
    the last such paragraph first; table rules after them (``|``) are ignored."""
    for paragraph in reversed(paragraphs):
        text = _TABLE_EDGE.sub("", paragraph)
        if len(text) >= MIN_BRACKETED_PARAGRAPH_CHARS:
            names = bracketed_names(text)
            if names:
                return names
    return []


def name_lines(paragraphs: list[str]) -> list[str]:
    """The people of the first name-only paragraph (:func:`extraction.authors.name_line`)
    among the first paragraphs and the last one of the article's text."""
    for paragraph in paragraphs[:TEXT_EDGE_PARAGRAPHS] + paragraphs[-1:]:
        names = name_line(paragraph)
        if names:
            return names
    return []
