"""Source health, as a scheduled job sees it: three sources crawled four times; in run 3 one
answers 403 to every article and another's feed comes back empty. Run 3 exits with status 4
naming exactly those two and the rule each broke; run 4, after both recovered, exits 0. The
report of that history (``scrapy report``) shows the drop, in a real browser too."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
from collections import Counter
from typing import TYPE_CHECKING, Any

import lxml.html
import pytest

from crawler.commands import EXIT_OK, EXIT_UNHEALTHY
from dataset.run_history import per_run, read_runs
from dataset.storage import location_of
from demo.site import Response, base_url, serve
from tests.conftest import ROOT, CrawlResult, dataset_rows, run_crawl
from tests.newssite import NewsSite
from tests.test_source_accounting import EMPTY_RSS
from tests.test_source_accounting import SOURCES as TWO_SOURCES

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

SOURCES = (
    TWO_SOURCES
    + """
[[source]]
name = "gamma"
feeds = ["{gamma}/rss.xml"]
"""
)
"""The two sources of the accounting tests, and a third read from its feed alone."""
FORBIDDEN = Response(403, {"Content-Type": "text/html"}, b"<h1>Access denied</h1>")
NEW_PER_RUN = 4
"""Articles each site publishes before each run (half in its feed, half in its sitemap)."""


@pytest.fixture(scope="module")
def sites() -> dict[str, NewsSite]:
    return {
        "alpha": NewsSite.build(),
        "beta": NewsSite.build(first=1000),
        "gamma": NewsSite.build(first=2000),
    }


@pytest.fixture(scope="module")
def servers(sites: dict[str, NewsSite]) -> Iterator[dict[str, str]]:
    with (
        serve(sites["alpha"]) as alpha,  # type: ignore[arg-type]
        serve(sites["beta"]) as beta,  # type: ignore[arg-type]
        serve(sites["gamma"]) as gamma,  # type: ignore[arg-type]
    ):
        yield {"alpha": base_url(alpha), "beta": base_url(beta), "gamma": base_url(gamma)}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, servers: dict[str, str]) -> Path:
    """The crawls' folder: ``sources.toml`` and the dataset, ``data/``."""
    made = tmp_path_factory.mktemp("health")
    (made / "sources.toml").write_text(SOURCES.format(**servers), encoding="utf-8")
    return made


def _crawl(folder: Path, *settings: str) -> CrawlResult:
    return run_crawl(folder / "data", "-a", f"sources={folder / 'sources.toml'}", settings=settings)


@pytest.fixture(scope="module")
def runs(folder: Path, sites: dict[str, NewsSite]) -> list[CrawlResult]:
    def publish() -> None:
        for site in sites.values():
            site.publish(NEW_PER_RUN)

    done = []
    for _ in range(2):
        publish()
        done.append(_crawl(folder))
    publish()
    beta, gamma = sites["beta"], sites["gamma"]
    beta.routes.update({article.path: FORBIDDEN for article in beta.articles})
    gamma.routes["/rss.xml"] = Response(200, {"Content-Type": "application/rss+xml"}, EMPTY_RSS)
    done.append(_crawl(folder))
    beta.routes.clear()
    gamma.routes.clear()
    publish()
    done.append(_crawl(folder))
    return done


def _unhealthy_lines(result: CrawlResult) -> list[str]:
    return [line for line in result.log.splitlines() if "Unhealthy: source" in line]


def test_the_first_runs_of_new_sources_never_alarm(runs: list[CrawlResult]) -> None:
    for result in runs[:2]:
        assert result.returncode == EXIT_OK, result.log[-3000:]
        assert _unhealthy_lines(result) == []


