"""Finding near-duplicate texts by their signatures: locality-sensitive hashing.

A signature (:mod:`extraction.signature`) is cut into bands; two texts that share one band
exactly are compared, and a pair whose estimated Jaccard similarity reaches the threshold is a
near-duplicate. The stores keep the bands of stored texts (:class:`~dataset.state.base.NearIndex`
in SQLite or Redis); :class:`PendingIndex` keeps those of texts accepted and not yet committed,
in memory.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from extraction.signature import NUM_PERM, similarity

if TYPE_CHECKING:
    from collections.abc import Iterable

# 21 bands of 3 rows (63 of the 64 values): a pair at the threshold's similarity (0.5) shares
# a band with probability 1 - (1 - 0.5**3)**21 = 0.94, where 16 bands of 4 give 0.64
# (measured on the labelled set: every duplicate found, no merge more).
BANDS = 21
ROWS = 3
DEFAULT_THRESHOLD = 0.5
"""Estimated Jaccard similarity of shingle sets from which two texts are one story (chosen
from the precision/recall curve of ``bench/near_duplicates.py``)."""


def band_keys(signature: np.ndarray) -> list[bytes]:
    """One key per band: a hash of the band's rows."""
    rows = signature[: BANDS * ROWS].reshape(BANDS, ROWS)
    return [hashlib.blake2b(row.tobytes(), digest_size=8).digest() for row in rows]


@dataclass(frozen=True)
class Match:
    """A stored text close to the one looked up."""

    content_hash: str
    row_id: str
    similarity: float


def best_match(
    signature: np.ndarray, stored: Iterable[tuple[str, str, bytes]], threshold: float
) -> Match | None:
    """Of the stored ``(content_hash, row_id, signature bytes)``, the most similar to
    ``signature`` at or above ``threshold``, or ``None``."""
    best: Match | None = None
    for content_hash, row_id, value in stored:
        score = similarity(signature, np.frombuffer(value, dtype=np.uint32))
        if score >= threshold and (best is None or score > best.similarity):
            best = Match(content_hash=content_hash, row_id=row_id, similarity=score)
    return best


def _band_values(signature: np.ndarray) -> np.ndarray:
    """The band keys of :func:`band_keys` as one row of 64-bit numbers."""
    return np.frombuffer(b"".join(band_keys(signature)), dtype=np.uint64)


class PendingIndex:
    """The same lookups as :class:`NearDuplicateIndex`, for the texts accepted but not yet
    committed (up to a data file's rows, looked up for every page).

    Held in two arrays, the texts' signatures and their band keys (one row per band, that a
    lookup compares at once): about 0.5 KB a text, where a dict of band keys took 2.3 KB (a
    crawl holds up to ``PARQUET_FILE_ROWS`` of them); a lookup among 10,000 texts takes about
    0.1 ms. A removed text's place is taken by the next one added.
    """

    _FIRST_CAPACITY = 256

    def __init__(self, *, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold
        self._empty()

    def close(self) -> None:
        self._empty()

    def _empty(self) -> None:
        self._slots: dict[str, int] = {}  # content hash -> its row
        self._holders: list[tuple[str, str] | None] = []  # row -> content hash, row id
        self._free: list[int] = []
        self._signatures = np.zeros((0, NUM_PERM), dtype=np.uint32)
        self._bands = np.zeros((BANDS, 0), dtype=np.uint64)  # a row per band: compared in turn

    def __len__(self) -> int:
        return len(self._slots)

    def row_id(self, content_hash: str) -> str | None:
        slot = self._slots.get(content_hash)
        return None if slot is None else self._row_id(slot)

    def entry(self, content_hash: str) -> tuple[str, np.ndarray] | None:
        """The row id and signature stored with a text, or ``None``."""
        slot = self._slots.get(content_hash)
        return None if slot is None else (self._row_id(slot), self._signatures[slot].copy())

    def _row_id(self, slot: int) -> str:
        holder = self._holders[slot]
        assert holder is not None, "a text's place is held"
        return holder[1]

    def find(self, signature: np.ndarray) -> Match | None:
        if not self._slots:
            return None
        used = len(self._holders)
        keys = _band_values(signature)
        shares_a_band = self._bands[0, :used] == keys[0]
        for band in range(1, BANDS):
            shares_a_band |= self._bands[band, :used] == keys[band]
        stored = (
            (*holder, self._signatures[slot].tobytes())
            for slot in np.flatnonzero(shares_a_band).tolist()
            if (holder := self._holders[slot]) is not None
        )
        return best_match(signature, stored, self.threshold)

    def add(self, content_hash: str, row_id: str, signature: np.ndarray) -> None:
        if content_hash in self._slots:
            return
        if self._free:
            slot = self._free.pop()
            self._holders[slot] = (content_hash, row_id)
        else:
            slot = len(self._holders)
            if slot == len(self._signatures):
                self._grow(max(self._FIRST_CAPACITY, 2 * slot))
            self._holders.append((content_hash, row_id))
        self._slots[content_hash] = slot
        self._signatures[slot] = signature[:NUM_PERM]
        self._bands[:, slot] = _band_values(signature)

    def _grow(self, capacity: int) -> None:
        signatures = np.zeros((capacity, NUM_PERM), dtype=np.uint32)
        bands = np.zeros((BANDS, capacity), dtype=np.uint64)
        signatures[: len(self._signatures)] = self._signatures
        bands[:, : self._bands.shape[1]] = self._bands
        self._signatures, self._bands = signatures, bands

    def add_many(self, entries: Iterable[tuple[str, str, np.ndarray]]) -> None:
        for content_hash, row_id, signature in entries:
            self.add(content_hash, row_id, signature)

    def remove_many(self, content_hashes: Iterable[str]) -> None:
        for content_hash in content_hashes:
            slot = self._slots.pop(content_hash, None)
            if slot is not None:
                self._holders[slot] = None
                self._free.append(slot)
        if not self._slots and len(self._signatures) > self._FIRST_CAPACITY:
            self._empty()  # a committed file's rows gone: its memory goes with them
