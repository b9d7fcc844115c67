"""Dedupe scaling benchmark: time, memory and disk of the dedupe state per 100k and 1M articles.

    .venv/bin/python -m bench.dedupe_scaling [--sizes 100000,1000000] [--write-results]

Each size runs in a fresh subprocess (so the peak RSS is that size's own) on a fresh temporary
``OUTPUT_DIR``, with the state where the crawler keeps it: ``state/crawl-state.sqlite3`` (exact
duplicates, :class:`dataset.state.embedded.CrawlState`) and ``state/near-duplicates.sqlite3``
(:class:`dataset.state.embedded.NearDuplicateIndex`).

Articles are synthetic: 120-400 words in paragraphs of sentences, drawn with Zipf frequencies
from 20,000 made-up words, each article from its own seed (so any earlier one can be made
again without keeping it). Every 1000th article is a planted near-copy of a random earlier
one with one sentence replaced, as another outlet republishing a wire story would be.

Per article the work is the dedupe pipeline's (``pipelines/dedupe.py``): the exact lookups
(URL and canonical URL with ``has_url``, content hash with ``has_content``, after the pending
keys), the MinHash signature, the near-duplicate lookup (the pending in-memory index, then the
stored one) and the pending insert; per data file of 1000 accepted articles, the commit:
``CrawlState.record_file`` with the rows' keys, ``NearDuplicateIndex.add_many`` into the
stored index and ``remove_many`` from the pending one. A near-copy found is dropped.

Reported per size: per-article time (signature, lookups, inserts and commits), the process's
peak RSS, its RSS growth from the 10% mark to the end, the state's size on disk per stored
article, and the planted near-copies found; and per tenth of the run, the time of each step
per article, the bytes written per article (``wchar``: WAL appends and checkpoints), the RSS
and the state's size on disk, to show what rises with the index and what stays flat.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import itertools
import json
import os
import random
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bench.harness.corpus import ROOT
from bench.harness.processes import kb_field, rss
from bench.harness.report import machine_line, positive_list, publish
from dataset.layout import state_dir
from dataset.state import embedded as crawl_state
from dataset.state import near_index
from dataset.state.embedded import NEAR_STATE_FILE, STATE_FILE, CrawlState, NearDuplicateIndex
from extraction import signature
from extraction.record import row_id
from extraction.signature import Signer, shingles
from extraction.text import content_hash

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import numpy as np

DEFAULT_SIZES = (100_000, 1_000_000)
VOCABULARY_SIZE = 20_000
MIN_WORDS, MAX_WORDS = 120, 400
MIN_SENTENCE, MAX_SENTENCE = 6, 22
MIN_PARAGRAPH, MAX_PARAGRAPH = 2, 5
PLANT_EVERY = 1000
"""Every this many articles, one is a near-copy of an earlier one."""
FILE_ROWS = 1000
"""Accepted articles per committed data file (one state transaction each)."""
TENTHS = 10
SEED = 20261126
FETCHED_FROM = datetime(2026, 1, 1, tzinfo=UTC)
SECTION = "dedupe-scaling"

_ONSETS = (*"bcdfghjklmnprstvwz", "br", "ch", "cr", "dr", "fl", "gr", "kl", "pl", "pr", "sh", "st")
_VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "ou", "io")
_CODAS = ("", "", "", "n", "r", "s", "l", "m", "nd", "st")


# --- synthetic articles ------------------------------------------------------------------------


@dataclass(frozen=True)
class Vocabulary:
    """Made-up words and their cumulative Zipf weights (the first word is the most common)."""

    words: tuple[str, ...]
    cumulative: tuple[float, ...]

    @classmethod
    def make(cls, size: int = VOCABULARY_SIZE, seed: int = SEED) -> Vocabulary:
        rng = random.Random(seed)
        words: dict[str, None] = {}  # insertion-ordered, unlike a set
        while len(words) < size:
            syllables = rng.randint(1, 4)
            word = "".join(
                rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)
                for _ in range(syllables)
            )
            words[word] = None
        weights = (1.0 / rank for rank in range(1, size + 1))
        by_length = sorted(words, key=len)  # stable: short words are the common ones
        return cls(tuple(by_length), tuple(itertools.accumulate(weights)))

    def sample(self, rng: random.Random, count: int) -> list[str]:
        return rng.choices(self.words, cum_weights=self.cumulative, k=count)


def _sentence(vocabulary: Vocabulary, rng: random.Random) -> str:
    words = vocabulary.sample(rng, rng.randint(MIN_SENTENCE, MAX_SENTENCE))
    return " ".join(words).capitalize() + "."


def _paragraphs(vocabulary: Vocabulary, rng: random.Random) -> list[list[str]]:
    """Sentences grouped in paragraphs, until the article's drawn length is reached."""
    target = rng.randint(MIN_WORDS, MAX_WORDS)
    paragraphs: list[list[str]] = []
    words = 0
    while words < target:
        paragraph = []
        for _ in range(rng.randint(MIN_PARAGRAPH, MAX_PARAGRAPH)):
            sentence = _sentence(vocabulary, rng)
            paragraph.append(sentence)
            words += sentence.count(" ") + 1
            if words >= target:
                break
        paragraphs.append(paragraph)
    return paragraphs


