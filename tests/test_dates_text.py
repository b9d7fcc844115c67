"""Dates found in free text, and the size of text for minimum-length rules."""

from __future__ import annotations

from datetime import datetime

import pytest

from extraction.dates import first_date_in_text
from extraction.text import UNSPACED_WEIGHT, text_size


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Published 2005-3-11 by the desk", datetime(2005, 3, 11)),
        ("Updated on 2022/02/13.", datetime(2022, 2, 13)),
        ("Stand: 2022.02.13, 10:00", datetime(2022, 2, 13)),
        ("2022年2月13日 10:30 来源：新华网", datetime(2022, 2, 13)),
        ("发布时间：2022 年 2 月 13 日", datetime(2022, 2, 13)),
        ("2022-02-13T10:30:00+08:00", datetime(2022, 2, 13)),
        ("1999-12-31", datetime(1999, 12, 31)),
        ("2022/2/3", datetime(2022, 2, 3)),
        ("2022-2/13", datetime(2022, 2, 13)),
        # the first valid date wins; invalid ones are skipped
        ("2021-01-05 and 2022-03-04", datetime(2021, 1, 5)),
        ("2022-13-01 then 2021-02-03", datetime(2021, 2, 3)),
        ("2023-02-30 and 2023-02-28", datetime(2023, 2, 28)),
        ("2023-00-10 or 2023-04-00 or 2023-04-10", datetime(2023, 4, 10)),
        ("2024-02-29", datetime(2024, 2, 29)),
    ],
)
def test_first_date_in_text(text: str, expected: datetime) -> None:
    found = first_date_in_text(text)
    assert found == expected
    assert found is not None
    assert found.tzinfo is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "No date in this text at all.",
        "13.02.2022",  # day first: not year first
        "02/13/2022",
        "20220213",
        "2022-02",
        "2023-02-29",  # not a leap year
        "1899-01-01",  # the year must start with 19 or 20
        "12022-01-01",  # five digits are no year
        "2022-01-011",  # three digits are no day
        "2022-001-01",
        "2022 02 13",  # no separator
    ],
)
def test_no_date_in_text(text: str) -> None:
    assert first_date_in_text(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", 0),
        ("hello", 5),
        ("Hello, world!", 13),
        ("Ünïcödé", 7),
        ("Привет мир", 10),
        ("한국어 기사", 11),  # Korean separates words with spaces; a syllable counts twice
        ("مرحبا", 5),
        ("新华网", 3 * UNSPACED_WEIGHT),
        ("ひらがなカタカナ", 8 * UNSPACED_WEIGHT),
        ("ภาษาไทย", 7 * UNSPACED_WEIGHT),
        ("新华 net", 2 * UNSPACED_WEIGHT + 4),
        ("２０２２年", 4 + UNSPACED_WEIGHT),  # full-width digits are not ideographs
    ],
)
def test_text_size(text: str, expected: int) -> None:
    assert text_size(text) == expected


def test_chinese_character_counts_three() -> None:
    assert UNSPACED_WEIGHT == 3
    assert text_size("中") == 3
    assert text_size("中国") == 2 * text_size("abc")
