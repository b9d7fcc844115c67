"""``scrapy crawl`` with checked arguments and an exit status a scheduler can act on.

Scrapy's own command exits 0 whenever the crawl started, whatever happened. This one exits
``2`` on bad arguments (one line, no traceback), ``1`` when the crawl failed (it did not finish
normally, an error was logged, or every request failed), and ``0`` otherwise.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from crawler.addon import effective_settings
from pipelines.locations import output_problem
from pipelines.state import state_problem

if TYPE_CHECKING:
    import argparse

EXIT_OK = 0
EXIT_FAILED = 1


def crawl_failed(stats: dict[str, Any]) -> str | None:
    """Why a crawl with these final stats failed, or ``None`` when it did not."""
    reason = stats.get("finish_reason")
    if reason != "finished":
        return f"the crawl did not finish normally ({reason})"
    errors = stats.get("log_count/ERROR", 0)
    if errors:
        return f"{errors} errors were logged"
    fetched = stats.get("downloader/response_count", 0)
    failed = sum(
        value for key, value in stats.items() if key.startswith("downloader/exception_type_count/")
    )
    if failed and not fetched:
        return "every request failed"
    return None


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("give exactly one spider name")
        assert self.crawler_process is not None
        spider_class = self.crawler_process.spider_loader.load(args[0])
        check = getattr(spider_class, "check_arguments", None)
        if check is not None:
            check(**opts.spargs)  # raises UsageError: Scrapy prints it in one line
        assert self.settings is not None
        settings = effective_settings(self.settings)
        problem = output_problem(settings) or state_problem(settings)
        if problem is not None:
            raise UsageError(problem, print_help=False)
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        if self.crawler_process.bootstrap_failed:
            self.exitcode = EXIT_FAILED
            return
        assert crawler.stats is not None
        failure = crawl_failed(crawler.stats.get_stats())
        if failure is not None:
            print(f"crawl failed: {failure}")
            self.exitcode = EXIT_FAILED
