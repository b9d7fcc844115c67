"""Finding the article's lead (standfirst, announce, dek) that text extraction leaves out.

Many templates put the lead paragraph in the article header, next to the headline and away
from the body, so a main-text extractor drops it. The lead is the first element, before the
body text in document order, that either carries a lead-like class/id (``lead``,
``standfirst``, ``announce``, ``dek``, ...) or repeats the page's description.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from extraction.markup import link_share
from extraction.text import comparable

if TYPE_CHECKING:
    from lxml.html import HtmlElement

# Class/id words that name a lead paragraph.
LEAD_WORDS = frozenset(
    {
        "lead",
        "lede",
        "standfirst",
        "announce",
        "intro",
        "dek",
        "deck",
        "subtitle",
        "subheadline",
        "subhead",
        "summary",
        "excerpt",
        "abstract",
        "kicker",
        "chapo",
        "chapeau",
        "entradilla",
        "sumario",
        "vorspann",
        "teasertext",
    }
)
# Words in the class/id of the element or an ancestor that mean "not this article's lead".
EXCLUDE_WORDS = frozenset(
    {
        "related",
        "teaser",
        "card",
        "list",
        "nav",
        "menu",
        "footer",
        "sidebar",
        "aside",
        "promo",
        "newsletter",
        "comment",
        "comments",
        "recommend",
        "recommended",
        "more",
        "widget",
        "popular",
        "trending",
        "feed",
        "newsfeed",
        "cookie",
        "banner",
        "ad",
        "ads",
        "media",
        "photo",
        "image",
        "img",
        "caption",
        "credit",
        "copyright",
        "gallery",
        "video",
        "subscribe",
        "share",
        "social",
    }
)
# A lead is one paragraph of prose: no media, lists, tables, controls or headings inside.
_NOT_A_PARAGRAPH_XPATH = "|".join(
    f".//{tag}"
    for tag in (
        "img",
        "picture",
        "video",
        "figure",
        "iframe",
        "ul",
        "ol",
        "table",
        "button",
        "form",
        "h1",
        "h2",
        "h3",
    )
)
_EXCLUDE_TAGS = frozenset(
    {
        "nav",
        "aside",
        "footer",
        "script",
        "style",
        "noscript",
        "template",
        "figure",
        "figcaption",
        "form",
        "button",
        "ul",
        "ol",
        "li",
        "a",
    }
)

_CANDIDATE_TAGS = frozenset({"p", "div", "span", "h2", "section", "header"})
# Elements that may hold the body's first paragraph or a lead.
_SCANNED_TAGS = (*_CANDIDATE_TAGS, "td", "li", "blockquote", "article", "main", "font")

MIN_LEAD_CHARS = 40
MAX_LEAD_CHARS = 1500
MAX_LINK_SHARE = 0.5

_SPLIT_WORDS = re.compile(r"[^0-9a-zA-Z]+|(?<=[a-z])(?=[A-Z])")
_SPACE = re.compile(r"\s+")


def _words(element: HtmlElement) -> set[str]:
    names = f"{element.get('class') or ''} {element.get('id') or ''}"
    return {word.lower() for word in _SPLIT_WORDS.split(names) if word}


def _text(element: HtmlElement) -> str:
    return _SPACE.sub(" ", element.text_content()).strip()


def _excluded(element: HtmlElement, *, by_ancestors_words: bool = True) -> bool:
    """Whether ``element`` is not the article's lead: it or an ancestor is a tag that holds no
    lead (navigation, a list, a link, a caption...), or its class/id words name something else
    (a related block, a teaser, a sidebar). ``by_ancestors_words=False`` reads the words of the
    element alone: the layout's wrappers of an article's header are often named for what else
    they hold (``has-sidebar``, ``widget-area``, ``byline-social``, ``hasCaption``)."""
    node: HtmlElement | None = element
    while node is not None:
        if (
            not isinstance(node.tag, str)
            or node.tag in _EXCLUDE_TAGS
            or ((by_ancestors_words or node is element) and _words(node) & EXCLUDE_WORDS)
        ):
            return True
        node = node.getparent()
    return False


def find_lead(tree: HtmlElement, first_paragraph: str, description: str | None) -> str | None:
    """The lead's text, if the page has one before ``first_paragraph`` (the first paragraph of
    the extracted body) and the body does not already start with it."""
    body_start = comparable(first_paragraph)[:60]
    wanted = comparable(description or "")
    for element in tree.iter(*_SCANNED_TAGS):
        tag = element.tag
        own = comparable(element.text or "")
        # the body's first paragraph: no lead before it (own text is enough to tell)
        if (
            own
            and body_start
            and (own.startswith(body_start) or (body_start.startswith(own[:60]) and len(own) >= 20))
        ):
            return None
        if tag not in _CANDIDATE_TAGS:
            continue
        named = bool(_words(element) & LEAD_WORDS)
        if not named and not (wanted and own and wanted.startswith(own[:40])):
            continue
        text = _text(element)
        text_key = comparable(text)
        if body_start and text_key.startswith(body_start):
            return None
        if not MIN_LEAD_CHARS <= len(text) <= MAX_LEAD_CHARS:
            continue
        repeats_description = bool(wanted) and (text_key == wanted or text_key.startswith(wanted))
        # the publisher's own summary shown word for word before the body is its lead, whatever
        # the wrappers around the header are called
        if not (named or repeats_description) or _excluded(
            element, by_ancestors_words=not (bool(wanted) and text_key == wanted)
        ):
            continue
        if element.xpath(_NOT_A_PARAGRAPH_XPATH) or link_share(element, text) > MAX_LINK_SHARE:
            continue
        return text
    return None
