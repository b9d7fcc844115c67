"""Scrapy's TLS module imported without stack inspection (crawler/startup.py)."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT

COUNTED = """
import inspect, json, sys
calls = []
original = inspect.stack
def counted(*args, **kwargs):
    calls.append(1)
    return original(*args, **kwargs)[1:]  # as seen from its caller
inspect.stack = counted
"""
"""Counts the calls of ``inspect.stack`` in the process it starts."""

IMPORTED = (
    COUNTED
    + """
if sys.argv[1] == "cheap":
    from crawler.startup import import_tls
    import_tls()
    import_tls()  # a second time: nothing to do
import scrapy.core.downloader.contextfactory as factory, scrapy.core.downloader.tls as tls
print(json.dumps({
    "calls": len(calls),
    "restored": inspect.stack is counted,
    "modules": [getattr(module, name).__module__ for module, name in (
        (factory, "ScrapyClientContextFactory"),
        (factory, "AcceptableProtocolsContextFactory"),
        (tls, "ScrapyClientTLSOptions"),
    )],
}))
"""
)

BUILT = (
    COUNTED
    + """
from scrapy.utils.reactor import install_reactor
install_reactor("twisted.internet.asyncioreactor.AsyncioSelectorReactor")
from scrapy.crawler import Crawler
from scrapy.utils.project import get_project_settings
from crawler.spiders.news import NewsSpider
crawler = Crawler(NewsSpider, get_project_settings())
crawler._apply_settings()
imported = "scrapy.core.downloader.contextfactory" in sys.modules
import scrapy.core.downloader.handlers.http11  # what the downloader loads next
print(imported, len(calls))
"""
)


def _run(code: str, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_tls_module_is_imported_without_inspecting_the_stack() -> None:
    plain, cheap = (json.loads(_run(IMPORTED, how)) for how in ("plain", "cheap"))
    # Scrapy's own import inspects the stack once for each deprecated alias it defines
    assert plain["calls"] == 3
    assert cheap["calls"] == 0
    assert cheap["restored"]
    assert plain["restored"]
    # the aliases are the same as Scrapy makes them
    where = ["scrapy.core.downloader.contextfactory"] * 2 + ["scrapy.core.downloader.tls"]
    assert cheap["modules"] == plain["modules"] == where


def test_the_add_on_imports_it_before_the_downloader_is_built() -> None:
    imported, calls = _run(BUILT).split()
    assert imported == "True"
    assert calls == "0"


OTHERS = """
import inspect, sys
from crawler import startup
with startup._shallow_stack():
    def caller():
        return inspect.stack()
    frames = caller()
print(frames[0].function, frames[1].function, len(frames) > 2)
"""


def test_other_callers_of_inspect_stack_get_the_whole_stack() -> None:
    assert _run(OTHERS).split() == ["caller", "<module>", "False"]
