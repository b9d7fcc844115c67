"""Pages that say they are no article (:mod:`extraction.interstitials`): a title or heading that
is, as a whole, an error page's or a wall's, in several languages; a headline holding the same
words is none."""

from __future__ import annotations

import pytest

from extraction.interstitials import PHRASES, Wall, normalized, wall_in_text, wall_kind, wall_said


@pytest.mark.parametrize(
    ("said", "kind"),
    [
        # soft 404s and removed pages
        ("Page not found", "not found"),
        ("Oops! That page can’t be found.", "not found"),
        ("Error 404 - Page Not Found", "not found"),
        ("404 Not Found", "not found"),
        ("Sorry, this article is no longer available", "not found"),
        ("This content has been removed", "not found"),
        ("Seite nicht gefunden", "not found"),
        ("Diese Seite existiert nicht", "not found"),
        ("Dieser Artikel ist leider nicht mehr verfügbar", "not found"),
        ("Page introuvable", "not found"),
        ("Cette page n’existe pas ou plus", "not found"),
        ("Página no encontrada", "not found"),
        ("Pagina non trovata", "not found"),
        ("Página não encontrada", "not found"),
        ("Nie znaleziono strony", "not found"),
        ("Страница не найдена", "not found"),
        ("页面不存在", "not found"),
        ("ページが見つかりません", "not found"),
        # consent walls
        ("We value your privacy", "consent"),
        ("Privacy settings", "consent"),
        ("Before you continue to YouTube", "consent"),
        ("Datenschutzeinstellungen", "consent"),
        ("Wir respektieren Ihre Privatsphäre", "consent"),
        ("Le respect de votre vie privée est notre priorité", "consent"),
        ("Valoramos tu privacidad", "consent"),
        # bot checks
        ("Just a moment...", "bot check"),
        ("Attention Required!", "bot check"),
        ("Access Denied", "bot check"),
        ("Access to this page has been denied.", "bot check"),
        ("Please verify you are a human", "bot check"),
        ("Are you a robot?", "bot check"),
        ("Zugriff verweigert", "bot check"),
        ("Accès refusé", "bot check"),
        # maintenance
        ("We’ll be back soon!", "maintenance"),
        ("Site under maintenance", "maintenance"),
        ("Wartungsarbeiten", "maintenance"),
        ("Site en maintenance", "maintenance"),
        ("Sitio en mantenimiento", "maintenance"),
        # server and database errors
        ("Error establishing a database connection", "server error"),
        ("Database Error", "server error"),
        ("There has been a critical error on this website.", "server error"),
        ("502 Bad Gateway", "server error"),
        ("Ein Fehler ist aufgetreten", "server error"),
        # sign-in walls
        ("Sign in", "sign-in"),
        ("Log In", "sign-in"),
        ("Sign in to your account", "sign-in"),
        ("Anmelden", "sign-in"),
        ("Se connecter", "sign-in"),
        ("Iniciar sesión", "sign-in"),
        ("Zaloguj się", "sign-in"),
        # app shells
        ("Please enable JavaScript", "app shell"),
        ("You need to enable JavaScript to run this app.", "app shell"),
        ("Bitte aktivieren Sie JavaScript", "app shell"),
    ],
)
def test_a_title_that_is_an_error_or_a_wall_says_what_it_is(said: str, kind: str) -> None:
    assert wall_kind(said) == kind


@pytest.mark.parametrize(
    "headline",
    [
        "Page not found: how a missing file shook the ministry",
        "Access denied: why the court refused the appeal",
        "Error in the budget figures",
        "The error that cost the club the title",
        "Sign in, sign up, sign away: the small print of free apps",
        "We value your privacy, the minister told parliament",
        "Wartungsarbeiten an der A7: Sperrung am Wochenende",
        "Seite an Seite: Merkel und Macron in Paris",
        "Just a moment of silence for the victims",
        "Login-Daten von Millionen Kunden gestohlen",
        "Privacy",
        "Maintenance of the bridge will cost 40 million euros",
        "News Today",
        "",
    ],
)
def test_a_headline_holding_such_words_says_nothing(headline: str) -> None:
    assert wall_kind(headline) is None


def test_the_kinds_are_the_documented_ones() -> None:
    assert set(PHRASES) == {
        "not found",
        "consent",
        "bot check",
        "maintenance",
        "server error",
        "sign-in",
        "app shell",
    }


def test_normalized_drops_marks_and_keeps_apostrophes() -> None:
    assert normalized("  We’ll be BACK soon!!! ") == "we'll be back soon"
    assert normalized("Error 404 – Page not found…") == "error 404 page not found"


@pytest.mark.parametrize(
    ("title", "site_name", "host", "said"),
    [
        ("Page not found | The Independent", "The Independent", None, "Page not found"),
        ("Page Not Found - The Guardian", None, "www.theguardian.com", "Page Not Found"),
        # a site named by a short label of its host, or by a host name ("dw.com")
        ("Seite nicht gefunden | DW", None, "www.dw.com", "Seite nicht gefunden"),
        ("Seite nicht gefunden | DW", "dw.com", "news.example", "Seite nicht gefunden"),
        ("Content no longer available - BBC News", "BBC News", None, "Content no longer available"),
        ("Sign in | The Independent", "The Independent", None, "Sign in"),
    ],
)
def test_the_sites_name_is_cut_from_the_title(
    title: str, site_name: str | None, host: str | None, said: str
) -> None:
    wall = wall_said([title], site_name=site_name, host=host)
    assert wall is not None
    assert wall.said == said


def test_a_title_whose_rest_does_not_name_the_site_is_a_headline() -> None:
    titles = ["Page not found: how a missing file shook the ministry | The Independent"]
    assert wall_said(titles, site_name="The Independent") is None
    assert wall_said(["Access denied | Trump"], host="www.dw.com") is None


def test_the_first_title_or_heading_that_says_it_counts() -> None:
    wall = wall_said([None, "Fixture News", "We value your privacy"], host="consent.news.test")
    assert wall == Wall("consent", "We value your privacy")
    assert wall.message() == (
        'the page says it is an error or a wall (consent: "We value your privacy")'
    )


def test_a_text_of_walls_notices_alone_is_a_wall() -> None:
    notice = (
        "Please enable JavaScript in your browser to view this website. Our site uses modern "
        "web technologies that require JavaScript to be enabled."
    )
    cookies = "We and our partners use cookies to store and access personal data on your device."
    wall = wall_in_text([notice, cookies])
    assert wall is not None
    assert wall.kind == "notice"
    assert wall.said.startswith("Please enable JavaScript")
    assert wall.said.endswith("…")
    assert wall_in_text([notice, "The council approved the budget on Tuesday."]) is None
    assert wall_in_text([]) is None
