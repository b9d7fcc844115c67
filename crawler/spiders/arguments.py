"""The ``news`` spider's arguments (``-a NAME=VALUE``): what each is, the help that says so,
and their check, which reads them into the :class:`CrawlPlan` of a crawl.

:class:`SpiderArguments` is a mixin of :class:`crawler.spiders.news.NewsSpider`: ``scrapy
crawl`` asks the spider class for ``arguments_help`` and ``check_arguments``
(``crawler/commands/crawl.py``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from scrapy.exceptions import UsageError

from crawler.inputs import InputError, read_url_list
from crawler.sources import Source, SourcesError, load_sources


@dataclass(frozen=True)
class CrawlPlan:
    """What one crawl starts from."""

    article_urls: list[str] = field(default_factory=list)
    feed_urls: list[str] = field(default_factory=list)
    sitemap_urls: list[str] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)


# Arguments Scrapy and Scrapyd pass to every spider, besides the spider's own.
PASSED_THROUGH_ARGUMENTS = frozenset({"_job", "_version", "setting", "settings"})


class SpiderArguments:
    """The arguments of :class:`~crawler.spiders.news.NewsSpider`, their help and their check
    (a mixin: ``name`` is the spider's)."""

    name: str

    ARGUMENTS: ClassVar[dict[str, str]] = {
        "urls": "article pages, fetched directly",
        "feeds": "RSS 2.0, RSS 1.0, Atom or JSON Feed feeds whose entries are articles",
        "sitemaps": "XML sitemaps, Google News sitemaps or sitemap indexes (.xml.gz too), "
        "or text sitemaps (one URL a line)",
        "sites": "home pages of news sites: their sitemaps, feeds and section pages are read",
        "sources": "a TOML file of named sources, each with its own rules (see sources.toml)",
    }
    """The spider's arguments (``-a NAME=VALUE``), one line each. Every URL list is
    comma-separated, or ``@file`` with one URL per line."""

    @classmethod
    def arguments_help(cls) -> str:
        """What ``scrapy crawl news -a help=1`` prints: the arguments, one line each."""
        lines = [f"scrapy crawl {cls.name} -a NAME=VALUE [-a NAME=VALUE ...]; the arguments:"]
        lines += [f"  -a {name}=...  {meaning}" for name, meaning in cls.ARGUMENTS.items()]
        lines.append("  (a URL list is comma-separated, or @file with one URL per line)")
        return "\n".join(lines) + "\n"

    @classmethod
    def check_arguments(
        cls,
        urls: str | None = None,
        feeds: str | None = None,
        sitemaps: str | None = None,
        sites: str | None = None,
        sources: str | None = None,
        **others: Any,
    ) -> CrawlPlan:
        """The crawl's inputs; ``UsageError`` (one line, no help) for bad arguments."""
        unknown = sorted(set(others) - PASSED_THROUGH_ARGUMENTS)
        if unknown:
            raise UsageError(
                f"unknown spider argument {', '.join(unknown)}: this spider takes "
                f"{', '.join(cls.ARGUMENTS)} (-a help=1 says what each is)",
                print_help=False,
            )
        try:
            named = load_sources(_path_argument(sources)) if sources else []
            plan = CrawlPlan(
                article_urls=read_url_list(urls, argument="-a urls"),
                feed_urls=read_url_list(feeds, argument="-a feeds"),
                sitemap_urls=read_url_list(sitemaps, argument="-a sitemaps"),
                sources=[
                    *named,
                    *(Source.from_site(url) for url in read_url_list(sites, argument="-a sites")),
                ],
            )
        except (InputError, SourcesError, OSError) as exc:
            raise UsageError(str(exc), print_help=False) from None
        names = [source.name for source in plan.sources]
        if len(set(names)) != len(names):
            raise UsageError(f"a source is given twice: {sorted(names)}", print_help=False)
        if not (plan.article_urls or plan.feed_urls or plan.sitemap_urls or plan.sources):
            raise UsageError(
                "nothing to crawl: give -a urls=, -a feeds=, -a sitemaps=, -a sites= and/or "
                "-a sources= (-a help=1 says what each is)",
                print_help=False,
            )
        return plan


def _path_argument(value: str) -> Path:
    return Path(value.removeprefix("@")).expanduser()
