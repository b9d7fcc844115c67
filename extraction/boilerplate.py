"""Boilerplate that survives main-text extraction, removed paragraph by paragraph.

trafilatura keeps the article's container and drops most page furniture, but blocks *inside*
the article often survive: related-article teasers, "read more" lists, photo credits, share
and subscribe prompts, paywall notices. Each rule here is generic (markup words and wording
that news templates share), never tied to one site:

* **block rule**: a paragraph that comes from an element whose class or id names
  boilerplate (``related``, ``share``, ``newsletter``, ``paywall``, ``caption``, ...) is
  dropped, unless that element holds most of the text (then it is the article's container,
  whatever its name says);
* **teaser rule**: a paragraph that is nothing but the text of a link to another page (a
  headline), possibly behind a short label such as "Read more:" or "VEA TAMBIÉN:", is dropped,
  unless it is a reference: a lone link to another site after a paragraph of text;
* **credit rule**: short paragraphs that are photo credits or copyright lines are dropped;
* **prompt rule**: short calls to subscribe, follow on social networks or log in, notices
  asking the reader to report an error with Ctrl+Enter, to enable JavaScript or to switch off
  an ad blocker, and a site's cookie or consent notice (:func:`is_notice`), are dropped;
* **comment-section rule**: the paragraphs at the text's end that all come from elements named
  as a readers' comment section (``comments``, ``sf_comment_text``, ``commentaire``; not
  ``commentary``, an opinion piece) are that section, which trafilatura did not recognise:
  they leave the text (:func:`split_comment_section`; the extractor keeps them as comments,
  but for the section's lists: its house rules and opening hours).
  A comment quoting the article leaves the quoted paragraph where it is, before the section;
* **empty-section rule**: a heading of the page followed at once by another of the same or a
  higher rank opened a section that holds nothing here (a live ticker, a video, a list of
  links), and is dropped; and a text does not end with a heading
  (:func:`without_closing_headings`, applied last). A heading that is a sentence stays.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from lxml.etree import XPath

from extraction.authors import host_label
from extraction.text import without_invisible

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from lxml.html import HtmlElement

# Stems that name boilerplate blocks in class/id attributes (matched as substrings of the
# lower-cased attribute, so "relatedArticles", "article__related", "c-share-bar" all match).
BLOCK_STEMS = (
    "related",
    "relacionad",
    "verwandt",
    "readmore",
    "read-more",
    "read_more",
    "more-stories",
    "morestories",
    "recommend",
    "also-read",
    "alsoread",
    "intext-links",
    "linklist",
    "link-list",
    "outbrain",
    "taboola",
    "newsletter",
    "subscribe",
    "subscription",
    "paywall",
    "payant",
    "premium-teaser",
    "share",
    "social",
    "siguenos",
    "follow-us",
    "caption",
    "credit",
    "copyright",
    "imagedescription",
    "image-description",
    "photo-desc",
    "breadcrumb",
    "footer",
    "advert",
    "sponsor",
    "promo",
    "cookie",
    "consent",
)
# Stems that name boilerplate only when the element links to other pages.
LINK_BLOCK_STEMS = ("teaser", "card")
_LINK_BLOCK = re.compile("|".join(LINK_BLOCK_STEMS))
# A block that holds more than this share of the extracted text is the article itself.
MAX_BLOCK_SHARE = 0.5
# Teaser and prompt rules only look at paragraphs up to this long (characters).
MAX_SHORT_PARAGRAPH = 300
MIN_TEASER_CHARS = 12
MIN_TEASER_WORDS = 2
MIN_TEXT_BEFORE_REFERENCE = 100
MIN_BLOCK_KEY = 3
MAX_HEADING_CHARS = 60
MAX_PROMPT_CHARS = 120
MAX_FRAGMENT_CHARS = 40
MIN_ARTICLE_BODY_SHARE = 0.85
MAX_OUTSIDE_BODY_CHARS = 200
MAX_LIST_ENTRY_CHARS = 100
SENTENCE_ENDS = (".", "!", "?", "…", "。", "！", "？", '"', "»", "”", ")")
MAX_LABEL_CHARS = 40

MAX_BYLINE_CHARS = 120
_HEADINGS = ("h1", "h2", "h3", "h4", "h5", "h6")
# lxml selects the few elements worth a look faster than Python walks them all.
_INNER_SENTENCE_END = re.compile(r"[.!?。！？]\s+\S")
_HOST = re.compile(r"(?:https?:)?//([^/:?#]+)", re.IGNORECASE)
_NAMED_ELEMENTS = XPath("//*[@class or @id or @rel or @itemprop]")
_BYLINE_STRONG = re.compile(r"author-?name|byline|\bbyl\b|journalist-name|submitted-by|posted-by")
_BYLINE_WEAK = re.compile(r"author|autor|auteur|autore|writer|zuozhe|bianji|xiaobian|firma")
_COMMENTS = re.compile(r"comment|kommentar|comentario|commentaire|discussion|review", re.IGNORECASE)
# Class and id names of photo credits, which name photographers and agencies, not authors.
_PHOTO_CREDIT_NAMES = re.compile(r"bild|foto|photo|image|credit|caption|copyright|picture")
_PHOTO_CREDIT_TEXT = re.compile(
    r"^(?:(?:foto|fotos|bild|bilder|photo|photos|image|credit|credits)\b|©|\(c\))", re.IGNORECASE
)
# Links to a tag's, topic's or section's page: a byline lists people, not topics.
_TAG_LINK = re.compile(
    r"/(?:tags?|thema|themen|category|categories|topics?|schlagw[oö]rter|schlagwort)/|[?&]tags?=",
    re.IGNORECASE,
)
MAX_CARD_CHARS = 1500
"""A list item or ``<article>`` with a linked headline and at most this much text is a teaser
card: the byline in it is another article's."""
CARD_LEVELS = 4
_WRAPPER_STEMS = frozenset({"paywall", "payant", "subscribe", "subscription"})
_BLOCK = re.compile(
    "|".join(
        # "paywalled", "subscriber-only", "paywall-content" wrap the article itself
        rf"{re.escape(stem)}(?!ed|-?content|-?only|r)"
        if stem in _WRAPPER_STEMS
        else re.escape(stem)
        for stem in BLOCK_STEMS
    )
)
_COMMENT_SECTION = re.compile(r"comment(?!ar)|comentario|commentaire")
"""Class and id names of a readers' comment section (lower-cased), "commentary" aside."""
_LIST_MARK_CHARS = frozenset("-•*·–—")
_LIST_MARK = re.compile(rf"^[{re.escape(''.join(_LIST_MARK_CHARS))}]\s*")
_LABEL = re.compile(rf"^[^:\n]{{1,{MAX_LABEL_CHARS}}}:\s*")
_CREDIT = re.compile(
    r"©|(?<!\w)\(c\)\s+(?:\d{4}\b|[A-Z])|^(?:photo|photos|foto|fotos|fot\.|bild|bilder|image|imagen|imagem|"
    r"crédits? photos?|credits?|picture|illustration|symbolbild|"
    # "Photo credit:", "Image d'illustration :", "Image illustrative :", "Foto ilustrativa:"
    r"(?:photo|image|foto|imagen|imagem|picture)\s+(?:credits?|d['’]\s?illustration|"
    r"illustrative|ilustrativa|illustrativa))\s*[:/]",
    re.IGNORECASE,
)
# An agency signature: "aja/PAP", "tw/dpa", "(dpa/AFP)".
_SIGNATURE = re.compile(r"\(?[^\W\d]{1,6}(?:\s*/\s*[^\W\d]{2,8})+\)?")
# Headings of related-article lists, in the languages of the corpus and their neighbours.
_RELATED_HEADING = re.compile(
    r"(?:related|related (?:articles|stories|news|content|coverage|topics)|read more|"
    r"read also|see also|more on this(?: story| topic)?|more from [\w ]+|recommended|"
    r"you may also like|most read|trending|tags|topics|"
    r"notas relacionadas|noticias relacionadas|art[íi]culos relacionados|lee tambi[ée]n|"
    r"lea tambi[ée]n|vea tambi[ée]n|te puede interesar|le puede interesar|temas|etiquetas|"
    r"m[áa]s noticias|lo m[áa]s le[íi]do|mehr zum thema|das k[öo]nnte sie auch interessieren|"
    r"lesen sie auch|siehe auch|weitere artikel|schlagw[öo]rter|themen|[àa] lire aussi|"
    r"lire aussi|sur le m[êe]me sujet|voir aussi|leia tamb[ée]m|veja tamb[ée]m|"
    r"not[íi]cias relacionadas|leggi anche|articoli correlati|potrebbe interessarti|"
    r"czytaj te[żz]|zobacz te[żz]|les ogs[åa]|se ogs[åa]|l[äa]s [äa]ven|l[æa]s ogs[åa])",
    re.IGNORECASE,
)
# "Weitere aktuelle Themen aus ...", "More stories from ...", "Más noticias de ...".
_MORE_OF_A_KIND = re.compile(
    r"(?:more|other|weitere|mehr|m[áa]s|otras|otros|plus d|autres|altre|altri|outras|"
    r"outros)\b.{0,40}\b(?:news|stories|articles|topics|videos|themen|artikel|nachrichten|"
    r"meldungen|beitr[äa]ge|noticias|notas|art[íi]culos|temas|articles|actualit[ée]s|"
    r"articoli|notizie|not[íi]cias|mat[ée]rias)\b",
    re.IGNORECASE,
)
# Words that continue a subscription notice over the next paragraph.
_PROMPT_CONTINUED = re.compile(
    r"subscri|suscri|abonn|assinante|abbonat|member|miembro|membres|mitglied|"
    r"log ?in|sign ?in|inicia sesi|donat|support (?:us|our)|apoy[ae]|periodismo|journalism",
    re.IGNORECASE,
)
# First-person plural possessives: "our channel", "nuestro canal", "unser Kanal".
_OUR = re.compile(
    r"\b(?:our|nuestro|nuestra|nuestros|nuestras|unser|unsere|unseren|notre|nos|nosso|"
    r"nossa|nostro|nostra|nasz|nasze|naszym)\b",
    re.IGNORECASE,
)
# Second person, formal and informal: the text speaks to the reader.
_YOU = re.compile(
    r"\b(?:you|your|yours|usted|ustedes|te|tu|tus|vous|votre|vos|toi|sie|ihr|ihre|dich|dir|"
    r"du|você|vocês|voi|tuo|tua|ty|twoje|twój)\b|¡",
    re.IGNORECASE,
)
_LEADING_MARKS = re.compile(r"[\s\-•*·–—¡¿!\"'“„«»>]+")
_NETWORKS = re.compile(
    r"\b(?:facebook|twitter|instagram|telegram|whatsapp|youtube|tiktok|linkedin|threads|"
    r"bluesky|mastodon)\b",
    re.IGNORECASE,
)
# "Select the text and press Ctrl+Enter": the error-report notice of many sites, a prompt
# wherever the call stands in it.
_ERROR_REPORT = re.compile(r"\bctrl\s?\+\s?enter\b", re.IGNORECASE)
# "Please enable JavaScript", "JavaScript ist deaktiviert", "disable your ad blocker": a
# prompt when it starts with the call or speaks to the reader (news about JavaScript or ad
# blockers does neither).
_BROWSER_PROMPT = re.compile(
    r"\b(?:enable|turn on|activate|allow|aktivieren|einschalten|activer|activez|activa|activar|"
    r"habilita|habilitar|abilita|abilitare|ative|ativar|habilite)\b[^.!?]{0,20}\bjavascript\b|"
    r"\bjavascript\b[^.!?]{0,30}\b(?:disabled|not enabled|turned off|required|aktivieren|"
    r"deaktiviert|ausgeschaltet|désactivé|desactivado|deshabilitado|disabilitato|desativado)\b|"
    r"\bad[- ]?block(?:er|ers|ing)?\b|\badblock\w*|\bwerbe-?blocker\b|\bbloqueurs? de pub|"
    r"\bbloqueador(?:es)? de (?:anuncios|publicidad)\b|\bblocco (?:degli )?annunci\b",
    re.IGNORECASE,
)
_PLEASE = re.compile(
    r"\b(?:please|bitte|veuillez|por favor|per favore|s'il vous pla[îi]t)\b", re.IGNORECASE
)
# A cookie notice: cookies, and consent, partners, personal data or preferences, said by the
# site of itself ("we", "our partners", "this website uses cookies"). An article on cookie law
# reports what sites and users do; it does not speak as the site.
_COOKIES = ("cookie", "témoins de connexion")
# Words one of which a browser prompt holds, looked for before its regular expression (a
# tenth of the cost, on every short paragraph).
_BROWSER_WORDS = ("javascript", "block", "bloq", "blocc")
_CONSENT = re.compile(
    r"consent|partners|personal data|personali[sz]|personnalis|preferences|privacy|"
    r"einwillig|zustimm|einverstanden|partner|personenbezogen|präferenz|einstellungen|"
    r"datenschutz|consentement|consentez|partenaires|données personnelles|préférences|"
    r"confidentialité|consentimiento|socios|datos personales|preferencias|privacidad|"
    r"consenso|dati personali|preferenze|consentimento|parceiros|dados pessoais|"
    r"toestemming|persoonsgegevens|voorkeuren|zgod|dane osobowe",
    re.IGNORECASE,
)
_SITE_SPEAKS = re.compile(
    r"\b(?:we|us|wir|uns|nous|nosotros|utilizamos|usamos|utilisons|utilizziamo|usiamo|wij|my|"
    r"this (?:web)?site|(?:the|our) website|diese (?:web)?seite|dieser (?:web)?seite|webseite|"
    r"website|ce site|este sitio|questo sito|este site)\b",
    re.IGNORECASE,
)
MAX_NOTICE_CHARS = 600
"""A cookie notice runs longer than a prompt (a consent wall's paragraphs, 200 to 500
characters); longer, a paragraph is the article's."""
_PROMPT = re.compile(
    r"\b(?:subscribe|subscribe now|sign up|sign in|log in|newsletter|become a member|"
    r"follow us|join us|folgen sie uns|suivez-nous|siga-nos|seguinos|"
    r"suscr[íi]bete|suscribirse|hazte miembro|s[íi]guenos|abonnez-vous|inscrivez-vous|"
    r"abonnieren|jetzt anmelden|assine|inscreva-se|iscriviti|seguici|zapisz się)\b",
    re.IGNORECASE,
)


