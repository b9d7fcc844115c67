"""Author credits from bylines: the people who wrote an article, and the organizations credited
as its author or source (outlets, agencies, newsrooms, wires), each in a list of its own.

Plain functions over strings. :func:`credits_of` splits a byline into parts (on ``,`` ``/``
"and", ...); each part loses its label ("By", "Von", "记者", "责任编辑："), its title ("Dr.") and
its role ("Staff Writer", "기자"), and is then an organization (:func:`is_organization`), a
person (a name's shape), or neither (a role, a user name, an interface word, a phrase) and
dropped. :func:`is_outlet` tells the outlet itself from the agencies and newsrooms it credits.

The page's text writes bylines too: :func:`labelled_byline` reads a line that starts with a
label ("By Jane Doe | 12 May"), :func:`east_asian_byline` a Chinese line with a label before
the names ("记者 王建宏", the mirror of the role Korean, Japanese and Chinese write after a
name), :func:`bracketed_names` the reporters' names in brackets that end a Chinese article, and
:func:`name_line` a paragraph that is only names.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING

from extraction.structured import clean_space

if TYPE_CHECKING:
    from collections.abc import Iterable

MAX_AUTHORS = 12
MAX_NAME_CHARS = 60
MAX_NAME_WORDS = 6
MAX_ORGANIZATION_CHARS = 60
MIN_OUTLET_KEY_CHARS = 6
"""An outlet's name this long or longer is the outlet inside a longer credit too."""

# Between two names in one byline.
_SEPARATORS = re.compile(
    r"\s*(?:[;|,/、，]|\s(?:and|und|et|y|e|i|og|och|ve|и)\s|&|\+)\s*", re.IGNORECASE
)
# "A, B, and C": the comma splits first, and would leave "and C" (a phrase) behind.
_CONJUNCTION_AFTER_COMMA = re.compile(r",\s*(?:and|und|et|y|e|og|och)\s+", re.IGNORECASE)
# Labels before a name: "By", "Von", "Autor:", "Texto:", ..., and the East-Asian ones, which
# no space need follow ("记者王敬照", "责任编辑：魏喆").
_LATIN_LABELS = (
    r"by|von|vom|par|por|di|da|de|door|av|af|text|texto|testo|tekst|autor(?:[/*:_]in)?|autora|"
    r"autorin|author|authors|auteur|autore|reporter|reportage|redakteur|redakteurin|escrito por|"
    r"written by|posted by|publicado por|verfasst von|geschrieben von|oleh|penulis|yazar"
)
_EAST_ASIAN_LABELS = (
    r"特约记者|特約記者|记者|記者|通讯员|通訊員|作者|撰文|采写|採寫|责任编辑|責任編輯|责编|責編|"
    r"编辑|編輯"
)
_LABEL = re.compile(
    rf"^(?:(?:{_LATIN_LABELS})\b\s*:?\s*|(?:{_EAST_ASIAN_LABELS})\s*[:：︱|]?\s*)",
    re.IGNORECASE,
)
# A part that is a role, not a name ("Senior Reporter", "Staff Writer", "Korrespondent").
_ROLE = re.compile(
    r"\b(?:staff|reporter|reporters|correspondent|editor|editors|editorial|journalist|writer|"
    r"columnist|contributor|contributing|photographer|redaktion|redakteur|korrespondent|"
    r"periodista|corresponsal|redacci[óo]n|journaliste|r[ée]dacteur|r[ée]daction|giornalista|"
    r"redazione|admin|administrator|anonymous|unknown|guest|submitted|newsroom|desk|"
    r"no author|wire|agencies|agenturen|agencias|agences|agenzie|ag[êe]ncias|"
    r"fotos?|photos?|photography|fotograf[íi]a|fotografie|bilder)\b",
    re.IGNORECASE,
)
# Titles before a name, which is the name without them ("Dr. Sebastian Brüggemann").
_TITLE = re.compile(
    r"^(?:(?:Prof|Dr|PD)\.?\s+|(?:Mag|Dipl\.-\w+)\.\s+|(?:Rechtsanw[äa]lt(?:in)?|RA)\s+)+"
)
# A role written after the name in Korean, Japanese and Chinese bylines ("박준석 기자").
_ROLE_SUFFIX = re.compile(r"\s*(?:기자|특파원|記者|记者|特派員|特派员|編集委員|编辑)$")
# A final period that belongs to the name: an initial ("Nicolas Gutierrez C.") or "Jr.".
_NAME_PERIOD = re.compile(r"(?:\b\w|\b[JS]r)\.$")
# Words of a byline widget's interface, not of a name ("Follow", "この記事を書いた人").
_INTERFACE_WORD = re.compile(
    r"^(?:follow|folgen|suivre|seguir|segui|more|mehr|plus|profile|profil|bio|e-?mail|contact|"
    r"kontakt|facebook|twitter|x|instagram|linkedin|xing|google\+?|threads|bluesky|mastodon|"
    r"フォロー(?:する)?|この記事を書いた人|記者をフォロー|専門・関心分野|该作者文章|作者文章)$",
    re.IGNORECASE,
)
_INTERFACE_SUFFIX = re.compile(r"\s+(?:follow|folgen|suivre|フォロー(?:する)?)$", re.IGNORECASE)
_USER_NAME = re.compile(r"^[\w.-]+$")
_UNSPACED_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
# Names in Chinese, Japanese and Korean have one or two parts; more is a phrase.
MAX_UNSPACED_NAME_PARTS = 2
MIN_UNSPACED_NAME_CHARS = 2
MAX_UNSPACED_NAME_CHARS = 12
# Lower-case words that belong in names ("Guillermo de la Torre", "Ludwig van Beethoven").
_PARTICLES = frozenset(
    [
        "de",
        "la",
        "le",
        "du",
        "des",
        "del",
        "della",
        "di",
        "da",
        "das",
        "do",
        "dos",
        "van",
        "von",
        "der",
        "den",
        "ter",
        "ten",
        "zu",
        "bin",
        "ibn",
        "al",
        "el",
        "y",
        "e",
    ]
)

