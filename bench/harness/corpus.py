"""The development corpus and the second labelled set: where they are, their manifests, and what
to say when one is missing.

The corpus is ``$NEWS_CORPUS_DIR``, else ``../shared/corpus`` next to the repository: a
``manifest.jsonl`` (one page a line: ``id``, ``source``, ``language``, ``url``, ``file``,
``expected``) and the gzipped pages it names. ``demo/pages`` has the same format, which is how
the tests run the benchmarks without the corpus. The second set (trafilatura's own evaluation
pages, must / must-not snippets) is ``$NEWS_EVALSET_DIR``, else
``../shared/evalsets/trafilatura``, in the same shape (no ``source`` or ``language``).
"""

from __future__ import annotations

import gzip
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping

ROOT = Path(__file__).resolve().parents[2]
"""The repository."""
DEFAULT_CORPUS_DIR = ROOT.parent / "shared" / "corpus"
CORPUS_ENV = "NEWS_CORPUS_DIR"
DEFAULT_EVALSET_DIR = ROOT.parent / "shared" / "evalsets" / "trafilatura"
EVALSET_ENV = "NEWS_EVALSET_DIR"
EXIT_NO_CORPUS = 2
"""Exit status of a benchmark that found no corpus."""


@dataclass(frozen=True)
class CorpusPage:
    """One page of the corpus manifest, with what its source expects."""

    id: str
    source: str
    language: str | None
    url: str
    file: Path
    expected: Mapping[str, Any]

    def body(self) -> bytes:
        return read_body(self.file)


def read_body(file: Path) -> bytes:
    """A corpus file's bytes (gunzipped when gzipped)."""
    data = file.read_bytes()
    return gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data


def corpus_dir() -> Path:
    """``$NEWS_CORPUS_DIR``, else ``../shared/corpus`` relative to the repository root."""
    configured = os.environ.get(CORPUS_ENV)
    return Path(configured) if configured else DEFAULT_CORPUS_DIR


def evalset_dir() -> Path:
    """``$NEWS_EVALSET_DIR``, else ``../shared/evalsets/trafilatura`` relative to the root."""
    configured = os.environ.get(EVALSET_ENV)
    return Path(configured) if configured else DEFAULT_EVALSET_DIR


def corpus_missing(
    directory: Path, make_target: str, *, what: str = "corpus", variable: str = CORPUS_ENV
) -> bool:
    """Whether ``directory`` holds no corpus (``manifest.jsonl``); says so on stderr, with how
    to point ``make <make_target>`` at one (``what`` names the set, ``variable`` its setting)."""
    if (directory / "manifest.jsonl").is_file():
        return False
    print(
        f"No {what} found: looked for {directory / 'manifest.jsonl'}.\n"
        f"Set {variable} to the {what} directory (the one holding manifest.jsonl and "
        f"html/), e.g. {variable}=/path/to/{what.replace(' ', '-')} make {make_target}",
        file=sys.stderr,
    )
    return True


def _page(directory: Path, record: Mapping[str, Any]) -> CorpusPage:
    return CorpusPage(
        id=record["id"],
        source=record.get("source") or directory.name,
        language=record.get("language"),
        url=record.get("url") or f"https://example.invalid/{record['id']}",
        file=directory / record["file"],
        expected=record.get("expected") or {},
    )


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """The records of a JSON Lines file (a manifest, a label file), blank lines skipped."""
    with path.open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def load_pages(
    directory: Path, *, source: str | None = None, limit: int | None = None
) -> list[CorpusPage]:
    """The pages of ``directory/manifest.jsonl`` in manifest order (of one source, the first
    ``limit`` of them, when asked)."""
    pages = [
        _page(directory, record)
        for record in read_jsonl(directory / "manifest.jsonl")
        if source is None or record.get("source") == source
    ]
    return pages if limit is None else pages[:limit]