def key(text: str) -> str:
    """Text compared without case, white space, invisible characters and list marks."""
    # the white space goes first: the list mark is then the first character (what
    # ``_LIST_MARK`` takes from the stripped text, white space after it included)
    joined = without_invisible("".join(text.split()))
    return (joined[1:] if joined[:1] in _LIST_MARK_CHARS else joined).casefold()


@dataclass
class PageScan:
    """What one pass over the page's tree found for the rules."""

    block_texts: list[str] = field(default_factory=list)
    """Keys of the text of every element named like boilerplate."""
    comment_texts: list[str] = field(default_factory=list)
    """Keys of the text of every element named as a readers' comment section."""
    link_texts: set[str] = field(default_factory=set)
    """Keys of the text of every link to another page."""
    other_site_link_texts: set[str] = field(default_factory=set)
    """Keys of the link texts whose every link goes to another site than the page's."""
    linked_headings: int = 0
    """Headings (h2 to h4) that link to another page: teasers."""
    heading_levels: dict[str, int] = field(default_factory=dict)
    """The keys of the texts of the page's headings (h1 to h6), each with its highest rank (1
    for ``h1``)."""
    byline: list[str] = field(default_factory=list)
    """The byline most surely marked as such (not in comments): the texts of its links to
    author pages, else its text nodes (names often stand in elements of their own)."""