# --- organizations ------------------------------------------------------------------------------

# Credits that stand for no one, not even an organization.
_PLACEHOLDER = re.compile(
    r"^(?:no author|unknown|anonymous|admin|administrator|agencies|agencias|agenturen|agences|"
    r"agenzie|guest|null|none|n/?a|redaktion|redacci[óo]n|r[ée]daction|redazione|staff|"
    r"newsroom|editor|editors|wire)$",
    re.IGNORECASE,
)
# Words that make a credit an organization's: agencies, media companies, foundations.
_ORGANIZATION_WORD = re.compile(
    r"\b(?:news|press|presse|prensa|agency|agentur|agencia|agence|agenzia|ag[êe]ncia|online|"
    r"media|medien|foundation|stiftung|fundaci[óo]n|fondation|verlag|gmbh|inc|ltd|llc|"
    r"zeitung|magazine|magazin|newspaper|wire service)\b",
    re.IGNORECASE,
)
# Endings of the names of outlets, agencies and media groups in Chinese and Japanese.
_EAST_ASIAN_OUTLET = re.compile(
    r"..(?:网|網|报|報|社|新闻|新聞|日报|日報|晚报|晚報|集团|集團|电视台|電視台|"
    r"频道|頻道|杂志|雜誌|デジタル|オンライン|放送|通信|新聞社|ニュース)$"
)
# A domain name written as a credit ("mbl.is", "www.dw.com").
_DOMAIN = re.compile(
    r"(?<![\w@.])(?:www\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*"
    r"\.(?:[a-z]{2,3}|info|news|online|media)(?![\w@.-])"
)
# A credit that is a web address: a host name, with a scheme ("https://", "//") or a path or
# not ("https://example.com/", "example.com/staff", "www.example.com", "mbl.is").
_WEB_ADDRESS = re.compile(r"(?P<scheme>(?:https?:)?//)?(?P<host>[^\s/?#]+)(?P<rest>[/?#]\S*)?")
# An agency signature: the author's and the agency's short names ("det/dpa", "aja/PAP").
_SIGNATURE = re.compile(r"[^\W\d]{1,6}(?:\s*/\s*[^\W\d]{2,8})+")
# Between the credits of a byline read as a whole ("Redaktion X | dpa").
_WHOLE_CREDITS = re.compile(r"\s*[;|]\s*")
# The wire services that credit most agency copy, by the names their credits use (some
# lower-case, some no acronym: "dpa", "Reuters").
_AGENCY = re.compile(
    r"^(?:reuters|dpa|afp|ap|efe|ansa|apa|sda|kna|epd|ddp|kyodo|jiji|xinhua|yonhap|tass|"
    r"ria novosti|interfax|anadolu|pti|ians|lusa|anp|belga|ntb|tt|ritzau|pap|čtk|ctk|mti|"
    r"bloomberg|upi)$",
    re.IGNORECASE,
)
# An agency or outlet written as an acronym ("AFP", "DPA", "EFE", "JIJI").
_ACRONYM = re.compile(r"^[A-Z]{2,5}$")
# Words of a newsroom's credit besides its name ("Redaktion X", "Staff and news reports").
_ROLE_ADJECTIVES = frozenset(
    [
        "and",
        "und",
        "et",
        "y",
        "of",
        "the",
        "der",
        "die",
        "das",
        "de",
        "del",
        "la",
        "le",
        "senior",
        "chief",
        "special",
        "deputy",
        "associate",
        "executive",
        "managing",
        "freelance",
        "political",
    ]
)


