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

from extraction.signature import similarity

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


def _pending_keys(signature: np.ndarray) -> list[bytes]:
    return [bytes((band,)) + key for band, key in enumerate(band_keys(signature))]


class PendingIndex:
    """The same lookups as :class:`NearDuplicateIndex`, in Python dicts: for the texts accepted
    but not yet committed (few, short-lived, and looked up for every page)."""

    def __init__(self, *, threshold: float = DEFAULT_THRESHOLD) -> None:
        self.threshold = threshold
        self._signatures: dict[str, tuple[str, bytes]] = {}
        # band number + band key -> the content hash holding it (a list when several do):
        # most keys have one holder, and a set per key would cost ten times the memory
        self._bands: dict[bytes, str | list[str]] = {}

    def close(self) -> None:
        self._signatures.clear()
        self._bands.clear()

    def __len__(self) -> int:
        return len(self._signatures)

    def row_id(self, content_hash: str) -> str | None:
        entry = self._signatures.get(content_hash)
        return entry[0] if entry else None

    def entry(self, content_hash: str) -> tuple[str, np.ndarray] | None:
        """The row id and signature stored with a text, or ``None``."""
        found = self._signatures.get(content_hash)
        if found is None:
            return None
        return found[0], np.frombuffer(found[1], dtype=np.uint32)

    def find(self, signature: np.ndarray) -> Match | None:
        candidates: set[str] = set()
        for key in _pending_keys(signature):
            holders = self._bands.get(key)
            if isinstance(holders, str):
                candidates.add(holders)
            elif holders:
                candidates.update(holders)
        stored = ((h, *self._signatures[h]) for h in candidates)
        return best_match(signature, stored, self.threshold)

    def add(self, content_hash: str, row_id: str, signature: np.ndarray) -> None:
        if content_hash in self._signatures:
            return
        self._signatures[content_hash] = (row_id, signature.tobytes())
        for key in _pending_keys(signature):
            holders = self._bands.get(key)
            if holders is None:
                self._bands[key] = content_hash
            elif isinstance(holders, str):
                self._bands[key] = [holders, content_hash]
            else:
                holders.append(content_hash)

    def add_many(self, entries: Iterable[tuple[str, str, np.ndarray]]) -> None:
        for content_hash, row_id, signature in entries:
            self.add(content_hash, row_id, signature)

    def remove_many(self, content_hashes: Iterable[str]) -> None:
        for content_hash in content_hashes:
            entry = self._signatures.pop(content_hash, None)
            if entry is None:
                continue
            for key in _pending_keys(np.frombuffer(entry[1], dtype=np.uint32)):
                holders = self._bands.get(key)
                if holders == content_hash:
                    del self._bands[key]
                elif isinstance(holders, list) and content_hash in holders:
                    holders.remove(content_hash)
                    if len(holders) == 1:
                        self._bands[key] = holders[0]