def _render(paragraphs: list[list[str]]) -> str:
    return "\n\n".join(" ".join(paragraph) for paragraph in paragraphs)


def _rng(seed: int, index: int) -> random.Random:
    return random.Random(seed * 10_000_019 + index)


def is_planted(index: int) -> bool:
    """Whether article ``index`` is a planted near-copy."""
    return index % PLANT_EVERY == PLANT_EVERY - 1


def article_text(index: int, vocabulary: Vocabulary, seed: int = SEED) -> str:
    """Article ``index`` as generated from its own seed (planted copies are not made here)."""
    return _render(_paragraphs(vocabulary, _rng(seed, index)))


def near_copy(index: int, vocabulary: Vocabulary, seed: int = SEED) -> tuple[int, str]:
    """The planted article ``index``: a random earlier original with one sentence replaced;
    returns the original's index and the copy's text."""
    rng = _rng(seed, index)
    source = rng.randrange(index)
    if is_planted(source):
        source -= 1  # copy an original, not another copy
    paragraphs = _paragraphs(vocabulary, _rng(seed, source))
    where = rng.randrange(len(paragraphs))
    paragraphs[where][rng.randrange(len(paragraphs[where]))] = _sentence(vocabulary, rng)
    return source, _render(paragraphs)


def jaccard(first: str, second: str) -> float:
    """Exact Jaccard similarity of two texts' shingle sets."""
    a, b = shingles(first), shingles(second)
    return len(a & b) / len(a | b) if a or b else 1.0


# --- measurement -------------------------------------------------------------------------------


def memory() -> tuple[int, int]:
    """The process's current and peak resident set size in bytes (``/proc/self/status``; the
    peak alone from ``getrusage`` where there is no ``/proc``)."""
    pid = os.getpid()
    peak = kb_field(pid, "status", "VmHWM:")
    peak = peak or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return rss(pid) or peak, peak


def written_bytes() -> int:
    """Bytes this process has passed to ``write`` so far (``wchar`` of ``/proc/self/io``; 0
    where there is none): the SQLite WAL appends and checkpoints."""
    try:
        with Path("/proc/self/io").open(encoding="ascii") as io:
            for line in io:
                name, _, value = line.partition(":")
                if name == "wchar":
                    return int(value)
    except OSError:
        pass
    return 0


def code_version() -> str:
    """The index's banding and a hash of the measured modules' source (other work may change
    them between two runs; results of different code must not share a table)."""
    digest = hashlib.blake2b(digest_size=6)
    for module in (near_index, signature, crawl_state):
        digest.update(Path(str(module.__file__)).read_bytes())
    return (
        f"{near_index.BANDS} bands × {near_index.ROWS} rows of "
        f"{signature.NUM_PERM} MinHash values; source {digest.hexdigest()}"
    )


def _files_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.iterdir() if path.is_file())


