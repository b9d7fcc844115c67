"""The health rules (dataset/health.py), each on a source's history: it fires on the run that
breaks it, not on one the source always looked like, and never on a new source."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from dataset.health import Finding, HealthRules, judge, judge_run

T0 = datetime(2026, 11, 1, 6, tzinfo=UTC)


def run(number: int, **figures: Any) -> dict[str, Any]:
    """A healthy run of source ``s``, ``number`` hours after T0, with ``figures`` changed."""
    row: dict[str, Any] = {
        "run_id": f"r{number}",
        "source": "s",
        "started_at": T0 + timedelta(hours=number),
        "finished_at": T0 + timedelta(hours=number, minutes=5),
        "listings": 3,
        "listing_errors": 0,
        "listed": 20,
        "discovered": 20,
        "skipped_known": 16,
        "skipped_rejected": 0,
        "fetched": 4,
        "stored": 4,
        "dropped": Counter(),
        "errors": Counter(),
        "article_errors": Counter(),
        "bytes": 1000,
        "newest_published_at": T0,
    }
    return row | figures


HISTORY = [run(n) for n in range(3)]


@pytest.mark.parametrize(
    ("now", "rule", "detail"),
    [
        (run(9, fetched=0, stored=0, article_errors=Counter(http_403=4)), "blocked",
         "4 of 4 article requests failed (http_403 4); 0% usually in the 3 runs before"),
        (run(9, fetched=1, stored=1, article_errors=Counter(robots_forbidden=3)), "robots",
         "robots.txt now forbids 3 article pages; none in the 3 runs before"),
        (run(9, stored=0, dropped=Counter(NotAnArticle=3, ListingPage=1)), "extraction",
         ("4 of 4 fetched pages were no article (NotAnArticle 3, ListingPage 1); 0% usually in "
          "the 3 runs before")),
        # a site that answers every article with its consent wall (or a soft 404, a bot check)
        (run(9, stored=0, dropped=Counter(ErrorPage=4)), "extraction",
         "4 of 4 fetched pages were no article (ErrorPage 4); 0% usually in the 3 runs before"),
        (run(9, listed=4), "listing", "the feeds and sitemaps list 4 entries, 20 usually"),
        (run(9, listing_errors=1), "listing",
         "1 feeds or sitemaps failed or held no feed or sitemap; none before"),
        (run(80, fetched=0, stored=0), "quiet",
         "no new article since 2026-11-01 08:05 UTC (1 runs)"),
    ],
)  # fmt: skip
def test_each_rule_names_the_figures(now: dict[str, Any], rule: str, detail: str) -> None:
    assert judge("s", now, HISTORY) == [Finding("s", rule, detail)]


def test_pages_gone_are_not_a_block() -> None:
    gone = run(9, fetched=1, stored=1, article_errors=Counter(http_404=3, http_410=1))
    assert judge("s", gone, HISTORY) == []


def test_one_large_run_does_not_outweigh_the_small_ones_after_it() -> None:
    # the first run fetched 100 pages; since, half of each run's few requests failed
    past = [run(0, fetched=100), *(run(n, fetched=2, article_errors=Counter(http_503=2))
                                   for n in range(1, 3))]  # fmt: skip
    assert judge("s", run(9, fetched=1, article_errors=Counter(http_503=3)), past) == []


def test_a_healthy_run_breaks_no_rule() -> None:
    assert judge("s", run(9), HISTORY) == []
    assert judge("s", run(9, fetched=0, stored=0, skipped_known=20), HISTORY) == []  # nothing new


@pytest.mark.parametrize(
    ("past", "now"),
    [
        # a source that always fails half of its requests is not newly blocked
        ([run(n, fetched=2, article_errors=Counter(http_503=2)) for n in range(3)],
         run(9, fetched=1, article_errors=Counter(http_503=3))),
        # too few requests to judge a share
        (HISTORY, run(9, fetched=0, stored=0, article_errors=Counter(http_403=2))),
        # robots.txt forbade some pages before too
        ([run(n, article_errors=Counter(robots_forbidden=1)) for n in range(3)],
         run(9, article_errors=Counter(robots_forbidden=1))),
        # a source whose pages were always mostly dropped (a site of listings)
        ([run(n, stored=1, dropped=Counter(ListingPage=3)) for n in range(3)],
         run(9, stored=0, dropped=Counter(ListingPage=4))),
        # no new article, but not for long
        (HISTORY, run(20, fetched=0, stored=0)),
        # no listing read (article URLs alone; a Redis worker that joined after the listings
        # were read): it said "the feeds and sitemaps list 0 entries", exit status 4
        (HISTORY, run(9, listings=0, listed=0)),
    ],
)  # fmt: skip
def test_a_run_like_the_sources_usual_ones_is_healthy(
    past: list[dict[str, Any]], now: dict[str, Any]
) -> None:
    assert judge("s", now, past) == []


def test_a_new_source_never_alarms_for_a_share() -> None:
    blocked = run(9, fetched=1, stored=1, article_errors=Counter(http_403=4))
    assert judge("s", blocked, HISTORY[:1]) == []
    assert judge("s", blocked, HISTORY[:1], HealthRules(min_runs=1)) != []


# Runs of which nothing came, whatever the history: a source that could not be reached (a host
# that does not resolve, refuses connections, fails the TLS handshake; robots.txt forbidding
# everything), that refused every article, or whose pages were never articles.
UNREACHABLE = run(9, listings=0, listed=0, discovered=0, skipped_known=0, fetched=0, stored=0,
                  errors=Counter(connection_refused=2))  # fmt: skip
REFUSING = run(9, fetched=0, stored=0, skipped_known=0, errors=Counter(http_403=20, http_404=1),
               article_errors=Counter(http_403=20))  # fmt: skip
NO_ARTICLES = run(9, stored=0, fetched=5, dropped=Counter(NotAnArticle=5))
FAILING = {
    "unreachable": (UNREACHABLE, ("not one page, feed or sitemap read: all 2 requests failed "
                                  "(connection_refused 2)")),
    "refusing": (REFUSING, "20 article requests failed, none fetched (http_403 20)"),
    "no articles": (NO_ARTICLES, ("all 5 fetched pages were no article (NotAnArticle 5), and it "
                                  "never stored one")),
}  # fmt: skip


@pytest.mark.parametrize("case", FAILING)
def test_a_source_of_which_nothing_came_is_failing_from_its_first_run_on(case: str) -> None:
    now, detail = FAILING[case]
    # its first run alarms: a source misconfigured or dead from the start was never named
    assert judge("s", now, []) == [Finding("s", "failing", detail)]
    # and so does every run after, however long it has been so: the blocked and listing rules
    # stop alarming once failing is the source's usual
    past = [now | {"run_id": f"f{n}", "started_at": T0 + timedelta(hours=n)} for n in range(4)]
    assert judge("s", now, past) == [
        Finding("s", "failing", f"{detail}; 5 runs in a row, since 2026-11-01 06:00 UTC")
    ]


def test_failing_is_said_once_and_against_the_history_where_it_can_be() -> None:
    # a host that stopped answering: not also as feeds that failed, nor as quiet once it lasts
    later = UNREACHABLE | {"listing_errors": 2, "finished_at": T0 + timedelta(days=5)}
    assert [f.rule for f in judge("s", later, HISTORY)] == ["failing"]
    # articles refused where they used to be answered: blocked, against the history...
    assert [f.rule for f in judge("s", REFUSING, HISTORY)] == ["blocked"]
    # ... until the refusals are its usual: then failing, rather than nothing
    past = [*HISTORY, *(REFUSING | {"run_id": f"f{n}"} for n in range(3))]
    assert judge("s", REFUSING, past) == [
        Finding("s", "failing", "20 article requests failed, none fetched (http_403 20); "
                                "4 runs in a row, since 2026-11-01 15:00 UTC")
    ]  # fmt: skip
    # robots.txt forbidding the articles it allowed is said as that
    forbidden = run(9, fetched=0, stored=0, article_errors=Counter(robots_forbidden=4))
    assert [f.rule for f in judge("s", forbidden, HISTORY)] == ["robots"]


@pytest.mark.parametrize(
    "now",
    [
        run(9, fetched=0, stored=0, skipped_known=20),  # nothing new: every article known
        run(9, fetched=0, stored=0, article_errors=Counter(http_403=2)),  # too few to judge
        run(9, fetched=0, stored=0, skipped_known=0, article_errors=Counter(http_404=5)),  # gone
        run(9, listings=0, listed=0, discovered=0, skipped_known=0, fetched=0, stored=0),  # idle
    ],
)
def test_a_run_that_read_something_or_asked_nothing_is_not_failing(now: dict[str, Any]) -> None:
    assert judge("s", now, []) == []
    assert judge("s", now, HISTORY) == []


def test_pages_that_were_no_article_are_failing_only_for_a_source_that_never_stored_one() -> None:
    listings = run(9, stored=0, fetched=5, dropped=Counter(ListingPage=5))
    assert [f.rule for f in judge("s", listings, [])] == ["failing"]
    assert [f.rule for f in judge("s", listings, HISTORY)] == ["extraction"]


def test_robots_is_said_once_not_also_as_blocked() -> None:
    now = run(9, fetched=0, stored=0, article_errors=Counter(robots_forbidden=4))
    assert [finding.rule for finding in judge("s", now, HISTORY)] == ["robots"]


def test_only_the_window_counts() -> None:
    # long ago the source failed half of its requests; lately none: a jump now
    old = [run(n, fetched=2, article_errors=Counter(http_503=2)) for n in range(3)]
    now = run(20, fetched=1, stored=1, article_errors=Counter(http_503=4))
    assert judge("s", now, old + HISTORY, HealthRules(window=3))[0].rule == "blocked"
    assert judge("s", now, old + HISTORY, HealthRules(window=6)) == []


def test_quiet_can_be_turned_off() -> None:
    assert (
        judge("s", run(80, fetched=0, stored=0), HISTORY, HealthRules(quiet_after=timedelta()))
        == []
    )


# runs whose stored articles hold 2,000 characters each, the newest one published an hour
# before the run
ADVANCING = [
    run(n, text_chars=8000, newest_published_at=T0 + timedelta(hours=n - 1)) for n in range(3)
]


def test_extraction_also_fires_when_the_stored_text_shrinks() -> None:
    now = run(9, text_chars=1200, newest_published_at=T0 + timedelta(hours=8))
    assert judge("s", now, ADVANCING) == [
        Finding(
            "s",
            "extraction",
            "the 4 articles stored hold 300 characters of text on average; 2,000 usually in the "
            "3 runs before",
        )
    ]
    # half of the usual is still fine; so is a run too small to judge, or a history without
    # the figure (files written before it was counted)
    assert judge("s", run(9, text_chars=4000, newest_published_at=now["newest_published_at"]),
                 ADVANCING) == []  # fmt: skip
    assert judge("s", run(9, stored=2, text_chars=100), ADVANCING) == []
    assert judge("s", now, HISTORY) == []
    assert judge("s", now, ADVANCING, HealthRules(text_fall=0.1)) == []


def test_stale_fires_when_the_newest_date_stops_advancing() -> None:
    # articles stored for four days, all published before the newest of run 2
    now = run(2 + 96, text_chars=8000, newest_published_at=T0 + timedelta(minutes=30))
    assert judge("s", now, ADVANCING) == [
        Finding(
            "s",
            "stale",
            "4 articles stored, none published after 2026-11-01 07:00 UTC, the newest since "
            "2026-11-01 08:05 UTC",
        )
    ]
    # not for long; dates advancing again; a source whose dates never advanced; turned off
    assert judge("s", run(2 + 24, text_chars=8000, newest_published_at=None), ADVANCING) == []
    later = run(98, text_chars=8000, newest_published_at=T0 + timedelta(hours=97))
    assert judge("s", later, ADVANCING) == []
    assert judge("s", now | {"text_chars": 0}, HISTORY) == []
    assert judge("s", now, ADVANCING, HealthRules(stale_after=timedelta())) == []
    # storing nothing is said by the quiet rule alone
    assert [f.rule for f in judge("s", now | {"stored": 0, "fetched": 0}, ADVANCING)] == ["quiet"]


def test_judge_run_judges_every_source_of_the_run_on_its_own_history() -> None:
    other = [run(n) | {"source": "t"} for n in range(3)]
    history = [
        *HISTORY,
        *other,
        run(9, fetched=0, stored=0, article_errors=Counter(http_403=4)),
        run(9, listed=2) | {"source": "t"},
        run(10) | {"run_id": "later"},  # a later run is no earlier one
    ]
    found = judge_run("r9", history)
    assert [(f.source, f.rule) for f in found] == [("s", "blocked"), ("t", "listing")]


def test_a_robots_txt_answering_a_server_error_is_said_as_the_reason() -> None:
    # robots.txt answering 503 (or 429) disallows the whole site for the run: the line said
    # "all 2 requests failed (http_503 1, robots_forbidden 1)", and nothing of why
    down = run(9, listings=0, listed=0, discovered=0, skipped_known=0, fetched=0, stored=0,
               errors=Counter(robots_http_503=1, robots_forbidden=1))  # fmt: skip
    (finding,) = judge("s", down, [])
    assert finding.rule == "failing"
    assert finding.detail.startswith("robots.txt answered 503, so every page was held back")
    # articles of the site listed by a feed elsewhere: held back, said so
    held = run(9, fetched=0, stored=0, errors=Counter(robots_http_429=1, robots_forbidden=4),
               article_errors=Counter(robots_forbidden=4))  # fmt: skip
    assert [(f.rule, f.detail.split(":")[0]) for f in judge("s", held, HISTORY)] == [
        ("robots", "robots.txt answered 429, so every page was held back")
    ]
