"""Spider arguments: URL lists given inline (comma-separated) or as ``@file``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from urllib.parse import urljoin, urlsplit

ALLOWED_SCHEMES = frozenset({"http", "https"})


class InputError(ValueError):
    """A spider argument that cannot be used; the message says which and why."""


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
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        return "has an unsupported scheme; use http:// or https:// URLs"
    if not host:
        return "has no host"
    if port == 0:
        return "has port 0"
    return _host_problem(host)


def http_url(href: str | None, base_url: str) -> str | None:
    """``href`` (a listing's link, stripped) resolved against ``base_url``, if a request can be
    made for the result (:func:`url_problem`); ``None`` otherwise, and for an empty ``href``
    (the page itself)."""
    href = (href or "").strip()
    if not href:
        return None
    try:
        url = urljoin(base_url, href)
    except ValueError:  # e.g. "http://[::1": an invalid IPv6 host
        return None
    return url if url_problem(url) is None else None


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


def validate_url(url: str, *, argument: str) -> str:
    """``url`` stripped, if it is an absolute http(s) URL that can be fetched
    (:func:`url_problem`); else :class:`InputError`."""
    url = url.strip()
    problem = "contains white space" if any(ch.isspace() for ch in url) else url_problem(url)
    if problem is not None:
        raise InputError(f"{argument}: {url!r} {problem}")
    return url


def read_url_list(value: str | None, *, argument: str) -> list[str]:
    """The URLs of a spider argument, validated, in order, without repeats.

    ``value`` is either a comma-separated list of URLs or ``@path`` naming a UTF-8 text file
    with one URL per line (blank lines and lines starting with ``#`` are skipped). Use a file
    for URLs that contain commas.
    """
    if value is None or not value.strip():
        return []
    value = value.strip()
    if value.startswith("@"):
        path = Path(value[1:]).expanduser()
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"{argument}: cannot read URL file {str(path)!r}: {exc}") from None
        candidates = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    else:
        candidates = [part for part in value.split(",") if part.strip()]
    urls = [validate_url(candidate, argument=argument) for candidate in candidates]
    return list(dict.fromkeys(urls))
