"""Readers' comments without the comment widget's lines (extraction/comments.py)."""

from __future__ import annotations

import pytest

from extraction.boilerplate import key
from extraction.comments import MAX_PROMPT_CHARS, clean_comments, is_furniture

COMMENT = "I have taken this train for years, and it was never this late before the strike."
REPLY = "Same here: the 7:40 was cancelled twice this week, without any notice at the station."


@pytest.mark.parametrize(
    "line",
    [
        "Reply",
        "ReplyDelete",
        "Antworten",
        "Reply #1",
        "LikeLiked by 21 people",
        "3 replies",
        "LEAVE A REPLY",
        "Comment by Mirko Lange — 17.07, 2011 @ 13:04",
        "Nicolai11 schrieb:",
        "Pingback: ERP-Interview mit Scopevisio",
        "Alcalino",
        "47",
        "Hace 28 minutos",
        "18/02/2020 à 16:42",
        "Oct. 9, 2010 - 7:28 AM EST",
        "3 Kommentare zu “Grenzschließungen”",
        "¿Quieres comentar?",
        "Kommentar schreiben",
        "إضافة تعليق جديد",
        "Please log in here to leave a comment.",
        "Para comentar debes registrarte y completar los datos generales.",
        "",
    ],
)
def test_widget_lines_are_furniture(line: str) -> None:
    assert is_furniture(line)


@pytest.mark.parametrize(
    "line",
    [
        COMMENT,
        "Sehr cooles Thema!",
        "Interesting place :)",
        "Thanks, for posting this.",
        "Great piece. I hope you follow this story up next month.",
        # long enough to be a reader's, though it speaks of comments
        (
            "I read every comment here before I write mine, and most of them miss the point the "
            "article makes about the budget: the money was never there in the first place."
        ),
    ],
)
def test_readers_lines_are_not_furniture(line: str) -> None:
    assert not is_furniture(line)


def test_a_link_text_is_furniture_unless_it_is_a_sentence() -> None:
    headline = "Marcus Rashford's reputation is in tatters"
    linked_comment = "Didn't I say before how fickle she is? :)"
    links = {key(headline), key(linked_comment)}
    assert is_furniture(headline, links)
    assert not is_furniture(headline)
    # a "recent comments" box links to the comments themselves
    assert not is_furniture(linked_comment, links)


def test_house_rules_at_either_end_go_and_comments_between_stay() -> None:
    section = "\n".join(
        [
            "Join the conversation",
            "The opinions expressed in reader comments are those of the author only.",
            "Alcalino",
            COMMENT,
            "Reply",
            REPLY,
            "Please keep comments civil, constructive and on topic.",
        ]
    )
    assert clean_comments(section) == f"{COMMENT}\n\n{REPLY}"


def test_a_comment_that_speaks_of_comments_stays_between_others() -> None:
    middle = "Your comment is exactly what I thought, and thank you for the link to the report."
    section = f"{COMMENT}\n{middle}\n{REPLY}"
    assert clean_comments(section) == f"{COMMENT}\n\n{middle}\n\n{REPLY}"


@pytest.mark.parametrize("section", [None, "", "Reply\nDelete", "Comments (3)\nLEAVE A REPLY"])
def test_nothing_left_is_none(section: str | None) -> None:
    assert clean_comments(section) is None


def test_a_long_line_at_an_end_is_house_rules_only_when_the_site_speaks() -> None:
    rules = (
        "We invite you to use our commenting platform to engage in insightful conversations "
        "about issues in our community, and we remove what is unlawful or abusive."
    )
    readers = (
        "Schaut man genau hin, ist der Habeck-Kommentar ziemlich nichtssagend und unbeweisbar, "
        "hat aber offensichtlich einem breiten Bedürfnis nach Erklärung entsprochen."
    )
    assert len(rules) > MAX_PROMPT_CHARS
    assert len(readers) > MAX_PROMPT_CHARS
    assert clean_comments(f"{rules}\n{COMMENT}\n{readers}") == f"{COMMENT}\n\n{readers}"


def test_a_long_count_heading_is_furniture() -> None:
    heading = (
        "3 Kommentare zu “Grenzschließungen: Deutschland, Frankreich und Luxemburg streiten "
        "über die Kontrollen an den Grenzen des Saarlands”"
    )
    assert len(heading) > MAX_PROMPT_CHARS
    assert is_furniture(heading)
