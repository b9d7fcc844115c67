"""Decoding an HTML body to text: BOM, UTF-8, the HTTP header, ``<meta>``, then detection."""

from __future__ import annotations

import charset_normalizer
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


def _fits(text: str, body_size: int) -> bool:
    return text.count("\ufffd") <= max(_MIN_REPLACED_ALLOWED, body_size * _MAX_REPLACED_SHARE)


def _detect(body: bytes) -> str | None:
    match = charset_normalizer.from_bytes(body[:_DETECT_BYTES]).best()
    if match is None:
        return None
    return resolve_encoding(match.encoding)


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """The text of an HTML body and the encoding used to decode it.

    Order: a byte-order mark; UTF-8 when the body is valid UTF-8 with non-ASCII bytes (no
    legacy encoding produces that by accident, while pages that mislabel UTF-8 as Latin-1 are
    common); the ``Content-Type`` charset; the ``<meta>`` charset; detection. A declared
    charset that cannot decode the body (the header lies) is skipped. Legacy names map to
    their supersets as browsers do (GB2312/GBK to GB18030, ISO-8859-1 to windows-1252).
    """
    bom_encoding, bom = read_bom(body)
    if bom_encoding and bom is not None:
        return to_unicode(body[len(bom) :], bom_encoding), bom_encoding
    if not body.isascii():
        try:
            return body.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            pass
    declared = [http_content_type_encoding(content_type), html_body_declared_encoding(body)]
    for encoding in dict.fromkeys(enc for enc in declared if enc):
        try:
            text = to_unicode(body, encoding)
        except LookupError:
            continue
        if _fits(text, len(body)):
            return text, encoding
    if body.isascii():
        return body.decode("ascii"), "ascii"
    encoding = _detect(body) or "cp1252"
    return to_unicode(body, encoding), encoding
