"""Recovering the lead paragraph that main-text extraction leaves out."""

from __future__ import annotations

import pytest
from lxml.html import fromstring

from extraction.lead import find_lead

LEAD = "The minister's remarks came during a conference held in Moscow on Tuesday, officials said."
BODY = "African countries should have modern armed forces, the minister said at the conference."


def _page(header: str, body: str = f"<p>{BODY}</p>") -> str:
    return (
        f"<html><body><h1>Headline</h1>{header}<div class='article-body'>{body}</div></body></html>"
    )


@pytest.mark.parametrize(
    "markup",
    [
        f"<div class='article__announce-text'>{LEAD}</div>",
        f"<p class='standfirst'>{LEAD}</p>",
        f"<p class='c-article-lead'>{LEAD}</p>",
        f"<div id='articleLead'><p>{LEAD}</p></div>",
        f"<h2 class='dek'>{LEAD}</h2>",
    ],
)
def test_lead_named_by_class_or_id(markup: str) -> None:
    assert find_lead(fromstring(_page(markup)), BODY, None) == LEAD


def test_lead_that_repeats_the_description() -> None:
    page = _page(f"<div class='x-9f'>{LEAD}</div>")
    assert find_lead(fromstring(page), BODY, LEAD) == LEAD
    assert find_lead(fromstring(page), BODY, None) is None


@pytest.mark.parametrize(
    "markup",
    [
        # inside a related-articles block or a teaser
        f"<div class='related'><p class='lead'>{LEAD}</p></div>",
        f"<div class='teaser'><p class='lead'>{LEAD}</p></div>",
        # a photo caption, even with a lead-like class
        f"<div class='lead'><img src='x.jpg'>{LEAD}</div>",
        f"<div class='media'><div class='lead'>{LEAD}</div></div>",
        # mostly a link
        f"<p class='lead'><a href='/other'>{LEAD}</a></p>",
        # a list (an AI summary box, key points)
        f"<div class='summary'><ul><li>{LEAD}</li></ul></div>",
        # too short to be a lead
        "<p class='lead'>Breaking.</p>",
    ],
)
def test_not_a_lead(markup: str) -> None:
    assert find_lead(fromstring(_page(markup)), BODY, None) is None


@pytest.mark.parametrize(
    "wrapper",
    ["has-sidebar", "widget widget-hero", "byline-social", "articleHeader hasCaption", "has-ads"],
)
def test_description_as_lead_inside_layout_wrappers(wrapper: str) -> None:
    # the wrappers' names say what else the layout holds, not that the lead is something else
    page = _page(f"<div class='{wrapper}'><p class='strapline'>{LEAD}</p></div>")
    assert find_lead(fromstring(page), BODY, LEAD) == LEAD
    # a lead named only by its class still needs wrappers that do not name something else
    named = _page(f"<div class='{wrapper}'><p class='standfirst'>{LEAD}</p></div>")
    assert find_lead(fromstring(named), BODY, None) is None


@pytest.mark.parametrize(
    "markup",
    [
        f"<p class='related-summary'>{LEAD}</p>",
        f"<aside><p>{LEAD}</p></aside>",
        f"<nav><ul><li>{LEAD}</li></ul></nav>",
        f"<figure><figcaption>{LEAD}</figcaption></figure>",
    ],
)
def test_description_not_a_lead(markup: str) -> None:
    # its own name or a tag that holds no lead still rules it out
    assert find_lead(fromstring(_page(markup)), BODY, LEAD) is None


def test_only_before_the_body() -> None:
    page = _page("", f"<p>{BODY}</p><p class='summary'>{LEAD}</p>")
    assert find_lead(fromstring(page), BODY, None) is None


def test_no_lead_when_the_body_starts_with_it() -> None:
    page = _page(f"<p class='lead'>{LEAD}</p>")
    assert find_lead(fromstring(page), LEAD, None) is None


def test_no_lead_when_the_body_starts_with_it_hyphenated() -> None:
    # the page's soft hyphens are not in the extracted text
    page = _page(f"<p class='lead'>{LEAD.replace('conference', 'con&shy;fer&shy;ence')}</p>")
    assert find_lead(fromstring(page), LEAD, None) is None
