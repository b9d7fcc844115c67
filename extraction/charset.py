"""Decoding an HTML body to text: BOM, UTF-8, the HTTP header, ``<meta>``, then detection."""

from __future__ import annotations

import re
from collections import Counter

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

# --- detection, for a body that declares no encoding ------------------------------------------
# A body that is not valid UTF-8 and declares nothing is read as UTF-8 with replacements when its
# valid multi-byte characters outnumber its invalid sequences this many times (a UTF-8 page with a
# few curly quotes and one pasted windows-1252 byte): legacy text hardly ever forms even one valid
# multi-byte sequence. Declared pages keep the stricter _MIN_VALID_PER_INVALID_UTF8.
_MIN_VALID_PER_INVALID_UNDECLARED = 3
# Detection reads the page's text, not its markup: in the raw bytes, mostly ASCII tags and
# scripts, every single-byte encoding looks alike and charset_normalizer took the first of a tie
# (windows-1250 for French, Spanish or Swedish pages; mac-cyrillic for Greek).
_STRIP_BYTES = 1024 * 1024
_MARKUP_BYTES = re.compile(
    rb"<script\b.*?</script\s*>|<style\b.*?</style\s*>|<!--.*?-->|<[^>]*>|&#?\w+;",
    re.DOTALL | re.I,
)
# The encodings a browser's detector chooses among (Firefox's chardetng; x-mac-cyrillic and the
# DOS code pages never win), as charset_normalizer names them.
_DETECTABLE = (
    *(f"cp{n}" for n in (1250, 1251, 1252, 1253, 1254, 1255, 1256, 1257, 1258, 874, 866)),
    *(f"iso8859_{n}" for n in (2, 4, 5, 6, 7, 8, 13, 15)),
    *("koi8_r", "koi8_u", "shift_jis", "cp932", "euc_jp", "iso2022_jp", "euc_kr", "cp949"),
    *("big5", "gb18030"),
)
# The Latin-script ones: charset_normalizer cannot tell them apart (their text differs in a few
# accented letters), _latin does by the alphabets of the languages each is used for.
_LATIN = frozenset(
    (
        *("cp1250", "cp1252", "cp1254", "cp1257", "cp1258"),
        *("iso8859_2", "iso8859_4", "iso8859_13", "iso8859_15"),
    )
)
_DEFAULT = "cp1252"  # WHATWG's fallback for an undeclared page in most locales
# Lower-case letters beyond ASCII of the languages written in each encoding (the upper-case ones
# are added below); the order of the encodings breaks ties after windows-1252.
_LANGUAGE_LETTERS = {
    "cp1252": (
        "àâæçéèêëîïôœùûüÿ",  # French
        "äöüß",  # German
        "áéíñóúü¡¿ªº",  # Spanish
        "áâãàçéêíóôõúüªº",  # Portuguese
        "àèéìíîòóùúº",  # Italian
        "àçèéíïòóúü·",  # Catalan
        "áäéëèïíóöüú",  # Dutch
        "åäöé",  # Swedish
        "æøåéèóòô",  # Norwegian, Danish
        "äöåšž",  # Finnish
        "áðéíóúýþæö",  # Icelandic
    ),
    "cp1250": (
        "ąćęłńóśźż",  # Polish
        "áčďéěíňóřšťúůýž",  # Czech
        "áäčďéíĺľňóôŕšťúýž",  # Slovak
        "áéíóöőúüű",  # Hungarian
        "čćđšž",  # Slovenian, Croatian, Bosnian
        "ăâîşţ",  # Romanian
    ),
    "cp1257": ("ąčęėįšųūž", "āčēģīķļņšūž", "äõöüšž"),  # Lithuanian, Latvian, Estonian
    "cp1254": ("çğıİöşüâîû",),  # Turkish
    "iso8859_15": (),  # windows-1252's languages, with € for ¤
    "iso8859_2": (),  # windows-1250's
    "iso8859_13": (),  # windows-1257's
}
_SAME_LANGUAGES = {"iso8859_15": "cp1252", "iso8859_2": "cp1250", "iso8859_13": "cp1257"}
# Punctuation and signs common in any Latin-script text (a no-break space or a soft hyphen
# counts as ASCII white space would: as nothing).
_COMMON = frozenset("\xa0\xad“”‘’„‚«»‹›–—…•·°€£©®™§†×´²")
_ASCII_BYTES = bytes(range(0x80))


def _letters(lower: str) -> frozenset[str]:
    return frozenset(lower) | frozenset(ch.upper() for ch in lower if len(ch.upper()) == 1)