@dataclass
class Tenth:
    """One tenth of a run: its articles, the time of each step (seconds), and at its end the
    RSS, the bytes written during it and the state's size on disk (WAL included)."""

    articles: int = 0
    generate_s: float = 0.0
    signature_s: float = 0.0
    exact_s: float = 0.0
    near_s: float = 0.0
    pending_s: float = 0.0
    commit_s: float = 0.0
    rss: int = 0
    written: int = 0
    disk: int = 0

    @property
    def lookup_s(self) -> float:
        return self.exact_s + self.near_s

    @property
    def insert_s(self) -> float:
        return self.pending_s + self.commit_s

    def per_article_ms(self, seconds: float) -> float:
        return 1000.0 * seconds / max(self.articles, 1)


@dataclass
class Measurement:
    """One run over ``articles`` articles (times in seconds, sizes in bytes)."""

    articles: int
    code: str = ""
    stored: int = 0
    wall_s: float = 0.0
    cpu_user_s: float = 0.0
    cpu_system_s: float = 0.0
    rss_start: int = 0
    rss_end: int = 0
    peak_rss: int = 0
    disk: dict[str, int] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)
    planted: int = 0
    found: int = 0
    min_planted_similarity: float = 1.0
    false_matches: int = 0
    exact_hits: int = 0
    no_signature: int = 0
    tenths: list[Tenth] = field(default_factory=list)

    def total(self, step: str) -> float:
        """Seconds spent in one step (a :class:`Tenth` attribute) over the whole run."""
        return float(sum(getattr(tenth, step) for tenth in self.tenths))

    @property
    def lookup_s(self) -> float:
        return self.total("lookup_s")

    @property
    def insert_s(self) -> float:
        return self.total("insert_s")

    @property
    def dedupe_s(self) -> float:
        return self.total("signature_s") + self.lookup_s + self.insert_s

    @property
    def rss_tenth(self) -> int:
        """RSS at the 10% mark."""
        return self.tenths[0].rss if self.tenths else self.rss_end

    @property
    def disk_bytes(self) -> int:
        return sum(self.disk.values())

    @property
    def written(self) -> int:
        return sum(tenth.written for tenth in self.tenths)

    def per_article_ms(self, seconds: float) -> float:
        return 1000.0 * seconds / max(self.articles, 1)

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> Measurement:
        data = json.loads(text)
        data["tenths"] = [Tenth(**tenth) for tenth in data["tenths"]]
        return cls(**data)


class _Run:
    """The dedupe work of one crawl into a fresh ``OUTPUT_DIR`` (as ``DedupePipeline`` does)."""

    def __init__(self, output_dir: Path, result: Measurement) -> None:
        self.folder = state_dir(output_dir)
        self.result = result
        self.signer = Signer()
        self.state = CrawlState.open(self.folder)
        self.index = NearDuplicateIndex(self.folder / NEAR_STATE_FILE)
        self.pending_index = NearDuplicateIndex()
        self.pending_urls: set[str] = set()
        self.pending_hashes: set[str] = set()
        self.pending_signatures: dict[str, tuple[str, np.ndarray]] = {}
        self.keys: list[tuple[str, str | None, str, datetime]] = []
        self.files = 0

    def close(self) -> None:
        for database in (self.state, self.index, self.pending_index):
            database.close()

    def process(self, index: int, text: str, tenth: Tenth) -> bool:
        """Dedupe article ``index``; whether it was a near-copy of a stored or pending one."""
        url = f"https://outlet{index % 997}.example/news/{index // 997}/story-{index}"
        canonical = f"https://outlet{index % 997}.example/s/{index}" if index % 2 else None
        digest = content_hash(text)
        start = time.perf_counter()
        exact = any(
            key in self.pending_urls or self.state.has_url(key)
            for key in filter(None, (url, canonical))
        ) or (digest in self.pending_hashes or self.state.has_content(digest))
        looked_up = time.perf_counter()
        signature = self.signer.signature(text)
        signed = time.perf_counter()
        match = None
        if signature is not None:
            match = self.pending_index.find(signature) or self.index.find(signature)
        found = time.perf_counter()
        tenth.exact_s += looked_up - start
        tenth.signature_s += signed - looked_up
        tenth.near_s += found - signed
        self.result.exact_hits += exact
        self.result.no_signature += signature is None
        if exact or match is not None:
            return match is not None
        identifier = row_id(url, digest)
        self.pending_urls.update(filter(None, (url, canonical)))
        self.pending_hashes.add(digest)
        if signature is not None:
            self.pending_index.add(digest, identifier, signature)
            self.pending_signatures[digest] = (identifier, signature)
        self.keys.append((url, canonical, digest, FETCHED_FROM + timedelta(seconds=index)))
        tenth.pending_s += time.perf_counter() - found
        if len(self.keys) >= FILE_ROWS:
            self.commit(tenth)
        return False

    def commit(self, tenth: Tenth) -> None:
        """Commit the pending articles as one data file (``on_articles_committed``)."""
        if not self.keys:
            return
        start = time.perf_counter()
        self.files += 1
        self.state.record_file(f"date=2026-01-01/part-{self.files:06d}.parquet", self.keys)
        committed = []
        for url, canonical, digest, _ in self.keys:
            self.pending_urls.discard(url)
            if canonical:
                self.pending_urls.discard(canonical)
            self.pending_hashes.discard(digest)
            pending = self.pending_signatures.pop(digest, None)
            if pending is not None:
                committed.append((digest, *pending))
        self.index.add_many(committed)
        self.pending_index.remove_many(digest for digest, *_ in committed)
        self.result.stored += len(self.keys)
        self.keys = []
        tenth.commit_s += time.perf_counter() - start


