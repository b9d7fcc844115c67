"""URLs: which a request can be made for, and one normal form per page, whatever the tracking
parameters."""

from __future__ import annotations

import re
from fnmatch import fnmatchcase
from functools import lru_cache
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url

if TYPE_CHECKING:
    from collections.abc import Iterable

    from lxml.html import HtmlElement

HTTP_SCHEMES = frozenset({"http", "https"})


def url_problem(url: str) -> str | None:
    """Why ``url`` cannot be fetched, in a few words (``has no host``); ``None`` when it is an
    absolute http(s) URL a request can be made for: text that is UTF-8 (an argument with other
    bytes reaches Python as lone surrogates), a port that is a number from 1 to 65535, a host
    name whose labels are 1 to 63 characters long once IDNA-encoded (as DNS takes them)."""
    try:
        url.encode("utf-8")
    except UnicodeEncodeError:
        return "is not UTF-8 text"
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port  # raises ValueError on a malformed port
    except ValueError as exc:
        return f"is not a valid URL ({exc})"
    if parts.scheme.lower() not in HTTP_SCHEMES:
        return "has an unsupported scheme; use http:// or https:// URLs"
    if not host:
        return "has no host"
    if port == 0:
        return "has port 0"
    return _host_problem(host)


def http_url(href: str | None, base_url: str) -> str | None:
    """``href`` (a link, stripped) resolved against ``base_url``, if a request can be
    made for the result (:func:`url_problem`); ``None`` otherwise, and for an empty ``href``
    (the page itself). Control characters at its ends are stripped and those inside it
    percent-encoded, as a browser does (Python's ``urljoin`` removes only the tabs and line
    breaks): a JSON-LD ``image`` of ``"a\\u001b.jpg"`` gave an ``image_url`` holding an escape
    character."""
    href = (href or "").strip().strip(_C0_OR_SPACE)
    if not href:
        return None
    try:
        url = urljoin(base_url, href)
    except ValueError:  # e.g. "http://[::1": an invalid IPv6 host
        return None
    url = _CONTROL.sub(lambda found: f"%{ord(found.group()):02X}", url)
    return url if url_problem(url) is None else None


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_C0_OR_SPACE = "".join(map(chr, range(0x21)))


@lru_cache(maxsize=1024)
def _host_problem(host: str) -> str | None:
    """What is wrong with a host name (a sitemap names one host a hundred thousand times)."""
    if ":" in host:  # an IPv6 address, checked by urlsplit
        return None
    name = host.removesuffix(".")  # a fully qualified name's final dot
    if not name:
        return "has no host"
    try:
        name.encode("idna")
    except UnicodeError:
        return "has a host name with an empty or too long label"
    return None


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


def page_base(tree: HtmlElement, url: str) -> str:
    """The URL a page's relative links resolve against: its first ``<base href>`` (itself
    resolved against ``url``), as a browser does, or ``url``."""
    for base in tree.iterfind(".//base[@href]"):
        return http_url(base.get("href"), url) or url
    return url


def plausible_canonical(canonical: str | None, url: str) -> str | None:
    """``canonical``, unless it names a page above the one at ``url``, which a template gives
    every article by mistake (taken at its word, every article of the site after the first
    was dropped as a copy of it): a site's home (``/``); a section the page's path is in
    (``/news/`` or ``/news`` for ``/news/2024/bus.html``); the script or folder whose query
    names the page (``/article.php`` for ``/article.php?id=5``, ``/blog/`` for
    ``/blog/?p=12``)."""
    if canonical is None:
        return None
    try:
        wanted, page = urlsplit(canonical), urlsplit(url)
    except ValueError:
        return None
    same_site = _site(wanted.hostname) == _site(page.hostname)
    path = wanted.path or "/"
    page_path = page.path or "/"
    if path == "/":
        itself = same_site and page_path == "/" and wanted.query == page.query
        return canonical if itself else None
    if not same_site:
        return canonical
    section = path.rstrip("/")
    rest = page_path[len(section) :].strip("/") if page_path.startswith(f"{section}/") else ""
    above = bool(rest) and rest.lower() not in _VARIANTS  # /story/amp/ is the story's AMP page
    named_by_query = (
        path == page_path and not wanted.query and _SCRIPT.search(path) and _naming(page.query)
    )
    return None if above or named_by_query else canonical


# The last segment of an article's other versions, whose canonical is the article above them.
_VARIANTS = frozenset({"amp", "print", "mobile", "m", "lite", "full", "all", "single"})
# Paths whose pages are told apart by their query: a folder's index or a script's.
_SCRIPT = re.compile(r"(?:/|\.(?:php\d?|aspx?|jsp|cgi|pl|cfm))$", re.IGNORECASE)


def _naming(query: str) -> bool:
    """Whether ``query`` has a parameter that is no tracking parameter (``?p=12``, not
    ``?utm_source=rss``)."""
    patterns = tuple(pattern.lower() for pattern in DEFAULT_TRACKING_PARAMS)
    return any(
        not _is_tracking(name, patterns)
        for name, _ in parse_qsl(query, keep_blank_values=True, encoding="latin-1")
    )


def _site(host: str | None) -> str:
    return (host or "").removeprefix("www.")
