"""Near-duplicate benchmark: precision and recall of the near-duplicate detection (the MinHash
signature of ``extraction/signature.py``, the LSH bands of ``dataset/state/near_index.py``) on
a labelled set of text pairs built from the development corpus.

    .venv/bin/python -m bench.near_duplicates [--write-results]

The corpus is ``$NEWS_CORPUS_DIR``, else ``../shared/corpus`` next to the repository. Every
page's text is what the crawler stores (``extract_article(...).text``); pages that give no
article are left out. The pairs are made deterministically (``random.Random(0)``):

Duplicates (one story, which must merge), from every text of at least ``MIN_BASE_PARAGRAPHS``
paragraphs, one pair per kind: a sentence edited (a few words replaced in one passage), a
paragraph removed, a note added (correction, agency credit), the story re-templated as another
outlet would (a new headline, a dateline, a "Read more" line, a copyright footer), re-templated
and a sentence edited, lightly reworded (5-10% of the words replaced across the text), and
truncated (the leading paragraphs holding 70% of its characters). Plus the corpus's real
pairs: two captures of one article. Words are replaced by other words of the same text; for
scripts written without spaces (zh, ja, th, my) the "words" are runs of two characters.

Distinct articles (which must not merge): pairs of different articles in the same language
(at most ``PAIRS_PER_LANGUAGE`` per language), the ``MOST_SIMILAR`` most alike of them by
word-set Jaccard (the corpus's nearest thing to same-topic articles), same-event pairs (article
A, and article B with A's lead put in front of it: one lead, two stories), follow-ups (A, and a
text that repeats A's first half, then as much new text from B), and same-template pairs (two
articles given the same outlet boilerplate).

Each pair is scored by the estimated Jaccard similarity of the two MinHash signatures
(``Signer`` and ``similarity``), and looked up as the pipeline does: one side stored in a
``NearDuplicateIndex`` at the default threshold, the other one looked up (LSH bands, then the
threshold). Precision depends on the mix of pairs, which is made here, not observed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import re
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from random import Random
from typing import TYPE_CHECKING

from bench.harness.corpus import (
    CORPUS_ENV,
    EXIT_NO_CORPUS,
    CorpusPage,
    corpus_dir,
    corpus_missing,
    load_pages,
)
from bench.harness.report import (
    RESULTS_FILE,
    command_of,
    markdown_table,
    publish,
    quiet_noisy_loggers,
)
from dataset.state.embedded import NearDuplicateIndex
from dataset.state.near_index import BANDS, DEFAULT_THRESHOLD, ROWS, band_keys
from extraction.extractor import ExtractionError, extract_article
from extraction.signature import NUM_PERM, Signer, similarity

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from pathlib import Path

    import numpy as np

SECTION = "near-duplicates"
SEED = 0
MIN_BASE_PARAGRAPHS = 8
"""Texts with at least this many paragraphs are edited into duplicates."""
PAIRS_PER_LANGUAGE = 1000
MOST_SIMILAR = 100
THRESHOLDS = tuple(round(0.2 + 0.05 * step, 2) for step in range(15))
TARGET = 0.95
"""Precision and recall the default threshold must reach."""
UNSPACED_LANGUAGES = frozenset({"zh", "ja", "th", "my"})
"""Languages written without spaces: their edit units are runs of ``UNSPACED_UNIT`` characters."""
UNSPACED_UNIT = 2
REWORD_SHARE = (0.05, 0.10)
TRUNCATE_SHARE = 0.7
MAX_REMOVED_SHARE = 0.15
FOLLOW_UP_SHARE = 0.5
"""Share of a first story's text a follow-up story repeats (lead and background)..."""
FOLLOW_UP_RANGE = (0.4, 0.6)
"""...give or take a paragraph: stories whose paragraphs allow no split in this range are
left out. The follow-up's new text is as long as what it repeats."""
FOLLOW_UP_KIND = "follow-up, half repeated"
EXAMPLES = 5
KNOWN_DUPLICATES = (("newspaper4k/chinese_article", "goose3/bbc_chinese"),)
"""Pairs of one article the manifest does not mark: ``newspaper4k/chinese_article`` is the BBC
Chinese page of ``goose3/bbc_chinese`` (its manifest URL, a sohu.com one, is wrong), and both
extract to the same text."""
AMBIGUOUS = (("trafilatura/24horas.cl-segundo", "trafilatura/cooperativa.cl-presidente"),)
"""Left out of both classes: one EFE wire story, which one outlet ran whole and the other
rewrote (its own lead, half the paragraphs kept); shown apart in the report."""