def test_a_run_names_exactly_the_unhealthy_sources_and_their_rules(
    runs: list[CrawlResult],
) -> None:
    third = runs[2]
    assert third.returncode == EXIT_UNHEALTHY, third.log[-3000:]
    assert third.log.rstrip().splitlines()[-1] == (
        "crawl finished; unhealthy sources: beta (blocked), gamma (listing)"
    )
    lines = _unhealthy_lines(third)
    assert len(lines) == 2
    assert "WARNING" in lines[0]
    assert "source beta is unhealthy (blocked): 4 of 4 article requests failed" in lines[0]
    assert "(http_403 4); 0% usually in the 2 runs before" in lines[0]
    assert "source gamma is unhealthy (listing): the feeds and sitemaps list 0 entries" in lines[1]
    assert not any("alpha" in line for line in lines)
    assert third.stats["news/source_health/unhealthy_sources"] == 2
    # the human summary, after Scrapy's stats and before the last line
    tail = third.log.rstrip().splitlines()[-10:-1]
    assert tail[0].startswith("Run finished in ")
    # the unhealthy sources first
    assert [line.split()[0] for line in tail[1:5]] == ["source", "beta", "gamma", "alpha"]
    assert tail[5] == "  dropped: none"
    assert tail[6].startswith("  fetch errors: http_403 4, ")
    assert tail[7:] == [f"  unhealthy: {line.split('Unhealthy: ')[1]}" for line in lines]
    assert third.stats["news/source_health/unhealthy/blocked"] == 1


def test_a_run_after_the_sources_recovered_is_healthy(runs: list[CrawlResult]) -> None:
    fourth = runs[3]
    assert fourth.returncode == EXIT_OK, fourth.log[-3000:]
    assert _unhealthy_lines(fourth) == []
    assert fourth.stats["news/source_health/unhealthy_sources"] == 0


@pytest.fixture(scope="module")
def report_file(runs: list[CrawlResult], folder: Path) -> Path:
    """``scrapy report`` of the four runs (made before the fifth run below)."""
    target = folder / "report.html"
    scrapy_report(folder / "data", target)
    return target