@dataclass(frozen=True)
class Credits:
    """Who a byline credits: people's names, and organizations' names, each in page order."""

    people: list[str] = field(default_factory=list)
    organizations: list[str] = field(default_factory=list)


def _is_name(part: str) -> bool:
    if not part or len(part) > MAX_NAME_CHARS or len(part.split()) > MAX_NAME_WORDS:
        return False
    if not part[0].isalpha() or any(char.isdigit() for char in part) or "@" in part:
        return False
    if _ROLE.search(part):
        return False
    if _UNSPACED_SCRIPT.search(part) and (
        len(part.split()) > MAX_UNSPACED_NAME_PARTS
        or not MIN_UNSPACED_NAME_CHARS <= len(part.replace(" ", "")) <= MAX_UNSPACED_NAME_CHARS
    ):
        return False
    # a phrase, not a name: lower-case words other than name particles
    if any(word[0].islower() and word not in _PARTICLES for word in part.split()):
        return False
    # a user name such as "edilson.la.rosa" or "jdoe" (no capital, no space)
    return not (_USER_NAME.match(part) and part == part.lower() and part.isascii())


def _key(text: str) -> str:
    """Letters and digits only, without case and accents: how credits and outlets compare."""
    decomposed = unicodedata.normalize("NFKD", text).casefold()
    return "".join(c for c in decomposed if c.isalnum() and not unicodedata.combining(c))


# Second-level labels under which names are registered ("bbc.co.uk"), not names themselves.
_GENERIC_LABELS = frozenset(["co", "com", "org", "net", "gov", "ac", "edu", "ne", "or", "go"])


def host_label(host: str | None) -> str | None:
    """The name a host is registered under ("lesothotimes" for ``www.lesothotimes.com``,
    "bbc" for ``www.bbc.co.uk``): the outlet's name as its address writes it."""
    labels = (host or "").lower().rstrip(".").split(".")[:-1]
    while labels and labels[-1] in _GENERIC_LABELS:
        labels.pop()
    return labels[-1] if labels else None


def outlet_keys(outlets: Iterable[str | None]) -> frozenset[str]:
    """The keys :func:`is_outlet` compares credits with, of the outlet's names (its site name,
    the organizations its structured data names as authors, :func:`host_label`)."""
    return frozenset(key for key in map(_key, filter(None, outlets)) if key)


def _names_outlet(text: str, outlets: frozenset[str]) -> bool:
    return (
        _key(text) in outlets
        or _DOMAIN.search(text) is not None
        or _EAST_ASIAN_OUTLET.search(text) is not None
    )


def _web_address(text: str) -> re.Match[str] | None:
    """``text`` read as a web address (its ``scheme``, ``host`` and ``rest``), when it is
    nothing else."""
    match = _WEB_ADDRESS.fullmatch(text)
    return match if match and _DOMAIN.fullmatch(match["host"]) else None