NOTES = (
    "Correction: an earlier version of this article misstated the date of the vote.",
    "This story has been updated with additional reporting.",
    "With reporting by agencies; edited by the news desk.",
    "Update: the ministry confirmed the figures in a statement on Tuesday evening.",
)
SHARE_LINES = ("Share this article", "Follow us for the latest updates.")


@dataclass(frozen=True)
class Template:
    """Another outlet's wrapping of a story: a dateline, a link line, footer lines."""

    dateline: str
    read_more: str
    footer: tuple[str, ...]


TEMPLATES = (
    Template("Reuters — ", "Read more:", ("© 2025 Reuters. All rights reserved.",)),
    Template(
        "(AP) — ",
        "Related:",
        (
            (
                "Copyright 2025 The Associated Press. All rights reserved. This material may "
                "not be published, broadcast, rewritten or redistributed."
            ),
        ),
    ),
    Template(
        "AFP — ",
        "Read also:",
        ("Sign up for our newsletter to get the day's top stories in your inbox.", "© AFP"),
    ),
)


# --- texts ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """One corpus page's stored text."""

    id: str
    language: str
    text: str

    @property
    def paragraphs(self) -> list[str]:
        return [part for part in self.text.split("\n\n") if part.strip()]

    @property
    def unspaced(self) -> bool:
        return self.language in UNSPACED_LANGUAGES


def page_text(page: CorpusPage) -> Text | None:
    """The text the crawler stores for the page, or ``None`` when it finds no article."""
    try:
        text = extract_article(page.body(), page.url, "text/html").text
    except ExtractionError:
        return None
    return Text(page.id, page.language or "?", text)


def load_texts(pages: Iterable[CorpusPage]) -> list[Text]:
    """The texts of the pages that hold an article, in page order."""
    return [text for text in map(page_text, pages) if text is not None]


def manifest_duplicates(directory: Path) -> list[tuple[str, str]]:
    """``(id, near_duplicate_of)`` of the manifest records that name another capture."""
    pairs = []
    with (directory / "manifest.jsonl").open(encoding="utf-8") as manifest:
        for line in manifest:
            record = json.loads(line) if line.strip() else {}
            if record.get("near_duplicate_of"):
                pairs.append((record["near_duplicate_of"], record["id"]))
    return pairs


# --- editing: texts as paragraphs of units (words, or character runs) -------------------------


def units(paragraph: str, unspaced: bool) -> list[str]:
    """The paragraph's edit units: words, or runs of ``UNSPACED_UNIT`` characters."""
    if not unspaced:
        return paragraph.split()
    return [paragraph[i : i + UNSPACED_UNIT] for i in range(0, len(paragraph), UNSPACED_UNIT)]


def join_units(parts: Sequence[str], unspaced: bool) -> str:
    return ("" if unspaced else " ").join(parts)


def vocabulary(text: Text) -> list[str]:
    """The text's units, in order: what replacement words are drawn from."""
    return [unit for paragraph in text.paragraphs for unit in units(paragraph, text.unspaced)]


def substitute(
    parts: Sequence[str], positions: Iterable[int], words: Sequence[str], rng: Random
) -> list[str]:
    """``parts`` with the units at ``positions`` replaced by other words of ``words``."""
    edited = list(parts)
    for position in sorted(set(positions)):
        for _ in range(10):
            word = rng.choice(words)
            if word != edited[position]:
                break
        edited[position] = word
    return edited