def scan_page(tree: HtmlElement, host: str | None = None) -> PageScan:
    """Collect link texts, boilerplate blocks and the byline in one pass over the tree."""
    scan = PageScan()
    blocks: list[HtmlElement] = []
    bylines: list[tuple[int, HtmlElement]] = []
    site = _site(host)
    own_site: set[str] = set()
    for anchor in tree.iter("a"):
        _add_link(anchor, scan, site, own_site)
    scan.other_site_link_texts -= own_site
    # a page repeats a few class and id names on many elements: each is judged once
    judged: dict[tuple[str, str], _Names] = {}
    comment_sections: list[HtmlElement] = []
    for element in _NAMED_ELEMENTS(tree):
        attributes = element.attrib
        if attributes.get("rel") == "author" or "author" in attributes.get("itemprop", ""):
            bylines.append((0, element))
            continue
        if element.tag in ("html", "body"):
            continue
        names = (attributes.get("class", ""), attributes.get("id", ""))
        verdict = judged.get(names)
        if verdict is None:
            verdict = judged[names] = _judge_names(f"{names[0]} {names[1]}".lower())
        if element.tag == "a":
            # a link is no block; it is a byline when its names say so (<a class="author">)
            if verdict.byline_rank is not None:
                bylines.append((verdict.byline_rank, element))
            continue
        if verdict.block or (
            # "teaser" and "card" also name leads and layouts: a block only if it links away
            verdict.link_block and element.find(".//a[@href]") is not None
        ):
            blocks.append(element)
        if verdict.comments:
            comment_sections.append(element)
        if verdict.byline_rank is not None:
            bylines.append((verdict.byline_rank, element))
    _scan_headings(tree, scan)
    scan.block_texts = _outermost_texts(blocks)
    scan.comment_texts = _outermost_texts(comment_sections)
    scan.byline = _first_byline(bylines)
    return scan


