"""The article, declared once: every field of a dataset row, its Arrow type, whether it may be
null, and what it means.

:class:`Article` is the declaration. The crawl's item (``crawler/items.py``) extends it with the
fields that travel only through the crawl; the Parquet schema (``dataset/schema.py``), the
feed-export columns (``crawler/addon.py``) and the schema table of ``docs/dataset.md``
(``python -m dataset.schema``) are made from it. It lives in the extraction library, which makes
articles, so that the extraction workers need nothing else; it imports nothing.

To add a column: add a field here (at the end, ``since`` the new version), bump
``dataset.schema.SCHEMA_VERSION``, and regenerate the schema table of ``docs/dataset.md``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from datetime import datetime

COLUMN = "column"
"""The key of a field's :class:`Column` in its ``dataclasses.field`` metadata."""

ARROW_TYPES = (
    "string",
    "list<string>",
    "timestamp[us, UTC]",
    "int16",
    "int32",
    "double",
    "bool",
)
"""The Arrow types a column may have, as written in the declarations and the docs."""


@dataclass(frozen=True, kw_only=True)
class Column:
    """How a field of :class:`Article` is stored."""

    arrow: str
    """Its Arrow type, one of :data:`ARROW_TYPES`."""
    nullable: bool
    doc: str
    """What it means, in one line (the schema's field metadata and the docs say it)."""
    example: str = ""
    """A value as a reader sees it, for the docs."""
    dictionary: bool = False
    """Few distinct values: dictionary-encoded in the Parquet files."""
    since: int = 1
    """The schema version that added it: files written before lack it (read as null)."""


