"""Source health: each source's latest run judged against its own history.

Plain functions over the run history's rows (:func:`dataset.run_history.per_run`): a source
is unhealthy when this run got nothing from it (``failing``, judged on every run, the first
included), or broke one of the other rules where its earlier runs did not; for those a source
with fewer than :attr:`HealthRules.min_runs` earlier runs is not judged (a new source never
alarms for a share or a count that fell). Each finding names the source, the rule and the
figures, in one line.

* ``failing``: nothing came of the source: not one page, feed or sitemap read (a host that
  does not resolve or refuses connections, a TLS handshake that fails, robots.txt forbidding
  everything), or every article request failed, or every page fetched was no article where it
  never stored one; with how many runs in a row it has been so;
* ``blocked``: most article requests failed (``403``, ``429``, ``503``, timeouts, ...);
* ``robots``: robots.txt now forbids article pages it allowed;
* ``extraction``: most fetched pages were dropped as no article (a changed template, a bot,
  consent or login wall or an error page that answers ``200``), or the articles stored hold
  far less text than usual;
* ``listing``: the feeds and sitemaps list far fewer entries than usual, or failed (a run
  that read none is not judged);
* ``quiet``: no new article stored for a while where the source used to yield;
* ``stale``: articles stored, but the newest publication date has not advanced for a while
  where it used to (a feed or sitemap stuck on old entries, dates no longer read).
"""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

NO_ARTICLE_DROPS = ("NotAnArticle", "ListingPage", "NotHtml", "ErrorPage")
"""Drops that say a fetched page held no article (``ErrorPage``: an error page or a wall a
site answers with ``200``, a bot or consent wall in front of every article among them)."""
GONE = ("http_404", "http_410")
"""Failures that say a page is gone, not that the source failed to answer."""
ROBOTS_DOWN = "robots_http_"
"""The kind of failure (``robots_http_503``) a robots.txt answered with a server error
(``5xx``, ``429``) counts as: the whole site is held back for the run (RFC 9309), its pages
failing as ``robots_forbidden``."""
NOT_BLOCKING = (*GONE, "robots_forbidden")
"""Failures that say nothing of the source's will to answer: a page gone, one robots.txt
forbids (the ``robots`` rule's)."""


@dataclass(frozen=True, kw_only=True)
class HealthRules:
    """The thresholds of the rules (each a setting of the crawl)."""

    min_runs: int = 2
    """Earlier runs of a source before it is judged."""
    window: int = 5
    """Earlier runs a source's latest run is compared with."""
    min_requests: int = 3
    """Article requests (or fetched pages) from which a share counts."""
    error_share: float = 0.5
    """Share of failed article requests that is a problem (``blocked``)."""
    drop_share: float = 0.5
    """Share of fetched pages dropped as no article that is a problem (``extraction``)."""
    text_fall: float = 0.5
    """Average text of the articles stored below this share of the usual (``extraction``)."""
    listed_fall: float = 0.5
    """Entries listed below this share of the usual (the median of the window) (``listing``)."""
    quiet_after: timedelta = timedelta(days=2)
    """No new article for this long (``quiet``); zero turns the rule off."""
    stale_after: timedelta = timedelta(days=3)
    """The newest publication date unchanged this long (``stale``); zero turns the rule off."""


@dataclass(frozen=True)
class Finding:
    """One rule a source broke."""

    source: str
    rule: str
    detail: str

    def line(self) -> str:
        return f"source {self.source} is unhealthy ({self.rule}): {self.detail}"


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _failed(row: dict[str, Any]) -> Counter[str]:
    return Counter(dict(row.get("article_errors") or {}))


def _refused(row: dict[str, Any]) -> Counter[str]:
    """The article requests the source refused or failed to answer, by kind."""
    failed = _failed(row)
    return Counter({kind: n for kind, n in failed.items() if kind not in NOT_BLOCKING})


def _requests(row: dict[str, Any]) -> tuple[int, int]:
    """Refused article requests, and the article requests that got a page or were refused."""
    refused = sum(_refused(row).values())
    return refused, refused + int(row["fetched"])


def _usual(shares: Iterable[tuple[int, int]]) -> float:
    """The usual share of earlier runs: the median of each run's (runs that had none aside),
    so that one large first run does not outweigh the small incremental runs after it."""
    values = [_share(part, whole) for part, whole in shares if whole]
    return statistics.median(values) if values else 0.0


def _no_article(row: dict[str, Any]) -> int:
    dropped = Counter(dict(row.get("dropped") or {}))
    return sum(dropped[reason] for reason in NO_ARTICLE_DROPS)


def _kinds(counts: Counter[str]) -> str:
    return ", ".join(f"{kind} {count}" for kind, count in counts.most_common())


def _robots_down(row: dict[str, Any]) -> str:
    """``"robots.txt answered 503, so every page was held back"`` where the run's robots.txt
    answered a server error (the site disallowed for the run), else ``""``."""
    statuses = sorted(
        kind.removeprefix(ROBOTS_DOWN)
        for kind in dict(row.get("errors") or {})
        if kind.startswith(ROBOTS_DOWN)
    )
    if not statuses:
        return ""
    return f"robots.txt answered {' and '.join(statuses)}, so every page was held back"


