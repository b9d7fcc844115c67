"""Scoring an extraction against the corpus's expectations (rules of the corpus README).

Body: token precision/recall/F1 after NFKC, lower-casing and white-space collapsing, with
character tokens for Chinese, Japanese, Korean, Thai and Burmese and word tokens otherwise.
Snippets: substrings after white-space collapsing and case folding (``str.casefold``), the rule
of the second set's README, used for the corpus's snippets too.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

CHARACTER_TOKEN_LANGUAGES = frozenset({"zh", "ja", "ko", "th", "my"})
_WORD = re.compile(r"\w+")
_SPACE = re.compile(r"\s+")


def normalize(text: str | None) -> str:
    """NFKC, lower case, white space collapsed."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text or "").lower()).strip()


def tokens(text: str | None, language: str | None) -> list[str]:
    normalized = normalize(text)
    if language in CHARACTER_TOKEN_LANGUAGES:
        return [char for char in normalized if not char.isspace()]
    return _WORD.findall(normalized)


@dataclass(frozen=True)
class Overlap:
    precision: float
    recall: float
    f1: float


def body_overlap(predicted: str | None, expected: str | None, language: str | None) -> Overlap:
    """Token-level precision, recall and F1 of ``predicted`` against ``expected``."""
    got, want = Counter(tokens(predicted, language)), Counter(tokens(expected, language))
    if not got or not want:
        return Overlap(0.0, 0.0, 0.0)
    common = sum((got & want).values())
    precision, recall = common / sum(got.values()), common / sum(want.values())
    f1 = 2 * precision * recall / (precision + recall) if common else 0.0
    return Overlap(precision, recall, f1)


def fold(text: str | None) -> str:
    """White space collapsed, case folded: how snippets and the text they are sought in compare."""
    return _SPACE.sub(" ", text or "").strip().casefold()


def snippet_found(text: str | None, snippet: str) -> bool:
    """Whether the snippet occurs in the text (both folded)."""
    return fold(snippet) in fold(text)


def author_f1(predicted: Iterable[str], expected: Iterable[str] | None) -> float | None:
    """F1 of the sets of normalized names; ``None`` unless some author is expected."""
    want = {normalize(name) for name in expected or ()} - {""}
    if not want:
        return None
    got = {normalize(name) for name in predicted} - {""}
    common = len(got & want)
    return 2 * common / (len(got) + len(want)) if common else 0.0
