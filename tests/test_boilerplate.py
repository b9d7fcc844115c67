"""Boilerplate that survives main-text extraction: the page scan and the paragraph rules."""

from __future__ import annotations

import re

import pytest
from lxml.html import fromstring

from extraction.boilerplate import (
    _ANY_NAME,
    _BLOCK,
    _BYLINE_STRONG,
    _BYLINE_WEAK,
    _COMMENT_SECTION,
    _LINK_BLOCK,
    _LIST_MARK,
    _NOTHING,
    MAX_BYLINE_CHARS,
    PageScan,
    _judge_names,
    _names_verdict,
    key,
    remove_boilerplate,
    scan_page,
    split_comment_section,
    within_article_body,
    without_closing_headings,
)
from extraction.text import without_invisible

# Article paragraphs that no rule should touch (no prompt words, no credits, no labels).
FIRST = (
    "The city council approved the new budget on Tuesday after a long debate about housing, "
    "transport and the cost of public services."
)
SECOND = (
    "The mayor said the plan would add three hundred flats by next spring, while opposition "
    "councillors warned that rents would keep rising."
)
THIRD = (
    "A final vote on the transport projects is expected in October, when the council meets "
    "again after the summer recess."
)
NO_SCAN = PageScan()


def _scan(body: str) -> PageScan:
    return scan_page(fromstring(f"<html><head></head><body>{body}</body></html>"))


def _dropped(paragraphs: list[str], scan: PageScan = NO_SCAN, headlines: tuple = ()) -> list[str]:
    kept = remove_boilerplate(paragraphs, scan, headlines)
    return [paragraph for paragraph in paragraphs if paragraph not in kept]


# --- key ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Read More", "readmore"),
        ("  Read\n\tmore  ", "readmore"),
        ("- Streik bei der Bahn", "streikbeiderbahn"),
        ("• Item", "item"),
        ("— Item", "item"),
        ("STRASSE", "strasse"),
        ("Straße", "strasse"),  # casefold, not lower
        # a page's soft hyphens and zero-width spaces: the extracted text has none
        ("Ver\u00adkehrs\u00adwende", "verkehrswende"),
        ("zero\u200bwidth\ufeff", "zerowidth"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_key(text: str, expected: str) -> None:
    assert key(text) == expected


def test_key_removes_only_a_leading_list_mark() -> None:
    assert key("Left - right") == "left-right"


@pytest.mark.parametrize(
    "text",
    [
        "\u200b- after an invisible mark",  # the mark is first once the invisible one goes
        "-\u00ad mark, soft hyphen, space",
        "\t•\x0b item",  # vertical tab: white space and invisible alike
        "-- two marks",
        "- - spaced marks",
        "*",
        "\u200b",
        "·–— three kinds",
    ],
)
def test_key_is_the_rule_it_replaced(text: str) -> None:
    """The list mark is taken from the text without white space, where the rule it replaced
    took it (and the white space after it) from the stripped text."""
    before = "".join(_LIST_MARK.sub("", without_invisible(text).strip()).split()).casefold()
    assert key(text) == before


# --- the names of elements --------------------------------------------------------------------


def _examples(pattern: re.Pattern[str]) -> list[str]:
    """Names that each branch of ``pattern`` finds: its branches as plain words, each with a
    hyphen where one is optional and without it."""
    text = re.sub(r"\(\?!.*?\)|\\b", "", pattern.pattern)  # look-aheads, word edges
    words = [word.replace("\\-", "-") for word in text.split("|")]
    return [
        variant for word in words for variant in {word.replace("-?", "-"), word.replace("-?", "")}
    ]


@pytest.mark.parametrize(
    "pattern",
    [_BLOCK, _LINK_BLOCK, _COMMENT_SECTION, _BYLINE_STRONG, _BYLINE_WEAK],
    ids=["block", "link block", "comment section", "strong byline", "weak byline"],
)
def test_the_quick_look_at_names_misses_no_pattern(pattern: re.Pattern[str]) -> None:
    """``_judge_names`` asks one regular expression (``_ANY_NAME``) whether a name can say
    anything before asking the six patterns: every name a pattern finds must pass it."""
    examples = _examples(pattern)
    assert len(examples) >= 2
    for example in examples:
        for name in (example, f"c-{example} x", f"x {example}-bar"):
            assert pattern.search(name), name  # the example is one the pattern finds
            assert _ANY_NAME.search(name), name
            assert _judge_names(name) == _names_verdict(name) != _NOTHING


def test_names_that_say_nothing_are_judged_alike() -> None:
    for name in ("container row", "main-content article-body", " ", "bildautor photo"):
        assert _judge_names(name) == _names_verdict(name)
    assert _judge_names("container row") is _NOTHING


# --- scan_page: links ---------------------------------------------------------------------------


def test_link_texts_are_the_keys_of_links_to_other_pages() -> None:
    scan = _scan(
        "<a href='/world/storm'>Storm hits the coast</a>"
        "<a href='https://example.com/b'>  Second \n Story </a>"
        "<a href='#comments'>Jump to comments</a>"
        "<a href='  #top'>Back to top</a>"
        "<a href='javascript:window.print()'>Print this page</a>"
        "<a>Anchor without href</a>"
        "<a href='/empty'>   </a>"
    )
    assert scan.link_texts == {"stormhitsthecoast", "secondstory"}


# --- scan_page: blocks --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "names",
    [
        "class='related-articles'",
        "class='article__related'",
        "id='relatedArticles'",
        "class='c-share-bar'",
        "class='newsletter-signup'",
        "class='paywall'",
        "class='image-caption'",
        "id='taboola-below-article'",
        "class='notas-relacionadas'",
        "class='breadcrumbs'",
    ],
)
def test_elements_named_like_boilerplate_are_blocks(names: str) -> None:
    scan = _scan(f"<div {names}><p>Block text here</p></div><p>Article text</p>")
    assert scan.block_texts == ["blocktexthere"]


