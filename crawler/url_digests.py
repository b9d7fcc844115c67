"""Counting each URL once in a crawl: 64-bit digests of URLs, in a compact set.

A crawl counts the article URLs it discovers, and the stored ones it skips, each once (a page
listed by a feed and a sitemap is one). A Python set of the digests takes ~70 bytes a URL for
the whole crawl (3.5 MiB at 50,000 URLs, 70 MiB at a million); :class:`DigestSet` keeps them in
an array of 8-byte slots at most half full: 16 to 32 bytes a URL.
"""

from __future__ import annotations

import hashlib
from array import array

_FIRST_SLOTS = 1024


def url_digest(url: str) -> int:
    """A 64-bit digest of a URL."""
    return int.from_bytes(hashlib.blake2b(url.encode(), digest_size=8).digest(), "big")


class DigestSet:
    """A set of 64-bit digests (uniformly spread, as :func:`url_digest`'s are): open addressing
    with linear probing in an array of slots, 0 marking a free one (the digest 0 is kept
    apart)."""

    __slots__ = ("_has_zero", "_slots", "_stored")

    def __init__(self) -> None:
        self._slots = array("Q", bytes(8 * _FIRST_SLOTS))
        self._stored = 0  # digests in the slots (0 is not)
        self._has_zero = False

    def __len__(self) -> int:
        return self._stored + self._has_zero

    def __contains__(self, digest: object) -> bool:
        if not isinstance(digest, int):
            return False
        if digest == 0:
            return self._has_zero
        return self._slots[_slot(self._slots, digest)] == digest

    def add(self, digest: int) -> bool:
        """Add ``digest``; ``True`` when it was not in the set."""
        if digest == 0:
            new = not self._has_zero
            self._has_zero = True
            return new
        index = _slot(self._slots, digest)
        if self._slots[index] == digest:
            return False
        self._slots[index] = digest
        self._stored += 1
        if 2 * self._stored > len(self._slots):
            grown = array("Q", bytes(16 * len(self._slots)))
            for stored in self._slots:
                if stored:
                    grown[_slot(grown, stored)] = stored
            self._slots = grown
        return True


def _slot(slots: array[int], digest: int) -> int:
    """The slot holding ``digest``, else the free one it goes to (linear probing)."""
    mask = len(slots) - 1
    index = digest & mask
    while (found := slots[index]) != 0 and found != digest:
        index = (index + 1) & mask
    return index
