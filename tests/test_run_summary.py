"""The human summary at the end of a crawl (crawler/run_summary.py)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from crawler.run_summary import MAX_SOURCES, run_summary
from dataset.health import Finding
from dataset.run_history import SourceRun

STATS = {"finish_reason": "finished", "elapsed_time_seconds": 12.34}


def _alpha() -> SourceRun:
    run = SourceRun(
        "alpha", discovered=30, skipped_known=26, fetched=4, stored=3,
        dropped=Counter(ListingPage=1), errors=Counter(http_404=1),
    )  # fmt: skip
    run.saw_published(datetime(2024, 5, 26, 7, 30, tzinfo=UTC))
    return run


def test_totals_a_table_of_sources_and_what_went_wrong() -> None:
    beta = SourceRun("beta", discovered=31, skipped_known=27, errors=Counter(http_403=4))
    finding = Finding("beta", "blocked", "4 of 4 article requests failed (http_403 4)")
    lines = run_summary(STATS, [_alpha(), beta], [finding]).splitlines()
    assert lines == [
        (
            "Run finished in 12.3 s: 61 articles found, 53 skipped as known, 4 fetched, 3 stored, "
            "1 dropped, 5 requests failed"
        ),
        "  source  found  skipped  fetched  stored  dropped  errors      newest",
        "  beta       31       27        0       0        0       4           -",
        "  alpha      30       26        4       3        1       1  2024-05-26",
        "  dropped: ListingPage 1",
        "  fetch errors: http_403 4, http_404 1",
        (
            "  unhealthy: source beta is unhealthy (blocked): 4 of 4 article requests failed "
            "(http_403 4)"
        ),
    ]


def test_many_sources_stay_short() -> None:
    runs = [SourceRun(f"site{n:02d}", discovered=n, errors=Counter({f"http_{n}": 1}))
            for n in range(20)]  # fmt: skip
    lines = run_summary(STATS, runs, []).splitlines()
    assert len(lines) == 1 + 1 + MAX_SOURCES + 1 + 3
    assert lines[2].startswith("  site19")
    assert lines[-4].startswith(f"  {20 - MAX_SOURCES} more")
    assert lines[-2].endswith("(+16 more)")
    assert lines[-1] == "  unhealthy: none"


def test_an_unhealthy_source_is_shown_however_little_it_found() -> None:
    # a source that could not be reached found nothing: sorted last, it was summed into
    # "12 more" among twenty healthy ones, its row never shown (fourteenth fault hunt)
    runs = [SourceRun(f"site{n:02d}", discovered=n + 10, fetched=n + 10, stored=n + 10)
            for n in range(20)]  # fmt: skip
    dead = SourceRun("dead", errors=Counter(dns=2))
    finding = Finding("dead", "failing", "not one page, feed or sitemap read: all 2 requests "
                      "failed (dns 2)")  # fmt: skip
    lines = run_summary(STATS, [*runs, dead], [finding]).splitlines()
    assert lines[2].split() == ["dead", "0", "0", "0", "0", "0", "2", "-"]
    assert lines[3].startswith("  site19")
    assert lines[2 + MAX_SOURCES].startswith(f"  {21 - MAX_SOURCES} more")


def test_why_a_source_found_nothing_is_said_where_it_is_known() -> None:
    # a source whose listed entries were all older than max_age found 0: its row said
    # nothing more, and news/discovery/too_old counted every source's together (fourteenth
    # fault hunt, F13)
    old = SourceRun("old", listings=1, listed=12)
    narrow = SourceRun("narrow", listings=2, listed=5)
    deep = SourceRun("deep", listings=3)
    empty = SourceRun("empty", listings=1)  # its feed listed nothing: the listing rule's
    dead = SourceRun("dead", errors=Counter(dns=2))  # its errors say it, and the health line
    left_out = {
        "old": Counter(too_old=12),
        "narrow": Counter(not_allowed=5),
        "deep": Counter(depth_limited=7),
        "alpha": Counter(too_old=3),  # it found some: nothing to explain
    }
    lines = run_summary(STATS, [_alpha(), old, narrow, deep, empty, dead], [], left_out)
    said = [line for line in lines.splitlines() if "found nothing" in line]
    assert said == [
        "  deep found nothing: 7 section and next-page links past its max_depth not followed",
        (
            "  narrow found nothing: 5 listed articles outside its allowed_domains or"
            " allow/deny patterns"
        ),
        "  old found nothing: 12 listed articles older than its max_age",
    ]
