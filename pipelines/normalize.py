"""Normalize stage: Unicode and white space, UTC timestamps, URLs, word count, content hash.

Every transformation is a plain function; :class:`NormalizePipeline` applies them to an item.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured
from scrapy.utils.url import strip_url
from w3lib.url import canonicalize_url

from pipelines._structured import unique_texts
from pipelines.dates import to_utc

if TYPE_CHECKING:
    from collections.abc import Iterable, MutableMapping

    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

logger = logging.getLogger(__name__)

# Query parameters that only track where a click came from (glob patterns, matched without
# regard to case). They never select content, so URLs differing only in them are one page.
DEFAULT_TRACKING_PARAMS: tuple[str, ...] = (
    "utm_*",
    "mtm_*",
    "pk_*",
    "fbclid",
    "gclid",
    "gclsrc",
    "dclid",
    "gbraid",
    "wbraid",
    "msclkid",
    "yclid",
    "twclid",
    "ttclid",
    "igshid",
    "li_fat_id",
    "mc_cid",
    "mc_eid",
    "_ga",
    "_gl",
    "_hsenc",
    "_hsmi",
    "mkt_tok",
    "oly_anon_id",
    "oly_enc_id",
    "vero_id",
    "wt_mc",
    "at_medium",
    "at_campaign",
    "ocid",
    "ncid",
    "cmpid",
    "spm",
    "sr_share",
    "ref_src",
    "ref_url",
    "__twitter_impression",
)

# Publication dates before this year are parsing accidents, not news.
EARLIEST_YEAR = 1990
# Clock skew allowed between a publisher's clock and ours.
FUTURE_SLACK = timedelta(days=1)

_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_SPACE = re.compile(r"\s+")
# Control characters (C0 except tab/newline, DEL, C1) and invisible formatting that is never
# content:
# zero-width space, word joiner, BOM, soft hyphen. ZWJ/ZWNJ stay: they spell Indic and
# Persian words.
_INVISIBLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u2060\ufeff\u00ad]")
# Scripts written without spaces between words: each letter counts as a word.
_UNSPACED = (
    r"\u0e00-\u0e7f"  # Thai
    r"\u0e80-\u0eff"  # Lao
    r"\u1000-\u109f"  # Myanmar
    r"\u1780-\u17ff"  # Khmer
    r"\u3040-\u30ff"  # Hiragana, Katakana
    r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"  # CJK ideographs
)
# A word: letters/digits, possibly joined by apostrophes (don't, aujourd'hui).
_UNSPACED_LETTER = re.compile(f"[{_UNSPACED}]")
UNSPACED_WEIGHT = 3
_WORD = re.compile(rf"[{_UNSPACED}]|[^\W{_UNSPACED}]+(?:['\u2019][^\W{_UNSPACED}]+)*")


def normalize_text(text: str) -> str:
    """NFC, invisible characters removed, white space collapsed inside paragraphs, paragraphs
    separated by exactly one blank line, no empty paragraphs."""
    # Invisible characters go first: one between a letter and its accent would block NFC.
    text = unicodedata.normalize("NFC", _INVISIBLE.sub("", text))
    paragraphs = (_SPACE.sub(" ", part).strip() for part in _PARAGRAPH_BREAK.split(text))
    return "\n\n".join(part for part in paragraphs if part)


def normalize_field(value: str | None) -> str | None:
    """A one-line field (title, description, ...): NFC, white space collapsed; empty is None."""
    if value is None:
        return None
    text = _SPACE.sub(" ", unicodedata.normalize("NFC", _INVISIBLE.sub("", value))).strip()
    return text or None


def word_count(text: str) -> int:
    """Words in ``text``; in Chinese, Japanese, Thai, Lao, Khmer and Burmese each letter is
    counted as one word, since those scripts do not separate words."""
    return sum(1 for _ in _WORD.finditer(text))


def text_size(text: str) -> int:
    """The length of ``text`` in characters, counting each letter of a script written without
    spaces (Chinese, Japanese, Thai, ...) three times, as it carries about as much as three
    letters of an alphabet: the size that minimum-length rules compare."""
    return len(text) + (UNSPACED_WEIGHT - 1) * len(_UNSPACED_LETTER.findall(text))


def content_hash(text: str) -> str:
    """BLAKE2b-128 hex digest of the (normalized) text."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).hexdigest()


def _is_tracking(name: str, patterns: Iterable[str]) -> bool:
    lowered = name.lower()
    return any(fnmatchcase(lowered, pattern) for pattern in patterns)


def normalize_url(url: str, tracking_params: Iterable[str] = DEFAULT_TRACKING_PARAMS) -> str:
    """The normal form of an http(s) URL: lower-case scheme and host (IDNA), no default port,
    no credentials, no fragment, no tracking parameters, remaining query sorted, percent
    encoding normalized, dot segments resolved.

    >>> normalize_url("HTTPS://Example.com:443/a/../b?utm_source=x&b=2&a=1#top")
    'https://example.com/b?a=1&b=2'
    """
    patterns = tuple(pattern.lower() for pattern in tracking_params)
    parts = urlsplit(url.strip())
    query = [
        (name, value)
        # Latin-1 maps bytes one to one, so values that are not UTF-8 keep their bytes.
        for name, value in parse_qsl(parts.query, keep_blank_values=True, encoding="latin-1")
        if not _is_tracking(name, patterns)
    ]
    cleaned = urlunsplit(parts._replace(query=urlencode(query, encoding="latin-1"), fragment=""))
    stripped = strip_url(cleaned, strip_credentials=True, strip_default_port=True)
    return canonicalize_url(stripped, keep_blank_values=True)