def scrapy_report(output_dir: Path, target: Path) -> subprocess.CompletedProcess[str]:
    """``scrapy report`` of the dataset ``output_dir`` into ``target``, which succeeded."""
    done = subprocess.run(
        [sys.executable, "-m", "scrapy", "report", "-s", f"OUTPUT_DIR={output_dir}",
         "-o", str(target)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == EXIT_OK, done.stderr
    return done


@pytest.fixture(scope="module")
def dataset_counts(runs: list[CrawlResult], folder: Path) -> Counter[str]:
    """The dataset's rows per configured source, after the four runs."""
    return Counter(row["source_name"] for row in dataset_rows(folder / "data"))


def test_the_report_of_the_history_shows_the_drop(
    report_file: Path, dataset_counts: Counter[str]
) -> None:
    page = lxml.html.fromstring(report_file.read_text(encoding="utf-8"))
    rows = {row.get("data-source"): row for row in page.cssselect("#sources tbody tr")}
    assert set(rows) == {"alpha", "beta", "gamma"}
    recent = {
        name: [span.text_content() for span in row.cssselect("td.recent span")]
        for name, row in rows.items()
    }
    # run 3: beta stored nothing (blocked), gamma nothing new (its feed empty); both marked
    assert recent["beta"][2] == recent["gamma"][2] == "0!"
    assert all(not count.endswith("!") for count in recent["alpha"])
    assert [int(count.rstrip("!")) for count in recent["alpha"]][2] > 0
    for name in ("beta", "gamma"):
        assert [count.endswith("!") for count in recent[name]] == [False, False, True, False]
    findings = [item.text_content() for item in page.cssselect("ul.findings li")]
    assert [text.split("(")[1].split(")")[0] for text in findings] == ["blocked", "listing"]
    # run 4 recovered: every source healthy now
    assert {
        name: row.cssselect('[data-field="status"]')[0].text_content() for name, row in rows.items()
    } == dict.fromkeys(rows, "healthy")
    assert {
        name: int(row.cssselect('[data-field="articles"]')[0].text_content())
        for name, row in rows.items()
    } == dataset_counts


CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    # as root in a container; no GPU; no calls home (refused here, and slow)
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def _open_in_chromium(page_file: Path, screenshot: Path) -> dict[str, Any]:
    """Open ``page_file`` in headless Chromium: what it logged, what it asked for, what its
    DOM says, and a screenshot."""
    from playwright.sync_api import Error, sync_playwright  # noqa: PLC0415 - this test only

    seen: dict[str, Any] = {"console": [], "requests": []}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            try:
                page = browser.new_page(viewport={"width": 1200, "height": 900})
                page.on("console", lambda m: seen["console"].append(f"{m.type}: {m.text}"))
                page.on("pageerror", lambda e: seen["console"].append(f"pageerror: {e}"))
                page.on("request", lambda r: seen["requests"].append(r.url))
                page.goto(page_file.as_uri(), wait_until="load")
                seen["dom"] = page.evaluate(DOM_FIGURES)
                page.screenshot(path=str(screenshot), full_page=True)
            finally:
                browser.close()
    except Error as exc:
        pytest.skip(f"Chromium ({CHROMIUM}) could not be started by Playwright: {exc}")
    return seen


DOM_FIGURES = """() => {
  const total = (key) => Number(document.querySelector(`[data-total="${key}"]`).dataset.value);
  const charts = [...document.querySelectorAll("figure.chart")].map((figure) => {
    const svg = figure.querySelector("svg");
    const marks = svg ? [...svg.querySelectorAll(`g[id^="${figure.id.slice(6)}-mark-"]`)] : [];
    return {
      id: figure.id,
      stated: Number(figure.dataset.marks),
      marks: marks.length,
      // drawn: each mark takes room on the screen
      drawn: marks.filter((g) => { const b = g.getBBox(); return b.width > 0 || b.height > 0; })
        .length,
      svgWidth: svg ? svg.getBoundingClientRect().width : 0,
      empty: figure.querySelector("p.empty")?.textContent ?? null,
    };
  });
  const sources = Object.fromEntries([...document.querySelectorAll("#sources tbody tr")].map(
    (row) => [row.dataset.source,
              Number(row.querySelector('[data-field="articles"]').textContent)]));
  return {rows: total("rows"), files: total("files"), charts, sources};
}"""


def test_the_report_in_a_browser(
    report_file: Path, dataset_counts: Counter[str], folder: Path, tmp_path: Path
) -> None:
    if not (os.access(CHROMIUM, os.X_OK) or shutil.which(CHROMIUM)):
        pytest.skip(f"no Chromium at {CHROMIUM} (Debian's chromium package; .ci/run installs it)")
    screenshot = tmp_path / "report.png"
    seen = _open_in_chromium(report_file, screenshot)
    assert seen["console"] == []
    assert seen["requests"] == [report_file.as_uri()]  # nothing else fetched
    dom = seen["dom"]
    assert dom["rows"] == sum(dataset_counts.values())
    assert dom["files"] == len(list((folder / "data" / "articles").glob("*/*.parquet")))
    assert dom["sources"] == dict(dataset_counts)
    assert [chart["id"] for chart in dom["charts"]] == [
        "chart-stored-per-run", "chart-articles-per-day", "chart-dropped-per-run",
        "chart-errors-per-run", "chart-languages", "chart-dataset-growth",
    ]  # fmt: skip
    for chart in dom["charts"]:
        assert chart["stated"] == chart["marks"] == chart["drawn"], chart
        if chart["marks"]:
            assert chart["svgWidth"] > 300, chart
        else:  # nothing to draw (no page was dropped in these runs): said in words
            assert chart["empty"], chart
    drawn = {chart["id"] for chart in dom["charts"] if chart["marks"]}
    assert drawn == {
        "chart-stored-per-run", "chart-articles-per-day", "chart-errors-per-run",
        "chart-languages", "chart-dataset-growth",
    }  # fmt: skip
    # a screenshot of the whole page, for a person to look at
    assert screenshot.stat().st_size > 50_000
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_unhealthy_status_can_be_turned_off(
    runs: list[CrawlResult], sites: dict[str, NewsSite], folder: Path
) -> None:
    assert len(runs) == 4
    # a fifth run, beta blocked again: said in the log, but the status stays 0
    beta = sites["beta"]
    beta.publish(NEW_PER_RUN)
    beta.routes.update({article.path: FORBIDDEN for article in beta.articles})
    try:
        fifth = _crawl(folder, "SOURCE_HEALTH_EXIT_STATUS=False")
    finally:
        beta.routes.clear()
    assert fifth.returncode == EXIT_OK, fifth.log[-3000:]
    assert [line.split("Unhealthy: ")[1][:35] for line in _unhealthy_lines(fifth)] == [
        "source beta is unhealthy (blocked):"
    ]


def _closed_port() -> int:
    """A port of 127.0.0.1 nothing listens on (connections to it are refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_sources_of_which_nothing_came_are_named_from_their_first_run_on(
    tmp_path: Path, servers: dict[str, str]
) -> None:
    # a sources file with two sources broken from the start beside a healthy one: a host
    # nothing listens on, and one that does not resolve. Each ran with exit status 0 and
    # "unhealthy: none", on its first run and every one after (a new source never alarmed;
    # later the failure was its usual), the run history holding its errors and nothing else.
    (tmp_path / "sources.toml").write_text(
        f"""
[[source]]
name = "alpha"
home = "{servers["alpha"]}/"

[[source]]
name = "refused"
home = "http://127.0.0.1:{_closed_port()}/"

[[source]]
name = "unresolved"
feeds = ["http://news.invalid/rss.xml"]
""",
        encoding="utf-8",
    )
    results = [_crawl(tmp_path) for _ in range(2)]
    first = per_run(read_runs(location_of(tmp_path / "data")))[0]["started_at"]
    since = f"{first:%Y-%m-%d %H:%M}"
    for number, result in enumerate(results, 1):
        assert result.returncode == EXIT_UNHEALTHY, result.log[-3000:]
        assert result.log.rstrip().splitlines()[-1] == (
            "crawl finished; unhealthy sources: refused (failing), unresolved (failing)"
        )
        lines = [line.split("Unhealthy: ")[1] for line in _unhealthy_lines(result)]
        assert [re.sub(r"\d+ requests|\d+\)", "N", line) for line in lines] == [
            f"source {name} is unhealthy (failing): not one page, feed or sitemap read: all N "
            f"failed ({kind} N" + ("" if number == 1 else f"; 2 runs in a row, since {since} UTC")
            for name, kind in (("refused", "connection_refused"), ("unresolved", "dns"))
        ]
        assert result.stats["news/source_health/unhealthy/failing"] == 2
        assert result.stats["news/source_health/unhealthy_sources"] == 2
    # scrapy summary names them too (it said what the last crawl fetched and failed, not where)
    summary = subprocess.run(
        [sys.executable, "-m", "scrapy", "summary", "-s", f"OUTPUT_DIR={tmp_path / 'data'}"],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert summary.returncode == EXIT_OK, summary.stderr
    said = [line for line in summary.stdout.splitlines() if line.startswith("  unhealthy ")]
    assert [line.split(":")[0].split()[1:] for line in said] == [
        ["refused", "(failing)"],
        ["unresolved", "(failing)"],
    ]
    assert said[0].endswith(f"(connection_refused 2); 2 runs in a row, since {since} UTC")
    # the report says so too, and blames not the healthy source
    target = tmp_path / "report.html"
    done = scrapy_report(tmp_path / "data", target)
    # three sources, as the table has three rows: those that never stored an article count
    # (they were left out: "1 source", beside a table of three)
    assert "3 sources, 2 runs; unhealthy: refused, unresolved" in done.stdout
    page = lxml.html.fromstring(target.read_text(encoding="utf-8"))
    assert {
        row.get("data-source"): row.cssselect('[data-field="status"]')[0].text_content()
        for row in page.cssselect("#sources tbody tr")
    } == {"alpha": "healthy", "refused": "unhealthy (failing)", "unresolved": "unhealthy (failing)"}
    assert page.cssselect('[data-total="sources"]')[0].get("data-value") == "3"


def test_a_source_sending_every_article_to_one_page_offsite_is_named(
    tmp_path: Path, servers: dict[str, str]
) -> None:
    # every article of a site redirected to one page on another domain (a login or consent
    # page, a new owner's home): the first redirect was refused as "ignored", and the others,
    # led to a URL asked for already, were counted as skipped as known: found 43, skipped 42,
    # one error, "unhealthy: none", exit status 0
    away = servers["alpha"].replace("127.0.0.1", "localhost") + "/"
    site = NewsSite.build(first=7000)
    site.routes.update(
        {article.path: Response(301, {"Location": away}, b"") for article in site.articles}
    )
    with serve(site) as server:  # type: ignore[arg-type]
        (tmp_path / "sources.toml").write_text(
            f'[[source]]\nname = "moved"\nhome = "{base_url(server)}/"\n', encoding="utf-8"
        )
        result = _crawl(tmp_path, "ADDRESS_GUARD_ALLOW_PRIVATE=True")
    assert result.returncode == EXIT_UNHEALTHY, result.log[-3000:]
    (row,) = per_run(read_runs(location_of(tmp_path / "data")))
    articles = len(site.articles)  # the private one is forbidden by robots.txt, not asked for
    assert row["skipped_known"] == 0
    assert row["article_errors"] == Counter(offsite_redirect=articles, robots_forbidden=1)
    assert result.stats["news/fetch/error/offsite_redirect"] == articles
    assert result.stats["news/guard/refused/offsite_redirect"] == 1  # the guard saw one
    assert (
        result.log.rstrip().splitlines()[-1] == "crawl finished; unhealthy sources: moved (failing)"
    )
    assert (
        f"Unhealthy: source moved is unhealthy (failing): {articles} article requests failed, "
        f"none fetched (offsite_redirect {articles})"
    ) in result.log


def test_a_source_whose_robots_txt_answers_a_server_error_is_said_so(
    tmp_path: Path, servers: dict[str, str]
) -> None:
    # robots.txt answering 503 holds the whole site back for the run (RFC 9309); the source
    # was named failing, but its line read "not one page, feed or sitemap read: all 2
    # requests failed (http_503 1, robots_forbidden 1)": the spider's own request for
    # robots.txt failing, and the home page forbidden, nothing said of why
    site = NewsSite.build(first=7100)
    site.routes["/robots.txt"] = Response(503, {"Content-Type": "text/html"}, b"<h1>Down</h1>")
    with serve(site) as server:  # type: ignore[arg-type]
        (tmp_path / "sources.toml").write_text(
            f'[[source]]\nname = "down"\nhome = "{base_url(server)}/"\n', encoding="utf-8"
        )
        result = _crawl(tmp_path, "RETRY_TIMES=0")
    (row,) = per_run(read_runs(location_of(tmp_path / "data")))
    assert row["errors"] == Counter(robots_http_503=1, robots_forbidden=1)
    assert result.stats["news/robots/error/http_503"] == 1  # the stats as they were
    assert result.stats["news/fetch/http_error/503"] == 1
    assert (
        "Unhealthy: source down is unhealthy (failing): robots.txt answered 503, so every page"
        " was held back (a robots.txt failing with a server error forbids the whole site for"
        " the run): all 2 requests failed (robots_forbidden 1, robots_http_503 1)"
    ) in result.log, result.log[-3000:]