@pytest.mark.parametrize(
    "names",
    [
        "class='paywalled'",
        "class='subscriber-only'",
        "class='paywall-content'",
        "class='article-body'",
        "id='main'",
    ],
)
def test_elements_that_wrap_the_article_are_not_blocks(names: str) -> None:
    scan = _scan(f"<div {names}><p>Article text</p></div>")
    assert scan.block_texts == []


def test_a_recommended_articles_block_is_a_block() -> None:
    # BUG: the lookahead that keeps "paywalled" out also rejects "recommend" + "ed"
    scan = _scan(
        "<aside class='recommended-articles'><p>Mayor opens hospital</p></aside><p>Article</p>"
    )
    assert scan.block_texts == ["mayoropenshospital"]


def test_only_the_outermost_block_is_kept() -> None:
    scan = _scan(
        "<div class='related'><h3>Related</h3>"
        "<div class='share-tools'>Share</div><ul class='related-list'><li>One</li></ul></div>"
        "<footer class='footer'>Imprint</footer>"
    )
    assert scan.block_texts == ["relatedshareone", "imprint"]


def test_empty_blocks_are_not_kept() -> None:
    assert _scan("<div class='share'> </div>").block_texts == []


def test_body_and_html_are_never_blocks() -> None:
    tree = fromstring(
        "<html class='share-enabled'><body class='newsletter-page'><p>Article</p></body></html>"
    )
    assert scan_page(tree).block_texts == []


@pytest.mark.parametrize("stem", ["teaser", "card"])
def test_teaser_and_card_are_blocks_only_when_they_link_away(stem: str) -> None:
    linked = _scan(f"<div class='{stem}'><a href='/other'>Other story</a></div>")
    unlinked = _scan(f"<div class='{stem}'><p>The lead of this very article</p></div>")
    assert linked.block_texts == ["otherstory"]
    assert unlinked.block_texts == []


# --- scan_page: byline --------------------------------------------------------------------------


def test_byline_marked_rel_author_comes_first() -> None:
    scan = _scan(
        "<div class='author'>Weak Author</div>"
        "<div class='byline'>Strong Author</div>"
        "<a rel='author' href='/authors/jane'>Jane Doe</a>"
    )
    assert scan.byline == ["Jane Doe"]


def test_byline_marked_itemprop_author_comes_first() -> None:
    scan = _scan(
        "<div class='byline'>Other Person</div>"
        "<span itemprop='author'><span itemprop='name'>Item Author</span></span>"
    )
    assert scan.byline == ["Item Author"]


@pytest.mark.parametrize("strong", ["byline", "author-name", "authorName", "c-byline__text"])
def test_byline_class_beats_a_weak_author_class(strong: str) -> None:
    scan = _scan(f"<div class='author'>Weak Author</div><div class='{strong}'>Strong Name</div>")
    assert scan.byline == ["Strong Name"]


@pytest.mark.parametrize("weak", ["author", "post-autor", "writer", "article-firma"])
def test_weak_author_class_is_a_byline_when_nothing_better(weak: str) -> None:
    assert _scan(f"<p>Text</p><div class='{weak}'>Ana Souza</div>").byline == ["Ana Souza"]


def test_byline_in_the_comments_is_ignored() -> None:
    scan = _scan(
        "<section id='comments'><div class='byline'>Commenter</div></section>"
        "<div class='author'>Real Author</div>"
    )
    assert scan.byline == ["Real Author"]


def test_only_byline_in_the_comments_gives_no_byline() -> None:
    scan = _scan("<div class='comment-list'><span class='author-name'>Reader</span></div>")
    assert scan.byline == []


def test_byline_pieces_are_the_author_links() -> None:
    scan = _scan(
        "<div class='byline'>By <a href='/a/1'>Jane  Doe</a> and <a href='/a/2'>John Roe</a>"
        ", Berlin</div>"
    )
    assert scan.byline == ["Jane Doe", "John Roe"]


