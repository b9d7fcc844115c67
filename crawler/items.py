"""The one item that flows from the spider through every pipeline stage."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from datetime import datetime


@dataclass(kw_only=True)
class ArticleItem:
    """A fetched page on its way to becoming one row of the dataset.

    The spider fills the fetch fields (``url``, ``fetched_at``, ``html``, ``content_type``,
    ``discovered_via`` and the ``listed_*`` hints); the pipelines fill the rest, in order:
    extract, language, normalize, dedupe, parquet. Fields marked *transient* never reach the
    dataset.
    """

    url: str
    """The fetched URL (after redirects); the normalize stage rewrites it to its normal form."""

    fetched_at: datetime
    """When the response arrived (timezone-aware, UTC)."""

    html: bytes | None = None
    """*Transient.* The raw response body; the extract stage clears it."""

    content_type: str | None = None
    """*Transient.* The response's ``Content-Type`` header, used to decode ``html``."""

    discovered_via: str = "url"
    """How the URL was found: ``url`` (given directly), ``feed`` or ``sitemap``."""

    listed_title: str | None = None
    """*Transient.* The title a feed gave for this URL, a fallback for ``title``."""

    listed_published_at: datetime | None = None
    """*Transient.* The date a feed or sitemap gave for this URL, a fallback for
    ``published_at``."""

    listed_modified_at: datetime | None = None
    """*Transient.* The sitemap ``lastmod`` (or feed update time) of this URL, a fallback for
    ``modified_at``."""

    refetch: bool = False
    """*Transient.* The page is stored already and was fetched again because its listing says
    it changed since: a new version, not a duplicate, if its text differs."""

    precomputed: dict[str, Any] | None = None
    """*Transient.* Work the extraction worker did on the extracted text (language detection,
    near-duplicate signature), reused by later stages while the text is unchanged."""

    id: str | None = None
    """Row id: a hash of the normalized URL and the content hash (normalize stage)."""

    canonical_url: str | None = None
    """The page's ``<link rel=canonical>`` (or ``og:url``), else the fetched URL; normalized."""

    source: str | None = None
    """The publishing site: host of the canonical URL, without ``www.``."""

    title: str | None = None
    """The headline."""

    description: str | None = None
    """The page's summary (meta/OpenGraph/JSON-LD description)."""

    authors: list[str] = field(default_factory=list)
    """Author names, in page order, without duplicates."""

    published_at: datetime | None = None
    """Publication time; UTC after the normalize stage."""

    published_offset: int | None = None
    """The UTC offset, in minutes, that the page gave with its publication time (``None`` when
    it gave none): the publisher's local time is ``published_at`` plus this offset."""

    modified_at: datetime | None = None
    """Last modification time where the page gives one; UTC after the normalize stage."""

    declared_language: str | None = None
    """*Transient.* The language the page declares (``<html lang>``, JSON-LD ``inLanguage``,
    ``og:locale``): the language stage's fallback, never an override."""

    language: str | None = None
    """ISO 639-1 code of the text (``zh`` for both Chinese scripts)."""

    language_confidence: float | None = None
    """langdetect's probability for ``language``; ``None`` when it came from the page's
    declaration."""

    text: str = ""
    """The article's main text: paragraphs separated by one blank line."""

    word_count: int = 0
    """Words in ``text``; each letter of a script written without spaces counts as one."""

    tags: list[str] = field(default_factory=list)
    """Tags, keywords and sections the page gives, without duplicates."""

    image_url: str | None = None
    """The article's main image."""

    site_name: str | None = None
    """The site's own name (``og:site_name``, JSON-LD publisher)."""

    content_hash: str | None = None
    """BLAKE2b-128 hex digest of the normalized ``text``."""

    duplicate_of: str | None = None
    """With ``DEDUPE_POLICY=flag``: the ``id`` of the stored row whose text this one copies."""