def _table_sizes(path: Path) -> dict[str, int]:
    """Bytes per table and index of an SQLite file (``dbstat``; empty when not compiled in)."""
    try:
        with closing(sqlite3.connect(path)) as db:
            rows = db.execute("SELECT name, sum(pgsize) FROM dbstat GROUP BY name").fetchall()
    except sqlite3.Error:
        return {}
    return {f"{path.name}:{name}": int(size) for name, size in rows}


def _end_tenth(tenth: Tenth, folder: Path, written_before: int) -> int:
    """Note RSS, bytes written and disk size at the end of a tenth; returns the bytes written
    so far (the next tenth's starting point)."""
    written = written_bytes()
    tenth.rss = memory()[0]
    tenth.written = written - written_before
    tenth.disk = _files_size(folder)
    return written


def measure(
    size: int,
    workdir: Path | None = None,
    *,
    seed: int = SEED,
    progress: bool = False,
) -> Measurement:
    """Dedupe ``size`` synthetic articles into a fresh ``OUTPUT_DIR`` under ``workdir`` (a
    temporary directory by default) and measure time, memory and disk."""
    vocabulary = Vocabulary.make(seed=seed)
    result = Measurement(articles=size, code=code_version())
    result.rss_start = memory()[0]
    bounds = {(size * (k + 1) + TENTHS - 1) // TENTHS for k in range(TENTHS)}
    with tempfile.TemporaryDirectory(prefix="dedupe-scaling-", dir=workdir) as tmp:
        run = _Run(Path(tmp) / "output", result)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        began = time.perf_counter()
        written = written_bytes()
        tenth = Tenth()
        try:
            for index in range(size):
                start = time.perf_counter()
                source = None
                if is_planted(index):
                    source, text = near_copy(index, vocabulary, seed)
                else:
                    text = article_text(index, vocabulary, seed)
                tenth.generate_s += time.perf_counter() - start
                matched = run.process(index, text, tenth)
                tenth.articles += 1
                if source is not None:
                    result.planted += 1
                    result.found += matched
                    similarity = jaccard(text, article_text(source, vocabulary, seed))
                    result.min_planted_similarity = min(result.min_planted_similarity, similarity)
                elif matched:
                    result.false_matches += 1
                if index + 1 == size:
                    run.commit(tenth)
                if index + 1 in bounds:
                    written = _end_tenth(tenth, run.folder, written)
                    result.tenths.append(tenth)
                    if progress:
                        print(
                            f"  {index + 1:>9,} articles  {time.perf_counter() - began:8.1f} s  "
                            f"RSS {_mib(tenth.rss)}  disk {_mib(tenth.disk)}",
                            file=sys.stderr,
                            flush=True,
                        )
                    tenth = Tenth()
            result.rss_end = memory()[0]
            result.wall_s = time.perf_counter() - began
            end_usage = resource.getrusage(resource.RUSAGE_SELF)
            result.cpu_user_s = end_usage.ru_utime - usage.ru_utime
            result.cpu_system_s = end_usage.ru_stime - usage.ru_stime
        finally:
            run.close()
        # VmHWM can lag the current RSS by the kernel's per-thread counter batching.
        result.peak_rss = max(memory()[1], result.rss_end, *(t.rss for t in result.tenths))
        for path in sorted(run.folder.iterdir()):
            if path.is_file():
                result.disk[path.name] = path.stat().st_size
        for name in (STATE_FILE, NEAR_STATE_FILE):
            result.tables.update(_table_sizes(run.folder / name))
    return result


def measure_isolated(size: int, workdir: Path | None = None, *, seed: int = SEED) -> Measurement:
    """:func:`measure` in a fresh Python process, so the peak RSS is this size's alone."""
    command = [sys.executable, "-m", "bench.dedupe_scaling", "--single", str(size)]
    command += ["--seed", str(seed)]
    if workdir is not None:
        command += ["--workdir", str(workdir)]
    completed = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True)
    return Measurement.from_json(completed.stdout.strip().splitlines()[-1])