def column(
    arrow: str,
    doc: str,
    *,
    nullable: bool = True,
    example: str = "",
    dictionary: bool = False,
    since: int = 1,
    default: Any = None,
    default_factory: Callable[[], Any] | None = None,
    required: bool = False,
) -> Any:
    """A field of :class:`Article`: its default (``None`` unless told; none when ``required``)
    and its :class:`Column`."""
    if arrow not in ARROW_TYPES:
        raise ValueError(f"unknown Arrow type {arrow!r}: one of {', '.join(ARROW_TYPES)}")
    metadata = {
        COLUMN: Column(
            arrow=arrow,
            nullable=nullable,
            doc=doc,
            example=example,
            dictionary=dictionary,
            since=since,
        )
    }
    if required:
        return dataclasses.field(metadata=metadata)
    if default_factory is not None:
        return dataclasses.field(default_factory=default_factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(kw_only=True)
class Article:
    """One article, as one row of the dataset (in the column order of the files).

    The fetch fills ``url``, ``fetched_at``, ``discovered_via`` and ``source_name``; extraction
    the page's fields; the language, normalize and dedupe stages the rest. Fields that may not
    be null in the files have a placeholder until the stage that sets them has run.
    """

    id: str | None = column(
        "string",
        "hash of the normalized URL and the content hash",
        nullable=False,
        example="5ad75bced5e24a16e930b1ced1f3ed4d",
    )
    url: str = column(
        "string",
        "the fetched URL after redirects, normalized",
        nullable=False,
        required=True,
        example="https://en.sputniknews.africa/20230815/russia-...-1061432975.html",
    )
    canonical_url: str | None = column(
        "string",
        "`<link rel=canonical>` or `og:url` (against `<base href>`), normalized; none longer "
        "than 8,192 characters (the next is taken); the fetched URL when the page has none, or"
        " its canonical names a page above it (the home page, a section, the script whose query"
        " names the page: a template's mistake)",
        example="same as `url` or the publisher's URL",
    )
    source: str | None = column(
        "string",
        "the publishing site: host of `canonical_url` without `www.`",
        dictionary=True,
        example="en.sputniknews.africa",
    )
    title: str | None = column(
        "string",
        "the headline (JSON-LD `headline`, OpenGraph, then the page); a candidate longer than "
        "500 characters, or holding a page's tags (`<meta`, `</head>`, `<title>`...), is none (a "
        "`<title>` never closed holds the page up to the next `</title>`): the next is taken, "
        "else null",
        example="Russia to Expand Military Cooperation With African Countries: Defense Minister",
    )
    description: str | None = column(
        "string",
        "the page's summary (OpenGraph/meta/JSON-LD description); none longer than 10,000 "
        "characters (the next is taken, else null)",
        example="The Russian defense official's remarks came ...",
    )
    authors: list[str] = column(
        "list<string>",
        "the people credited as authors, in page order, the first 12 at most; empty when none "
        "(organizations are in `author_organizations`)",
        nullable=False,
        dictionary=True,
        default_factory=list,
        example='["Birgit Baumann", "Anna Giulia Fink"]',
    )
    published_at: datetime | None = column(
        "timestamp[us, UTC]",
        "publication time, from structured data, then the page, then the feed/sitemap",
        example="2023-08-15 13:39:00+00:00",
    )
    published_offset: int | None = column(
        "int16",
        "the UTC offset in minutes the page gave with its publication time; the publisher's "
        "local time is `published_at` + offset; null when the page gave none",
        example="180",
    )
    modified_at: datetime | None = column(
        "timestamp[us, UTC]",
        "last modification time, when the page gives one (null when it lies outside 1990 to the"
        " fetch; it may come before `published_at`, as many sites give it)",
        example="2023-08-15 13:39:00+00:00",
    )
    fetched_at: datetime = column(
        "timestamp[us, UTC]",
        "when the response arrived",
        nullable=False,
        required=True,
        example="2026-11-26 19:25:49+00:00",
    )
    language: str | None = column(
        "string",
        "ISO 639-1 code of the text (`zh` for both scripts)",
        dictionary=True,
        example="en",
    )
    language_confidence: float | None = column(
        "double",
        "langdetect's probability; null when the page's declared language was used",
        example="0.9999",
    )
    text: str = column(
        "string",
        "the main text; paragraphs separated by one blank line",
        nullable=False,
        default="",
        example="The Russian defense official's remarks ...\\n\\nAfrican countries ...",
    )
    word_count: int = column(
        "int32",
        "words in `text`; each letter counts as a word in Chinese, Japanese, Thai, Lao, "
        "Khmer, Burmese",
        nullable=False,
        default=0,
        example="345",
    )
    tags: list[str] = column(
        "list<string>",
        "tags, keywords and sections the page gives, the first 250 at most; none longer than "
        "500 characters",
        nullable=False,
        dictionary=True,
        default_factory=list,
        example='["Russia", "Africa", "Sergey Shoigu"]',
    )
    image_url: str | None = column(
        "string",
        "the main image (`og:image`, JSON-LD `image`); none longer than 8,192 characters (the "
        "next is taken, else null)",
        example="https://cdn1.img.sputniknews.africa/img/...jpg",
    )
    site_name: str | None = column(
        "string",
        "the site's own name (`og:site_name`, JSON-LD publisher, then the `<title>`); none "
        "longer than 200 characters (the next is taken, else null)",
        dictionary=True,
        example="Sputnik Africa",
    )
    content_hash: str | None = column(
        "string",
        "BLAKE2b-128 hex digest of `text`",
        nullable=False,
        example="2d081a329f116905205ee1810be99c06",
    )
    duplicate_of: str | None = column(
        "string",
        "with `DEDUPE_POLICY=flag`: the `id` of the stored row whose text this one nearly "
        "copies (an exact copy, the same text at another URL, is dropped under either policy); "
        "null otherwise",
        example="5ad75bced5e24a16e930b1ced1f3ed4d",
    )
    discovered_via: str = column(
        "string",
        "how the URL was found: `url`, `feed`, `sitemap` or `link` (followed from a home or "
        "section page)",
        nullable=False,
        dictionary=True,
        default="url",
        example="feed",
    )
    source_name: str | None = column(
        "string",
        "the name of the configured source (`-a sources=`) whose listing led to the page; "
        "null for pages of `-a urls=`, `feeds=`, `sitemaps=` and `sites=` (since version 2)",
        dictionary=True,
        since=2,
        example="sputnik-africa",
    )
    author_organizations: list[str] | None = column(
        "list<string>",
        "organizations the page credits as author or source (outlets, agencies, newsrooms, "
        "wires), in page order, the first 12 at most; empty when none (the people are in "
        "`authors`); the outlet only "
        "when no one else is credited (since version 3: null in rows written before)",
        dictionary=True,
        since=3,
        default_factory=list,
        example='["dpa"]',
    )
    comments: str | None = column(
        "string",
        "the readers' comments the page shows with the article, without the comment form's "
        "buttons and prompts; one paragraph a comment line, separated by one blank line; null "
        "when the page shows none or `EXTRACT_COMMENTS` is off (since version 4)",
        since=4,
        example="Great piece, thank you.\\n\\nI disagree with the second point ...",
    )
    accessible_for_free: bool | None = column(
        "bool",
        "whether the page declares the article free to read (schema.org `isAccessibleForFree`, "
        "in its JSON-LD or microdata): false when it declares the article, or a part of it "
        "(`hasPart`, the paywalled part), not free, as a paywalled page does, whose `text` may "
        "then be only the teaser shown (the first paragraphs); what the page declares, not a "
        "sign that the text is cut (a page may declare false and serve the whole article, in "
        "its JSON-LD `articleBody` for one); null when the page does not say (since version 5: "
        "null in rows written before)",
        since=5,
        example="false",
    )


def columns() -> dict[str, Column]:
    """Every column of :class:`Article`, by name, in the order of the files."""
    return {f.name: f.metadata[COLUMN] for f in dataclasses.fields(Article)}


COLUMNS: tuple[str, ...] = tuple(columns())
"""The dataset's column names, in order."""


def row_of(record: Mapping[str, Any]) -> dict[str, Any]:
    """The dataset row of a record (a mapping with at least the article's fields): its
    columns, in order."""
    return {name: record.get(name) for name in COLUMNS}
