"""Text normalization (:mod:`extraction.text`): Unicode and white space, word counts and
content hashes."""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

import pytest

from extraction.text import (
    NormalizedText,
    comparable,
    content_hash,
    normalize_field,
    normalize_text,
    normalized,
    paragraphs_of,
    text_size,
    without_invisible,
    word_count,
)

if TYPE_CHECKING:
    from collections.abc import Callable


# --- normalize_text ---------------------------------------------------------------------------


def test_normalize_text_composes_decomposed_characters() -> None:
    decomposed = "Cafe\u0301 cre\u0300me"
    result = normalize_text(decomposed)
    assert result == "Caf\u00e9 cr\u00e8me"
    assert "\u0301" not in result
    assert unicodedata.is_normalized("NFC", result)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("zero\u200bwidth", "zerowidth"),
        ("\ufeffBOM at start", "BOM at start"),
        ("co\u00adoperate", "cooperate"),
        ("word\u2060joiner", "wordjoiner"),
        ("nul\x00bell\x07esc\x1bdel\x7f", "nulbellescdel"),
    ],
)
def test_normalize_text_removes_invisible_characters(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected
    assert without_invisible(raw) == expected


def test_comparable_text() -> None:
    assert comparable("  Die Ver\u00adkehrs\u00adwende\n\tKOMMT  ") == "die verkehrswende kommt"


@pytest.mark.parametrize("joiner", ["\u200c", "\u200d"])
def test_normalize_text_keeps_zero_width_joiners(joiner: str) -> None:
    # Persian "می‌خواهم" needs the ZWNJ; Indic conjuncts need the ZWJ.
    word = f"\u0645\u06cc{joiner}\u062e\u0648\u0627\u0647\u0645"
    assert normalize_text(word) == word
    assert joiner in normalize_text(f"  {word}  ")


@pytest.mark.parametrize("function", [normalize_text, normalize_field])
def test_result_is_nfc_after_removing_invisible_characters(
    function: Callable[[str], str | None],
) -> None:
    # A zero-width space between a letter and its combining accent must not leave the
    # result decomposed once it is removed (NFC has to run after the removal).
    result = function("caf e\u200b\u0301")
    assert result == "caf \u00e9", ascii(result)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("one  two\tthree", "one two three"),
        ("non\u00a0breaking\u00a0space", "non breaking space"),
        ("line one\nline two", "line one line two"),
        ("windows\r\nline", "windows line"),
        ("   padded   ", "padded"),
        ("thin\u2009and\u3000ideographic", "thin and ideographic"),
    ],
)
def test_normalize_text_collapses_white_space_inside_paragraphs(raw: str, expected: str) -> None:
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    "separator",
    ["\n\n", "\n\n\n\n", "\n  \t\n", "\r\n\r\n", "\n\u00a0\n"],
)
def test_normalize_text_separates_paragraphs_by_one_blank_line(separator: str) -> None:
    assert normalize_text(f"First  paragraph.{separator}Second\nparagraph.") == (
        "First paragraph.\n\nSecond paragraph."
    )


def test_normalize_text_removes_empty_paragraphs() -> None:
    raw = "\n\nOne.\n\n \u200b \n\n\u00a0\n\nTwo.\n\n\n\n"
    assert normalize_text(raw) == "One.\n\nTwo."


@pytest.mark.parametrize("raw", ["", "   ", "\n\n\n", "\u200b\ufeff\u00ad"])
def test_normalize_text_of_nothing_is_empty(raw: str) -> None:
    assert normalize_text(raw) == ""


def test_normalize_text_is_idempotent() -> None:
    raw = " A\u00a0b\u0301\n\n\n c\u200bd \n e "
    once = normalize_text(raw)
    assert normalize_text(once) == once


# --- normalize_field --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (None, None),
        ("", None),
        ("  \n\t\u00a0 ", None),
        ("\u200b", None),
        ("  Breaking\n\nNews\u00a0Today ", "Breaking News Today"),
        ("Jose\u0301", "Jos\u00e9"),
        ("soft\u00adhyphen", "softhyphen"),
    ],
)
def test_normalize_field(raw: str | None, expected: str | None) -> None:
    assert normalize_field(raw) == expected


# --- word_count -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("   ", 0),
        ("Hello, world!", 2),
        ("The quick brown fox jumps over the lazy dog.", 9),
        ("Paragraph one.\n\nParagraph two here.", 5),
        ("In 2024 prices rose 3 percent", 6),
        ("\u4e2d\u6587\u5b57", 3),  # 中文字: three ideographs
        ("\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8\u3002", 8),  # 日本語のテキスト。
        ("\u3072\u3089\u304c\u306a", 4),  # ひらがな
        ("\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22", 7),  # ภาษาไทย: seven Thai letters
        ("Hello \u4e16\u754c 123", 4),  # Hello 世界 123
        ("Tokyo\u6771\u4eacstation", 4),  # Tokyo東京station
        ("\u041f\u0440\u0438\u0432\u0435\u0442 \u043c\u0438\u0440", 2),  # Привет мир
    ],
)
def test_word_count(text: str, expected: int) -> None:
    assert word_count(text) == expected


# --- content_hash -----------------------------------------------------------------------------


def test_content_hash_is_stable_32_char_hex() -> None:
    digest = content_hash("Some article text.")
    assert re.fullmatch(r"[0-9a-f]{32}", digest)
    assert content_hash("Some article text.") == digest


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Some article text.", "Some article text!"),
        ("", " "),
        ("caf\u00e9", "cafe\u0301"),
    ],
)
def test_content_hash_differs_for_different_text(a: str, b: str) -> None:
    assert content_hash(a) != content_hash(b)


# --- normalized and paragraphs_of -------------------------------------------------------------


def test_normalized_is_the_text_as_stored_with_its_count_and_hash() -> None:
    raw = "First\u00a0paragraph\nof the story.\n\n\n\nSecond paragraph."
    text = "First paragraph of the story.\n\nSecond paragraph."
    assert normalized(raw) == NormalizedText(
        text=text, word_count=7, content_hash=content_hash(text)
    )
    assert normalized(text) == normalized(raw)


def test_paragraphs_of() -> None:
    assert paragraphs_of("One.\n\nTwo.\n\n \n\nThree.") == ["One.", "Two.", "Three."]
    assert paragraphs_of("") == []


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Prices rise again \ud83d", "Prices rise again \ufffd"),  # an emoji cut in two
        ("\udc00 Ann Lee", "\ufffd Ann Lee"),
        ("pair \ud83d\ude00 joined", "pair \U0001f600 joined"),
    ],
)
def test_a_lone_surrogate_becomes_a_replacement_character(value: str, expected: str) -> None:
    # no UTF-8 string holds one: the row was refused (InvalidRow) and the article lost
    assert normalize_field(value) == expected
    assert normalize_text(value) == expected
    assert expected.encode("utf-8")


def test_bidi_controls_leave_one_line_fields_as_they_leave_the_text() -> None:
    marks = "\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2062\u180e"
    assert normalize_field(f"{marks}Bus{marks} plan") == "Bus plan"
    assert normalize_text(f"Bus {marks}plan") == "Bus plan"
    assert normalize_field("\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u062f") == (
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u062f"  # ZWNJ stays
    )


def test_a_hangul_syllable_counts_twice() -> None:
    # counted once, a Korean brief of three sentences was too short for an article where an
    # English one was not (12 of 23 against 7 of 40)
    assert text_size("정부는 버스 노선을") == 10 + 8  # 8 syllables, 2 spaces
    assert text_size("bus 노선") == 6 + 2
    assert text_size("公共汽车") == 4 * 3
