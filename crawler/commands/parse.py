"""``scrapy parse``: Scrapy's command, leaving the dataset alone (see
:class:`crawler.project_command.DatasetLeftAlone`).

``scrapy parse --spider news -c parse_article URL`` made the spider with no URL to crawl, and
the ``news`` spider refuses that (a crawl given nothing is a usage error): a traceback, then
"No response downloaded", exit 1, and with ``--nolog`` nothing but an empty result. The URL
parsed is given to the spider as its ``-a urls=`` when no spider argument names what to crawl.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.commands.parse import Command as ScrapyCommand

from crawler.project_command import DatasetLeftAlone

if TYPE_CHECKING:
    import argparse

INPUTS = ("urls", "feeds", "sitemaps", "sites", "sources")
"""The ``news`` spider's arguments that say what to crawl (one at least is required)."""


class Command(DatasetLeftAlone, ScrapyCommand):
    def start_parsing(self, url: str, opts: argparse.Namespace) -> None:
        takes = getattr(self.spidercls, "ARGUMENTS", {})
        if "urls" in takes and not any(name in opts.spargs for name in INPUTS):
            opts.spargs = {**opts.spargs, "urls": url}
        super().start_parsing(url, opts)
