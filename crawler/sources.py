"""Named news sources: where to find a site's articles and how politely to fetch them.

Sources are declared in a TOML file (see ``sources.toml`` at the repository root), one
``[[source]]`` table each, with an optional ``[defaults]`` table for every source::

    [defaults]
    max_age = "3d"

    [[source]]
    name = "sputnik-africa"
    home = "https://en.sputniknews.africa/"
    feeds = ["https://en.sputniknews.africa/export/rss2/archive/index.xml"]
    allow = ['^https://en\\.sputniknews\\.africa/\\d{8}/']

Everything is validated when the file is read: a typo in a key, a bad URL, regex or duration
raises :class:`SourcesError` naming the file, the source and the key.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import tomllib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import unquote, urlsplit

from crawler.inputs import InputError, validate_url
from crawler.links import normalize_domain, same_site, site_host
from pipelines.setting import LONGEST_WAIT, parse_duration

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from datetime import datetime, timedelta
    from pathlib import Path

_T = TypeVar("_T")

NAME_PATTERN = re.compile(r"[a-z0-9][a-z0-9._-]*")
_LANGUAGE = re.compile(r"[a-z]{2}")
# A host name as written in allowed_domains: labels of letters, digits, "-" and "_".
_DOMAIN = re.compile(r"[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?(?:\.[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?)*")

_TOP_LEVEL_KEYS = ("defaults", "source")
# Keys a [defaults] table may set (the rest name or locate a single source).
_DEFAULT_KEYS = (
    "language",
    "max_age",
    "download_delay",
    "concurrency",
    "follow_links",
    "max_depth",
)
_SOURCE_KEYS = (
    "name",
    "home",
    "feeds",
    "sitemaps",
    "allowed_domains",
    "allow",
    "deny",
    *_DEFAULT_KEYS,
)


class SourcesError(ValueError):
    """A sources file that cannot be used; the message names the file, source and key."""


@dataclass(frozen=True, kw_only=True)
class Source:
    """One news site: where its articles are listed, what they look like, how to fetch."""

    name: str
    """Unique name, ``[a-z0-9][a-z0-9._-]*``; used in logs, stats and the dataset."""
    home: str | None = None
    """Home page, the start of link discovery (``follow_links``)."""
    feeds: tuple[str, ...] = ()
    """RSS or Atom feeds listing the latest articles."""
    sitemaps: tuple[str, ...] = ()
    """XML sitemaps or sitemap indexes (news sitemaps are best)."""
    allowed_domains: tuple[str, ...] = ()
    """Domains whose pages belong to the source (subdomains included, ``www.`` ignored).
    Empty means the hosts of ``home``, ``feeds`` and ``sitemaps``."""
    allow: tuple[re.Pattern[str], ...] = ()
    """Article URL patterns (searched, not matched): a URL is an article if any finds it.
    Empty means any URL may be one."""
    deny: tuple[re.Pattern[str], ...] = ()
    """URL patterns never fetched (searched), whatever ``allow`` says."""
    language: str | None = None
    """Expected ISO 639-1 language of the articles, a hint for the language stage."""
    max_age: timedelta | None = None
    """Feed and sitemap entries published longer ago than this are not fetched
    (:func:`is_recent`); ``None`` (or zero) keeps ``DISCOVERY_MAX_AGE``."""
    download_delay: float | None = None
    """Seconds between requests to the source; ``None`` keeps the crawl's setting."""
    concurrency: int | None = None
    """Parallel requests to the source; ``None`` keeps the crawl's setting."""
    follow_links: bool = True
    """Follow listing links (sections, tags, pagination) from ``home``; off, only the home
    page's own links are read (the articles it links to, the feeds it advertises)."""
    max_depth: int = 2
    """Hops from ``home`` (depth 0) of the listing pages followed (a section 1, its next page
    2); the articles every listing page read links to are requested (0: the home page's)."""
    named: bool = True
    """Named in a sources file; ``False`` for an ad-hoc ``-a sites=`` source, whose pages get no
    ``source_name``."""

    def __post_init__(self) -> None:
        domains = self.allowed_domains or _hosts([self.home or "", *self.feeds, *self.sitemaps])
        normalized = tuple(dict.fromkeys(normalize_domain(domain) for domain in domains))
        object.__setattr__(self, "allowed_domains", normalized)

    @classmethod
    def from_site(cls, url: str) -> Source:
        """An ad-hoc source for a home page given as ``-a sites=URL``, with default settings.

        Its name is the host without ``www.``; raises :class:`~crawler.inputs.InputError`
        when ``url`` is not an http(s) URL.
        """
        home = validate_url(url, argument="-a sites")
        host = _hosts([home])[0]
        return cls(name=host, home=home, allowed_domains=(host,), named=False)

    def on_site(self, url: str) -> bool:
        """Whether the host of ``url`` is one of ``allowed_domains`` or a subdomain of one."""
        return same_site(url, self.allowed_domains)

    def is_denied(self, url: str) -> bool:
        """Whether a ``deny`` pattern finds ``url``, as written or percent-decoded (a page's
        links come percent-encoded, ``/vid%C3%A9o/``; sitemaps and feeds give them as written,
        ``/vidéo/``: a pattern written either way holds for both)."""
        if not self.deny:
            return False
        return any(pattern.search(form) for form in _forms(url) for pattern in self.deny)

    def is_article_url(self, url: str) -> bool:
        """Whether an ``allow`` pattern finds ``url``, as written or percent-decoded (always,
        when there are none)."""
        if not self.allow:
            return True
        return any(pattern.search(form) for form in _forms(url) for pattern in self.allow)

    def may_follow(self, url: str) -> bool:
        """Whether ``url`` may be requested at all: on the site and not denied.

        The test for listing pages (home, sections, pagination), which ``allow`` is not.
        """
        return self.on_site(url) and not self.is_denied(url)

    def allows(self, url: str) -> bool:
        """Whether ``url`` is an article of this source: on the site, allowed, not denied."""
        return self.may_follow(url) and self.is_article_url(url)