# --- report ------------------------------------------------------------------------------------


def _mib(size: float) -> str:
    return f"{size / 2**20:,.1f} MiB"


def _duration(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60):02d} min"
    if seconds >= 60:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{seconds:.1f} s"


def summary_rows(results: Sequence[Measurement]) -> list[str]:
    rows = []
    for r in results:
        ms = r.per_article_ms
        rows.append(
            f"| {r.articles:,} | {ms(r.total('signature_s')):.3f} | {ms(r.lookup_s):.3f} | "
            f"{ms(r.insert_s):.3f} | {ms(r.dedupe_s):.3f} | {_duration(r.wall_s)} | "
            f"{_mib(r.peak_rss)} | {_mib(r.rss_tenth)} → {_mib(r.rss_end)} "
            f"({(r.rss_end - r.rss_tenth) / 2**20:+,.1f} MiB) | "
            f"{_mib(r.disk_bytes)} ({r.disk_bytes / max(r.stored, 1):,.0f} B) | "
            f"{r.found}/{r.planted} |"
        )
    return rows


TENTH_ROWS: tuple[tuple[str, Callable[[Tenth], str]], ...] = (
    ("signature ms", lambda t: f"{t.per_article_ms(t.signature_s):.3f}"),
    ("exact lookups ms", lambda t: f"{t.per_article_ms(t.exact_s):.3f}"),
    ("near lookup ms", lambda t: f"{t.per_article_ms(t.near_s):.3f}"),
    ("pending insert ms", lambda t: f"{t.per_article_ms(t.pending_s):.3f}"),
    ("commit ms", lambda t: f"{t.per_article_ms(t.commit_s):.3f}"),
    ("written KiB / article", lambda t: f"{t.written / 1024 / max(t.articles, 1):,.1f}"),
    ("RSS MiB", lambda t: f"{t.rss / 2**20:,.1f}"),
    ("disk MiB", lambda t: f"{t.disk / 2**20:,.1f}"),
)
"""The rows of the by-tenth table: a label and a cell per tenth."""


def tenth_rows(results: Sequence[Measurement]) -> list[str]:
    return [
        f"| {r.articles:,} | {label} | " + " | ".join(cell(t) for t in r.tenths) + " |"
        for r in results
        for label, cell in TENTH_ROWS
    ]


def detail_lines(results: Sequence[Measurement]) -> list[str]:
    lines = []
    for r in results:
        tables = ", ".join(
            f"`{name.split(':', 1)[1]}` {size / max(r.stored, 1):,.0f} B"
            for name, size in sorted(r.tables.items(), key=lambda item: -item[1])
            if size >= r.stored  # leave out the tiny meta tables
        )
        first, last = r.tenths[0], r.tenths[-1]
        lines.append(
            f"- {r.articles:,} articles: {r.stored:,} stored, {r.found} of {r.planted} planted "
            f"near-copies found (exact Jaccard of the planted pairs from "
            f"{r.min_planted_similarity:.2f}), {r.false_matches} false near matches, "
            f"{r.exact_hits} exact hits, {r.no_signature} texts without a signature. From the "
            f"first to the last tenth: near lookup {first.per_article_ms(first.near_s):.3f} → "
            f"{last.per_article_ms(last.near_s):.3f} ms, commit "
            f"{first.per_article_ms(first.commit_s):.3f} → "
            f"{last.per_article_ms(last.commit_s):.3f} ms, written "
            f"{first.written / 1024 / max(first.articles, 1):,.1f} → "
            f"{last.written / 1024 / max(last.articles, 1):,.1f} KiB per article. CPU "
            f"{r.cpu_user_s:,.0f} s user + {r.cpu_system_s:,.0f} s system; text generation "
            f"{r.per_article_ms(r.total('generate_s')):.3f} ms per article (in the wall time, "
            f"not the dedupe time); RSS before the first article {_mib(r.rss_start)}. On disk "
            f"per stored article: {tables or 'no dbstat'}."
        )
    return lines


