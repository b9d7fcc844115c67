"""Listings benchmark: no real article dropped as a listing, every listing page dropped.

    .venv/bin/python -m bench.listings [--write-results]

Articles: every article page the project has (the development corpus, the second yardstick of
``../shared/evalsets/trafilatura``, the demo pages and the articles of the test news site),
extracted as the crawl does; each one dropped (``ListingPage`` or ``NotAnArticle``) is named.
Listings: from the template of every corpus page, its site's home, section, tag, author,
search and pagination page (``bench/harness/listings.py``: the article replaced by twelve
teasers of other articles, half of the kinds with excerpts); each one kept as an article is
counted by kind. Both counts go to ``bench/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bench.harness.corpus import (
    EXIT_NO_CORPUS,
    ROOT,
    CorpusPage,
    corpus_dir,
    corpus_missing,
    load_pages,
)
from bench.harness.listings import KINDS, listings, teasers_of_pages
from bench.harness.report import machine_line, markdown_table, publish
from extraction.extractor import ExtractionError, extract_article
from tests.newssite import NewsSite

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

SECTION = "listings"
EVALSET = "evalsets/trafilatura"


@dataclass
class Side:
    """One side of the benchmark: pages run, and the ones that went the wrong way."""

    pages: int = 0
    wrong: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Templates no listing was made from (their article could not be replaced)."""
    reasons: Counter[str] = field(default_factory=Counter)


def _articles(named: Iterable[tuple[str, str, bytes]]) -> Side:
    side = Side()
    for name, url, body in named:
        side.pages += 1
        try:
            extract_article(body, url, "text/html")
        except ExtractionError as exc:
            side.wrong.append(f"{name} ({exc.reason}: {exc})")
            side.reasons[exc.reason] += 1
    return side


def _listings(pages: Sequence[CorpusPage]) -> tuple[Side, Counter[str]]:
    teasers = teasers_of_pages(pages)
    side, kept = Side(), Counter[str]()
    for number, page in enumerate(pages):
        others = [t for t in teasers[number:] + teasers[:number] if page.id not in t.path]
        made = listings(
            page.body(), "text/html", "https://news.example", others,
            article_text=page.expected.get("body") or "",
        )  # fmt: skip
        if not made:
            side.skipped.append(page.id)
        for listing in made:
            side.pages += 1
            try:
                extract_article(listing.body, listing.url, "text/html")
            except ExtractionError as exc:
                side.reasons[exc.reason] += 1
            else:
                kept[listing.kind] += 1
                side.wrong.append(f"{page.id} ({listing.kind})")
    return side, kept


def _evalset(directory: Path) -> list[CorpusPage]:
    manifest = directory.parent / EVALSET / "manifest.jsonl"
    return load_pages(manifest.parent) if manifest.is_file() else []


def report(
    sets: Sequence[tuple[str, Side]], listing_side: Side, kept: Counter[str], command: str
) -> str:
    rows = [
        (name, str(side.pages), str(len(side.wrong)),
         ", ".join(f"{reason} {count}" for reason, count in side.reasons.items()) or "-")
        for name, side in sets
    ]  # fmt: skip
    lines = [
        "## Listings and articles",
        "",
        f"Command: `{command}`; machine: {machine_line()}.",
        "",
        "Articles dropped as `ListingPage` or `NotAnArticle` (must be none):",
        "",
        markdown_table(["article pages", "pages", "dropped", "by reason"], rows),
        "",
        (
            "Listing pages built from the templates of the corpus pages, kept as articles (must be "
            "none), by kind:"
        ),
        "",
        markdown_table(
            ["listing pages", "pages", "kept as articles", *KINDS],
            [
                (
                    "from corpus templates",
                    str(listing_side.pages),
                    str(len(listing_side.wrong)),
                    *(str(kept[kind]) for kind in KINDS),
                ),
            ],
        ),
    ]
    dropped = [name for _, side in sets for name in side.wrong]
    if dropped:
        lines += ["", "Articles dropped: " + "; ".join(dropped)]
    if listing_side.skipped:
        lines += [
            "",
            f"Templates no listing was made from ({len(listing_side.skipped)}: no element "
            "holds their article, or the one replaced was not the article's, which stayed on "
            "the page): " + ", ".join(listing_side.skipped),
        ]
    if listing_side.wrong:
        lines += ["", "Listings kept: " + ", ".join(listing_side.wrong)]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.listings", description=__doc__)
    parser.add_argument("--write-results", action="store_true", help="write bench/RESULTS.md")
    args = parser.parse_args(argv)
    directory = corpus_dir()
    if corpus_missing(directory, "bench-listings"):
        return EXIT_NO_CORPUS
    corpus = load_pages(directory)
    site = NewsSite.build()
    sets = [
        ("development corpus", _articles((p.id, p.url, p.body()) for p in corpus)),
        ("second yardstick (trafilatura's)", _articles(
            (p.id, p.url, p.body()) for p in _evalset(directory))),
        ("demo pages", _articles(
            (p.id, p.url, p.body()) for p in load_pages(ROOT / "demo" / "pages"))),
        ("test news site", _articles(
            (a.path, f"https://news.example{a.path}", a.html()) for a in site.articles)),
    ]  # fmt: skip
    listing_side, kept = _listings(corpus)
    command = "make bench-listings" + (" ARGS=--write-results" if args.write_results else "")
    publish(report(sets, listing_side, kept, command), SECTION, write=args.write_results)
    wrong = sum(len(side.wrong) for _, side in sets) + len(listing_side.wrong)
    print(f"{wrong} pages went the wrong way", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