def is_recent(published_at: datetime | None, max_age: timedelta | None, *, now: datetime) -> bool:
    """Whether an entry published at ``published_at`` is within ``max_age`` of ``now``: the
    spider's test of a listed entry, with its source's ``max_age`` or ``DISCOVERY_MAX_AGE``.

    Entries without a date, and every entry when there is no ``max_age``, are recent.
    """
    if max_age is None or published_at is None:
        return True
    return now - published_at <= max_age


def site_slots(sources: Iterable[Source]) -> dict[str, dict[str, Any]]:
    """Download slot settings (``delay``, ``concurrency``) of the sources that set them, by
    allowed domain: the slot every host of the domain (``www.`` and other subdomains) is
    fetched through (:func:`slot_of`). Two sources of one domain get the more polite delay and
    concurrency of the two."""
    slots: dict[str, dict[str, Any]] = {}
    for source in sources:
        if source.download_delay is None and source.concurrency is None:
            continue
        for domain in source.allowed_domains:
            slot = slots.setdefault(domain, {})
            if source.download_delay is not None:
                slot["delay"] = max(slot.get("delay", 0.0), source.download_delay)
            if source.concurrency is not None:
                slot["concurrency"] = min(
                    slot.get("concurrency", source.concurrency), source.concurrency
                )
    return slots


def slot_of(url: str, slots: Mapping[str, object]) -> str | None:
    """The domain of ``slots`` whose slot ``url`` is fetched through: its host's, or that of
    the nearest domain its host is a subdomain of (``amp.example.com`` under ``example.com``,
    unless ``amp.example.com`` has a slot of its own); ``None`` when none is."""
    host = site_host(url)
    while host:
        if host in slots:
            return host
        _, _, host = host.partition(".")
    return None


def _forms(url: str) -> tuple[str, ...]:
    """``url`` as written, and percent-decoded when that differs."""
    decoded = unquote(url)
    return (url,) if decoded == url else (url, decoded)


def _hosts(urls: Iterable[str]) -> list[str]:
    """The distinct normalized hosts of ``urls`` (those without a host skipped)."""
    hosts = (normalize_domain(host) for host in map(_hostname, urls) if host)
    return list(dict.fromkeys(hosts))


def _hostname(url: str) -> str | None:
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None


# --- value checks: each takes the value and where it was found, for the message ------------


def _fail(where: str, message: str) -> SourcesError:
    return SourcesError(f"{where}: {message}")


def _type_name(value: object) -> str:
    return {"str": "a string", "int": "an integer", "float": "a number", "bool": "a boolean"}.get(
        type(value).__name__, f"a {type(value).__name__}"
    )


def _string(value: object, where: str) -> str:
    if not isinstance(value, str):
        raise _fail(where, f"must be a string, not {_type_name(value)}")
    if not value.strip():
        raise _fail(where, "must not be empty")
    return value.strip()


def _name(value: object, where: str) -> str:
    name = _string(value, where)
    if not NAME_PATTERN.fullmatch(name):
        raise _fail(
            where,
            f"{name!r} is not a valid name; use lower-case letters, digits, '.', '_' and '-', "
            "starting with a letter or digit",
        )
    return name


def _url(value: object, where: str) -> str:
    try:
        return validate_url(_string(value, where), argument=where)
    except InputError as exc:
        raise SourcesError(str(exc)) from None


