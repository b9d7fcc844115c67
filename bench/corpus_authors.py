"""Which of the corpus's expected authors are people.

The corpus's ``authors`` expectations mix people with organizations (a fundus parser falls back
to the outlet, "ORF.at"; an agency, "det/dpa"; a newsroom, "Redaktion Polizeiticker Schweiz")
and, once, a place. ``bench/labels/corpus-author-kinds.jsonl`` names them, page by page: for
each page whose expected authors include any, the entries that are organizations
(``organizations``) and those that are places (``places``), as written in the manifest; every
other entry names a person. They were decided by reading the expectations and the pages (the
error analysis of issue 19), without running an extractor.

The benchmark scores authors twice on the corpus: every expected name against all the names an
extractor gives (ours: ``authors`` and ``author_organizations`` together), and the people only
(:func:`expected_people`) against the people it gives, on the pages that expect someone.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from bench.harness.corpus import read_jsonl

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

AUTHOR_KINDS = Path(__file__).resolve().parent / "labels" / "corpus-author-kinds.jsonl"


def load_not_people(path: Path) -> dict[str, frozenset[str]]:
    """The expected entries that name no person (organizations and places), by page id (none
    when the file is missing)."""
    if not path.is_file():
        return {}
    return {
        record["id"]: frozenset([*record.get("organizations", ()), *record.get("places", ())])
        for record in read_jsonl(path)
    }


def expected_people(
    page_id: str, expected: Iterable[str] | None, not_people: Mapping[str, frozenset[str]]
) -> list[str] | None:
    """The people among a page's expected authors (``None`` when the page has no author
    expectation)."""
    if expected is None:
        return None
    others = not_people.get(page_id, frozenset())
    return [name for name in expected if name not in others]