def leading_paragraphs(paragraphs: Sequence[str], share: float) -> int:
    """How many leading paragraphs hold ``share`` of the characters (at least one).

    By characters, not paragraphs: one-line sub-headings, list items and menu lines make
    paragraph counts a poor measure of how much of a story is kept."""
    total, running = sum(map(len, paragraphs)), 0
    for count, paragraph in enumerate(paragraphs, start=1):
        running += len(paragraph)
        if running >= share * total:
            return count
    return len(paragraphs)


def edit_passage(text: Text, rng: Random) -> list[str]:
    """The text's paragraphs, two to four units replaced within one sentence-long passage of
    one paragraph (of eight units or more, when there is one)."""
    paragraphs = text.paragraphs
    long = [i for i, p in enumerate(paragraphs) if len(units(p, text.unspaced)) >= 8]
    index = rng.choice(long or range(len(paragraphs)))
    parts = units(paragraphs[index], text.unspaced)
    start = rng.randrange(max(1, len(parts) - 20))
    window = range(start, min(len(parts), start + 20))
    positions = rng.sample(window, min(len(window), rng.randint(2, 4)))
    edited = substitute(parts, positions, vocabulary(text), rng)
    paragraphs[index] = join_units(edited, text.unspaced)
    return paragraphs


def headline(text: Text, rng: Random) -> str:
    """A new headline: eight units of the text in another order."""
    words = vocabulary(text)
    return join_units(rng.sample(words, min(8, len(words))), text.unspaced)