def credits_address(text: str, outlets: frozenset[str]) -> bool:
    """Whether a credit that is a web address (:func:`_web_address`) names an organization:
    only the outlet's own host name alone, its name as many outlets write it ("mbl.is" on
    ``www.mbl.is``, "ORF.at", "futurezone.at": the host's registered name, :func:`host_label`,
    is one of ``outlets``, keys of :func:`outlet_keys`). A link ("https://example.com/",
    "example.com/staff") or another site's address names no one: a template's or a crafted
    page's, no author."""
    address = _web_address(text)
    if address is None:
        return True
    if address["scheme"] or address["rest"]:
        return False
    return _key(host_label(address["host"]) or "") in outlets


def is_outlet(organization: str, outlets: frozenset[str]) -> bool:
    """Whether an organization credited as author is the outlet itself rather than an agency
    or a newsroom: one of its names (keys of :func:`outlet_keys`) or a longer form of one
    ("Süddeutsche.de GmbH", not a newsroom's "Redaktion X"), a domain name, a Chinese or
    Japanese outlet's name. Content systems put it where no byline was given."""
    text = organization.strip()
    if _names_outlet(text, outlets):
        return True
    if _ROLE.search(text):  # a newsroom's credit ("Redacción Diario Pagina Siete")
        return False
    key = _key(text)
    return any(len(outlet) >= MIN_OUTLET_KEY_CHARS and outlet in key for outlet in outlets)


def is_organization(name: str, outlets: frozenset[str] = frozenset()) -> bool:
    """Whether a credit names an organization rather than a person: the outlet (one of
    ``outlets``, keys of :func:`outlet_keys`; a domain name; a Chinese or Japanese outlet's
    name, "朝日新聞デジタル"), an acronym ("AFP"), an agency signature ("det/dpa"), or a name
    with an organization's word in it ("Agencia EFE", "Wikimedia Foundation")."""
    text = name.strip()
    if not text or len(text) > MAX_ORGANIZATION_CHARS:
        return False
    if _names_outlet(text, outlets) or _ACRONYM.match(text) or _AGENCY.match(text):
        return True
    if _is_signature(text):
        return True
    return bool(_ORGANIZATION_WORD.search(text)) and text[0].isupper()


def _is_signature(text: str) -> bool:
    return "/" in text and _SIGNATURE.fullmatch(text) is not None


def _is_organization_name(name: str) -> bool:
    """Whether a credit can be an organization's name: not a placeholder ("Redaktion", "No
    Author"), not a phrase ("Contributors to Wikimedia projects": lower-case words other than
    particles; a single lower-case word such as "kicker" or "mbl.is" is a name)."""
    words = name.split()
    if not words or len(name) > MAX_ORGANIZATION_CHARS or _PLACEHOLDER.match(name):
        return False
    return len(words) == 1 or not any(
        word[0].islower()
        and word not in _PARTICLES
        and word not in _ROLE_ADJECTIVES
        and not _DOMAIN.fullmatch(word)
        for word in words
    )


def _is_newsroom(credit: str) -> bool:
    """A newsroom's or wire's credit: a role word and the newsroom's own name ("Redaktion
    Polizeiticker Schweiz", "MM-Redaktion", "CNN Wire", "Staff and news service reports"),
    not a role alone ("Senior Reporter", "Redaktion")."""
    if not _ROLE.search(credit) or _PLACEHOLDER.match(credit):
        return False
    words = [word for word in re.split(r"[\s-]+", credit) if word]
    if len(words) < 2 or any(char.isdigit() for char in credit):
        return False
    named = [
        word
        for word in words
        if not _ROLE.fullmatch(word) and word.casefold() not in _ROLE_ADJECTIVES
    ]
    return bool(named) and (
        any(word[0].isupper() for word in named) or bool(_ORGANIZATION_WORD.search(credit))
    )