def code_line(results: Sequence[Measurement]) -> str:
    """The measured code, or a warning when the sizes were measured on different code."""
    versions = list(dict.fromkeys(r.code for r in results))
    if len(versions) == 1:
        return (
            f"Index: {versions[0]} (`extraction/signature.py`, `dataset/state/near_index.py`, "
            "`dataset/state/embedded.py`)."
        )
    each = "; ".join(f"{r.articles:,}: {r.code}" for r in results)
    return f"**Warning: the sizes were measured on different code** ({each})."


def report(results: Sequence[Measurement], command: str) -> str:
    return "\n".join(
        [
            "## Dedupe scaling benchmark",
            "",
            (
                f"Command: `{command}` ({datetime.now(UTC):%Y-%m-%d %H:%M} UTC), each size in "
                "a fresh process on a fresh `OUTPUT_DIR`.\n\n"
                f"Machine: {machine_line(('numpy',))}, SQLite {sqlite3.sqlite_version}."
                f"\n\n{code_line(results)}"
            ),
            "",
            (
                "Synthetic articles (120-400 made-up words, Zipf frequencies over 20,000 words); "
                "every 1000th is a near-copy of a random earlier one with one sentence replaced. "
                "Per article: exact lookups (`has_url` for URL and canonical URL, "
                "`has_content`), MinHash signature, near-duplicate lookup (pending index, then "
                "the stored SQLite one) and pending insert; per 1000 accepted articles one "
                "commit (`CrawlState.record_file`, `NearDuplicateIndex.add_many`, pending "
                "`remove_many`). Times are per article (ms); RSS is the whole process's "
                "(Python, numpy, Scrapy and the SQLite caches); disk is both state files after "
                "closing, per stored article."
            ),
            "",
            (
                "| articles | signature ms | lookups ms | inserts + commits ms | dedupe total "
                "ms | wall time | peak RSS | RSS at 10% → end (growth) | disk (per article) "
                "| planted near-copies found |"
            ),
            "|---|---|---|---|---|---|---|---|---|---|",
            *summary_rows(results),
            "",
            (
                "By tenth of the run (per article over that tenth; RSS and disk, WAL included, "
                "at its end):"
            ),
            "",
            "| articles | | " + " | ".join(f"{10 * (k + 1)}%" for k in range(TENTHS)) + " |",
            "|---|---|" + "---|" * TENTHS,
            *tenth_rows(results),
            "",
            *detail_lines(results),
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=positive_list, default=DEFAULT_SIZES, metavar="N,N")
    parser.add_argument("--write-results", action="store_true")
    parser.add_argument("--workdir", type=Path, help="where the temporary OUTPUT_DIRs go")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--single", type=int, help=argparse.SUPPRESS)  # a child process's run
    args = parser.parse_args(argv)
    if args.single is not None:
        result = measure(args.single, args.workdir, seed=args.seed, progress=True)
        print(result.to_json())
        return 0
    results = []
    for size in args.sizes:
        print(f"{size:,} articles (fresh process) ...", file=sys.stderr, flush=True)
        results.append(measure_isolated(size, args.workdir, seed=args.seed))
    command = ".venv/bin/python -m bench.dedupe_scaling"
    if tuple(args.sizes) != DEFAULT_SIZES:
        command += " --sizes " + ",".join(str(size) for size in args.sizes)
    if args.write_results:
        command += " --write-results"
    text = report(results, command)
    if "Warning" in code_line(results):
        print(code_line(results), file=sys.stderr)
    publish(text, SECTION, write=args.write_results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
