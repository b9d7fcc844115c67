"""The crawl report a person looks at: one self-contained HTML page made from a dataset and its
run history (:mod:`dataset.run_history`). ``scrapy report`` writes it; analysts can make it
without Scrapy::

    from dataset.html_report import make_report
    from dataset.storage import location_of

    html, facts = make_report(location_of("output"))

:mod:`~dataset.html_report.facts` reads the figures, :mod:`~dataset.html_report.charts` draws
them (matplotlib, static SVG), :mod:`~dataset.html_report.page` lays out the page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dataset.html_report.facts import ReportFacts, gather
from dataset.html_report.page import render

if TYPE_CHECKING:
    from datetime import datetime

    from dataset.health import HealthRules
    from dataset.storage import DatasetLocation

__all__ = ["ReportFacts", "make_report"]


def make_report(
    location: DatasetLocation, rules: HealthRules | None = None, now: datetime | None = None
) -> tuple[str, ReportFacts]:
    """The report's page for the dataset at ``location``, and the figures it shows; the runs
    judged with ``rules`` (the defaults when ``None``)."""
    facts = gather(location, rules, now)
    return render(facts), facts