def _strings(value: object, where: str) -> list[str]:
    if isinstance(value, str):
        raise _fail(where, f'must be a list of strings, e.g. ["{value}"], not a string')
    if not isinstance(value, list):
        raise _fail(where, f"must be a list of strings, not {_type_name(value)}")
    return [_string(item, f"{where}[{index}]") for index, item in enumerate(value)]


def _url_list(value: object, where: str) -> tuple[str, ...]:
    items = _strings(value, where)
    return tuple(dict.fromkeys(_url(item, f"{where}[{i}]") for i, item in enumerate(items)))


def _domain_list(value: object, where: str) -> tuple[str, ...]:
    items = _strings(value, where)
    if not items:
        raise _fail(where, "is empty; leave it out to use the hosts of home, feeds and sitemaps")
    domains = []
    for index, item in enumerate(items):
        domain = normalize_domain(item)
        if not _DOMAIN.fullmatch(domain):
            raise _fail(
                f"{where}[{index}]",
                f"{item!r} is not a domain name; write e.g. 'example.com', without scheme or path",
            )
        domains.append(domain)
    return tuple(dict.fromkeys(domains))


def _pattern_list(value: object, where: str) -> tuple[re.Pattern[str], ...]:
    patterns = []
    for index, item in enumerate(_strings(value, where)):
        try:
            patterns.append(re.compile(item))
        except re.error as exc:
            raise _fail(f"{where}[{index}]", f"{item!r} is not a valid regex: {exc}") from None
    return tuple(patterns)


def _language(value: object, where: str) -> str:
    language = _string(value, where).lower()
    if not _LANGUAGE.fullmatch(language):
        raise _fail(where, f"{value!r} is not a two-letter ISO 639-1 language code like 'en'")
    return language


def _max_age(value: object, where: str) -> timedelta:
    if not isinstance(value, int | str) or isinstance(value, bool):
        raise _fail(where, f"must be a duration string or seconds, not {_type_name(value)}")
    try:
        duration = parse_duration(value)
    except ValueError as exc:
        raise _fail(where, str(exc)) from None
    if not duration:
        raise _fail(where, "must be longer than zero (leave it out for no limit)")
    return duration


