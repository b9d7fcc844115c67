"""Author names from bylines: a clean list of people (organizations only when no one is named)."""

from __future__ import annotations

import re

from extraction.structured import clean_space

MAX_AUTHORS = 12
MAX_NAME_CHARS = 60
MAX_NAME_WORDS = 6

# Between two names in one byline.
_SEPARATORS = re.compile(
    r"\s*(?:[;|,/、，]|\s(?:and|und|et|y|e|i|og|och|ve|и)\s|&|\+)\s*", re.IGNORECASE
)
# Labels before a name: "By", "Von", "Autor:", "Texto:", ...
_LABEL = re.compile(
    r"^(?:by|von|vom|par|por|di|da|de|door|av|af|text|texto|testo|autor|autora|autorin|author|"
    r"authors|auteur|autore|reporter|reportage|redakteur|redakteurin|escrito por|written by|"
    r"posted by|publicado por|verfasst von)\b\s*:?\s*",
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
# A role written after the name in Korean, Japanese and Chinese bylines ("박준석 기자").
_ROLE_SUFFIX = re.compile(r"\s*(?:기자|특파원|記者|记者|特派員|特派员|編集委員|编辑)$")
_USER_NAME = re.compile(r"^[\w.-]+$")
_UNSPACED_SCRIPT = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")
# Names in Chinese, Japanese and Korean have one or two parts; more is a phrase.
MAX_UNSPACED_NAME_PARTS = 2
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


def _is_name(part: str) -> bool:
    if not part or len(part) > MAX_NAME_CHARS or len(part.split()) > MAX_NAME_WORDS:
        return False
    if not part[0].isalpha() or any(char.isdigit() for char in part) or "@" in part:
        return False
    if _ROLE.search(part):
        return False
    if _UNSPACED_SCRIPT.search(part) and (
        len(part.split()) > MAX_UNSPACED_NAME_PARTS
        or len(part.replace(" ", "")) > MAX_UNSPACED_NAME_CHARS
    ):
        return False
    # a phrase, not a name: lower-case words other than name particles
    if any(word[0].islower() and word not in _PARTICLES for word in part.split()):
        return False
    # a user name such as "edilson.la.rosa" or "jdoe" (no capital, no space)
    return not (_USER_NAME.match(part) and part == part.lower() and part.isascii())


def clean_authors(bylines: list[str]) -> list[str]:
    """Names from bylines: split on separators, labels removed, roles and junk dropped,
    without repeats, in order."""
    names: dict[str, str] = {}
    for byline in bylines:
        for part in _SEPARATORS.split(clean_space(byline) or ""):
            name = clean_space(_ROLE_SUFFIX.sub("", _LABEL.sub("", part.strip(" .:-–—·•"))))
            if name and _is_name(name) and name.casefold() not in names:
                names[name.casefold()] = name
    return list(names.values())[:MAX_AUTHORS]


def without_outlet(authors: list[str], outlets: list[str | None]) -> list[str]:
    """``authors`` without the outlet's own name, unless nobody else is named."""
    names = {outlet.casefold() for outlet in outlets if outlet}
    people = [author for author in authors if author.casefold() not in names]
    return people or authors