def test_byline_pieces_are_the_text_nodes_without_links() -> None:
    scan = _scan("<div class='byline'>By <span>Jane Doe</span> <span>John Roe</span></div>")
    assert scan.byline == ["By", "Jane Doe", "John Roe"]


def test_too_long_byline_is_skipped() -> None:
    bio = "Jane writes about cities and transport. " * 5
    assert len(bio) > MAX_BYLINE_CHARS
    scan = _scan(f"<div class='author-name'>{bio}</div><div class='author'>Jane Doe</div>")
    assert scan.byline == ["Jane Doe"]


def test_page_without_byline() -> None:
    scan = _scan("<p>Text</p>")
    assert scan == PageScan()


def test_a_link_named_as_a_byline_is_one() -> None:
    scan = _scan("<p>Text</p><a class='author' href='/auteur/kab-niang'>Kab Niang</a>")
    assert scan.byline == ["Kab Niang"]


@pytest.mark.parametrize(
    "teaser",
    [
        # a byline inside a link to another article
        "<a href='/other'><h3>Other story</h3><span class='author'>Abdelkrim Dermech</span></a>",
        # a byline in a card with a linked headline
        (
            "<li><h3><a href='/other'>Other story</a></h3><span class='author'>Abdelkrim Dermech"
            "</span></li>"
        ),
        (
            "<article><h2><a href='/other'>Other story</a></h2><footer><a rel='author' "
            "href='/a/2'>Abdelkrim Dermech</a></footer></article>"
        ),
    ],
)
def test_a_teasers_byline_is_not_the_pages(teaser: str) -> None:
    scan = _scan(f"<ul>{teaser}</ul><div class='author'>Chokri Gharbi</div>")
    assert scan.byline == ["Chokri Gharbi"]


def test_a_byline_inside_a_link_to_its_author_page_counts() -> None:
    scan = _scan("<a href='/autor/jane'><span class='author-name'>Jane Doe</span></a>")
    assert scan.byline == ["Jane Doe"]


@pytest.mark.parametrize(
    "credit",
    [
        "<div class='bildautor'>Foto: Bild: SN/APA/KEYSTONE/CYRIL ZINGARO</div>",
        "<div class='author'>Foto: Ingo Schneider</div>",
        "<span class='photo-credit author'>Jane Photographer</span>",
        "<div class='author'>© Max Muster</div>",
    ],
)
def test_a_photo_credit_is_no_byline(credit: str) -> None:
    assert _scan(f"{credit}<div class='author'>Lisa Petrich</div>").byline == ["Lisa Petrich"]


def test_a_list_of_topic_links_is_no_byline() -> None:
    tags = (
        "<div class='author-tags'><a href='/tag/solar' rel='tag'>Solarthermie</a>"
        "<a href='/category/wirtschaft/'>Wirtschaft</a></div>"
    )
    assert _scan(f"{tags}<p>Text</p>").byline == []
    # tag links beside an author link are left out of the names
    mixed = "<div class='byline'><a href='/autor/a'>Ann Lee</a> <a href='/tags/x'>X</a></div>"
    assert _scan(mixed).byline == ["Ann Lee"]


# --- remove_boilerplate: block rule -------------------------------------------------------------


def test_paragraph_inside_a_related_block_is_dropped() -> None:
    snippet = "Mayor opens new hospital in the old harbour district"
    scan = _scan(
        f"<article><div class='article-body'><p>{FIRST}</p><p>{SECOND}</p></div>"
        f"<aside class='related-articles'><h3>More</h3><p>{snippet}</p></aside></article>"
    )
    assert remove_boilerplate([FIRST, snippet, SECOND], scan) == [FIRST, SECOND]


def test_block_holding_most_of_the_text_is_the_article() -> None:
    scan = _scan(
        "<div class='js-truncate-related-to-my-size'>"
        f"<p>{FIRST}</p><p>{SECOND}</p><p>{THIRD}</p></div>"
    )
    assert scan.block_texts  # the name does match a stem
    paragraphs = [FIRST, SECOND, THIRD]
    assert remove_boilerplate(paragraphs, scan) == paragraphs


def test_very_short_paragraph_is_not_matched_inside_a_block() -> None:
    # "ok" is inside the block's text, but keys under three characters are not compared
    scan = _scan(f"<div class='share'>Share on Facebook</div><p>{FIRST}</p>")
    assert remove_boilerplate([FIRST, "Ok", SECOND], scan) == [FIRST, "Ok", SECOND]


# --- remove_boilerplate: teaser rule ------------------------------------------------------------

TEASER_SCAN = PageScan(
    link_texts={
        key("Alcalde inaugura nuevo hospital en Lima"),
        key("Storm damage: what insurers pay"),
        key("Weather"),
    }
)


