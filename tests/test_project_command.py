"""Scrapy's own commands that fetch pages, in this project (:mod:`crawler.project_command`):
they leave the dataset alone."""

from __future__ import annotations

import argparse
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from scrapy.settings import Settings

from demo.site import Response as Route
from demo.site import load_site
from tests.conftest import ROOT
from tests.hostile_site import serve

if TYPE_CHECKING:
    from pathlib import Path


def scrapy(*arguments: str, output: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scrapy", *arguments, "-s", f"OUTPUT_DIR={output}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def scrapy_at_once(
    commands: list[tuple[str, ...]], output: Path
) -> list[subprocess.CompletedProcess[str]]:
    """The commands run at the same time, each its own process (~4 s of start-up and fetch
    each, most of it on one core): none of them may write into the dataset, so none may wait
    for another either."""
    with ThreadPoolExecutor(len(commands)) as pool:
        runs = [pool.submit(scrapy, *command, output=output) for command in commands]
        return [run.result() for run in runs]


def test_fetch_shell_parse_and_runspider_write_nothing_into_the_dataset(tmp_path: Path) -> None:
    # each wrote a crawl report (a fetch became the last crawl of scrapy summary), parse and
    # runspider a run of the sources' history, even while a crawl held the lock; the shell
    # hung on the crawl's disk queue, and the address guard refused its loopback URL
    output = tmp_path / "out"
    page = load_site().pages[0]
    spider = tmp_path / "tiny.py"
    with serve() as server:
        server.routes["/a.html"] = Route(200, {"Content-Type": "text/html"}, page.body())
        url = server.url("/a.html")
        spider.write_text(
            "import scrapy\n\n\nclass Tiny(scrapy.Spider):\n    name = 'tiny'\n"
            f"    start_urls = [{url!r}]\n\n    def parse(self, response):\n"
            "        yield {'url': response.url, 'text': response.text}\n",
            encoding="utf-8",
        )
        commands = [
            ("fetch", "--nolog", url),
            ("shell", url, "-c", "response.status", "--nolog"),
            ("parse", "--nolog", "--spider", "news", "-c", "parse_article", url),
            ("runspider", str(spider), "--nolog"),
        ]
        fetched, shell, parsed, ran = scrapy_at_once(commands, output=output)
    assert fetched.returncode == 0, fetched.stderr[-2000:]
    assert page.body().decode("utf-8", "replace")[:200] in fetched.stdout
    assert shell.returncode == 0, shell.stderr[-2000:]
    assert shell.stdout.strip() == "200"
    assert "Traceback" not in parsed.stderr + parsed.stdout
    assert ran.returncode == 0, ran.stderr[-2000:]
    assert not output.exists() or not any(output.iterdir()), sorted(output.rglob("*"))


def test_parse_with_the_article_callback_prints_the_page_as_an_item(tmp_path: Path) -> None:
    # the spider, made with no URL to crawl, refused to start: a traceback, "No response
    # downloaded", exit 1; and parse_article wanted its discovered_via: a second traceback
    output = tmp_path / "out"
    page = load_site().pages[0]
    with serve() as server:
        server.routes["/a.html"] = Route(200, {"Content-Type": "text/html"}, page.body())
        url = server.url("/a.html")
        parsed, extracted = scrapy_at_once(
            [
                ("parse", "--spider", "news", "-c", "parse_article", url),
                ("parse", "--nolog", "--pipelines", "--spider", "news", "-c", "parse_article", url),
            ],
            output=output,
        )
    assert parsed.returncode == 0, parsed.stderr[-3000:]
    assert "Traceback" not in parsed.stderr, parsed.stderr[-3000:]
    assert "# Scraped Items" in parsed.stdout
    assert f"'url': '{url}'" in parsed.stdout
    assert "'discovered_via': 'url'" in parsed.stdout
    assert extracted.returncode == 0, extracted.stderr[-3000:]
    assert "'word_count': " in extracted.stdout  # the extract stage ran: the article's text
    assert page.title is not None
    assert page.title.split(":")[0] in extracted.stdout
    assert not output.exists() or not any(output.iterdir()), sorted(output.rglob("*"))


def test_what_the_command_line_sets_is_kept() -> None:
    from crawler.commands.fetch import Command as FetchCommand  # noqa: PLC0415
    from crawler.project_command import DATASET_LEFT_ALONE  # noqa: PLC0415

    command = FetchCommand()
    command.settings = Settings()
    command.settings.set("PARQUET_ENABLED", True, priority="cmdline")
    command.settings.set("REPORT_ENABLED", True, priority="project")
    parser = argparse.ArgumentParser()
    command.add_options(parser)
    command.process_options([], parser.parse_args([]))
    assert command.settings.getbool("PARQUET_ENABLED") is True
    assert command.settings.getbool("REPORT_ENABLED") is False
    assert set(DATASET_LEFT_ALONE) <= set(command.settings.copy_to_dict())
