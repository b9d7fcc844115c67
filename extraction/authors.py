"""Author credits from bylines: the people who wrote an article, and the organizations credited
as its author or source (outlets, agencies, newsrooms, wires), each in a list of its own.

Plain functions over strings. :func:`credits_of` splits a byline into parts (on ``,`` ``/``
"and", ...); each part loses its label ("By", "Von", "记者", "责任编辑："), its title ("Dr.") and
its role ("Staff Writer", "기자"), and is then an organization (:func:`is_organization`), a
person (a name's shape), or neither (a role, a user name, an interface word, a phrase) and
dropped. :func:`is_outlet` tells the outlet itself from the agencies and newsrooms it credits.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
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


def organizations_named(names: Iterable[str]) -> list[str]:
    """The names of organizations the page's structured data credits as authors (JSON-LD
    ``Organization``), whatever they look like ("kicker", "mbl.is"), but no placeholder
    ("Redaktion") and no phrase ("Contributors to Wikimedia projects")."""
    cleaned = (clean_space(_LABEL.sub("", clean_space(name) or "")) or "" for name in names)
    return _unique(name for name in cleaned if _is_organization_name(name))


def credits_of(bylines: Iterable[str], outlets: frozenset[str] = frozenset()) -> Credits:
    """The people and organizations bylines credit, each without repeats, in order.

    A byline that is the outlet's name (one of ``outlets``, keys of :func:`outlet_keys`), or an
    agency signature ("det/dpa"), is one organization, whatever separators it holds. Else each
    part of it that names an
    organization (:func:`is_organization`) is one, and the single words after it its place
    ("SPIEGEL ONLINE, Hamburg, Germany"); each part shaped like a person's name is a person. A
    byline in which no part names anyone may be a newsroom's credit as a whole ("Redaktion
    Polizeiticker Schweiz", "Staff and news service reports")."""
    people: list[str] = []
    organizations: list[str] = []
    for byline in bylines:
        whole = clean_space(_LABEL.sub("", clean_space(byline) or "")) or ""
        if _key(whole) in outlets:
            organizations += organizations_named([whole])
            continue
        if whole[:1].islower() and _is_signature(whole):  # "det/dpa": an author's initials
            organizations.append(whole)
            continue
        named = after_organization = False
        for part in _parts(byline):
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