@pytest.mark.parametrize(
    "teaser",
    [
        "Alcalde inaugura nuevo hospital en Lima",
        "alcalde  inaugura nuevo hospital en lima",
        "- Alcalde inaugura nuevo hospital en Lima",
        "VEA TAMBIÉN: Alcalde inaugura nuevo hospital en Lima",
        "Read more: Storm damage: what insurers pay",
        "Storm damage: what insurers pay",
    ],
)
def test_teaser_rule_drops_link_texts(teaser: str) -> None:
    assert _dropped([FIRST, teaser, SECOND], TEASER_SCAN) == [teaser]


def test_teaser_rule_uses_links_from_the_page() -> None:
    scan = _scan(
        f"<p>{FIRST}</p><p>Lee también: <a href='/n/1'>Alcalde inaugura nuevo hospital</a></p>"
    )
    teaser = "Lee también: Alcalde inaugura nuevo hospital"
    assert remove_boilerplate([FIRST, teaser], scan) == [FIRST]


@pytest.mark.parametrize(
    "paragraph",
    [
        # a colon, but what follows is no link text
        "The minister said: the budget will be approved next week.",
        # a link text too short to be a headline
        "Weather",
        # a link text inside a longer sentence
        "Officials said Alcalde inaugura nuevo hospital en Lima was a headline in Peru.",
    ],
)
def test_teaser_rule_keeps_other_paragraphs(paragraph: str) -> None:
    assert _dropped([FIRST, paragraph, SECOND], TEASER_SCAN) == []


def test_teaser_rule_ignores_in_page_anchors() -> None:
    scan = _scan(f"<a href='#comments'>Comentarios de los lectores</a><p>{FIRST}</p>")
    assert _dropped([FIRST, "Comentarios de los lectores", SECOND], scan) == []


@pytest.mark.parametrize(
    ("link", "paragraph"),
    [
        # an address written out as its own link is a pointer the text gives, not a headline
        (
            (
                "<a href='https://petitions.example/online/stop-the-tariff-reform-2013'>"
                "https://petitions.example/online/stop-the-tariff-reform-2013</a>"
            ),
            "https://petitions.example/online/stop-the-tariff-reform-2013",
        ),
        (
            "<a href='mailto:reform.watch@example.org'>reform.watch@example.org</a>",
            "reform.watch@example.org",
        ),
    ],
)
def test_teaser_rule_keeps_addresses_written_out(link: str, paragraph: str) -> None:
    scan = _scan(f"<p>{FIRST}</p><p>{link}</p>")
    assert _dropped([FIRST, paragraph, SECOND], scan) == []


REFERENCE = "The generation we love to dump on"


def _page_scan(link: str, host: str | None = "www.example.com") -> PageScan:
    page = f"<html><head></head><body><p>{FIRST}</p><p>{link}</p><p>{SECOND}</p></body></html>"
    return scan_page(fromstring(page), host)


def test_a_lone_link_to_another_site_between_paragraphs_is_a_reference() -> None:
    scan = _page_scan(f"<a href='https://edition.cnn.com/2013/07/09/opinion'>{REFERENCE}</a>")
    assert _dropped([FIRST, REFERENCE, SECOND], scan) == []
    # the same line heading the text, ending it, or in a run of links is a teaser
    assert _dropped([REFERENCE, FIRST, SECOND], scan) == [REFERENCE]
    assert _dropped([FIRST, SECOND, REFERENCE], scan) == [REFERENCE]
    assert _dropped(["Short.", REFERENCE, SECOND], scan) == [REFERENCE]


@pytest.mark.parametrize(
    "link",
    [
        # the outlet's own pages: relative, its host, or its sister domain
        f"<a href='/2013/07/09/opinion'>{REFERENCE}</a>",
        f"<a href='https://news.example.com/opinion'>{REFERENCE}</a>",
        f"<a href='http://www.example.co.uk/opinion'>{REFERENCE}</a>",
        # linked to another site here and to the page's own elsewhere on the page
        f"<a href='https://other.org/a'>{REFERENCE}</a><a href='/b'>{REFERENCE}</a>",
    ],
)
def test_a_link_to_the_outlets_own_pages_is_a_teaser(link: str) -> None:
    assert _dropped([FIRST, REFERENCE, SECOND], _page_scan(link)) == [REFERENCE]


def test_a_link_to_another_site_is_a_teaser_without_the_pages_host() -> None:
    scan = _page_scan(f"<a href='https://edition.cnn.com/a'>{REFERENCE}</a>", host=None)
    assert _dropped([FIRST, REFERENCE, SECOND], scan) == [REFERENCE]


def test_an_advertisements_pitch_linked_to_another_site_is_a_teaser() -> None:
    pitch = "Looking for a shop to rent? See the offers on PropertyStock"
    scan = _page_scan(f"<a href='https://propertystock.example/offers?c=22'>{pitch}</a>")
    assert _dropped([FIRST, pitch, SECOND], scan) == [pitch]