_ALPHABETS = {
    encoding: [
        _letters(lower) | _COMMON
        for lower in _LANGUAGE_LETTERS[_SAME_LANGUAGES.get(encoding, encoding)]
    ]
    for encoding in _LANGUAGE_LETTERS
}
# What each byte from 0x80 up decodes to ("\ufffd" where the encoding maps it to nothing).
_TABLES = {
    encoding: bytes(range(0x80, 0x100)).decode(encoding, errors="replace")
    for encoding in _LANGUAGE_LETTERS
}
# windows-1252 is replaced only when another encoding misfits this many characters fewer, and
# this share of the non-ASCII characters fewer.
_MIN_MISFITS_AVOIDED = 2
_MIN_MISFIT_SHARE_AVOIDED = 0.02
# Text that no Latin-script encoding reads with more than this share of misfits is Latin text
# (pages of the corpus: under 0.1 but for a few with a handful of non-ASCII letters; Cyrillic,
# Greek, Arabic, Hebrew, Thai or CJK text: above 0.3), else charset_normalizer decides.
_MAX_LATIN_MISFIT_SHARE = 0.2


def _fits(text: str, body_size: int) -> bool:
    return text.count("\ufffd") <= max(_MIN_REPLACED_ALLOWED, body_size * _MAX_REPLACED_SHARE)


def _readable(text: str) -> bool:
    """Whether the visible text (a sample of it) does not read as mojibake."""
    if text.isascii():
        return True
    visible = " ".join(_MARKUP.sub(" ", text).split())[:_MESS_SAMPLE_CHARS]
    # no early exit (maximum_threshold=1): the ratio of the first characters alone is noisy
    return mess_ratio(visible, maximum_threshold=1.0) < _MAX_MESS


def _mostly_utf8(
    body: bytes, min_valid_per_invalid: int = _MIN_VALID_PER_INVALID_UTF8
) -> str | None:
    """The body decoded as UTF-8 when it is UTF-8 with a few invalid sequences, else None."""
    text = body.decode("utf-8", errors="replace")
    invalid = text.count("\ufffd")
    valid = len(text) - len(text.encode("ascii", errors="ignore")) - invalid
    if _fits(text, len(body)) and valid >= min_valid_per_invalid * invalid:
        return text
    return None


def _detect(body: bytes) -> str:
    """The encoding of a body that declares none (or whose declarations do not fit it)."""
    if _mostly_utf8(body, _MIN_VALID_PER_INVALID_UNDECLARED) is not None:
        return "utf-8"
    sample = _visible_bytes(body)
    if sample.isascii():  # the non-ASCII bytes are all in markup or scripts: look at them
        sample = body[:_DETECT_BYTES]
    latin, misfit_share = _latin(sample)
    if misfit_share <= _MAX_LATIN_MISFIT_SHARE:
        return latin
    match = charset_normalizer.from_bytes(sample, cp_isolation=list(_DETECTABLE)).best()
    if match is None or match.encoding in _LATIN:
        return latin
    return resolve_encoding(match.encoding) or match.encoding


def _visible_bytes(body: bytes) -> bytes:
    """The text of the page as bytes: no tags, scripts, styles, comments or character references
    (a sample of ``_DETECT_BYTES`` at most)."""
    return b" ".join(_MARKUP_BYTES.sub(b" ", body[:_STRIP_BYTES]).split())[:_DETECT_BYTES]


def _latin(sample: bytes) -> tuple[str, float]:
    """Which Latin-script encoding reads the sample's letters as some language's alphabet.

    Each candidate decodes the non-ASCII bytes; its misfits are the characters that are neither
    common punctuation nor letters of the language it fits best. windows-1252 (the WHATWG default
    for an undeclared page) is kept unless another encoding misfits clearly fewer characters:
    French read as windows-1250 gives ``ŕ`` beside ``ç`` and ``ę``, no one language's letters,
    and Czech read as windows-1252 gives ``ø`` beside ``ì`` and ``š``; German, whose letters are
    the same in both, stays windows-1252. Returns the encoding and the share of misfits.
    """
    counts = Counter(sample.translate(None, _ASCII_BYTES))
    total = sum(counts.values())
    if not total:
        return _DEFAULT, 0.0
    misfits = {
        encoding: min(
            sum(n for byte, n in counts.items() if table[byte - 0x80] not in alphabet)
            for alphabet in _ALPHABETS[encoding]
        )
        for encoding, table in _TABLES.items()
    }
    default = misfits[_DEFAULT]
    best = min(misfits, key=misfits.__getitem__)  # the first of a tie: the table's order
    if default - misfits[best] >= max(_MIN_MISFITS_AVOIDED, _MIN_MISFIT_SHARE_AVOIDED * total):
        return best, misfits[best] / total
    return _DEFAULT, default / total


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
        except (LookupError, UnicodeError):
            # a name Python knows for no text encoding (base64, rot13: LookupError), or for
            # one that cannot replace what it cannot read (idna, punycode) or reads nothing
            # (undefined): no encoding a browser would use, skipped as an unknown one is
            continue
        if _fits(text, len(body)) and _readable(text):
            return text, encoding
    if body.isascii():
        return body.decode("ascii"), "ascii"
    encoding = _detect(body)
    return to_unicode(body, encoding), encoding