def source_of(url: str) -> str | None:
    """The site a URL belongs to: its host, lower case, without a leading ``www.``."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.") or None


def plausible_published(value: datetime | None, fetched_at: datetime) -> datetime | None:
    """``value`` if it can be a publication time: after 1990 and not after the fetch."""
    if value is None:
        return None
    if value.year < EARLIEST_YEAR or value > fetched_at + FUTURE_SLACK:
        return None
    return value


def utc_offset_minutes(value: datetime | None) -> int | None:
    """The UTC offset of an aware datetime in minutes (``None`` for a naive one)."""
    offset = value.utcoffset() if value is not None else None
    return None if offset is None else int(offset.total_seconds() // 60)


def row_id(url: str, text_hash: str) -> str:
    """The row id: BLAKE2b-128 of the normalized URL and the content hash."""
    return hashlib.blake2b(f"{url}\n{text_hash}".encode(), digest_size=16).hexdigest()


def precompute_text(text: str) -> dict[str, Any]:
    """The normalized text of ``text``, its word count and hash, kept with a digest of
    ``text`` so that the normalize stage can reuse them: see :func:`normalize_article`."""
    normalized = normalize_text(text)
    return {
        "source_hash": content_hash(text),
        "text": normalized,
        "word_count": word_count(normalized),
        "content_hash": content_hash(normalized),
    }


def _text_fields(record: MutableMapping[str, Any]) -> tuple[str, int, str]:
    """The normalized text, word count and hash: the precomputed ones when they were made
    from the very text the record holds."""
    text = record.get("text") or ""
    found = (record.get("precomputed") or {}).get("text")
    if found and found["source_hash"] == content_hash(text):
        return found["text"], found["word_count"], found["content_hash"]
    normalized = normalize_text(text)
    return normalized, word_count(normalized), content_hash(normalized)


def normalize_article(
    record: MutableMapping[str, Any],
    tracking_params: Iterable[str] = DEFAULT_TRACKING_PARAMS,
) -> None:
    """Normalize an item-like mapping in place: text and one-line fields, URLs, timestamps
    (UTC; an implausible publication time becomes ``None``), and set ``source``,
    ``word_count``, ``content_hash`` and ``id``. Text work done in the extraction worker
    (``precomputed``, from :func:`precompute_text`) is reused when the text is unchanged."""
    text, words, digest = _text_fields(record)
    url = normalize_url(record["url"], tracking_params)
    canonical = record.get("canonical_url")
    canonical = normalize_url(canonical, tracking_params) if canonical else url
    fetched_at = to_utc(record.get("fetched_at")) or datetime.now(UTC)
    published = plausible_published(to_utc(record.get("published_at")), fetched_at)
    record.update(
        {
            "text": text,
            "url": url,
            "canonical_url": canonical,
            "source": record.get("source") or source_of(canonical),
            "fetched_at": fetched_at,
            "published_at": published,
            "published_offset": utc_offset_minutes(record.get("published_at"))
            if published is not None
            else None,
            "modified_at": to_utc(record.get("modified_at")),
            "title": normalize_field(record.get("title")),
            "description": normalize_field(record.get("description")),
            "site_name": normalize_field(record.get("site_name")),
            "authors": unique_texts(record.get("authors") or [], normalize_field),
            "tags": unique_texts(record.get("tags") or [], normalize_field),
            "word_count": words,
            "content_hash": digest,
            "id": row_id(url, digest),
        }
    )


class NormalizePipeline:
    """Normalizes text, fields, timestamps and URLs; computes word count, hash and id.

    Settings: ``NORMALIZE_ENABLED`` (``True``); ``NORMALIZE_TRACKING_PARAMS`` (the list in
    :data:`DEFAULT_TRACKING_PARAMS`): query parameters removed from URLs, as glob patterns.
    """

    DEFAULT_TRACKING_PARAMS = DEFAULT_TRACKING_PARAMS

    def __init__(self, stats: StatsCollector, *, tracking_params: tuple[str, ...]) -> None:
        self.stats = stats
        self.tracking_params = tracking_params

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        settings = crawler.settings
        if not settings.getbool("NORMALIZE_ENABLED", True):
            raise NotConfigured("NORMALIZE_ENABLED is off")
        params = settings.getlist("NORMALIZE_TRACKING_PARAMS", list(cls.DEFAULT_TRACKING_PARAMS))
        if any(not str(param).strip() for param in params):
            raise NotConfigured("NORMALIZE_TRACKING_PARAMS contains an empty pattern")
        assert crawler.stats is not None
        return cls(crawler.stats, tracking_params=tuple(str(param).strip() for param in params))

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        published = to_utc(adapter.get("published_at"))
        normalize_article(adapter, self.tracking_params)
        if published is not None and adapter["published_at"] is None:
            self.stats.inc_value("news/normalize/implausible_published_at")
            logger.info("Ignored implausible publication time %s: %s", published, adapter["url"])
        return item