def _nothing_came(
    row: dict[str, Any], past: Sequence[dict[str, Any]], rules: HealthRules
) -> tuple[bool, str] | None:
    """Whether and how the run got nothing at all from its source: ``(unreachable, detail)``,
    ``unreachable`` when not one of its pages, feeds or sitemaps was read; else ``None``."""
    if int(row["stored"]) or int(row.get("rechecked") or 0):
        return None
    fetched = int(row["fetched"])
    if fetched:
        dropped = _no_article(row)
        if fetched < rules.min_requests or dropped < fetched:
            return None
        if any(int(earlier["stored"]) for earlier in past):
            return None  # it used to yield: the extraction rule's, against its history
        kinds = _kinds(Counter(dict(row.get("dropped") or {})))
        return (
            False,
            f"all {fetched} fetched pages were no article ({kinds}), and it never stored one",
        )
    if not int(row["listings"]) and not int(row["discovered"]):
        failed = Counter(dict(row.get("errors") or {}))
        if not failed:
            return None  # nothing asked of it (a Redis worker that joined late)
        if down := _robots_down(row):
            return True, (
                f"{down} (a robots.txt failing with a server error forbids the whole site for"
                f" the run): all {sum(failed.values())} requests failed ({_kinds(failed)})"
            )
        return True, (
            f"not one page, feed or sitemap read: all {sum(failed.values())} requests failed "
            f"({_kinds(failed)})"
        )
    refused = _refused(row)
    if sum(refused.values()) >= rules.min_requests:
        return False, (
            f"{sum(refused.values())} article requests failed, none fetched ({_kinds(refused)})"
        )
    forbidden = _failed(row)["robots_forbidden"]
    if forbidden >= rules.min_requests and not refused:
        if down := _robots_down(row):
            return False, f"{down}: the {forbidden} article pages asked for, none fetched"
        return False, f"robots.txt forbids the {forbidden} article pages asked for, none fetched"
    return None


def _failing(
    now: dict[str, Any], past: Sequence[dict[str, Any]], rules: HealthRules
) -> tuple[bool, str] | None:
    """:func:`_nothing_came` of the run ``now``, its detail saying for how many runs in a row
    (among ``past``, all the earlier runs read) it has been so."""
    found = _nothing_came(now, past, rules)
    if found is None:
        return None
    unreachable, detail = found
    streak, since = 1, now["started_at"]
    for at in range(len(past) - 1, -1, -1):
        if _nothing_came(past[at], past[:at], rules) is None:
            break
        streak, since = streak + 1, past[at]["started_at"]
    if streak > 1:
        detail += f"; {streak} runs in a row, since {since:%Y-%m-%d %H:%M} UTC"
    return unreachable, detail


def _blocked(now: dict[str, Any], past: Sequence[dict[str, Any]], rules: HealthRules) -> str | None:
    refused, requests = _requests(now)
    if requests < rules.min_requests or _share(refused, requests) < rules.error_share:
        return None
    usual = _usual(_requests(row) for row in past)
    if usual >= rules.error_share / 2:
        return None  # it has always been so
    return (
        f"{refused} of {requests} article requests failed ({_kinds(_refused(now))}); "
        f"{usual:.0%} usually in the {len(past)} runs before"
    )


def _robots(now: dict[str, Any], past: Sequence[dict[str, Any]], rules: HealthRules) -> str | None:
    forbidden = _failed(now)["robots_forbidden"]
    if not forbidden or any(_failed(row)["robots_forbidden"] for row in past):
        return None
    if down := _robots_down(now):
        return f"{down}: {forbidden} article pages; none forbidden in the {len(past)} runs before"
    return f"robots.txt now forbids {forbidden} article pages; none in the {len(past)} runs before"


def _average_text(row: dict[str, Any]) -> float | None:
    """Characters of text per article stored (``None``: none stored, or not counted)."""
    stored, chars = int(row["stored"]), int(row.get("text_chars") or 0)
    return chars / stored if stored and chars else None


def _shorter_text(
    now: dict[str, Any], past: Sequence[dict[str, Any]], rules: HealthRules
) -> str | None:
    average = _average_text(now)
    if average is None or int(now["stored"]) < rules.min_requests:
        return None
    earlier = [value for row in past if (value := _average_text(row)) is not None]
    if not earlier or average >= rules.text_fall * (usual := statistics.median(earlier)):
        return None
    return (
        f"the {now['stored']} articles stored hold {average:,.0f} characters of text on "
        f"average; {usual:,.0f} usually in the {len(past)} runs before"
    )