def _parts(byline: str) -> list[str]:
    """The parts of a byline that may each name someone: split on separators, without labels,
    roles written after a name, interface words and stray punctuation."""
    text = _CONJUNCTION_AFTER_COMMA.sub(", ", _LABEL.sub("", clean_space(byline) or ""))
    parts = []
    for piece in _SEPARATORS.split(text):
        part = piece.strip(" .:-–—·•")
        if _NAME_PERIOD.search(piece.rstrip(" :-–—·•")):
            part += "."
        part = clean_space(_ROLE_SUFFIX.sub("", _TITLE.sub("", _LABEL.sub("", part)))) or ""
        part = _INTERFACE_SUFFIX.sub("", part)
        if part and not _INTERFACE_WORD.match(part):
            parts.append(part)
    return parts


def _unique(values: Iterable[str], limit: int = MAX_AUTHORS) -> list[str]:
    seen: dict[str, str] = {}
    for value in values:
        seen.setdefault(value.casefold(), value)
    return list(seen.values())[:limit]


def organizations_named(names: Iterable[str], outlets: frozenset[str] = frozenset()) -> list[str]:
    """The names of organizations the page's structured data credits as authors (JSON-LD
    ``Organization``), whatever they look like ("kicker", "mbl.is"), but no placeholder
    ("Redaktion"), no phrase ("Contributors to Wikimedia projects") and no web address but
    the outlet's own (:func:`credits_address`; ``outlets``, keys of :func:`outlet_keys`)."""
    cleaned = (clean_space(_LABEL.sub("", clean_space(name) or "")) or "" for name in names)
    return _unique(
        name for name in cleaned if _is_organization_name(name) and credits_address(name, outlets)
    )


def credits_of(bylines: Iterable[str], outlets: frozenset[str] = frozenset()) -> Credits:
    """The people and organizations bylines credit, each without repeats, in order.

    A byline that is the outlet's name (one of ``outlets``, keys of :func:`outlet_keys`), or an
    agency signature ("det/dpa"), is one organization, whatever separators it holds. Else each
    part of it that names an
    organization (:func:`is_organization`) is one, and the single words after it its place
    ("SPIEGEL ONLINE, Hamburg, Germany"); each part shaped like a person's name is a person. A
    byline in which no part names anyone may be a newsroom's credit as a whole ("Redaktion
    Polizeiticker Schweiz", "Staff and news service reports"). A web address, whole or a
    part, credits the outlet when it is the outlet's own host name, else no one
    (:func:`credits_address`)."""
    people: list[str] = []
    organizations: list[str] = []
    for byline in bylines:
        whole = clean_space(_LABEL.sub("", clean_space(byline) or "")) or ""
        if _web_address(whole):
            organizations += [whole] if credits_address(whole, outlets) else []
            continue
        if _key(whole) in outlets:
            organizations += organizations_named([whole])
            continue
        if whole[:1].islower() and _is_signature(whole):  # "det/dpa": an author's initials
            organizations.append(whole)
            continue
        named = after_organization = False
        for part in _parts(byline):
            if not credits_address(part, outlets):
                continue
            if is_organization(part, outlets) and _is_organization_name(part):
                organizations.append(part)
                named = after_organization = True
            elif after_organization and " " not in part:
                continue  # the organization's place
            elif _is_name(part):
                people.append(part)
                named = True
        if not named:
            for credit in _WHOLE_CREDITS.split(whole):
                candidate = credit.strip(" .:-–—·•")
                if _is_signature(candidate) or _is_newsroom(candidate):
                    organizations.append(candidate)
    return Credits(_unique(people), _unique(organizations))


# --- bylines in the page's text -----------------------------------------------------------------

MAX_BYLINE_LINE_CHARS = 90
"""A line of text longer than this is no byline line ("By Jane Doe | 12 May 2024")."""
# A line that starts with a byline's label; the names follow.
_LINE_LABELS = (
    r"by|von|par|por|door|av|af|text|texto|testo|tekst|autor(?:[/*:_]in)?|autora|autorin|"
    r"author|auteur|"
    r"autore|written by|escrito por|verfasst von|geschrieben von|posted by|oleh|penulis|yazar|"
    r"muhabir|reportage|reporter|reporters|writer"
)
_LINE_LABEL = re.compile(rf"^\s*(?:{_LINE_LABELS})\s*[:：]?\s+(?P<names>\S.*)$", re.IGNORECASE)
# What follows the names on a byline line: a section ("By TPN, in News"), a separator, a date,
# a place after a dash, another label ("Von X Foto: Y").
_LINE_TAIL = re.compile(
    r"(?:,\s+in\s+|\s[|·•]\s|\s[-–—]\s|\s\d{1,2}[./ ]|\s(?:am|um|at|à|le|el|on)\s+\d|"
    r"\s[^\W\d]+\s?[:：]).*$",
    re.IGNORECASE,
)