def test_a_run_of_links_to_other_sites_is_teasers() -> None:
    other = "Five things we learned from the interview"
    scan = _page_scan(
        f"<a href='https://cnn.example/a'>{REFERENCE}</a></p><p>"
        f"<a href='https://cnn.example/b'>{other}</a>"
    )
    assert _dropped([FIRST, REFERENCE, other, SECOND], scan) == [REFERENCE, other]


def test_a_labelled_link_to_another_site_is_a_teaser() -> None:
    teaser = f"Read more: {REFERENCE}"
    scan = _page_scan(f"Read more: <a href='https://cnn.example/a'>{REFERENCE}</a>")
    assert _dropped([FIRST, teaser, SECOND], scan) == [teaser]


def test_teaser_rule_ignores_long_paragraphs() -> None:
    long_link = f"{FIRST} {SECOND} {THIRD}"
    assert len(long_link) > 300
    scan = PageScan(link_texts={key(long_link)})
    assert _dropped([long_link, FIRST], scan) == []


# --- remove_boilerplate: credit rule ------------------------------------------------------------


@pytest.mark.parametrize(
    "credit",
    [
        "© AFP",
        "© 2024 The Daily Planet. All rights reserved.",
        "(c) Reuters",
        "Photo: Jane Doe",
        "Photos : Getty Images",
        "Foto: dpa",
        "Bild: Reuters/John Roe",
        "Imagen: Archivo",
        "Crédits photos : Bestimage",
        "Credit: AP",
        "Photo credit: Jane Doe",
        "Image illustrative : Lots of Lego by Ninja Brick",
        "Image d’illustration : Getty",
        "Foto ilustrativa: Archivo",
        "Symbolbild: dpa",
        "aja/PAP",
        "tw/dpa",
        "(dpa/AFP)",
    ],
)
def test_credit_rule(credit: str) -> None:
    assert _dropped([FIRST, credit, SECOND]) == [credit]


@pytest.mark.parametrize(
    "text",
    ["Image of the day: a heron on the frozen lake", "Photo finish: the race was decided late"],
)
def test_credit_rule_needs_a_credit_word_before_the_colon(text: str) -> None:
    assert _dropped([FIRST, text, SECOND]) == []


def test_credit_rule_ignores_long_paragraphs() -> None:
    long_paragraph = f"{FIRST} {SECOND} {THIRD} © The Daily Planet"
    assert len(long_paragraph) > 300
    assert _dropped([FIRST, long_paragraph]) == []


# --- remove_boilerplate: related heading rule ---------------------------------------------------


@pytest.mark.parametrize(
    "heading",
    [
        "NOTAS RELACIONADAS",
        "Lesen Sie auch:",
        "Weitere aktuelle Themen aus der Arbeitswelt",
        "Read more:",
        "Related stories",
        "À lire aussi",
        "Leia também",
        "Mehr zum Thema",
        "Tags",
        "More stories from Europe",
    ],
)
def test_related_heading_and_its_entries_are_dropped(heading: str) -> None:
    entries = [
        "Streik bei der Bahn legt den Verkehr lahm",
        "- Neue Regeln für Mieter ab Juli",
        "Alcalde inaugura nuevo hospital",
    ]
    paragraphs = [FIRST, heading, *entries, SECOND]
    assert remove_boilerplate(paragraphs, NO_SCAN) == [FIRST, SECOND]


def test_related_list_ends_at_a_sentence() -> None:
    sentence = "Der Minister kündigte weitere Gespräche an."
    paragraphs = [FIRST, "Lesen Sie auch:", "Streik bei der Bahn", sentence, "Mehr Geld für Pflege"]
    # the sentence ends the list; the short line after it is a subheading again
    assert remove_boilerplate(paragraphs, NO_SCAN) == [FIRST, sentence, "Mehr Geld für Pflege"]


def test_long_line_after_a_related_heading_is_kept() -> None:
    long_line = "Streik bei der Bahn " * 6
    assert len(long_line) > 100
    paragraphs = [FIRST, "Siehe auch", long_line]
    assert remove_boilerplate(paragraphs, NO_SCAN) == [FIRST, long_line]


def test_subheading_is_kept() -> None:
    paragraphs = [FIRST, "Mehr Geld für Pflegekräfte", SECOND]
    assert remove_boilerplate(paragraphs, NO_SCAN) == paragraphs


# --- remove_boilerplate: prompt rule ------------------------------------------------------------


