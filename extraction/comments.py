"""Readers' comments, as trafilatura finds them below an article, without the comment
widget's furniture.

trafilatura takes a page's comment section apart from the main text (``include_comments``) and
keeps each comment's lines with the widget's around them: buttons ("Reply", "ReplyDelete"),
headers ("Comment by Daniel — 17.07, 2011 @ 13:04", "Nicolai11 schrieb:"), user names and
times, prompts ("Please log in to leave a comment") and the house rules above or below the
comments. Each rule here is generic (the wording and shape of comment widgets), never tied to
one site:

* **button rule**: a line of nothing but the widget's action words and counts ("Reply",
  "Antworten", "Delete", "Like", "Reply #1", "Liked by 21 people") is dropped;
* **header rule**: a line that only introduces a comment or the section ("Comment by NAME —
  DATE", "NAME wrote:", "Pingback: ...", "3 Kommentare zu “TITLE”") is dropped: who wrote it
  and when are not its text;
* **label rule**: a line of one or two words, or a short one with a number, that is no sentence
  (a user name, "47", "Hace 28 minutos", "18/02/2020 à 16:42") is dropped;
* **prompt rule**: a short line that speaks of comments is the section's heading or a prompt
  ("3 Kommentare zu ...", "¿Quieres comentar?", "Kommentar schreiben"), and a longer one that
  asks the reader to comment or log in ("Para comentar debes registrarte ...") is one too;
* **house-rules rule**: at the start and the end of the section, lines that speak of comments
  or the discussion ("Join the conversation") are the widget's, a long one only when it speaks
  as the site or of whose opinions the comments are ("We invite you to use our commenting
  platform ...", "The opinions expressed in reader comments are those of the author ...": a
  reader's long comment that mentions a comment stays);
* **link rule**: a line that is the text of a link on the page and no sentence (a headline of
  another article in a box trafilatura took for comments) is dropped; a sentence stays (a
  "recent comments" box links to the comments themselves).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from extraction.boilerplate import SENTENCE_ENDS, key

if TYPE_CHECKING:
    from collections.abc import Collection

MAX_PROMPT_CHARS = 120
"""The prompt rule only looks at lines up to this long (characters)."""
MAX_HEADING_CHARS = 60
"""A line this short that speaks of comments is the section's heading or a prompt."""
MAX_HOUSE_RULES_CHARS = 600
"""The house-rules rule looks at lines up to this long."""
MAX_LABEL_WORDS = 2
MAX_NUMBERED_LABEL_WORDS = 8

_ACTION = (
    r"reply|replies|delete|report|like|likes|liked|share|shares|edit|cancel reply|"
    r"leave a reply|permalink|"
    r"antworten|antwort|löschen|melden|bearbeiten|gefällt mir|"
    r"répondre|signaler|supprimer|responder|responde|eliminar|denunciar|me gusta|"
    r"rispondi|segnala|odpowiedz|zgłoś|ответить|رد|by|people|person"
)
_BUTTONS = re.compile(rf"(?:\W*(?:\d+\s*)?(?:{_ACTION})(?:\s*#?\d+)?\W*)+", re.IGNORECASE)
_COMMENT_WORD = re.compile(
    r"comment|kommentar|comentar|comentário|commentaire|commenta|commento|komentarz|"
    r"komment|коммент|تعليق|التعليق|ความคิดเห็น|コメント|评论|評論|留言|댓글",
    re.IGNORECASE,
)
_DISCUSSION_WORD = re.compile(
    r"conversation|discussion|diskussion|dyskusj|discussione|discusión|discussão|forum|"
    r"community guidelines|sign up|sign in|log in",
    re.IGNORECASE,
)
_PROMPT_WORD = re.compile(
    r"\b(?:leave|add|write|post|submit|log ?in|sign ?in|register|closed|"
    r"schreiben|verfassen|hinzufügen|abgeben|einloggen|anmelden|registrier\w*|geschlossen|"
    r"laisser|ajouter|écrire|connect\w*|fermés|"
    r"debes|deja|escribe|publica|registrarte|inicia|cerrados|"
    r"lascia|scrivi|aggiungi|accedi|"
    r"dodaj|napisz|zaloguj)\b|إضافة|أضف|اكتب",
    re.IGNORECASE,
)
_HEADER = re.compile(
    r"(?:comment|kommentar|commentaire|comentario|posted|geschrieben)\s+(?:by|von|de|par|por)\s"
    r"|(?:pingback|trackback)\s*:"
    r"|(?:\d+|no|noch keine|keine|aucun|sin|nessun)\s+\S*(?:comment|kommentar|comentario|"
    r"commentaire|commento|komentarz)\w*\s+(?:on|to|zu|sur|a|en|su|do)\s"
    r"|.{1,40}\s(?:wrote|writes|says|schrieb|schreibt|sagt|a écrit|écrit|escribió|dice|"
    r"ha scritto|scrive|napisał|napisała)\s*:$",
    re.IGNORECASE,
)
# The site speaking: first person plural, a request, whose opinion the comments are.
_HOUSE_VOICE = re.compile(
    r"\b(?:we|our|us|please|wir|unser\w*|bitte|nous|notre|nos|s'il vous plaît|nosotros|"
    r"nuestr\w*|pedimos|por favor|nós|nosso|nossa|noi|nostr\w*|per favore|my|nasz\w*|prosimy|"
    r"opinions?|meinung|opinião|opinión|opinione|guidelines|moderat\w*)\b",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")


def is_furniture(line: str, link_texts: Collection[str] = ()) -> bool:
    """Whether a line of the comment section is the widget's, not a reader's (the rules
    above but the house-rules rule); ``link_texts`` are the keys of the page's link texts
    (:attr:`extraction.boilerplate.PageScan.link_texts`)."""
    text = line.strip()
    if not text or _BUTTONS.fullmatch(text):
        return True
    sentence = text.endswith(SENTENCE_ENDS)
    if not sentence and _is_label(text):
        return True
    if key(text) in link_texts and not sentence:
        return True
    if _HEADER.match(text):
        return True
    if len(text) > MAX_PROMPT_CHARS:
        return False
    return _COMMENT_WORD.search(text) is not None and (
        len(text) <= MAX_HEADING_CHARS or _PROMPT_WORD.search(text) is not None
    )


def _is_label(text: str) -> bool:
    words = len(text.split())
    return words <= MAX_LABEL_WORDS or (
        words <= MAX_NUMBERED_LABEL_WORDS and _DIGIT.search(text) is not None
    )


def _is_house_rule(line: str) -> bool:
    text = line.strip()
    if len(text) > MAX_HOUSE_RULES_CHARS:
        return False
    if not (_COMMENT_WORD.search(text) or _DISCUSSION_WORD.search(text)):
        return False
    return len(text) <= MAX_PROMPT_CHARS or _HOUSE_VOICE.search(text) is not None


def clean_comments(text: str | None, link_texts: Collection[str] = ()) -> str | None:
    """The readers' comments without the widget's lines, one paragraph a line kept apart by a
    blank line (as the article's text); ``None`` when nothing is left."""
    if not text:
        return None
    kept = [line.strip() for line in text.splitlines() if not is_furniture(line, link_texts)]
    while kept and _is_house_rule(kept[0]):
        kept.pop(0)
    while kept and _is_house_rule(kept[-1]):
        kept.pop()
    return "\n\n".join(kept) or None