def _extraction(
    now: dict[str, Any], past: Sequence[dict[str, Any]], rules: HealthRules
) -> str | None:
    fetched = int(now["fetched"])
    dropped = _no_article(now)
    if fetched < rules.min_requests or _share(dropped, fetched) < rules.drop_share:
        return _shorter_text(now, past, rules)
    usual = _usual((_no_article(row), int(row["fetched"])) for row in past)
    if usual >= rules.drop_share / 2:
        return _shorter_text(now, past, rules)
    return (
        f"{dropped} of {fetched} fetched pages were no article "
        f"({_kinds(Counter(dict(now.get('dropped') or {})))}); {usual:.0%} usually in the "
        f"{len(past)} runs before"
    )


def _listing(now: dict[str, Any], past: Sequence[dict[str, Any]], rules: HealthRules) -> str | None:
    errors = int(now["listing_errors"])
    if errors and not any(int(row["listing_errors"]) for row in past):
        return f"{errors} feeds or sitemaps failed or held no feed or sitemap; none before"
    if not errors and not int(now["listings"]):
        # no listing read nor failed: a run given article URLs alone, or a process of a Redis
        # run that joined after the listings were read; it says nothing of them
        return None
    usual = statistics.median(int(row["listed"]) for row in past)
    listed = int(now["listed"])
    if usual > 0 and listed < rules.listed_fall * usual:
        return f"the feeds and sitemaps list {listed} entries, {usual:g} usually"
    return None


def _quiet(now: dict[str, Any], past: Sequence[dict[str, Any]], rules: HealthRules) -> str | None:
    if not rules.quiet_after or int(now["stored"]):
        return None
    yielded = [row for row in past if int(row["stored"])]
    if not yielded:
        return None
    last = max(row["finished_at"] for row in yielded)
    if now["finished_at"] - last < rules.quiet_after:
        return None
    runs = sum(1 for row in past if row["finished_at"] > last) + 1
    return f"no new article since {last:%Y-%m-%d %H:%M} UTC ({runs} runs)"


def _stale(now: dict[str, Any], past: Sequence[dict[str, Any]], rules: HealthRules) -> str | None:
    if not rules.stale_after or not int(now["stored"]):
        return None  # storing nothing is the quiet rule's
    dated = [row for row in past if row["newest_published_at"] is not None]
    if len({row["newest_published_at"] for row in dated}) < 2:
        return None  # it never advanced in the window: nothing to compare with
    newest = max(row["newest_published_at"] for row in dated)
    if now["newest_published_at"] is not None and now["newest_published_at"] > newest:
        return None
    since = min(row["finished_at"] for row in dated if row["newest_published_at"] == newest)
    if now["finished_at"] - since < rules.stale_after:
        return None
    return (
        f"{now['stored']} articles stored, none published after {newest:%Y-%m-%d %H:%M} UTC, "
        f"the newest since {since:%Y-%m-%d %H:%M} UTC"
    )


_RULES = (
    ("robots", _robots),
    ("blocked", _blocked),
    ("extraction", _extraction),
    ("listing", _listing),
    ("quiet", _quiet),
    ("stale", _stale),
)


def judge(
    source: str,
    now: dict[str, Any],
    past: Sequence[dict[str, Any]],
    rules: HealthRules | None = None,
) -> list[Finding]:
    """The rules ``source`` broke in the run ``now``, against its earlier runs ``past``
    (rows of :func:`dataset.run_history.per_run`, oldest first)."""
    rules = rules or HealthRules()
    found = []
    if len(past) >= rules.min_runs:
        window = list(past)[-rules.window :]
        found = [
            Finding(source, name, detail)
            for name, rule in _RULES
            if (detail := rule(now, window, rules)) is not None
        ]
    if any(finding.rule == "robots" for finding in found):
        # the forbidden pages are failed requests too: said once, as what they are
        found = [finding for finding in found if finding.rule != "blocked"]
    failing = _failing(now, past, rules)
    if failing is None:
        return found
    unreachable, detail = failing
    if not unreachable and any(f.rule in ("robots", "blocked", "extraction") for f in found):
        return found  # said against its history
    # Said once, as what it is: not also as feeds that failed (the host did not answer), nor
    # as a source gone quiet. A new source is judged by this rule alone, and so is one that
    # has failed so long that the others take it for its usual.
    also = [] if unreachable else [finding for finding in found if finding.rule != "quiet"]
    return [Finding(source, "failing", detail), *also]


def judge_run(
    run_id: str, history: Iterable[dict[str, Any]], rules: HealthRules | None = None
) -> list[Finding]:
    """Every source's findings in run ``run_id`` of ``history`` (rows of
    :func:`dataset.run_history.per_run`, oldest first), sorted by source."""
    by_source: dict[str, list[dict[str, Any]]] = {}
    for row in history:
        by_source.setdefault(row["source"], []).append(row)
    found = []
    for source in sorted(by_source):
        rows = by_source[source]
        now = [row for row in rows if row["run_id"] == run_id]
        if now:
            past = [
                row
                for row in rows
                if row["run_id"] != run_id and row["started_at"] <= now[0]["started_at"]
            ]
            found += judge(source, now[0], past, rules)
    return found