@pytest.mark.parametrize(
    "prompt",
    [
        "Subscribe to our newsletter",
        "Síguenos en Facebook y Twitter",
        "¡Mira lo que tiene nuestro canal de YouTube!",
        "Follow us on Instagram and TikTok for more.",
        "Abonnez-vous pour lire la suite de cet article.",
        "Jetzt anmelden und weiterlesen.",
        "Sign up for the morning briefing here.",
        # error-report notices: the call stands anywhere in them
        "Нашли ошибку? Выделите текст и нажмите Ctrl+Enter.",
        "Iezīmējiet tekstu un spiediet Ctrl + Enter, lai nosūtītu labojamo fragmentu redaktoram!",
        "If you spot a typo, select it and press CTRL+ENTER.",
        # calls to enable JavaScript or to switch off an ad blocker
        "Please enable JavaScript to view the comments.",
        "You need to enable JavaScript to run this app.",
        "JavaScript ist in Ihrem Browser deaktiviert.",
        "Veuillez activer JavaScript dans votre navigateur.",
        "Please disable the ad blocking feature.",
        "We noticed you are using an ad blocker. Please consider supporting us.",
        "Bitte deaktivieren Sie Ihren Werbeblocker.",
    ],
)
def test_prompt_rule(prompt: str) -> None:
    assert _dropped([FIRST, prompt, SECOND]) == [prompt]


@pytest.mark.parametrize(
    "notice",
    [
        (
            "This website uses cookies and other technology to enhance quality of service. "
            "Continuous usage of the website will be considered as giving consent to the "
            "application of such technology and the policy of KBS."
        ),
        (
            "We and our partners store and/or access information on a device, such as cookies "
            "and process personal data, such as unique identifiers, for personalised ads and "
            "content, ad and content measurement, and audience insights."
        ),
        "We use cookies to remember your preferences. By continuing you accept our policy.",
        (
            "Werbung und Tracking: Um dir relevante Inhalte und personalisierte Werbung "
            "anzubieten, setzen wir Cookies ein."
        ),
        (
            "Auf unserer Website werden Cookies gemäß unserer Datenschutzerklärung verwendet. "
            "Sie können jederzeit dem Einsatz von Cookies widersprechen."
        ),
        (
            "Nous et nos partenaires utilisons des cookies pour mesurer l'audience et vous "
            "proposer des publicités personnalisées, avec votre consentement."
        ),
    ],
    ids=["en-kbs", "en-gdpr", "en-short", "de", "de-datenschutz", "fr"],
)
def test_a_sites_cookie_notice_is_dropped(notice: str) -> None:
    assert _dropped([FIRST, notice, SECOND]) == [notice]


@pytest.mark.parametrize(
    "paragraph",
    [
        # news about cookies, JavaScript and ad blockers reports, it does not speak as the site
        (
            "The court ruled that websites must obtain users' consent before setting cookies, "
            "and fined the company 40 million euros for its banner."
        ),
        "Publishers asked readers to turn off ad blockers last year, the survey found.",
        "The exploit requires JavaScript to be enabled in the victim's browser.",
        "Die Verbraucherzentrale rät, Cookies von Drittanbietern im Browser abzulehnen.",
    ],
    ids=["cookie-ruling", "ad-blockers", "javascript", "de-cookies"],
)
def test_news_about_cookies_and_ad_blockers_is_kept(paragraph: str) -> None:
    assert _dropped([FIRST, paragraph, SECOND]) == []


def test_a_sentence_about_a_keyboard_is_no_prompt() -> None:
    sentence = "The new keyboard drops the Enter key's old shape, the maker said on Tuesday."
    assert _dropped([FIRST, sentence, SECOND]) == []


def test_prompt_continues_over_a_notice_and_its_perks() -> None:
    notice = [
        "This article is for subscribers only.",
        "Subscribe now to continue reading.",
        "- Unlimited access to all articles",
        "- No advertising",
        "Cancel at any time",
    ]
    assert remove_boilerplate([FIRST, *notice, SECOND], NO_SCAN) == [FIRST, SECOND]


def test_prompt_continues_backwards() -> None:
    paragraphs = [FIRST, "Support independent journalism.", "Become a member today", SECOND]
    assert remove_boilerplate(paragraphs, NO_SCAN) == [FIRST, SECOND]


def test_a_prompt_takes_one_short_line_not_the_headings_after_it() -> None:
    # a sidebar's "subscribe" entry, then the document's short heading lines: the first short
    # line may be the notice's broken-off end, the rest are the article's
    headings = ["Judgment", "Federal Court of Justice", "Delivered on 12 November 2009"]
    paragraphs = ["- Search", "- Subscribe to the newsletter", *headings, FIRST, SECOND]
    assert remove_boilerplate(paragraphs, NO_SCAN) == [*headings[1:], FIRST, SECOND]


# --- remove_boilerplate: headline, fallback -----------------------------------------------------


def test_repeated_headline_is_dropped() -> None:
    paragraphs = ["Storm hits the COAST", FIRST, SECOND]
    kept = remove_boilerplate(paragraphs, NO_SCAN, ["", "Storm  hits the coast"])
    assert kept == [FIRST, SECOND]


def test_headline_inside_a_paragraph_is_kept() -> None:
    paragraph = "Storm hits the coast, and thousands are left without power."
    kept = remove_boilerplate([paragraph, FIRST], NO_SCAN, ["Storm hits the coast"])
    assert kept == [paragraph, FIRST]