def _scan_headings(tree: HtmlElement, scan: PageScan) -> None:
    for heading in tree.iter(*_HEADINGS):
        level = int(heading.tag[1])
        if 2 <= level <= 4 and _links(heading):
            scan.linked_headings += 1
        text = key(heading.text_content())
        if text:
            scan.heading_levels[text] = min(level, scan.heading_levels.get(text, level))


@dataclass(frozen=True)
class _Names:
    """What an element's (lower-case) class and id names say it is."""

    block: bool
    link_block: bool
    comments: bool
    byline_rank: int | None


_NOTHING = _Names(block=False, link_block=False, comments=False, byline_rank=None)
"""The verdict on most names: none of the patterns below is in them."""
_NAME_STEMS = (
    *BLOCK_STEMS,
    *LINK_BLOCK_STEMS,
    "comment",
    "comentario",
    *("author", "autor", "auteur", "byl", "journalist-name", "submitted-by", "posted-by"),
    *("writer", "zuozhe", "bianji", "xiaobian", "firma"),
)
"""A part of every name that ``_BLOCK``, ``_LINK_BLOCK``, ``_COMMENT_SECTION`` or a byline
pattern finds (a photo credit's name alone changes no verdict)."""


def _trie_pattern(words: Iterable[str]) -> str:
    """A regular expression that finds any of ``words``, as a tree of their letters: Python's
    engine tries an alternation's branches one by one at every position, so sixty words cost
    sixty tries a character, where a tree costs one or two."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def branch(node: dict[str, Any]) -> str:
        if "" in node:
            return ""  # a word ends here: what it prefixes is found with it
        parts = [re.escape(char) + branch(child) for char, child in sorted(node.items())]
        return parts[0] if len(parts) == 1 else f"(?:{'|'.join(parts)})"

    return branch(trie)


_ANY_NAME = re.compile(_trie_pattern(_NAME_STEMS))


def _judge_names(names: str) -> _Names:
    if _ANY_NAME.search(names) is None:  # one search instead of six, for most names
        return _NOTHING
    return _names_verdict(names)


def _names_verdict(names: str) -> _Names:
    return _Names(
        block=_BLOCK.search(names) is not None,
        link_block=_LINK_BLOCK.search(names) is not None,
        comments=_COMMENT_SECTION.search(names) is not None,
        # a photo credit ("bildautor", "photo-credit") is no byline
        byline_rank=None if _PHOTO_CREDIT_NAMES.search(names) else _byline_rank(names),
    )


def _links(heading: HtmlElement) -> bool:
    if heading.find(".//a[@href]") is not None:
        return True
    return any(a.tag == "a" and a.get("href") for a in heading.iterancestors())


_site = lru_cache(maxsize=4096)(host_label)  # a page links a few hosts many times
"""The name a host's site goes by: ``bbc`` for ``www.bbc.co.uk`` and ``bbc.com`` alike (an
outlet links its sister domains as its own)."""


def _add_link(anchor: HtmlElement, scan: PageScan, site: str | None, own_site: set[str]) -> None:
    href = anchor.get("href")
    if href and not href.lstrip().startswith(("#", "javascript:", "mailto:")):
        text = key(anchor.text_content())
        if text:
            scan.link_texts.add(text)
            target = _HOST.match(href.strip())
            if site is None or target is None or _site(target.group(1)) == site:
                own_site.add(text)
            else:
                scan.other_site_link_texts.add(text)


def _outermost_texts(blocks: list[HtmlElement]) -> list[str]:
    """Keys of the texts of the blocks not inside another block (theirs include the rest)."""
    matched = set(blocks)
    texts = []
    for element in blocks:
        if not any(ancestor in matched for ancestor in element.iterancestors()):
            text = key(element.text_content())
            if text:
                texts.append(text)
    return texts


def _first_byline(candidates: list[tuple[int, HtmlElement]]) -> list[str]:
    for _, element in sorted(candidates, key=lambda pair: pair[0]):
        if any(
            _COMMENTS.search(f"{a.get('class')} {a.get('id')}") for a in element.iterancestors()
        ):
            continue
        text = " ".join(element.text_content().split())
        if not text or len(text) > MAX_BYLINE_CHARS or _PHOTO_CREDIT_TEXT.match(text):
            continue
        if _in_teaser(element, text):
            continue
        # names linked to author pages are the names; else names in elements of their own
        anchors = [element] if element.tag == "a" else list(element.iter("a"))
        links = [" ".join(a.text_content().split()) for a in anchors if not _is_tag_link(a)]
        if anchors and not any(links):
            continue  # links to topics only: a list of tags
        pieces = [" ".join(piece.split()) for piece in element.itertext()]
        return [link for link in links if link] or [piece for piece in pieces if piece]
    return []


def _is_tag_link(anchor: HtmlElement) -> bool:
    rel = (anchor.get("rel") or "").lower().split()
    return "tag" in rel or bool(_TAG_LINK.search(anchor.get("href") or ""))


def _in_teaser(element: HtmlElement, text: str) -> bool:
    """Whether a byline belongs to a teaser of another article: inside a link that holds more
    than the byline, or inside a small list item or ``<article>`` with a linked headline."""
    for level, ancestor in enumerate(element.iterancestors()):
        if ancestor.tag == "a":
            if ancestor.get("href") and len(" ".join(ancestor.text_content().split())) > len(text):
                return True
        elif level < CARD_LEVELS and ancestor.tag in ("li", "article"):
            headline = ancestor.find(".//h2/a[@href]")
            if headline is None:
                headline = ancestor.find(".//h3/a[@href]")
            if headline is not None and len(ancestor.text_content()) <= MAX_CARD_CHARS:
                return True
    return False


def _byline_rank(names: str) -> int | None:
    """How surely an element with these (lower-case) class and id names is a byline: 1 or 2
    (0 is for ``rel=author`` and ``itemprop=author``), after trafilatura's ``AUTHOR_XPATHS``,
    whose EXSLT regular expressions cost milliseconds per page where this costs microseconds."""
    if _BYLINE_STRONG.search(names):
        return 1
    if _BYLINE_WEAK.search(names):
        return 2
    return None


def _is_teaser(paragraph: str, link_texts: set[str]) -> bool:
    """A headline linking to another page: words, not an address written out as its link."""
    if len(paragraph) > MAX_SHORT_PARAGRAPH or len(paragraph.split()) < MIN_TEASER_WORDS:
        return False
    whole = key(paragraph)
    unlabelled = key(_LABEL.sub("", _LIST_MARK.sub("", paragraph.strip()), count=1))
    return any(
        len(candidate) >= MIN_TEASER_CHARS and candidate in link_texts
        for candidate in (whole, unlabelled)
    )


def _is_reference(paragraphs: list[str], index: int, paragraph_key: str, scan: PageScan) -> bool:
    """Whether a linked line is a reference the text gives, not a teaser: a link to another
    site, alone, one phrase, after a paragraph of text ("The generation we love to dump on",
    linked to the essay a post is about). A teaser links to the outlet's own pages (its sister
    domains count), sits in a run of links, or carries a label ("Read more:")."""
    if paragraph_key not in scan.other_site_link_texts or not 0 < index < len(paragraphs) - 1:
        return False
    if _INNER_SENTENCE_END.search(paragraphs[index].strip()):
        return False  # "Looking for a shop to rent? See our offers": an advertisement's pitch
    before, after = paragraphs[index - 1], paragraphs[index + 1]
    return (
        len(before) >= MIN_TEXT_BEFORE_REFERENCE
        and before.rstrip().endswith(SENTENCE_ENDS)
        and key(after) not in scan.link_texts
    )


def _is_credit(paragraph: str) -> bool:
    if len(paragraph) > MAX_SHORT_PARAGRAPH:
        return False
    return bool(_CREDIT.search(paragraph) or _SIGNATURE.fullmatch(paragraph.strip()))


def _is_related_heading(paragraph: str) -> bool:
    text = paragraph.strip().rstrip(":").strip()
    if len(text) > MAX_HEADING_CHARS:
        return False
    if paragraph.strip().endswith((".", "!", "?", "。")):
        return False  # a sentence, not a heading
    return bool(_RELATED_HEADING.fullmatch(text) or _MORE_OF_A_KIND.match(text))


def is_notice(paragraph: str) -> bool:
    """Whether a paragraph is the notice of a wall: a site's cookie or consent notice, or a
    call to enable JavaScript or to switch off an ad blocker (a page whose text is nothing but
    such notices shows no article)."""
    if len(paragraph) > MAX_NOTICE_CHARS:
        return False
    lowered = paragraph.lower()
    return _is_cookie_notice(paragraph, lowered) or _is_browser_prompt(paragraph, lowered)


def _is_cookie_notice(paragraph: str, lowered: str) -> bool:
    return (
        any(word in lowered for word in _COOKIES)
        and _CONSENT.search(paragraph) is not None
        and (_SITE_SPEAKS.search(paragraph) is not None or _OUR.search(paragraph) is not None)
    )


def _is_browser_prompt(paragraph: str, lowered: str) -> bool:
    if len(paragraph) > MAX_SHORT_PARAGRAPH or not any(word in lowered for word in _BROWSER_WORDS):
        return False
    found = _BROWSER_PROMPT.search(paragraph)
    if found is None:
        return False
    starts_with_call = not _LEADING_MARKS.sub("", paragraph[: found.start()])
    return starts_with_call or any(
        rule.search(paragraph) is not None for rule in (_PLEASE, _YOU, _OUR)
    )


def _is_prompt(paragraph: str) -> bool:
    """A call to subscribe, follow or log in: it starts with the call or speaks to the reader
    ("Meta, which owns Facebook and Instagram, reported ..." is news, not a prompt); or the
    notice of a wall (:func:`is_notice`)."""
    if is_notice(paragraph):
        return True
    if len(paragraph) > MAX_SHORT_PARAGRAPH:
        return False
    if _ERROR_REPORT.search(paragraph):
        return True
    networks = set(_NETWORKS.findall(paragraph.lower()))
    prompt = _PROMPT.search(paragraph)
    if not (prompt or networks):
        return False
    addresses_reader = bool(_OUR.search(paragraph) or _YOU.search(paragraph))
    starts_with_call = prompt is not None and not _LEADING_MARKS.sub(
        "", paragraph[: prompt.start()]
    )
    if starts_with_call or (addresses_reader and (prompt or len(networks) >= 2)):
        return True
    # "Watch our YouTube channel!", "¡Mira lo que tiene nuestro canal de YouTube!"
    return len(paragraph) <= MAX_PROMPT_CHARS and bool(networks) and addresses_reader


def _is_list_entry(paragraph: str) -> bool:
    text = paragraph.strip()
    return len(text) <= MAX_LIST_ENTRY_CHARS and (
        bool(_LIST_MARK.match(text)) or not text.endswith(SENTENCE_ENDS)
    )


def _continues_prompt(paragraph: str) -> Literal["notice", "fragment"] | None:
    """Whether a paragraph next to a prompt goes on with it: "notice" for more of the notice
    (its wording, a list of perks), "fragment" for a short line that may be its broken-off end
    but does not go on (a run of short lines is headings, not one notice)."""
    if len(paragraph) > MAX_SHORT_PARAGRAPH:
        return None
    if _PROMPT_CONTINUED.search(paragraph) or _LIST_MARK.match(paragraph):
        return "notice"
    return "fragment" if len(paragraph) <= MAX_FRAGMENT_CHARS else None


def remove_boilerplate(
    paragraphs: list[str], scan: PageScan, headlines: Iterable[str] = ()
) -> list[str]:
    """The paragraphs without those the rules recognise as boilerplate.

    ``headlines`` are the page's title and headings: a paragraph that only repeats one is
    not body text. Never returns fewer than one paragraph when given some: if every paragraph
    looks like boilerplate, the page is left to the not-an-article checks instead.
    """
    keys = [key(paragraph) for paragraph in paragraphs]
    total = sum(len(k) for k in keys) or 1
    dropped: set[int] = set()
    for block in scan.block_texts:
        inside = [i for i, k in enumerate(keys) if len(k) >= MIN_BLOCK_KEY and k in block]
        if sum(len(keys[i]) for i in inside) <= MAX_BLOCK_SHARE * total:
            dropped.update(inside)
    headline_keys = {key(headline) for headline in headlines} - {""}
    prompts = [index for index, paragraph in enumerate(paragraphs) if _is_prompt(paragraph)]
    dropped.update(prompts)
    for index in prompts:
        # a paywall or membership notice runs over several paragraphs and lists of perks
        for step in (-1, 1):
            neighbour = index + step
            while 0 <= neighbour < len(paragraphs):
                continued = _continues_prompt(paragraphs[neighbour])
                if continued is None:
                    break
                dropped.add(neighbour)
                if continued == "fragment":
                    break  # a line's broken-off end closes the notice
                neighbour += step
    in_related_list = False
    for index, paragraph in enumerate(paragraphs):
        if _is_related_heading(paragraph):
            dropped.add(index)
            in_related_list = True
        elif in_related_list and _is_list_entry(paragraph):
            # the entries under "See also:" are headlines and link labels, not sentences
            dropped.add(index)
        else:
            in_related_list = False
            if index not in dropped and (
                keys[index] in headline_keys
                or (
                    _is_teaser(paragraph, scan.link_texts)
                    and not _is_reference(paragraphs, index, keys[index], scan)
                )
                or _is_credit(paragraph)
            ):
                dropped.add(index)
    kept = [p for i, p in enumerate(paragraphs) if i not in dropped]
    return _without_empty_sections(kept, scan.heading_levels) or paragraphs


def split_comment_section(paragraphs: list[str], scan: PageScan) -> tuple[list[str], list[str]]:
    """The paragraphs without the readers' comment section trafilatura left at their end, and
    that section's comments (:func:`comment_section_start`; its list items are the widget's
    house rules or opening hours, not readers' comments)."""
    start = comment_section_start(paragraphs, scan)
    section = [p for p in paragraphs[start:] if not _LIST_MARK.match(p.strip())]
    return paragraphs[:start], section


