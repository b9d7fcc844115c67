"""The headline without the site name that pages append to their titles."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from extraction.dates import parse_datetime
from extraction.structured import clean_space

if TYPE_CHECKING:
    from collections.abc import Iterable

# Separators between a headline and the site's name: spaced dashes, bars, bullets and colons,
# and unspaced bars or dashes next to CJK text ("…措施-新华网").
_SEPARATOR = re.compile(
    r"\s+[|–—·•:/»\-]\s+|\s*[|｜]\s*|(?<=[\u3000-\u9fff\uff00-\uffef])\s*[-_]\s*"
)
_NON_WORD = re.compile(r"\W+")
MAX_AFFIX_CHARS = 50
MIN_HEADLINE_SHARE = 0.5


def _key(text: str) -> str:
    return _NON_WORD.sub("", text).casefold()


def _site_keys(site_name: str | None, host: str | None) -> set[str]:
    keys = {_key(site_name)} if site_name else set()
    if host:
        labels = [label for label in host.lower().split(".") if label not in ("www", "m")]
        keys.update(_key(label) for label in labels[:-1] if len(label) > 2)
        keys.add(_key(".".join(labels)))
    keys.discard("")
    return keys


def _names_site(segment: str, keys: set[str]) -> bool:
    if len(segment) > MAX_AFFIX_CHARS:
        return False
    text = _key(segment)
    if not text:
        return True
    if parse_datetime(segment.strip()) is not None:
        return True  # "| 23.05.2011" after a site name
    return any(site == text or (len(site) >= 3 and site in text) for site in keys)


def clean_title(
    title: str | None,
    *,
    site_name: str | None = None,
    host: str | None = None,
    headings: Iterable[str] = (),
) -> str | None:
    """The headline in ``title``: the page's own heading when the title is that heading plus a
    suffix, else the title without leading or trailing segments that name the site. (A
    heading that only ends the title is not taken: the part before it is usually a kicker
    that belongs to the headline.)"""
    title = clean_space(title)
    if not title:
        return None
    title_key = _key(title)
    for candidate in headings:
        heading = clean_space(candidate) or ""
        heading_key = _key(heading)
        if (
            heading_key
            and len(heading_key) >= MIN_HEADLINE_SHARE * len(title_key)
            and title_key.startswith(heading_key)
        ):
            return heading
    keys = _site_keys(site_name, host)
    if not keys:
        return title
    changed = True
    while changed:
        changed = False
        separators = list(_SEPARATOR.finditer(title))
        if not separators:
            break
        last, first = separators[-1], separators[0]
        if _names_site(title[last.end() :], keys) and last.start() > 0:
            title, changed = title[: last.start()].strip(), True
        elif _names_site(title[: first.start()], keys) and first.end() < len(title):
            title, changed = title[first.end() :].strip(), True
        else:
            # a site name with a separator of its own ("AOC media - Analyse Opinion Critique"):
            # the whole name, word for word, after or before an earlier separator
            title, changed = _without_whole_site_name(title, separators, keys)
    return title or None


def _without_whole_site_name(
    title: str, separators: list[re.Match[str]], keys: set[str]
) -> tuple[str, bool]:
    for separator in separators[:-1]:
        if separator.start() > 0 and _key(title[separator.end() :]) in keys:
            return title[: separator.start()].strip(), True
    for separator in reversed(separators[1:]):
        if separator.end() < len(title) and _key(title[: separator.start()]) in keys:
            return title[separator.end() :].strip(), True
    return title, False