_LINE_LABEL_START = re.compile(rf"^\s*(?:{_LINE_LABELS})\s*[:：]?(?:\s|$)", re.IGNORECASE)


def starts_with_label(text: str) -> bool:
    """Whether a piece of text starts with a byline's label (its names may follow in the next
    element: ``<span>By</span> <a>Jane Doe</a>``)."""
    return _LINE_LABEL_START.match(text) is not None


def labelled_byline(line: str) -> str | None:
    """The names of a line of text that is a labelled byline ("By Jane Doe", "Von Max
    Mustermann | 12.03.2020", "Autor: Hans Meier"), without what follows them; ``None`` for
    any other line."""
    if len(line) > MAX_BYLINE_LINE_CHARS:
        return None
    match = _LINE_LABEL.match(line)
    if match is None:
        return None
    return _LINE_TAIL.sub("", match.group("names")).strip() or None


_HAN = r"[\u3400-\u4dbf\u4e00-\u9fff]"
_HAN_NAME = rf"{_HAN}{{2,4}}"
_HAN_NAMES = rf"{_HAN_NAME}(?:[ \u3000、，,]+{_HAN_NAME}){{0,3}}"
# A reporter's or author's label before the names ("记者 王建宏", "作者：郭励弘", "记者马俊峰/文").
_REPORTER_LABEL = (
    r"(?:(?:特约记者|特約記者|记者|記者|通讯员|通訊員)\s*[:：︱|]?|(?:作者|撰文|采写|採寫|文)\s*"
    rf"[:：︱|/／])\s*(?P<names>{_HAN_NAMES})(?!{_HAN})"
)
# An editor's label before the names ("责任编辑：魏喆", "(责编：牛镛、岳弘彬)").
_EDITOR_LABEL = (
    rf"(?:责任编辑|責任編輯|责编|責編|编辑|編輯)\s*[:：︱|]\s*(?P<names>{_HAN_NAMES})(?!{_HAN})"
)
# Unlabelled names in brackets at the end of an article ("（常书香 马丹阳 ）", "（姚峰 上海报道）").
_BRACKETED_NAMES = (
    rf"[。！？!?”\"」』]\s*[（(]\s*"
    rf"(?P<names>{_HAN}{{2,3}}(?:[ \u3000、，,]+{_HAN}{{2,3}}){{0,2}})\s*"
    rf"(?:[ \u3000]{_HAN}{{2,6}}报道)?\s*[)）]\s*$"
)


@cache
def chinese_byline_patterns() -> tuple[re.Pattern[str], re.Pattern[str], re.Pattern[str]]:
    """The reporter's label, the editor's label and the bracketed names, compiled when first
    asked: together 9 ms of compiling, kept off the start of the crawl process, which imports
    this module for its names and extracts no page (the extraction workers' fork server
    compiles them once, in ``extraction.worker.warm_up``)."""
    return (
        re.compile(_REPORTER_LABEL),
        re.compile(_EDITOR_LABEL),
        re.compile(_BRACKETED_NAMES),
    )


