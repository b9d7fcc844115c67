"""A second extractor's opinion on the ends of trafilatura's text.

trafilatura's text often starts or ends with a little of the page around the article: a
date or a label above it, a "share" line, a credit, an editor's note, a prompt or a list of
links below it. readability (the port bundled with trafilatura) judges the page another way:
it scores the page's paragraphs and keeps one container. Where the two disagree about a short
paragraph at an end of the text, the paragraph is more likely the page's than the article's;
in the middle of the text, or about a long paragraph, the disagreement says little (a naive
vote over every paragraph trades away as much recall as it gains precision). So
:func:`trim_ends` drops, from each end, the short paragraphs readability does not keep,
up to the first one it keeps; at the start only paragraphs that are no sentence (a standfirst
is a sentence, and readability often leaves it out).

readability is asked only when an end of the text holds such a paragraph
(:func:`has_doubtful_end`), and its opinion counts only when it kept at least
``MIN_AGREEMENT`` of the text (else it chose another part of the page). Measured in
``bench/RESULTS.md``.
"""

from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING

from lxml.html import fromstring

from extraction.boilerplate import SENTENCE_ENDS, key
from extraction.markup import PARSER

if TYPE_CHECKING:
    from lxml.html import HtmlElement

logger = logging.getLogger(__name__)

MAX_END_CHARS = 200
"""Only paragraphs at most this long are trimmed from an end."""
MIN_AGREEMENT = 0.5
"""readability's text must be at least this share of trafilatura's for its opinion to count."""


def _doubtful_start(paragraph: str) -> bool:
    text = paragraph.strip()
    return len(text) <= MAX_END_CHARS and not text.endswith(SENTENCE_ENDS)


def _doubtful_end(paragraph: str) -> bool:
    return len(paragraph.strip()) <= MAX_END_CHARS


def has_doubtful_end(paragraphs: list[str]) -> bool:
    """Whether an end of the text holds a paragraph :func:`trim_ends` could drop."""
    return bool(paragraphs) and (_doubtful_start(paragraphs[0]) or _doubtful_end(paragraphs[-1]))


def readability_text(tree: HtmlElement) -> str:
    """The text of the container readability chooses in the page (the tree is not changed);
    empty when it chooses none or fails."""
    from trafilatura.readability_lxml import Document  # noqa: PLC0415 - loaded with trafilatura

    try:
        summary = Document(copy.deepcopy(tree), min_text_length=25).summary()
        return fromstring(summary, parser=PARSER).text_content() if summary.strip() else ""
    except Exception as exc:  # a second opinion that fails is no opinion
        logger.debug("readability failed: %s", exc)
        return ""


def trim_ends(paragraphs: list[str], other: str) -> list[str]:
    """``paragraphs`` without the short ones at either end that ``other`` (readability's text)
    does not contain (white space and case aside), up to the first one it does; unchanged when
    ``other`` holds less than ``MIN_AGREEMENT`` of their text, and never emptied."""
    keys = [key(paragraph) for paragraph in paragraphs]
    other_key = key(other)
    if len(other_key) < MIN_AGREEMENT * sum(len(k) for k in keys):
        return paragraphs
    start = 0
    while start < len(keys) and keys[start] not in other_key and _doubtful_start(paragraphs[start]):
        start += 1
    end = len(keys)
    while end > start and keys[end - 1] not in other_key and _doubtful_end(paragraphs[end - 1]):
        end -= 1
    return paragraphs[start:end] or paragraphs
