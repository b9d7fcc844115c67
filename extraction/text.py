"""Text normalization: Unicode and white space, word counts, sizes and content hashes."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SPACE = re.compile(r"\s+")
# Control characters (C0 except tab/newline, DEL, C1) and invisible formatting that is never
# content:
# zero-width space, word joiner, BOM, soft hyphen. ZWJ/ZWNJ stay: they spell Indic and
# Persian words.
# Bidirectional marks, embeddings and isolates, the invisible operators and the Mongolian
# vowel separator go too (trafilatura's text never has them: it keeps what str.isprintable()
# takes, and the one-line fields should not differ from it).
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2060\ufeff\u00ad"
    r"\u061c\u200e\u200f\u202a-\u202e\u2061-\u2064\u2066-\u2069\u180e]"
)
# Halves of a UTF-16 surrogate pair alone (JSON's "\ud83d" where a script cut an emoji in
# two): no character, and no UTF-8 string can hold one (the row could not be written).
_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Scripts written without spaces between words: each letter counts as a word.
_UNSPACED = (
    r"\u0e00-\u0e7f"  # Thai
    r"\u0e80-\u0eff"  # Lao
    r"\u1000-\u109f"  # Myanmar
    r"\u1780-\u17ff"  # Khmer
    r"\u3040-\u30ff"  # Hiragana, Katakana
    r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
)
# A word: letters/digits, possibly joined by apostrophes (don't, aujourd'hui).
_UNSPACED_LETTER = re.compile(f"[{_UNSPACED}]")
UNSPACED_WEIGHT = 3
_HANGUL_SYLLABLE = re.compile(r"[\uac00-\ud7a3]")
HANGUL_WEIGHT = 2
_WORD = re.compile(rf"[{_UNSPACED}]|[^\W{_UNSPACED}]+(?:['\u2019][^\W{_UNSPACED}]+)*")


def normalize_text(text: str) -> str:
    """NFC, invisible characters removed, a lone surrogate replaced (U+FFFD), white space
    collapsed inside paragraphs, paragraphs separated by exactly one blank line, no empty
    paragraphs."""
    # Invisible characters go first: one between a letter and its accent would block NFC.
    text = unicodedata.normalize("NFC", _INVISIBLE.sub("", without_surrogates(text)))
    paragraphs = (_SPACE.sub(" ", part).strip() for part in _PARAGRAPH_BREAK.split(text))
    return "\n\n".join(part for part in paragraphs if part)


def without_surrogates(text: str) -> str:
    """``text`` with its surrogates made characters: the two halves of a pair joined, a half
    alone replaced with U+FFFD (as a browser shows it)."""
    if _SURROGATE.search(text) is None:
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def without_invisible(text: str) -> str:
    """``text`` without the control and invisible formatting characters :func:`normalize_text`
    removes: texts read from the page (a soft hyphen in every long word of a hyphenated
    French or German site) compare equal to the extracted text, which has none."""
    return _INVISIBLE.sub("", text)


def comparable(text: str) -> str:
    """``text`` as texts are compared for containing one another: without invisible characters
    (:func:`without_invisible`), white space collapsed, case folded."""
    return " ".join(without_invisible(text).split()).casefold()


def normalize_field(value: str | None) -> str | None:
    """A one-line field (title, description, ...): NFC, invisible characters removed, a lone
    surrogate replaced (U+FFFD, as a browser shows it), white space collapsed; empty is None."""
    if value is None:
        return None
    value = _INVISIBLE.sub("", without_surrogates(value))
    text = _SPACE.sub(" ", unicodedata.normalize("NFC", value)).strip()
    return text or None


def word_count(text: str) -> int:
    """Words in ``text``; in Chinese, Japanese, Thai, Lao, Khmer and Burmese each letter is
    counted as one word, since those scripts do not separate words."""
    return sum(1 for _ in _WORD.finditer(text))


def text_size(text: str) -> int:
    """The length of ``text`` in characters, counting each letter of a script written without
    spaces (Chinese, Japanese, Thai, ...) three times, as it carries about as much as three
    letters of an alphabet, and each Hangul syllable twice (a syllable block is two or three
    letters; Korean is written with spaces, so its words are counted as words): the size that
    minimum-length rules compare. (Counted once, a Korean brief of three sentences was too
    short for an article where an English one of three was not: 12 of 23 against 7 of 40.)"""
    return (
        len(text)
        + (UNSPACED_WEIGHT - 1) * len(_UNSPACED_LETTER.findall(text))
        + (HANGUL_WEIGHT - 1) * len(_HANGUL_SYLLABLE.findall(text))
    )


def content_hash(text: str) -> str:
    """BLAKE2b-128 hex digest of the (normalized) text."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def paragraphs_of(text: str) -> list[str]:
    """The non-blank paragraphs of a text whose paragraphs are separated by blank lines."""
    return [p for p in text.split("\n\n") if p.strip()]


@dataclass(frozen=True, kw_only=True)
class NormalizedText:
    """A text as the dataset stores it, with what is computed from it."""

    text: str
    """:func:`normalize_text` of the text."""
    word_count: int
    content_hash: str
    """:func:`content_hash` of ``text``."""


def normalized(text: str) -> NormalizedText:
    """The normalized form of ``text``, its word count and content hash."""
    value = normalize_text(text)
    return NormalizedText(
        text=value, word_count=word_count(value), content_hash=content_hash(value)
    )
