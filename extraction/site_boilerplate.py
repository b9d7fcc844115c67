"""Site boilerplate: lines that repeat on many pages of one site are not article text.

Every site has furniture that no generic rule knows ("Subscribe to our Telegram channel",
"Sputnik Africa is now on X", a standard disclaimer). :class:`SiteBoilerplate` counts, per site,
on how many pages each paragraph occurs; once a site has ``min_pages`` pages and a paragraph
occurs on at least ``min_share`` of them, that paragraph is stripped from the site's articles.
What it learns is kept by a store of the crawl state (``dataset/state/``), so the next crawl
strips it from the first page on.
"""

from __future__ import annotations

import hashlib
from array import array
from bisect import bisect_left
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

MIN_PAGES = 6
"""Pages of a site seen before anything is stripped, and pages a line must occur on."""
MIN_SHARE = 0.4
"""Share of a site's pages a line must occur on to be boilerplate."""
MAX_LINES = 5000
"""Line counts kept per site (the rarest are forgotten first)."""
MAX_LINE_CHARS = 2000
"""Longer paragraphs are never counted (a standard disclaimer or "About" text is long; an
article's own paragraph past this is no site's furniture)."""


def line_key(paragraph: str) -> bytes:
    """The identity of a paragraph: its text without case and white space, hashed."""
    text = "".join(paragraph.split()).casefold()
    return hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()


class LineCounts:
    """On how many pages each line of a site occurred, by :func:`line_key`: a mapping held in
    two sorted arrays, 12 bytes a line.

    A crawl keeps these for every site it meets (up to ``SITE_BOILERPLATE_MAX_SITES`` sites of
    up to ``max_lines`` lines); in a dict a line took about 80 bytes: the 476,015 lines of 226
    sites at the end of a 50,000-page crawl, ~38 MiB of the crawl process.
    """

    __slots__ = ("_counts", "_keys")

    def __init__(self, pairs: Iterable[tuple[bytes, int]] = ()) -> None:
        merged: dict[int, int] = {}
        for digest, count in pairs:
            number = _number(digest)
            merged[number] = merged.get(number, 0) + count
        ordered = sorted(merged)
        self._keys = array("Q", ordered)
        self._counts = array("I", (min(merged[number], _MAX_COUNT) for number in ordered))

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self) -> Iterator[bytes]:
        return (_digest(number) for number in self._keys)

    def __contains__(self, digest: object) -> bool:
        return isinstance(digest, bytes) and self._position(_number(digest))[1]

    def __getitem__(self, digest: bytes) -> int:
        index, found = self._position(_number(digest))
        if not found:
            raise KeyError(digest)
        return self._counts[index]

    def get(self, digest: bytes, default: int = 0) -> int:
        index, found = self._position(_number(digest))
        return self._counts[index] if found else default

    def items(self) -> Iterator[tuple[bytes, int]]:
        pairs = zip(self._keys, self._counts, strict=True)
        return ((_digest(number), count) for number, count in pairs)

    def add(self, digest: bytes, count: int = 1) -> None:
        """Count ``digest`` on ``count`` more pages."""
        number = _number(digest)
        index, found = self._position(number)
        if found:
            self._counts[index] = min(self._counts[index] + count, _MAX_COUNT)
        else:
            self._keys.insert(index, number)
            self._counts.insert(index, min(count, _MAX_COUNT))

    def above(self, floor: int) -> LineCounts:
        """The lines counted on more than ``floor`` pages."""
        kept = LineCounts()
        for number, count in zip(self._keys, self._counts, strict=True):
            if count > floor:
                kept._keys.append(number)
                kept._counts.append(count)
        return kept

    def _position(self, number: int) -> tuple[int, bool]:
        """Where ``number`` is in the keys, or goes; and whether it is there."""
        index = bisect_left(self._keys, number)
        return index, index < len(self._keys) and self._keys[index] == number


_MAX_COUNT = 2**32 - 1
"""Counts are 32-bit (a site's pages would have to pass four billion)."""


def _number(digest: bytes) -> int:
    return int.from_bytes(digest, "big")


def _digest(number: int) -> bytes:
    return number.to_bytes(8, "big")


@dataclass
class SiteLines:
    """What is known of one site: pages seen, and on how many of them each line occurred."""

    pages: int = 0
    counts: LineCounts = field(default_factory=LineCounts)
    dirty: bool = False
    added: dict[bytes, int] = field(default_factory=dict)
    """Pages each line was counted on since the last save (saved alone, unless ``rewrite``)."""
    pages_added: int = 0
    """Pages counted since the last save."""
    rewrite: bool = False
    """Lines were forgotten since the last save: the site's table is written whole."""


class SiteBoilerplate:
    """Learns each site's repeated lines and strips them.

    Memory stays bounded: a site keeps at most ``max_lines`` line counts; beyond that the
    rarest are forgotten (they cannot be boilerplate soon).
    """

    def __init__(
        self,
        *,
        min_pages: int = MIN_PAGES,
        min_share: float = MIN_SHARE,
        max_lines: int = MAX_LINES,
        max_line_chars: int = MAX_LINE_CHARS,
    ) -> None:
        self.min_pages = min_pages
        self.min_share = min_share
        self.max_lines = max_lines
        self.max_line_chars = max_line_chars
        self.sites: dict[str, SiteLines] = {}

    def site(self, name: str) -> SiteLines:
        """The site's table, made the most recently used one (``sites`` keeps that order)."""
        site = self.sites.pop(name, None) or SiteLines()
        self.sites[name] = site
        return site

    def forget_oldest(self, keep: int) -> list[str]:
        """Drop the tables of the least recently used sites, keeping ``keep``; returns their
        names (save them first: what was learned is lost otherwise)."""
        names = list(self.sites)[: max(len(self.sites) - keep, 0)]
        for name in names:
            del self.sites[name]
        return names

    def observe(self, name: str, paragraphs: Iterable[str]) -> None:
        """Count the (distinct) paragraphs of one page of site ``name``."""
        site = self.site(name)
        site.pages += 1
        site.pages_added += 1
        site.dirty = True
        for digest in {line_key(p) for p in paragraphs if len(p) <= self.max_line_chars}:
            site.counts.add(digest)
            site.added[digest] = site.added.get(digest, 0) + 1
        if len(site.counts) > self.max_lines:
            self.forget_rarest(site)
            site.rewrite = True

    def forget_rarest(self, site: SiteLines) -> None:
        """Keep the most frequent half of ``max_lines`` of the site's line counts."""
        floor = 1
        while len(site.counts) > self.max_lines // 2:
            site.counts = site.counts.above(floor)
            floor += 1

    def is_boilerplate(self, name: str, paragraph: str) -> bool:
        site = self.sites.get(name)
        if site is None or site.pages < self.min_pages or len(paragraph) > self.max_line_chars:
            return False
        seen = site.counts.get(line_key(paragraph), 0)
        return seen >= self.min_pages and seen >= self.min_share * site.pages

    def strip(self, name: str, paragraphs: list[str]) -> list[str]:
        """The paragraphs that are not boilerplate of site ``name``."""
        return [p for p in paragraphs if not self.is_boilerplate(name, p)]
