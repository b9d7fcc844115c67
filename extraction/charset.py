"""Decoding an HTML body to text: BOM, UTF-8, the HTTP header, ``<meta>``, then detection."""

from __future__ import annotations

import re

import charset_normalizer
from charset_normalizer.md import mess_ratio
from w3lib.encoding import (
    html_body_declared_encoding,
    http_content_type_encoding,
    read_bom,
    resolve_encoding,
    to_unicode,
)

# A declared encoding is believed unless decoding with it replaces more than this share of
# the bytes (a page that merely contains a few broken bytes keeps its declared encoding).
_MAX_REPLACED_SHARE = 0.001
_MIN_REPLACED_ALLOWED = 3
# Detection looks at this many bytes at most (it is the slow path).
_DETECT_BYTES = 64 * 1024
# A body that is not valid UTF-8 is still read as UTF-8 when its few invalid sequences (as
# many as a declared encoding may replace) are outnumbered this many times by valid multi-byte
# characters: a UTF-8 page with a stray byte, which detection would read as windows-1252.
_MIN_VALID_PER_INVALID_UTF8 = 10
# A declared encoding is not believed when the text it gives is a mess by charset_normalizer's
# measure (accented letters in runs, symbols inside words: mojibake) above this ratio, its own
# cut-off. A windows-1251 or GBK page labelled ISO-8859-1 decodes without a single error, into
# nonsense: such pages measure above 1, correctly decoded pages of the corpus below 0.06.
_MAX_MESS = 0.2
_MESS_SAMPLE_CHARS = 20_000
_MARKUP = re.compile(
    r"<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<[^>]*>", re.DOTALL | re.I
)


def _fits(text: str, body_size: int) -> bool:
    return text.count("\ufffd") <= max(_MIN_REPLACED_ALLOWED, body_size * _MAX_REPLACED_SHARE)


def _readable(text: str) -> bool:
    """Whether the visible text (a sample of it) does not read as mojibake."""
    if text.isascii():
        return True
    visible = " ".join(_MARKUP.sub(" ", text).split())[:_MESS_SAMPLE_CHARS]
    # no early exit (maximum_threshold=1): the ratio of the first characters alone is noisy
    return mess_ratio(visible, maximum_threshold=1.0) < _MAX_MESS


def _mostly_utf8(body: bytes) -> str | None:
    """The body decoded as UTF-8 when it is UTF-8 with a few invalid sequences, else None."""
    text = body.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd")
    valid = len(text) - len(text.encode("ascii", errors="ignore")) - invalid
    if _fits(text, len(body)) and valid >= _MIN_VALID_PER_INVALID_UTF8 * invalid:
        return text
    return None


def _detect(body: bytes) -> str | None:
    match = charset_normalizer.from_bytes(body[:_DETECT_BYTES]).best()
    if match is None:
        return None
    return resolve_encoding(match.encoding)


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """The text of an HTML body and the encoding used to decode it.

    Order: a byte-order mark; UTF-8 when the body is valid UTF-8 with non-ASCII bytes (no
    legacy encoding produces that by accident, while pages that mislabel UTF-8 as Latin-1 are
    common), or when it is UTF-8 but for a few invalid sequences; the ``Content-Type``
    charset; the ``<meta>`` charset; detection. A declared charset that cannot decode the body,
    or that decodes it into mojibake (the header lies), is skipped. Legacy names map to their
    supersets as browsers do (GB2312/GBK to GB18030, ISO-8859-1 to windows-1252).
    """
    bom_encoding, bom = read_bom(body)
    if bom_encoding and bom is not None:
        return to_unicode(body[len(bom) :], bom_encoding), bom_encoding
    if not body.isascii():
        try:
            return body.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            text = _mostly_utf8(body)
            if text is not None:
                return text, "utf-8"
    declared = [http_content_type_encoding(content_type), html_body_declared_encoding(body)]
    for encoding in dict.fromkeys(enc for enc in declared if enc):
        try:
            text = to_unicode(body, encoding)
        except LookupError:
            continue
        if _fits(text, len(body)) and _readable(text):
            return text, encoding
    if body.isascii():
        return body.decode("ascii"), "ascii"
    encoding = _detect(body) or "cp1252"
    return to_unicode(body, encoding), encoding