_BRACKETED = re.compile(r"[（(][^（）()]{2,30}[)）]")
_NAME_SPLIT = re.compile(r"[ \u3000、，,]+")
# Words that follow a label but name no one: "记者调查" (a section), "联系记者" (a link),
# "记者会见" (a press conference), "作者文章" (this author's articles).
_NOT_A_NAME = re.compile(
    r"^(?:调查|調查|观察|觀察|手记|手記|博客|联系|聯繫|了解|获悉|獲悉|采访|採訪|走访|證實|证实|发现|"
    r"發現|注意|会见|會見|会見|招待会|招待會|募集|招聘|节|節|会|會)$|编辑|編輯|记者|記者|作者|来源|來源|"
    r"文章|报道|報道|报导|報導"
)
_PHOTO_CREDIT = ("摄", "攝")
_REPORTED_FROM = ("报道", "報道", "报导", "報導", "电", "電")
MAX_SHORT_LINE_CHARS = 40
"""A line of text this short may be a byline as a whole; in a longer one, only a bracketed
segment is looked at ("据新华社拉萨电（记者 格桑边觉）")."""


def _han_names(match: re.Match[str], text: str) -> list[str]:
    names = _NAME_SPLIT.split(match.group("names").strip())
    after = text[match.end() :].lstrip()
    if after.startswith(_PHOTO_CREDIT):  # "记者 才扬 摄": a photographer's credit
        return []
    # "记者 彭冲 冠县 报道": the word before "reported" is where it was reported from
    reported = next((i for i, name in enumerate(names) if name in _REPORTED_FROM), None)
    if reported is not None:
        names = names[: max(reported - 1, 1)]
    elif after.startswith(_REPORTED_FROM) and len(names) > 1:
        names = names[:-1]
    return [
        name
        for name in names
        if not _NOT_A_NAME.search(name) and not _EAST_ASIAN_OUTLET.search(name)
    ]


def east_asian_byline(line: str) -> tuple[list[str], list[str]]:
    """The reporters and the editors a line of Chinese text credits with a label before their
    names ("光明日报记者 王建宏 张文攀", "（ 责任编辑：魏喆 ）"): the whole line when it is short,
    else its bracketed segments. A photographer ("记者 才扬 摄") is no author."""
    segments = [line] if len(line) <= MAX_SHORT_LINE_CHARS else _BRACKETED.findall(line)
    found: tuple[list[str], list[str]] = ([], [])
    reporter, editor, _ = chinese_byline_patterns()
    for index, pattern in enumerate((reporter, editor)):
        for segment in segments:
            match = pattern.search(segment)
            names = _han_names(match, segment) if match else []
            if names:
                found[index].extend(names)
                break
    return found


def bracketed_names(paragraph: str) -> list[str]:
    """The names in brackets at the end of a paragraph of Chinese text, the reporters' credit
    of many articles ("……（常书香 马丹阳 ）", "（姚峰 上海报道）")."""
    match = chinese_byline_patterns()[2].search(paragraph)
    return _han_names(match, "") if match else []


MAX_NAME_LINE_CHARS = 60
"""A paragraph longer than this is no name-only byline."""
MAX_NAME_LINE_PEOPLE = 3
_NAME_LINE_SEPARATORS = re.compile(r"\s*[/,&]\s*|\s+(?:and|und|et|y|e)\s+")
_LINE_END = (".", "!", "?", ":", ";", "…", "»", '"', "”", ")")
_INFLECTED = re.compile(r"\w{3,}['’]\w")


def name_line(paragraph: str) -> list[str]:
    """The people of a paragraph that is nothing but one to three names of two to four
    capitalized words ("MTHOBISI SITHOLE", "Mathatisi Sebusi/Mohalenyane Phakela"), an
    unlabelled byline at either end of an article; empty for anything else (a sentence, a
    heading of other words)."""
    line = paragraph.strip()
    if not line or len(line) > MAX_NAME_LINE_CHARS or line.endswith(_LINE_END):
        return []
    if starts_with_label(line) or ":" in line:  # a labelled byline, or "Ohrring: Lui Lu"
        return []
    if _INFLECTED.search(line):  # "BORNOVA'DA": an inflected word, not a name
        return []
    parts = [part.strip() for part in _NAME_LINE_SEPARATORS.split(line) if part.strip()]
    if not parts or len(parts) > MAX_NAME_LINE_PEOPLE:
        return []
    for part in parts:
        words = part.split()
        if not 2 <= len(words) <= 4 or not _is_name(part) or is_organization(part):
            return []
        if not all(word[0].isupper() or word in _PARTICLES for word in words):
            return []
    return parts