def test_never_returns_an_empty_list() -> None:
    paragraphs = ["© AFP", "Subscribe to our newsletter", "Read more:"]
    assert remove_boilerplate(paragraphs, NO_SCAN) == paragraphs


def test_no_paragraphs() -> None:
    assert remove_boilerplate([], NO_SCAN) == []


# --- remove_boilerplate: paragraphs that must be kept -------------------------------------------


@pytest.mark.parametrize(
    "paragraph",
    [
        "The company said in a post on Facebook that it would appeal the ruling next week.",
        "Netflix lost 200,000 subscribers in the quarter.",
        "The minister put it bluntly: the budget will not pass without the Greens.",
        "Mehr Geld für Pflegekräfte",
        "Weather",
        (
            f"{FIRST} Readers can subscribe to our newsletter or follow the council on Facebook "
            f"and Twitter, the mayor added. {SECOND} {THIRD}"
        ),
    ],
    ids=["facebook-once", "netflix", "colon", "subheading", "short-word", "long"],
)
def test_article_paragraphs_are_kept(paragraph: str) -> None:
    paragraphs = [FIRST, paragraph, SECOND]
    assert remove_boilerplate(paragraphs, TEASER_SCAN) == paragraphs


@pytest.mark.parametrize(
    "paragraph",
    [
        # BUG: _SIGNATURE.match accepts any paragraph that starts like "aja/PAP"
        "US/EU talks resumed on Monday in Brussels, diplomats said.",
        "Er/sie muss das selbst entscheiden, sagte der Minister.",
        # BUG: "(c) " anywhere in a paragraph is taken for a copyright sign
        "The court relied on Section 230(c) of the Communications Decency Act.",
        # BUG: _MORE_OF_A_KIND.match takes a sentence that starts "Other news ..." for a heading
        "Other news outlets reported the same figures.",
        # BUG: any paragraph naming two networks, or "log in", is taken for a prompt
        "Meta, which owns Facebook and Instagram, reported higher revenue on Wednesday.",
        "Users could not log in to their accounts for several hours, the bank said.",
    ],
    ids=["signature-us-eu", "signature-er-sie", "copyright-c", "more-news", "networks", "log-in"],
)
def test_news_sentences_that_resemble_boilerplate_are_kept(paragraph: str) -> None:
    paragraphs = [FIRST, paragraph, "Mehr Geld für Pflegekräfte", SECOND]
    assert remove_boilerplate(paragraphs, NO_SCAN) == paragraphs


# --- within_article_body ------------------------------------------------------------------------

BODY_PARAGRAPHS = [f"{text} (part {number})" for number in range(8) for text in (FIRST, SECOND)]
ARTICLE_BODY = "\n".join(BODY_PARAGRAPHS)


def test_short_paragraph_missing_from_the_article_body_is_dropped() -> None:
    furniture = "Lesen Sie auch: Streik bei der Bahn"
    paragraphs = [*BODY_PARAGRAPHS[:4], furniture, *BODY_PARAGRAPHS[4:]]
    assert within_article_body(paragraphs, ARTICLE_BODY) == BODY_PARAGRAPHS


def test_long_paragraph_missing_from_the_article_body_is_kept() -> None:
    long_paragraph = f"{THIRD} {THIRD}"
    assert len(long_paragraph) > 200
    paragraphs = [*BODY_PARAGRAPHS, long_paragraph, "Short furniture line"]
    assert within_article_body(paragraphs, ARTICLE_BODY) == [*BODY_PARAGRAPHS, long_paragraph]


def test_article_body_is_compared_without_case_and_space() -> None:
    body = " ".join(paragraph.upper() for paragraph in BODY_PARAGRAPHS)
    body = body.replace(" ", "\n  ")
    paragraphs = [*BODY_PARAGRAPHS, "Short furniture line"]
    assert within_article_body(paragraphs, body) == BODY_PARAGRAPHS


def test_article_body_covering_too_little_is_ignored() -> None:
    # a truncated articleBody (behind a paywall) covers less than 85% of the text
    truncated = "\n".join(BODY_PARAGRAPHS[:2])
    paragraphs = [*BODY_PARAGRAPHS, "Short furniture line"]
    assert within_article_body(paragraphs, truncated) == paragraphs


def test_article_body_covering_just_enough() -> None:
    # 85 of 100 characters are inside: the short rest is dropped; 85 of 101: nothing is
    assert within_article_body(["x" * 85, "y" * 15], "x" * 85) == ["x" * 85]
    assert within_article_body(["x" * 85, "y" * 16], "x" * 85) == ["x" * 85, "y" * 16]


@pytest.mark.parametrize("article_body", [None, ""])
def test_without_article_body_nothing_changes(article_body: str | None) -> None:
    paragraphs = [FIRST, "Short furniture line"]
    assert within_article_body(paragraphs, article_body) == paragraphs


def test_within_article_body_without_paragraphs() -> None:
    assert within_article_body([], ARTICLE_BODY) == []


# --- headings: empty sections, closing headings -------------------------------------------------

