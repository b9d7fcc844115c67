"""URL normalization: one normal form per page, whatever the tracking parameters."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

if TYPE_CHECKING:
    from collections.abc import Iterable

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
_DEFAULT_PORTS = frozenset({("http", 80), ("https", 443), ("ftp", 21)})


def _is_tracking(name: str, patterns: Iterable[str]) -> bool:
    lowered = name.lower()
    return any(fnmatchcase(lowered, pattern) for pattern in patterns)


def _without_credentials_and_default_port(url: str) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc
    if parts.username or parts.password:
        netloc = netloc.split("@")[-1]
    if parts.port and (parts.scheme, parts.port) in _DEFAULT_PORTS:
        netloc = netloc.removesuffix(f":{parts.port}")
    return urlunsplit(parts._replace(netloc=netloc, fragment=""))


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
    return canonicalize_url(_without_credentials_and_default_port(cleaned), keep_blank_values=True)


def host_of(url: str) -> str | None:
    """The site a URL belongs to: its host, lower case, without a leading ``www.``."""
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.") or None
