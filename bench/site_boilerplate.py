"""Site boilerplate benchmark: what learning a site's repeated lines gains.

    .venv/bin/python -m bench.site_boilerplate [--write-results]

The fixture site is the bundled demo pages (``demo/pages``, real articles with expected
bodies) with three site-specific lines put inside every article's body, as a site's template
does: a promotion, a newsletter line and a rights notice. No generic rule knows them (they
are worded unlike the prompts and credits that ``extraction/boilerplate.py`` recognises).

The pages are extracted in order, as one crawl of one site would see them, three ways: without
site learning; with it, learning as the crawl goes (the first pages pass before enough have
been seen); and with the state a first crawl left (a second crawl). Reported: body precision
and F1 against the expected bodies, and the share of pages that still carry an injected line.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from lxml import html as lxml_html

from bench.harness.report import publish
from bench.scoring import body_overlap
from demo.site import load_site
from extraction.extractor import extract_article
from extraction.site_boilerplate import SiteBoilerplate

if TYPE_CHECKING:
    from collections.abc import Sequence

SECTION = "site-boilerplate"
SITE = "fixture.example"
INJECTED = (
    "The Continental Desk is now on every platform: get our headlines the minute they break.",
    "Start each morning with the five stories that shape the day, picked by our editors.",
    (
        "All rights to this material are reserved by its publisher and reproduction requires "
        "written permission."
    ),
)
MIN_PARAGRAPH_CHARS = 80


@dataclass(frozen=True)
class FixturePage:
    name: str
    language: str
    body: bytes
    expected: str


def _inject(page_html: bytes) -> bytes:
    """The page with the injected lines as paragraphs among its body's paragraphs."""
    tree = lxml_html.fromstring(page_html)
    paragraphs = [p for p in tree.iter("p") if len(p.text_content().strip()) >= MIN_PARAGRAPH_CHARS]
    if len(paragraphs) < len(INJECTED):
        return page_html
    anchors = (paragraphs[0], paragraphs[len(paragraphs) // 2], paragraphs[-1])
    for anchor, line in zip(anchors, INJECTED, strict=True):
        element = lxml_html.Element("p")
        element.text = line
        anchor.addnext(element)
    return lxml_html.tostring(tree, encoding="utf-8")


def fixture_pages() -> list[FixturePage]:
    """The demo corpus pages with expected bodies, with the site's lines injected."""
    pages = []
    for page in load_site().pages:
        expected = page.record.get("expected", {}).get("body") if page.record else None
        if expected:
            pages.append(
                FixturePage(
                    name=page.path.rsplit("/", 1)[-1],
                    language=page.record["language"],
                    body=_inject(page.body()),
                    expected=expected,
                )
            )
    return pages


@dataclass
class Tally:
    precision: float = 0.0
    f1: float = 0.0
    dirty: int = 0
    pages: int = 0

    def add(self, text: str, page: FixturePage) -> None:
        overlap = body_overlap(text, page.expected, page.language)
        self.precision += overlap.precision
        self.f1 += overlap.f1
        self.dirty += any(line in text for line in INJECTED)
        self.pages += 1

    def row(self, label: str) -> str:
        n = self.pages or 1
        return (
            f"| {label} | {self.pages} | {self.precision / n:.3f} | {self.f1 / n:.3f} | "
            f"{self.dirty / n:.2f} |"
        )


def run(pages: Sequence[FixturePage]) -> list[str]:
    """Table rows: no learning, learning during the crawl, a second crawl with the state."""
    texts = [extract_article(page.body, f"https://{SITE}/{page.name}").text for page in pages]
    plain, learning, second = Tally(), Tally(), Tally()
    learner = SiteBoilerplate()
    for page, text in zip(pages, texts, strict=True):
        paragraphs = text.split("\n\n")
        plain.add(text, page)
        learner.observe(SITE, paragraphs)
        learning.add("\n\n".join(learner.strip(SITE, paragraphs)), page)
    for page, text in zip(pages, texts, strict=True):
        second.add("\n\n".join(learner.strip(SITE, text.split("\n\n"))), page)
    return [
        plain.row("extraction alone"),
        learning.row("site learning, first crawl"),
        second.row("site learning, next crawl (state kept)"),
    ]


def report(rows: list[str]) -> str:
    return "\n".join(
        [
            "## Site boilerplate benchmark",
            "",
            (
                "Command: `.venv/bin/python -m bench.site_boilerplate --write-results` "
                f"({datetime.now(UTC):%Y-%m-%d %H:%M} UTC). Fixture: the bundled demo pages "
                "with three site lines injected into every body (see the module docstring); "
                "learning thresholds are the defaults (6 pages, 40% of the site's pages)."
            ),
            "",
            "| run | pages | body precision | body F1 | pages with an injected line |",
            "|---|---|---|---|---|",
            *rows,
        ]
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write-results", action="store_true")
    args = parser.parse_args(argv)
    publish(report(run(fixture_pages())), SECTION, write=args.write_results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
