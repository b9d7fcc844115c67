"""The throughput page set: variants of the corpus pages, each with text of its own.

Page ``i`` is the corpus page ``i mod P`` made a variant of its own. In the visible text of its
``<body>`` (link text included; not scripts, styles, attributes), 70% of the words are replaced
by words drawn from the same page's text (characters, for the scripts written without spaces),
with a generator seeded by ``i``; its ``<link rel=canonical>`` and ``og:url`` get
``?variant=<i>``. Each page so keeps the markup, size, language and charset of its original, but
its text is its own, and no copy is dropped as a duplicate: on the corpus two variants of a page
share at most about a tenth of their word 3-gram (character 5-gram) shingles, where the
near-duplicate threshold is half.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from w3lib.encoding import read_bom

from bench.harness.corpus import load_pages, read_body
from extraction.charset import decode_html

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

CONTENT_TYPE = "text/html"
REPLACED_SHARE = 0.7
"""Share of the words of a page's visible text that each variant replaces."""

# Scripts written without spaces, as ``extraction.signature`` shingles them (by character).
_UNSPACED = "\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff\u3040-\u30ff\u3400-\u9fff"
_TOKENS = re.compile(
    r"<!--.*?-->|<(script|style|noscript|textarea|template|title)\b[^>]*>.*?</\1\s*>|<[^>]*>",
    re.DOTALL | re.IGNORECASE,
)
_WORDS = re.compile(rf"&#?\w+;|(?P<char>[{_UNSPACED}])|(?P<word>(?:(?![{_UNSPACED}])[^\W\d_])+)")
_TAG = re.compile(r"<\s*(/?)\s*([a-zA-Z][\w:-]*)")
_ATTRIBUTE = re.compile(r"""([^\s"'=<>/]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_BODY_START = re.compile(r"<body\b|</head\s*>", re.IGNORECASE)
_NAME = re.compile(r"[^A-Za-z0-9._-]+")
WORD, CHAR, CANONICAL = 0, 1, 2
"""Kinds of slots: a word, a character of an unspaced script, the value of a canonical URL."""


def _attributes(tag: str) -> dict[str, tuple[str, int, int]]:
    """Lower-cased attribute names of a tag, with their values and the values' spans."""
    found: dict[str, tuple[str, int, int]] = {}
    for match in _ATTRIBUTE.finditer(tag):
        group = next(g for g in (2, 3, 4) if match.group(g) is not None)
        found.setdefault(match.group(1).lower(), (match.group(group), *match.span(group)))
    return found


def _canonical_span(name: str, tag: str) -> tuple[int, int] | None:
    """Where the URL of a ``<link rel=canonical>`` or ``<meta property=og:url>`` tag is."""
    if name not in {"link", "meta"}:
        return None
    attributes = _attributes(tag)
    if name == "link" and "canonical" in attributes.get("rel", ("",))[0].lower().split():
        value = attributes.get("href")
    elif name == "meta" and "og:url" in (
        attributes.get("property", ("",))[0].lower(),
        attributes.get("name", ("",))[0].lower(),
    ):
        value = attributes.get("content")
    else:
        return None
    return (value[1], value[2]) if value and value[0].strip() else None


@dataclass(frozen=True)
class Template:
    """A corpus page cut into fixed text and slots (words, characters, canonical URLs)."""

    name: str
    encoding: str
    bom: bytes
    parts: tuple[str, ...]
    """Fixed text: one more than there are slots."""
    kinds: tuple[int, ...]
    originals: tuple[str, ...]
    words: tuple[str, ...]
    chars: tuple[str, ...]

    def render(self, seed: int, share: float = REPLACED_SHARE) -> bytes:
        """The variant ``seed``: ``share`` of the words replaced, the canonical URL marked."""
        rng = random.Random(seed)
        draw, chance = rng.choice, rng.random
        vocabulary = (self.words, self.chars)
        out = [self.parts[0]]
        for kind, original, part in zip(self.kinds, self.originals, self.parts[1:], strict=True):
            if kind == CANONICAL:
                value = f"{original}{'&amp;' if '?' in original else '?'}variant={seed}"
            elif chance() < share:
                value = draw(vocabulary[kind])
            else:
                value = original
            out += (value, part)
        return self.bom + "".join(out).encode(self.encoding, errors="xmlcharrefreplace")


class _Cutter:
    """Cuts decoded HTML into a :class:`Template`."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.kinds: list[int] = []
        self.originals: list[str] = []
        self.pending: list[str] = []

    def fixed(self, text: str) -> None:
        self.pending.append(text)

    def slot(self, kind: int, original: str) -> None:
        self.parts.append("".join(self.pending))
        self.pending = []
        self.kinds.append(kind)
        self.originals.append(original)

    def text(self, text: str) -> None:
        last = 0
        for match in _WORDS.finditer(text):
            if match.lastgroup is None:
                continue  # an entity
            self.fixed(text[last : match.start()])
            self.slot(CHAR if match.lastgroup == "char" else WORD, match.group())
            last = match.end()
        self.fixed(text[last:])

    def tag(self, tag: str, in_body: bool) -> bool:
        """Add a tag; whether the body starts with it (or was already started)."""
        match = _TAG.match(tag)
        if match is None:
            self.fixed(tag)
            return in_body
        closing, name = bool(match.group(1)), match.group(2).lower()
        span = None if closing else _canonical_span(name, tag)
        if span is None:
            self.fixed(tag)
        else:
            self.fixed(tag[: span[0]])
            self.slot(CANONICAL, tag[span[0] : span[1]])
            self.fixed(tag[span[1] :])
        return in_body or (name == "body" and not closing) or (name == "head" and closing)


def make_template(name: str, body: bytes) -> Template:
    """Cut a page: every word of the visible text after ``<body>`` (or ``</head>``; all of it
    in a page with neither) becomes a slot, and so do canonical URLs."""
    html, encoding = decode_html(body, CONTENT_TYPE)
    bom = read_bom(body)[1] or b""  # decode_html drops it: put it back
    cutter = _Cutter()
    in_body = _BODY_START.search(html) is None
    position = 0
    for match in _TOKENS.finditer(html):
        if in_body:
            cutter.text(html[position : match.start()])
        else:
            cutter.fixed(html[position : match.start()])
        in_body = cutter.tag(match.group(), in_body)
        position = match.end()
    if in_body:
        cutter.text(html[position:])
    else:
        cutter.fixed(html[position:])
    cutter.parts.append("".join(cutter.pending))
    kinds, originals = tuple(cutter.kinds), tuple(cutter.originals)
    return Template(
        name=_NAME.sub("-", name).strip("-") or "page",
        encoding=encoding,
        bom=bom,
        parts=tuple(cutter.parts),
        kinds=kinds,
        originals=originals,
        words=tuple(o for k, o in zip(kinds, originals, strict=True) if k == WORD),
        chars=tuple(o for k, o in zip(kinds, originals, strict=True) if k == CHAR),
    )


def load_templates(directory: Path) -> list[Template]:
    """A template for every page of ``directory/manifest.jsonl``, in manifest order."""
    return [make_template(page.id, read_body(page.file)) for page in load_pages(directory)]


@dataclass(frozen=True)
class PageSet:
    """Page ``i`` is template ``i mod len(templates)``, variant ``i``."""

    templates: Sequence[Template]

    def template(self, index: int) -> Template:
        return self.templates[index % len(self.templates)]

    def path(self, index: int) -> str:
        return f"/a/{index}/{self.template(index).name}.html"

    def body(self, index: int) -> bytes:
        return self.template(index).render(index)