def apply_template(
    paragraphs: Sequence[str], template: Template, title: str, teaser: str
) -> list[str]:
    """A headline on top, the dateline on the lead, a link line midway, the footer below."""
    body = [template.dateline + paragraphs[0], *paragraphs[1:]]
    body.insert(len(body) // 2 + 1, f"{template.read_more} {teaser}")
    return [title, *body, *template.footer]


def teaser(texts: Sequence[Text], rng: Random) -> str:
    """A linked headline to another story: the start of a random text's lead."""
    other = rng.choice(texts)
    return join_units(units(other.paragraphs[0], other.unspaced)[:10], other.unspaced)


# --- duplicates -------------------------------------------------------------------------------


def edited_sentence(text: Text, rng: Random, texts: Sequence[Text]) -> list[str]:
    """A sentence edited: a few words replaced in one passage."""
    return edit_passage(text, rng)


def paragraph_removed(text: Text, rng: Random, texts: Sequence[Text]) -> list[str]:
    """One paragraph left out: not the lead, and at most ``MAX_REMOVED_SHARE`` of the text
    (the shortest other one when every paragraph is longer)."""
    paragraphs = text.paragraphs
    total = sum(map(len, paragraphs))
    small = [
        i for i in range(1, len(paragraphs)) if len(paragraphs[i]) <= MAX_REMOVED_SHARE * total
    ]
    shortest = min(range(1, len(paragraphs)), key=lambda i: len(paragraphs[i]))
    del paragraphs[rng.choice(small) if small else shortest]
    return paragraphs


def note_added(text: Text, rng: Random, texts: Sequence[Text]) -> list[str]:
    """A correction note or credit line added, at the end or after the lead."""
    paragraphs = text.paragraphs
    paragraphs.insert(rng.choice((1, len(paragraphs))), rng.choice(NOTES))
    return paragraphs


def in_other_template(
    text: Text, paragraphs: Sequence[str], rng: Random, texts: Sequence[Text]
) -> list[str]:
    """``paragraphs`` in another outlet's template, under another headline."""
    template = rng.choice(TEMPLATES)
    lines = apply_template(paragraphs, template, headline(text, rng), teaser(texts, rng))
    return [*lines, *SHARE_LINES[: rng.randint(0, len(SHARE_LINES))]]


def retemplated(text: Text, rng: Random, texts: Sequence[Text]) -> list[str]:
    """The story in another outlet's template, under another headline."""
    return in_other_template(text, text.paragraphs, rng, texts)


def retemplated_edited(text: Text, rng: Random, texts: Sequence[Text]) -> list[str]:
    """A sentence edited, and re-templated (the issue's example of a near-duplicate)."""
    return in_other_template(text, edit_passage(text, rng), rng, texts)


def reworded(text: Text, rng: Random, texts: Sequence[Text]) -> list[str]:
    """Lightly reworded: 5-10% of the units replaced, spread over the whole text."""
    paragraphs = [units(paragraph, text.unspaced) for paragraph in text.paragraphs]
    spots = [(p, u) for p, parts in enumerate(paragraphs) for u in range(len(parts))]
    chosen = rng.sample(spots, max(1, round(rng.uniform(*REWORD_SHARE) * len(spots))))
    words = vocabulary(text)
    for index, parts in enumerate(paragraphs):
        positions = [u for p, u in chosen if p == index]
        if positions:
            paragraphs[index] = substitute(parts, positions, words, rng)
    return [join_units(parts, text.unspaced) for parts in paragraphs]


def truncated(text: Text, rng: Random, texts: Sequence[Text]) -> list[str]:
    """The paragraphs holding the first 70% of the text, as syndication feeds sometimes cut."""
    paragraphs = text.paragraphs
    return paragraphs[: leading_paragraphs(paragraphs, TRUNCATE_SHARE)]


DUPLICATE_KINDS: tuple[tuple[str, Callable[[Text, Random, Sequence[Text]], list[str]]], ...] = (
    ("sentence edited", edited_sentence),
    ("paragraph removed", paragraph_removed),
    ("note added", note_added),
    ("re-templated", retemplated),
    ("re-templated + edited", retemplated_edited),
    ("reworded 5-10%", reworded),
    ("truncated to 70%", truncated),
)
REAL_KIND = "real capture pair"


@dataclass(frozen=True)
class Pair:
    """Two texts and whether they are one story."""

    kind: str
    duplicate: bool
    first_id: str
    second_id: str
    first: str
    second: str


def duplicate_pairs(bases: Sequence[Text], texts: Sequence[Text], rng: Random) -> list[Pair]:
    """One edited copy of every base text per kind of edit."""
    pairs = []
    for text in bases:
        for kind, make in DUPLICATE_KINDS:
            copy = "\n\n".join(make(text, rng, texts))
            pairs.append(Pair(kind, True, text.id, f"{text.id} ({kind})", text.text, copy))
    return pairs


def real_pairs(texts: Sequence[Text], ids: Iterable[tuple[str, str]]) -> list[Pair]:
    """The corpus's own pairs of captures of one article (those whose texts are both here)."""
    by_id = {text.id: text for text in texts}
    return [
        Pair(REAL_KIND, True, first, second, by_id[first].text, by_id[second].text)
        for first, second in ids
        if first in by_id and second in by_id
    ]


# --- distinct articles ------------------------------------------------------------------------


def by_language(texts: Iterable[Text]) -> dict[str, list[Text]]:
    groups: dict[str, list[Text]] = {}
    for text in texts:
        groups.setdefault(text.language, []).append(text)
    return groups


def word_set(text: Text) -> frozenset[str]:
    """Cheap overlap features: lower-cased words, or character bigrams of unspaced scripts."""
    lowered = text.text.casefold()
    if text.unspaced:
        letters = "".join(lowered.split())
        return frozenset(letters[i : i + 2] for i in range(len(letters) - 1))
    return frozenset(re.findall(r"\w+", lowered))


def jaccard(first: frozenset[str], second: frozenset[str]) -> float:
    union = len(first | second)
    return len(first & second) / union if union else 0.0


def _key(first: str, second: str) -> tuple[str, str]:
    return (first, second) if first <= second else (second, first)


def distinct_pair(kind: str, first: Text, second: Text) -> Pair:
    return Pair(kind, False, first.id, second.id, first.text, second.text)


def most_similar_pairs(
    texts: Sequence[Text], count: int, exclude: set[tuple[str, str]]
) -> list[Pair]:
    """The ``count`` most alike pairs of different articles in one language (word sets)."""
    words = {text.id: word_set(text) for text in texts}
    scored = [
        (jaccard(words[a.id], words[b.id]), a.id, b.id, a, b)
        for group in by_language(texts).values()
        for a, b in itertools.combinations(group, 2)
        if _key(a.id, b.id) not in exclude
    ]
    scored.sort(key=lambda item: (-item[0], item[1], item[2]))
    return [distinct_pair("most similar articles", a, b) for *_, a, b in scored[:count]]


def same_language_pairs(
    texts: Sequence[Text], rng: Random, exclude: set[tuple[str, str]]
) -> list[Pair]:
    """Pairs of different articles in one language, at most ``PAIRS_PER_LANGUAGE`` each."""
    pairs = []
    for language in sorted(groups := by_language(texts)):
        candidates = [
            (a, b)
            for a, b in itertools.combinations(groups[language], 2)
            if _key(a.id, b.id) not in exclude
        ]
        if len(candidates) > PAIRS_PER_LANGUAGE:
            keep = sorted(rng.sample(range(len(candidates)), PAIRS_PER_LANGUAGE))
            candidates = [candidates[index] for index in keep]
        pairs += [distinct_pair("same language", a, b) for a, b in candidates]
    return pairs


def other_articles(text: Text, group: Iterable[Text], exclude: set[tuple[str, str]]) -> list[Text]:
    """The texts of ``group`` that are other articles than ``text``."""
    return [o for o in group if o.id != text.id and _key(o.id, text.id) not in exclude]


def lead(text: Text) -> str:
    """The first paragraph of some substance (eight units or more), else the first."""
    paragraphs = text.paragraphs
    return next((p for p in paragraphs if len(units(p, text.unspaced)) >= 8), paragraphs[0])


def shared_lead_pairs(
    bases: Sequence[Text], texts: Sequence[Text], rng: Random, exclude: set[tuple[str, str]]
) -> list[Pair]:
    """Same event, two stories: article A, and article B with A's lead in place of its own."""
    groups = by_language(texts)
    pairs = []
    for text in bases:
        others = other_articles(text, groups[text.language], exclude)
        if not others:
            continue
        other = rng.choice(others)
        spliced = "\n\n".join([lead(text), *other.paragraphs[1:]])
        second_id = f"{other.id} (lead of {text.id})"
        pairs.append(Pair("same lead, other story", False, text.id, second_id, text.text, spliced))
    return pairs


def follow_up(first: Sequence[str], second: Sequence[str]) -> list[str] | None:
    """A follow-up of the story ``first``: its leading paragraphs (about ``FOLLOW_UP_SHARE``
    of it, the lead and background), then as much new text, from the story ``second`` (after
    its lead); ``None`` when the paragraphs allow no such split or ``second`` is too short."""
    kept = first[: leading_paragraphs(first, FOLLOW_UP_SHARE)]
    reused = sum(map(len, kept))
    if not FOLLOW_UP_RANGE[0] <= reused / sum(map(len, first)) <= FOLLOW_UP_RANGE[1]:
        return None
    new: list[str] = []
    for paragraph in second[1:]:
        if sum(map(len, new)) >= reused:
            return [*kept, *new]
        new.append(paragraph)
    return [*kept, *new] if sum(map(len, new)) >= reused else None


def follow_up_pairs(
    bases: Sequence[Text], rng: Random, exclude: set[tuple[str, str]]
) -> list[Pair]:
    """A story and its follow-up: article A, and A's first half (lead and background) followed
    by as much text of another article B (the new developments)."""
    groups = by_language(bases)
    pairs = []
    for text in bases:
        others = other_articles(text, groups[text.language], exclude)
        candidates = [(o, follow_up(text.paragraphs, o.paragraphs)) for o in others]
        usable = [(other, spliced) for other, spliced in candidates if spliced is not None]
        if not usable:
            continue
        other, spliced = rng.choice(usable)
        second_id = f"{text.id} (follow-up with {other.id})"
        pairs.append(
            Pair(FOLLOW_UP_KIND, False, text.id, second_id, text.text, "\n\n".join(spliced))
        )
    return pairs


def same_template_pairs(
    texts: Sequence[Text], rng: Random, exclude: set[tuple[str, str]]
) -> list[Pair]:
    """Two different articles in one outlet's template (same dateline, link line, footer)."""
    groups = by_language(texts)
    pairs = []
    for text in texts:
        others = other_articles(text, groups[text.language], exclude)
        if not others:
            continue
        other = rng.choice(others)
        template, link = rng.choice(TEMPLATES), teaser(texts, rng)
        first, second = (
            "\n\n".join(apply_template(t.paragraphs, template, headline(t, rng), link))
            for t in (text, other)
        )
        pairs.append(
            Pair("same template", False, f"{text.id} (t)", f"{other.id} (t)", first, second)
        )
    return pairs


def labelled_pairs(
    texts: Sequence[Text], real: Iterable[tuple[str, str]], seed: int = SEED
) -> list[Pair]:
    """The labelled set: duplicates of every long text, real pairs, and distinct pairs."""
    rng = Random(seed)
    real = [*real, *KNOWN_DUPLICATES]
    exclude = {_key(a, b) for a, b in [*real, *AMBIGUOUS]}
    bases = [text for text in texts if len(text.paragraphs) >= MIN_BASE_PARAGRAPHS]
    similar = most_similar_pairs(texts, MOST_SIMILAR, exclude)
    taken = exclude | {_key(pair.first_id, pair.second_id) for pair in similar}
    return [
        *duplicate_pairs(bases, texts, rng),
        *real_pairs(texts, real),
        *similar,
        *same_language_pairs(texts, rng, taken),
        *shared_lead_pairs(bases, texts, rng, exclude),
        *follow_up_pairs(bases, rng, exclude),
        *same_template_pairs(texts, rng, exclude),
    ]


# --- scoring ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scored:
    """A pair's estimated similarity (0 when a text is too short to compare), whether the two
    share an LSH band, and whether the index found one from the other at the default."""

    pair: Pair
    similarity: float
    comparable: bool
    candidate: bool
    found: bool

    def detected(self, threshold: float, *, lsh: bool = False) -> bool:
        """Called one story at ``threshold`` (through the LSH bands too, when ``lsh``)."""
        return self.similarity >= threshold and (self.candidate or not lsh)


class Signatures:
    """Signatures of texts, each computed once."""

    def __init__(self, signer: Signer | None = None) -> None:
        self._signer = signer or Signer()
        self._cache: dict[str, np.ndarray | None] = {}

    def __call__(self, text: str) -> np.ndarray | None:
        if text not in self._cache:
            self._cache[text] = self._signer.signature(text)
        return self._cache[text]


def index_finds(index: NearDuplicateIndex, stored: np.ndarray, looked_up: np.ndarray) -> bool:
    """Whether ``index`` (holding nothing else) finds ``stored`` from ``looked_up``."""
    index.add("stored", "stored", stored)
    try:
        return index.find(looked_up) is not None
    finally:
        index.remove_many(["stored"])


def score_pair(pair: Pair, signatures: Signatures, index: NearDuplicateIndex) -> Scored:
    first, second = signatures(pair.first), signatures(pair.second)
    if first is None or second is None:
        return Scored(pair, 0.0, comparable=False, candidate=False, found=False)
    shared = any(a == b for a, b in zip(band_keys(first), band_keys(second), strict=True))
    return Scored(
        pair,
        similarity(first, second),
        comparable=True,
        candidate=shared,
        found=index_finds(index, first, second),
    )


def score_pairs(pairs: Iterable[Pair], threshold: float = DEFAULT_THRESHOLD) -> list[Scored]:
    """Score every pair, with one in-memory index at ``threshold``."""
    signatures = Signatures()
    index = NearDuplicateIndex(threshold=threshold)
    try:
        return [score_pair(pair, signatures, index) for pair in pairs]
    finally:
        index.close()


# --- metrics ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Counts:
    """Confusion counts of a decision over labelled pairs."""

    true_positive: int
    false_positive: int
    false_negative: int
    true_negative: int

    @property
    def precision(self) -> float:
        called = self.true_positive + self.false_positive
        return self.true_positive / called if called else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positive + self.false_negative
        return self.true_positive / wanted if wanted else 1.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0


def counts_at(scored: Iterable[Scored], threshold: float, *, lsh: bool = False) -> Counts:
    """Confusion counts when pairs at or above ``threshold`` are called one story."""
    tp = fp = fn = tn = 0
    for item in scored:
        called = item.detected(threshold, lsh=lsh)
        if item.pair.duplicate:
            tp, fn = tp + called, fn + (not called)
        else:
            fp, tn = fp + called, tn + (not called)
    return Counts(tp, fp, fn, tn)


def index_counts(scored: Iterable[Scored]) -> Counts:
    """Confusion counts of the index lookups (at the threshold the pairs were scored with)."""
    items = list(scored)
    tp = sum(item.found for item in items if item.pair.duplicate)
    fp = sum(item.found for item in items if not item.pair.duplicate)
    positives = sum(item.pair.duplicate for item in items)
    return Counts(tp, fp, positives - tp, len(items) - positives - fp)


def recommended(scored: Sequence[Scored], thresholds: Iterable[float] = THRESHOLDS) -> float | None:
    """The threshold of best F1 among those where precision and recall both reach ``TARGET``
    (the higher threshold on a tie), or ``None``."""
    passing = [
        (counts.f1, threshold)
        for threshold in thresholds
        if (counts := counts_at(scored, threshold)).precision >= TARGET and counts.recall >= TARGET
    ]
    return max(passing)[1] if passing else None


# --- report -----------------------------------------------------------------------------------


def _pct(value: float) -> str:
    return f"{value:.3f}"


def curve_table(scored: Sequence[Scored], default: float = DEFAULT_THRESHOLD) -> str:
    rows = []
    for threshold in THRESHOLDS:
        sig, lsh = counts_at(scored, threshold), counts_at(scored, threshold, lsh=True)
        mark = " (default)" if math.isclose(threshold, default) else ""
        rows.append(
            [
                f"{threshold:.2f}{mark}",
                _pct(sig.precision),
                _pct(sig.recall),
                _pct(sig.f1),
                str(sig.true_positive),
                str(sig.false_positive),
                str(sig.false_negative),
                _pct(lsh.precision),
                _pct(lsh.recall),
            ]
        )
    headers = ["threshold", "precision", "recall", "F1", "TP", "FP", "FN"]
    return markdown_table([*headers, "precision via LSH", "recall via LSH"], rows)


def kind_table(scored: Sequence[Scored], threshold: float = DEFAULT_THRESHOLD) -> str:
    kinds: dict[tuple[bool, str], list[Scored]] = {}
    for item in scored:
        kinds.setdefault((not item.pair.duplicate, item.pair.kind), []).append(item)
    rows = []
    for (distinct, kind), items in kinds.items():
        values = [item.similarity for item in items]
        called = sum(item.detected(threshold) for item in items)
        found = sum(item.found for item in items)
        rows.append(
            [
                kind,
                "distinct" if distinct else "duplicate",
                str(len(items)),
                f"{called} ({called / len(items):.3f})",
                f"{found} ({found / len(items):.3f})",
                f"{min(values):.3f} / {statistics.median(values):.3f} / {max(values):.3f}",
            ]
        )
    headers = ["kind", "label", "pairs", f"similarity ≥ {threshold:.2f}", "index finds"]
    return markdown_table([*headers, "similarity min / median / max"], rows)


def examples_table(scored: Sequence[Scored], count: int = EXAMPLES) -> str:
    """The duplicates scored lowest and the distinct pairs scored highest."""
    duplicates = sorted((s for s in scored if s.pair.duplicate), key=lambda s: s.similarity)
    distinct = sorted((s for s in scored if not s.pair.duplicate), key=lambda s: -s.similarity)
    rows = [
        [
            "duplicate" if item.pair.duplicate else "distinct",
            item.pair.kind,
            f"`{item.pair.first_id}`",
            f"`{item.pair.second_id}`",
            f"{item.similarity:.3f}",
            "yes" if item.found else "no",
        ]
        for item in [*duplicates[:count], *distinct[:count]]
    ]
    headers = ["label", "kind", "first", "second", "similarity", "index finds"]
    return markdown_table(headers, rows)


def headline_lines(scored: Sequence[Scored], default: float = DEFAULT_THRESHOLD) -> list[str]:
    sig, found = counts_at(scored, default), index_counts(scored)
    positives = sum(item.pair.duplicate for item in scored)
    best = recommended(scored)
    verdict = "both reach" if min(sig.precision, sig.recall) >= TARGET else "NOT both at"
    return [
        (
            f"At the default threshold {default:.2f} over {len(scored)} pairs ({positives} "
            f"duplicate, {len(scored) - positives} distinct): **precision {sig.precision:.3f}, "
            f"recall {sig.recall:.3f}** (F1 {sig.f1:.3f}; {verdict} {TARGET})."
        ),
        (
            f"Through `NearDuplicateIndex` (LSH bands, then the threshold): precision "
            f"{found.precision:.3f}, recall {found.recall:.3f} ({found.true_positive} of "
            f"{positives} duplicates found, {found.false_positive} distinct merged)."
        ),
        (
            "Best F1 with precision and recall both ≥ "
            f"{TARGET}: {'none' if best is None else f'{best:.2f}'}."
        ),
    ]


def ambiguous_lines(texts: Sequence[Text]) -> list[str]:
    """The borderline pairs left out of the labels, with their estimated similarity."""
    signatures, by_id, lines = Signatures(), {text.id: text for text in texts}, []
    for first, second in AMBIGUOUS:
        if first in by_id and second in by_id:
            a, b = signatures(by_id[first].text), signatures(by_id[second].text)
            score = similarity(a, b) if a is not None and b is not None else 0.0
            lines.append(f"`{first}` / `{second}`: similarity {score:.3f}")
    return lines


@dataclass(frozen=True)
class Report:
    command: str
    corpus: Path
    texts: Sequence[Text]
    scored: Sequence[Scored]
    seconds: float
    when: datetime

    def intro(self) -> str:
        bases = sum(len(text.paragraphs) >= MIN_BASE_PARAGRAPHS for text in self.texts)
        return (
            f"Command: `{self.command}` ({self.when:%Y-%m-%d %H:%M} UTC, "
            f"{self.seconds:.0f} s), {len(self.texts)} texts of `{self.corpus}`, {bases} of "
            f"them with {MIN_BASE_PARAGRAPHS}+ paragraphs edited into duplicates; pairs made "
            f"with `random.Random({SEED})` (see the module docstring). Detector: MinHash "
            f"of {NUM_PERM} permutations, LSH of {BANDS} bands of {ROWS} rows."
        )

    def render(self) -> str:
        ambiguous = "; ".join(ambiguous_lines(self.texts)) or "none in this corpus"
        return "\n\n".join(
            [
                "## Near-duplicate benchmark",
                self.intro(),
                "\n".join(f"* {line}" for line in headline_lines(self.scored)),
                (
                    "### Precision and recall by threshold\n\nA pair is called one story when "
                    'its estimated similarity reaches the threshold; "via LSH" also needs '
                    "the two signatures to share a band (as the index's lookup does)."
                ),
                curve_table(self.scored),
                (
                    f"### By kind, at the default threshold {DEFAULT_THRESHOLD:.2f}\n\n"
                    "For duplicates the share at or above the threshold is the recall of the "
                    "kind; for distinct pairs it is the share wrongly merged."
                ),
                kind_table(self.scored),
                "### Hardest pairs",
                examples_table(self.scored),
                f"Left out of the labels (borderline): {ambiguous}.",
            ]
        )


# --- command line -----------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.near_duplicates",
        description="Precision and recall of near-duplicate detection on labelled pairs.",
        epilog=f"The corpus is ${CORPUS_ENV}, else ../shared/corpus.",
    )
    parser.add_argument(
        "--write-results", action="store_true", help=f"also write the tables into {RESULTS_FILE}"
    )
    args = parser.parse_args(argv)
    directory = corpus_dir()
    if corpus_missing(directory, "bench-near"):
        return EXIT_NO_CORPUS
    quiet_noisy_loggers()
    started, clock = datetime.now(UTC), time.perf_counter()
    texts = load_texts(load_pages(directory))
    scored = score_pairs(labelled_pairs(texts, manifest_duplicates(directory)))
    seconds = time.perf_counter() - clock
    command = command_of("bench.near_duplicates", argv)
    report = Report(command, directory, texts, scored, seconds, started)
    publish(report.render(), SECTION, write=args.write_results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