def _seconds(value: object, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _fail(where, f"must be a number of seconds, not {_type_name(value)}")
    if not 0 <= value <= LONGEST_WAIT:  # nan fails too
        raise _fail(where, f"must be a number of seconds from 0 to {LONGEST_WAIT:g}, not {value!r}")
    return float(value)


def _integer(value: object, where: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(where, f"must be an integer, not {_type_name(value)}")
    if value < minimum:
        raise _fail(where, f"must be {minimum} or more, not {value}")
    return value


def _concurrency(value: object, where: str) -> int:
    return _integer(value, where, minimum=1)


def _depth(value: object, where: str) -> int:
    return _integer(value, where, minimum=0)


def _boolean(value: object, where: str) -> bool:
    if not isinstance(value, bool):
        raise _fail(where, f"must be true or false, not {_type_name(value)}")
    return value


# --- tables --------------------------------------------------------------------------------


def _check_keys(table: Mapping[str, object], known: tuple[str, ...], where: str) -> None:
    """Raise for the first key of ``table`` not in ``known``, suggesting the likely one."""
    for key in table:
        if key in known:
            continue
        if key in _SOURCE_KEYS:
            raise _fail(where, f"key {key!r} cannot be set here; set it in each [[source]]")
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        raise _fail(where, f"unknown key {key!r} ({hint}known keys: {', '.join(known)})")


def _get(
    table: Mapping[str, object],
    key: str,
    check: Callable[[object, str], _T],
    where: str,
    default: _T,
) -> _T:
    """``table[key]`` checked, or ``default`` when absent."""
    if key not in table:
        return default
    return check(table[key], f"{where}, key {key!r}")


def _read_defaults(value: object, origin: str) -> Source:
    """The ``[defaults]`` table, as a nameless source carrying the default settings."""
    where = f"{origin}: [defaults]"
    base = Source(name="defaults")
    if not isinstance(value, dict):
        raise _fail(where, "must be a table: [defaults]")
    _check_keys(value, _DEFAULT_KEYS, where)
    return dataclasses.replace(
        base,
        language=_get(value, "language", _language, where, base.language),
        max_age=_get(value, "max_age", _max_age, where, base.max_age),
        download_delay=_get(value, "download_delay", _seconds, where, base.download_delay),
        concurrency=_get(value, "concurrency", _concurrency, where, base.concurrency),
        follow_links=_get(value, "follow_links", _boolean, where, base.follow_links),
        max_depth=_get(value, "max_depth", _depth, where, base.max_depth),
    )


def _read_source(
    table: Mapping[str, object], defaults: Source, *, origin: str, number: int
) -> Source:
    """The ``number``-th ``[[source]]`` table of the file ``origin``."""
    if "name" not in table:
        raise _fail(f"{origin}: source #{number}", "missing required key 'name'")
    name = _name(table["name"], f"{origin}: source #{number}, key 'name'")
    where = f"{origin}: source {name!r}"
    _check_keys(table, _SOURCE_KEYS, where)
    source = Source(
        name=name,
        home=_get(table, "home", _url, where, None),
        feeds=_get(table, "feeds", _url_list, where, ()),
        sitemaps=_get(table, "sitemaps", _url_list, where, ()),
        allowed_domains=_get(table, "allowed_domains", _domain_list, where, ()),
        allow=_get(table, "allow", _pattern_list, where, ()),
        deny=_get(table, "deny", _pattern_list, where, ()),
        language=_get(table, "language", _language, where, defaults.language),
        max_age=_get(table, "max_age", _max_age, where, defaults.max_age),
        download_delay=_get(table, "download_delay", _seconds, where, defaults.download_delay),
        concurrency=_get(table, "concurrency", _concurrency, where, defaults.concurrency),
        follow_links=_get(table, "follow_links", _boolean, where, defaults.follow_links),
        max_depth=_get(table, "max_depth", _depth, where, defaults.max_depth),
    )
    if not (source.home or source.feeds or source.sitemaps):
        raise _fail(where, "nothing to crawl: give at least one of home, feeds or sitemaps")
    return source


def _source_tables(document: Mapping[str, object], origin: str) -> list[dict[str, object]]:
    tables = document.get("source")
    if tables is None:
        raise _fail(origin, "no sources; add a [[source]] table for each site")
    if not isinstance(tables, list) or not all(isinstance(table, dict) for table in tables):
        raise _fail(origin, "'source' must be an array of tables, written [[source]]")
    return tables


def parse_sources(text: str, *, origin: str) -> list[Source]:
    """The sources declared in TOML ``text``; ``origin`` (a file name) prefixes every error.

    Raises :class:`SourcesError` for invalid TOML, unknown keys, values of the wrong type
    or range, missing or duplicate names, non-http(s) URLs, invalid regexes, and a home page,
    feed or sitemap that two sources name.
    """
    try:
        document = tomllib.loads(text)
    except ValueError as exc:  # TOMLDecodeError, or an integer of more than 4,300 digits
        raise _fail(origin, f"invalid TOML: {exc}") from None
    except RecursionError:  # arrays or tables nested a thousand deep
        raise _fail(origin, "invalid TOML: nested too deeply") from None
    _check_keys(document, _TOP_LEVEL_KEYS, origin)
    defaults = _read_defaults(document.get("defaults", {}), origin)
    sources: dict[str, Source] = {}
    for number, table in enumerate(_source_tables(document, origin), start=1):
        source = _read_source(table, defaults, origin=origin, number=number)
        if source.name in sources:
            first = list(sources).index(source.name) + 1
            raise _fail(
                f"{origin}: source #{number}, key 'name'",
                f"duplicate name {source.name!r} (also source #{first}); names must be unique",
            )
        sources[source.name] = source
    _check_shared_urls(list(sources.values()), origin)
    return list(sources.values())


def _check_shared_urls(sources: list[Source], origin: str) -> None:
    """Raise for a home page, feed or sitemap that two sources name: each page is read for one
    source only (the first to ask), so the other's figures and health would be wrong, and
    change from run to run (a source copied and renamed, and not edited)."""
    first: dict[str, tuple[str, str]] = {}
    for source in sources:
        for key, urls in (
            ("home", (source.home,) if source.home else ()),
            ("feeds", source.feeds),
            ("sitemaps", source.sitemaps),
        ):
            for url in urls:
                other = first.setdefault(url, (source.name, key))
                if other[0] != source.name:
                    raise _fail(
                        f"{origin}: source {source.name!r}, key {key!r}",
                        f"{url} is also source {other[0]!r}'s ({other[1]}); a page is read for"
                        " one source: merge the two, or remove it from one",
                    )


def load_sources(path: Path) -> list[Source]:
    """The sources declared in the UTF-8 TOML file at ``path`` (see :func:`parse_sources`)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")  # a byte order mark, as editors write
    except OSError as exc:
        raise SourcesError(f"{path}: cannot read the sources file: {exc.strerror}") from None
    except UnicodeDecodeError as exc:
        raise SourcesError(f"{path}: not UTF-8 text: {exc}") from None
    return parse_sources(text, origin=str(path))
