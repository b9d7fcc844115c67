"""Source health, as a scheduled job sees it: three sources crawled four times; in run 3 one
answers 403 to every article and another's feed comes back empty. Run 3 exits with status 4
naming exactly those two and the rule each broke; run 4, after both recovered, exits 0."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from crawler.commands import EXIT_OK, EXIT_UNHEALTHY
from demo.site import Response, base_url, serve
from tests.conftest import CrawlResult, run_crawl
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
    assert [line.split()[0] for line in tail[1:5]] == ["source", "alpha", "beta", "gamma"]
    assert tail[5] == "  dropped: none"
    assert tail[6].startswith("  fetch errors: http_403 4, ")
    assert tail[7:] == [f"  unhealthy: {line.split('Unhealthy: ')[1]}" for line in lines]
    assert third.stats["news/source_health/unhealthy/blocked"] == 1


def test_a_run_after_the_sources_recovered_is_healthy(runs: list[CrawlResult]) -> None:
    fourth = runs[3]
    assert fourth.returncode == EXIT_OK, fourth.log[-3000:]
    assert _unhealthy_lines(fourth) == []
    assert fourth.stats["news/source_health/unhealthy_sources"] == 0


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