LIVE = "Match against Brighton, live: minute by minute"
GOAL = "Brighton 1-0: the first goal"
SCHEDULE = "Nordic combined: the schedule in Beijing"
HEADED_PAGE = (
    f"<h1>The season's worst defeat</h1><p>{FIRST}</p><h2>{LIVE}</h2><div class='widget'></div>"
    f"<h2>{GOAL}</h2><h3>How it was scored</h3><p>{SECOND}</p><h2>{SCHEDULE}</h2>"
    "<h4>Es stützt seine Version.</h4>"
)


def test_scan_finds_every_heading_with_its_highest_rank() -> None:
    scan = _scan(HEADED_PAGE + f"<h4>{GOAL}</h4>")
    assert scan.heading_levels[key(LIVE)] == 2
    assert scan.heading_levels[key(GOAL)] == 2  # also an h4: the higher rank counts
    assert scan.heading_levels[key("How it was scored")] == 3
    assert scan.heading_levels[key("The season's worst defeat")] == 1


def test_a_heading_followed_by_one_of_its_rank_or_higher_heads_an_empty_section() -> None:
    scan = _scan(HEADED_PAGE)
    paragraphs = [FIRST, LIVE, GOAL, "How it was scored", SECOND]
    # LIVE's section (a widget) is empty; GOAL's holds a subsection
    assert _dropped(paragraphs, scan) == [LIVE]
    # the same lines on a page where they are not headings are text
    assert _dropped(paragraphs, _scan(f"<p>{FIRST}</p>")) == []


def test_a_text_does_not_end_with_a_heading() -> None:
    scan = _scan(HEADED_PAGE)
    assert without_closing_headings([FIRST, SECOND, GOAL, SCHEDULE], scan) == [FIRST, SECOND]
    # a heading that is a sentence is text
    sentence = "Es stützt seine Version."
    assert without_closing_headings([FIRST, sentence], scan) == [FIRST, sentence]
    # never emptied, and unchanged where nothing is a heading
    assert without_closing_headings([SCHEDULE], scan) == [SCHEDULE]
    assert without_closing_headings([FIRST, SCHEDULE], NO_SCAN) == [FIRST, SCHEDULE]


# --- comment-section rule -------------------------------------------------------------------

READER = "Vaya comportamiento tan poco ejemplar del fiscal, defiende lo indefendible sin pudor."
OTHER_READER = "Lo importante no es si imputa o no, lo importante es quien paga la cena."


def _commented(names: str = "sf_comment_text", quoted: str = "") -> PageScan:
    return _scan(
        f"<article><p>{FIRST}</p><p>{SECOND}</p></article>"
        f"<div class='{names}'><p>{quoted}</p><p>{READER}</p><p>Hace 37 minutos</p>"
        f"<p>{OTHER_READER}</p><ul><li>No se permiten insultos.</li></ul></div>"
    )


def test_the_comment_section_left_at_the_end_leaves_the_text() -> None:
    paragraphs = [FIRST, SECOND, READER, "Hace 37 minutos", OTHER_READER]
    assert split_comment_section(paragraphs, _commented()) == (
        [FIRST, SECOND],
        [READER, "Hace 37 minutos", OTHER_READER],
    )


def test_the_comment_sections_lists_are_not_comments() -> None:
    paragraphs = [FIRST, SECOND, READER, "- No se permiten insultos."]
    assert split_comment_section(paragraphs, _commented()) == ([FIRST, SECOND], [READER])


@pytest.mark.parametrize("names", ["comments", "comment-list", "commentaire", "comentarios"])
def test_comment_sections_by_their_names(names: str) -> None:
    assert split_comment_section([FIRST, SECOND, READER], _commented(names))[1] == [READER]


def test_a_paragraph_a_comment_quotes_stays_in_the_text() -> None:
    # the reader quotes the article's second paragraph: only the run at the end is the section
    scan = _commented(quoted=SECOND)
    assert split_comment_section([FIRST, SECOND, THIRD], scan) == ([FIRST, SECOND, THIRD], [])
    article = [FIRST, SECOND, THIRD]
    assert split_comment_section([*article, READER], scan) == (article, [READER])


def test_commentary_is_no_comment_section() -> None:
    # "commentary" (and German "Kommentar") name an opinion piece, not readers' comments
    paragraphs = [FIRST, SECOND, READER]
    assert split_comment_section(paragraphs, _commented("commentary")) == (paragraphs, [])
    assert split_comment_section(paragraphs, _commented("kommentar")) == (paragraphs, [])


def test_a_text_that_is_mostly_comments_is_left_whole() -> None:
    paragraphs = [FIRST, READER, OTHER_READER]
    assert split_comment_section(paragraphs, _commented()) == (paragraphs, [])


def test_no_comment_section_without_a_comment_named_element() -> None:
    paragraphs = [FIRST, SECOND, READER]
    assert split_comment_section(paragraphs, NO_SCAN) == (paragraphs, [])
