"""The one item that flows from the spider through every pipeline stage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from extraction.article import Article

if TYPE_CHECKING:
    from datetime import datetime

    from extraction.worker import Precomputed


@dataclass(kw_only=True)
class ArticleItem(Article):
    """A fetched page on its way to becoming one row of the dataset: the article's fields
    (declared once, in :class:`extraction.article.Article`) and the fields below, which travel
    only through the crawl and never reach the dataset.

    The spider fills the fetch fields (``url``, ``fetched_at``, ``html``, ``content_type``,
    ``discovered_via``, ``source_name`` and the ``listed_*`` hints); the pipelines fill the rest,
    in order: extract, site boilerplate, language, normalize, dedupe, parquet.
    """

    html: bytes | None = None
    """The raw response body; the extract stage clears it (unless the HTML archive is on)."""

    content_type: str | None = None
    """The response's ``Content-Type`` header, used to decode ``html``."""

    listed_title: str | None = None
    """The title a feed gave for this URL, a fallback for ``title``."""

    listed_published_at: datetime | None = None
    """The date a feed or sitemap gave for this URL, a fallback for ``published_at``."""

    listed_modified_at: datetime | None = None
    """The sitemap ``lastmod`` (or feed update time) of this URL, a fallback for
    ``modified_at``."""

    refetch: bool = False
    """The page is stored already and was fetched again because its listing says it changed
    since: a new version, not a duplicate, if its text differs."""

    declared_language: str | None = None
    """The language the page declares (``<html lang>``, JSON-LD ``inLanguage``,
    ``og:locale``): the language stage's fallback, never an override."""

    source_language: str | None = None
    """The language its source's entry in a sources file expects (``language``): the language
    stage's fallback before the page's declared one, never an override."""

    precomputed: Precomputed | None = None
    """Work the extraction worker did on the extracted text (language detection, normalized
    text, near-duplicate signature), used by the later stages while the text is the one it
    was computed on."""