def comment_section_start(paragraphs: list[str], scan: PageScan) -> int:
    """Where the readers' comment section trafilatura left at the text's end begins (the
    comment-section rule): the first of the last paragraphs that are all in elements named as
    comments (a short line among them, a user name or "Reply", goes with them), at least one
    of them long enough to tell. ``len(paragraphs)`` when there is none, or when that run holds
    more than ``MAX_BLOCK_SHARE`` of the text (then the page is the comments)."""
    if not scan.comment_texts:
        return len(paragraphs)
    keys = [key(paragraph) for paragraph in paragraphs]
    start, told = len(paragraphs), False
    while start > 0:
        paragraph_key = keys[start - 1]
        if len(paragraph_key) >= MIN_BLOCK_KEY:
            if not any(paragraph_key in section for section in scan.comment_texts):
                break
            told = True
        start -= 1
    while start < len(paragraphs) and len(keys[start]) < MIN_BLOCK_KEY:
        start += 1  # the short lines before the section's first comment stay
    total = sum(len(k) for k in keys) or 1
    if not told or sum(len(k) for k in keys[start:]) > MAX_BLOCK_SHARE * total:
        return len(paragraphs)
    return start


def _heading_level(paragraph: str, levels: Mapping[str, int]) -> int | None:
    """The rank of the heading a paragraph is the text of (``None``: not a heading; a sentence
    set as a heading, "Es stützt seine Version.", is text)."""
    if paragraph.strip().endswith(SENTENCE_ENDS):
        return None
    return levels.get(key(paragraph))


