"""Near-duplicate signatures: the same story under another template, with a sentence changed.

Texts are compared as sets of shingles (word 3-grams; character 5-grams for scripts written
without spaces) through MinHash signatures (64 permutations, :class:`Signer`): the share of equal
values of two signatures estimates the Jaccard similarity of their shingle sets. The index that
finds the signatures close to a new one is the dataset library's
(:mod:`dataset.state.near_index`).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from operator import methodcaller

import numpy as np

NUM_PERM = 64
MIN_SHINGLES = 20
"""Texts with fewer shingles are too short to call near-duplicates."""
SEED = 1

_WORD = re.compile(r"\w+")
_UNSPACED = re.compile(r"[\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u9fff]")
WORD_SHINGLE = 3
CHAR_SHINGLE = 5
_DIGEST = methodcaller("digest")
_SHA1_WORDS = 5
"""A SHA-1 digest is 20 bytes: five 4-byte words."""


def shingles(text: str) -> set[bytes]:
    """The text's shingles: word 3-grams, or character 5-grams for unspaced scripts."""
    normalized = unicodedata.normalize("NFKC", text).casefold()
    # each gram made and encoded by map and zip, in C: a text has a thousand of them
    if len(_UNSPACED.findall(normalized)) > len(normalized) / 3:
        letters = "".join(normalized.split())  # every white space out, as str.isspace says
        grams = map("".join, zip(*(letters[k:] for k in range(CHAR_SHINGLE)), strict=False))
    else:
        words = _WORD.findall(normalized)
        grams = map(" ".join, zip(*(words[k:] for k in range(WORD_SHINGLE)), strict=False))
    return set(map(str.encode, grams))


class Signer:
    """MinHash signatures with fixed permutations (made once, reused for every text).

    The scheme of datasketch 2.0's ``MinHash`` (its default, ``affine32``), written out in
    numpy so that signatures cannot change with a library version (datasketch 1.x signs
    differently, and stored signatures must stay comparable) and so that the extraction workers
    do not import datasketch, which loads scipy, redis and more (about 76 MiB per process):
    each shingle's SHA-1 (its first 4 bytes, little-endian) is mixed by MurmurHash3's 32-bit
    finalizer, then mapped by ``num_perm`` random affine permutations ``a * h + b`` modulo
    2**32 (``a`` odd), drawn from numpy's legacy generator seeded with ``seed``; a signature is
    the minimum of each permutation over the text's shingles. Tests check it against
    signatures made by datasketch (``tests/golden/signatures.json``).
    """

    def __init__(self, num_perm: int = NUM_PERM, seed: int = SEED) -> None:
        generator = np.random.RandomState(seed)
        self._a = generator.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + 1
        self._b = generator.randint(0, 1 << 32, num_perm, dtype=np.uint32)

    def signature(self, text: str) -> np.ndarray | None:
        """The text's signature (``num_perm`` uint32 values), or ``None`` for a text too short
        to compare."""
        grams = shingles(text)
        if len(grams) < MIN_SHINGLES:
            return None
        # every gram's SHA-1 (not for security) in C, joined; its first 4 bytes little-endian
        digests = b"".join(map(_DIGEST, map(hashlib.sha1, grams)))
        hashes = np.frombuffer(digests, dtype="<u4")[::_SHA1_WORDS].astype(np.uint32)
        mixed = _fmix32(hashes).reshape(-1, 1)
        return (mixed * self._a + self._b).min(axis=0)


def _fmix32(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer (an avalanching bijection), element-wise; uint32
    arithmetic wraps around, as the finalizer means it to."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def from_bytes(value: bytes) -> np.ndarray | None:
    """A signature kept as bytes (``signature.tobytes()``); ``None`` when it is not one."""
    signature = np.frombuffer(value, dtype=np.uint32)
    return signature if len(signature) == NUM_PERM else None


def similarity(first: np.ndarray, second: np.ndarray) -> float:
    """Estimated Jaccard similarity of the shingle sets behind two signatures."""
    return float(np.count_nonzero(first == second)) / len(first)
