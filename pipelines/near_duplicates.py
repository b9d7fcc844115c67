"""Near-duplicate texts: the same story under another template, with a sentence changed.

Texts are compared as sets of shingles (word 3-grams; character 5-grams for scripts written
without spaces) through MinHash signatures (``datasketch``, 64 permutations). Candidates are
found by locality-sensitive hashing: the signature is cut into bands, and two texts that share
one band exactly are compared; a pair whose estimated Jaccard similarity reaches the threshold
is a near-duplicate.

:class:`NearDuplicateIndex` keeps the bands and signatures in an embedded SQLite database
(indexed, on disk), so memory stays flat however many articles the dataset holds; texts not
yet committed to the dataset are held in memory until they are (see ``pipelines/dedupe.py``).
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from pipelines import normalize

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

NUM_PERM = 64
# 21 bands of 3 rows (63 of the 64 values): a pair at the threshold's similarity (0.5) shares
# a band with probability 1 - (1 - 0.5**3)**21 = 0.94, where 16 bands of 4 give 0.64
# (measured on the labelled set: every duplicate found, no merge more).
BANDS = 21
ROWS = 3
DEFAULT_THRESHOLD = 0.5
"""Estimated Jaccard similarity of shingle sets from which two texts are one story (chosen
from the precision/recall curve of ``bench/near_duplicates.py``)."""
MIN_SHINGLES = 20
"""Texts with fewer shingles are too short to call near-duplicates."""
SEED = 1

_WORD = re.compile(r"\w+")
_UNSPACED = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u9fff]")
WORD_SHINGLE = 3
CHAR_SHINGLE = 5

_SCHEMA = """
CREATE TABLE IF NOT EXISTS signatures (
    content_hash TEXT PRIMARY KEY, row_id TEXT NOT NULL, signature BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS bands (
    band INTEGER NOT NULL, key BLOB NOT NULL, content_hash TEXT NOT NULL,
    PRIMARY KEY (band, key, content_hash)
) WITHOUT ROWID;
"""


def shingles(text: str) -> set[bytes]:
    """The text's shingles: word 3-grams, or character 5-grams for unspaced scripts."""
    normalized = unicodedata.normalize("NFKC", text).casefold()
    if len(_UNSPACED.findall(normalized)) > len(normalized) / 3:
        letters = "".join(ch for ch in normalized if not ch.isspace())
        grams = (letters[i : i + CHAR_SHINGLE] for i in range(len(letters) - CHAR_SHINGLE + 1))
    else:
        words = _WORD.findall(normalized)
        grams = (
            " ".join(words[i : i + WORD_SHINGLE]) for i in range(len(words) - WORD_SHINGLE + 1)
        )
    return {gram.encode("utf-8") for gram in grams}


class Signer:
    """MinHash signatures with fixed permutations (made once, reused for every text)."""

    def __init__(self, num_perm: int = NUM_PERM, seed: int = SEED) -> None:
        # imported when first needed: datasketch imports scipy (about 0.4 s), and the crawl process
        # rarely signs a text itself (its extraction workers do)
        from datasketch import MinHash  # noqa: PLC0415

        self._template = MinHash(num_perm=num_perm, seed=seed)

    def signature(self, text: str) -> np.ndarray | None:
        """The text's signature (``num_perm`` uint32 values), or ``None`` for a text too short
        to compare."""
        grams = shingles(text)
        if len(grams) < MIN_SHINGLES:
            return None
        minhash = self._template.copy()
        minhash.update_batch(list(grams))
        return np.asarray(minhash.hashvalues, dtype=np.uint32)


def precompute_signature(text: str, signer: Signer) -> dict[str, Any]:
    """The signature of ``text`` (normalized, as the dataset stores it), kept with the text's
    content hash, so that the dedupe stage can reuse it: see :func:`reusable_signature`."""
    signature = signer.signature(text)
    return {
        "content_hash": normalize.content_hash(text),
        "value": signature.tobytes() if signature is not None else None,
    }


def reusable_signature(
    precomputed: Mapping[str, Any] | None, text_hash: str
) -> tuple[bool, np.ndarray | None]:
    """``(True, signature)`` when the precomputed signature is of the text with this content
    hash (the signature is ``None`` for a text too short to compare); else ``(False, None)``."""
    found = (precomputed or {}).get("signature")
    if not found or found["content_hash"] != text_hash:
        return False, None
    if found["value"] is None:
        return True, None
    signature = np.frombuffer(found["value"], dtype=np.uint32)
    return (True, signature) if len(signature) == NUM_PERM else (False, None)


def similarity(first: np.ndarray, second: np.ndarray) -> float:
    """Estimated Jaccard similarity of the shingle sets behind two signatures."""
    return float(np.count_nonzero(first == second)) / len(first)


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


# One indexed lookup per band in one statement (a row-value IN list would scan the table).
_FIND_CANDIDATES = " UNION ".join(
    ["SELECT content_hash FROM bands WHERE band = ? AND key = ?"] * BANDS
)


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


class NearDuplicateIndex:
    """Signatures of stored texts, banded for lookup; in SQLite (``path``) or in memory."""

    def __init__(self, path: Path | None = None, *, threshold: float = DEFAULT_THRESHOLD) -> None:
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(":memory:" if path is None else path, timeout=30.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        with self._db:
            self._db.executescript(_SCHEMA)
        self.threshold = threshold

    def close(self) -> None:
        self._db.close()

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM signatures").fetchone()[0])

    def row_id(self, content_hash: str) -> str | None:
        """The row id stored with a text, or ``None``."""
        row = self._db.execute(
            "SELECT row_id FROM signatures WHERE content_hash = ?", (content_hash,)
        ).fetchone()
        return row[0] if row else None

    def find(self, signature: np.ndarray) -> Match | None:
        """The most similar stored text at or above the threshold, or ``None``."""
        pairs = [value for pair in enumerate(band_keys(signature)) for value in pair]
        rows = self._db.execute(_FIND_CANDIDATES, pairs)
        candidates = {content_hash for (content_hash,) in rows}
        query = "SELECT row_id, signature FROM signatures WHERE content_hash = ?"
        stored = (
            (content_hash, *row)
            for content_hash in candidates
            if (row := self._db.execute(query, (content_hash,)).fetchone()) is not None
        )
        return best_match(signature, stored, self.threshold)

    def add_many(self, entries: Iterable[tuple[str, str, np.ndarray]]) -> None:
        """Store ``(content_hash, row_id, signature)`` entries, in one transaction."""
        entries = list(entries)
        with self._db:
            self._db.executemany(
                "INSERT OR IGNORE INTO signatures VALUES (?, ?, ?)",
                [(content_hash, row_id, sig.tobytes()) for content_hash, row_id, sig in entries],
            )
            self._db.executemany(
                "INSERT OR IGNORE INTO bands VALUES (?, ?, ?)",
                [
                    (band, key, content_hash)
                    for content_hash, _, sig in entries
                    for band, key in enumerate(band_keys(sig))
                ],
            )

    def add(self, content_hash: str, row_id: str, signature: np.ndarray) -> None:
        self.add_many([(content_hash, row_id, signature)])

    def remove_many(self, content_hashes: Iterable[str]) -> None:
        """Forget these texts (used to move texts from a pending index to the stored one)."""
        keys = [(content_hash,) for content_hash in content_hashes]
        with self._db:
            self._db.executemany("DELETE FROM signatures WHERE content_hash = ?", keys)
            self._db.executemany("DELETE FROM bands WHERE content_hash = ?", keys)