def _without_empty_sections(paragraphs: list[str], levels: Mapping[str, int]) -> list[str]:
    """The paragraphs without the headings of sections that hold nothing: a heading followed by
    one of the same or a higher rank (the section's content was a widget, a video, a list of
    links taken out before)."""
    ranks = [_heading_level(paragraph, levels) for paragraph in paragraphs]
    kept = []
    for index, paragraph in enumerate(paragraphs):
        rank = ranks[index]
        following = ranks[index + 1] if index + 1 < len(ranks) else None
        if rank is None or following is None or following > rank:
            kept.append(paragraph)
    return kept


def without_closing_headings(paragraphs: list[str], scan: PageScan) -> list[str]:
    """The paragraphs without the headings that end them: a text does not end with a heading
    (the section it opened was a table, a widget or a list of links, gone); never empties."""
    end = len(paragraphs)
    while end > 1 and _heading_level(paragraphs[end - 1], scan.heading_levels) is not None:
        end -= 1
    return paragraphs[:end]


def within_article_body(paragraphs: list[str], article_body: str | None) -> list[str]:
    """The paragraphs, without short ones missing from the page's JSON-LD ``articleBody``.

    ``articleBody`` is what the publisher says the article is, but often truncated (behind a
    paywall), flattened, or formatted differently, so it does not replace the extracted text.
    When it contains at least ``MIN_ARTICLE_BODY_SHARE`` of that text, it is trusted to mark the
    article's extent: short paragraphs it lacks are page furniture. Longer ones are kept (a
    mismatch there is more likely formatting than boilerplate).
    """
    if not article_body or not paragraphs:
        return paragraphs
    body = key(article_body)
    inside = [len(paragraph) for paragraph in paragraphs if key(paragraph) in body]
    if sum(inside) < MIN_ARTICLE_BODY_SHARE * sum(len(p) for p in paragraphs):
        return paragraphs
    return [
        paragraph
        for paragraph in paragraphs
        if len(paragraph) > MAX_OUTSIDE_BODY_CHARS or key(paragraph) in body
    ]
