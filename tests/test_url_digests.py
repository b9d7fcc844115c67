"""Counting each URL once: :class:`crawler.url_digests.DigestSet` answers as a set of the
digests does."""

from __future__ import annotations

import random

from crawler.url_digests import DigestSet, url_digest


def test_digest_set_answers_like_a_set() -> None:
    generator = random.Random(3)
    # spread digests, digests that share their low bits (the slot they start from), and 0
    digests = [url_digest(f"https://example.com/{n}") for n in range(3000)]
    digests += [(generator.getrandbits(40) << 24) | 5 for _ in range(200)]
    digests += [0, 1, 2**64 - 1]
    ours, theirs = DigestSet(), set()
    for digest in generator.choices(digests, k=6000):  # many twice
        assert ours.add(digest) == (digest not in theirs)
        theirs.add(digest)
        assert len(ours) == len(theirs)
    assert len(theirs) > 2048  # the table grew past its first slots, twice
    for digest in digests:
        assert (digest in ours) == (digest in theirs)
    assert url_digest("https://example.com/never") not in ours
    assert "not a digest" not in ours


def test_url_digest_is_64_bits_and_stable() -> None:
    digest = url_digest("https://example.com/a")
    assert 0 <= digest < 2**64
    assert digest == url_digest("https://example.com/a") != url_digest("https://example.com/b")
