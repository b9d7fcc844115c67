"""Pages that say they are no article: the error pages and walls sites answer with ``200``.

A site that cannot or will not show an article often answers ``200`` all the same, with a page
that says what it is in its title or heading: a soft 404 ("Page not found", "Diese Seite
existiert nicht", "This article is no longer available"), a consent wall ("We value your
privacy", "Privacy settings"), a bot check ("Just a moment...", "Please verify you are a
human", "Access Denied"), a maintenance page ("We'll be back soon!"), a content system's error
("Error establishing a database connection"), a login wall ("Sign in | Site"), an app shell
("Please enable JavaScript"). Each is 200 to 1,500 characters of well-formed prose, often in
the site's whole template: long enough to pass for a short article.

:func:`wall_said` tells one by a title or heading that is, as a whole, one of the phrases of
:data:`PHRASES` (a site's name cut from it, an "Oops!" or an "Error 404" around it aside): a
headline that holds such words ("Page not found: how a missing file shook the ministry") is
none. The extractor asks it only about a page that does not declare itself an article, and
drops the page only when its text is short (:func:`extraction.extractor.extract_article`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING

from extraction.boilerplate import is_notice
from extraction.titles import clean_title

if TYPE_CHECKING:
    from collections.abc import Iterable

# Pieces the English phrases share.
_THE = r"(?:(?:the|this|that) )?"
_THING = r"(?:page|article|story|content|video|post|item|url|file|document)"
_SOUGHT = r"(?: you(?:'re| are| were) looking for| you requested| requested)?"
_CANNOT = r"(?:cannot|can't|can not|could not|couldn't)"
# ... the German ones, and the Chinese ones.
_DER = r"(?:(?:die|diese|der|dieser|das|dieses) )?"
_DINGE = r"(?:seite|artikel|inhalt|beitrag|datei|video)"
_YE_MIAN = r"(?:页面|网页|頁面|網頁)"

# Phrases in their normalized form (:func:`normalized`: case folded, punctuation but the
# apostrophe gone, white space single), by what the page says it is. Each matches a whole
# title or heading: "error" is a phrase, "Error in the budget figures" no match.
PHRASES: dict[str, tuple[str, ...]] = {
    "not found": (
        # English
        rf"{_THE}{_THING}(?: was| is)? not found",
        r"not found|nothing (?:was )?found(?: here)?|error|page error|error page|404|410|410 gone",
        rf"{_THE}{_THING}{_SOUGHT} {_CANNOT} be found",
        rf"{_THE}{_THING}{_SOUGHT} (?:does not|doesn't|did not|no longer) exists?(?: anymore)?",
        rf"(?:we|i) {_CANNOT} find (?:that|this|the|your) {_THING}{_SOUGHT}",
        rf"(?:we|i) {_CANNOT} find what you(?:'re| are| were) looking for",
        rf"{_THE}{_THING}(?: is| has been)? (?:no longer|not|isn't) available(?: anymore)?",
        rf"{_THE}{_THING}(?: is| has been)? (?:temporarily )?unavailable",
        rf"{_THE}{_THING}(?: has been| was| is)? (?:removed|deleted|unpublished|withdrawn)",
        rf"{_THE}{_THING}(?: has been| was| is)? taken down",
        # German
        rf"{_DER}{_DINGE}(?: wurde)? (?:leider )?nicht gefunden",
        (
            r"(?:(?:die|diese) )?(?:angeforderte |gesuchte |aufgerufene )?seite"
            r" (?:existiert|gibt es) (?:leider )?nicht(?: mehr)?"
        ),
        rf"{_DER}{_DINGE}(?: ist)? (?:leider )?nicht (?:mehr )?verfügbar",
        rf"{_DER}{_DINGE} (?:wurde|ist) (?:entfernt|gelöscht|depubliziert)",
        r"(?:wir konnten|leider konnten wir) die (?:angeforderte |gesuchte )?seite nicht finden",
        r"fehler|fehlerseite",
        # French
        r"(?:(?:la|cette) )?page (?:est )?(?:introuvable|non trouvée|(?:non |in)disponible)",
        (
            r"(?:(?:la|cette) )?page(?: que vous (?:recherchez|cherchez|avez demandée)| demandée)?"
            r" n'existe (?:pas|plus)(?: ou plus)?"
        ),
        (
            r"(?:cet |l')?(?:article|contenu|vidéo|page) (?:n'est plus disponible|est indisponible"
            r"|n'existe plus|introuvable|a été supprimée?|supprimée?)"
        ),
        r"erreur|contenu (?:introuvable|indisponible)",
        # Spanish
        r"(?:(?:la|esta) )?p[aá]gina no (?:encontrada|existe|disponible|est[aá] disponible)",
        (
            r"(?:(?:la|esta) )?p[aá]gina(?: que (?:buscas|busca|est[aá]s buscando)| solicitada)?"
            r" no (?:existe|se encuentra|(?:fue|ha sido) encontrada|se ha encontrado)"
        ),
        (
            r"(?:(?:el|este|la|esta) )?(?:art[ií]culo|contenido|noticia) (?:ya )?no"
            r" (?:est[aá] )?disponible"
        ),
        # Italian
        r"(?:la )?pagina non (?:trovata|esiste|disponibile|è disponibile)",
        r"(?:la )?pagina(?: che stai cercando| richiesta)? non (?:esiste|è stata trovata)",
        r"(?:l'articolo|il contenuto|articolo|contenuto) non (?:è )?(?:più )?disponibile",
        r"errore",
        # Portuguese
        r"(?:(?:a|esta) )?p[aá]gina n[aã]o (?:encontrada|existe|est[aá] dispon[ií]vel)",
        r"(?:o )?conte[uú]do (?:n[aã]o (?:est[aá] )?dispon[ií]vel|indispon[ií]vel)|erro",
        # Dutch, Polish, the Nordic languages, Czech and Slovak, Hungarian, Romanian, Turkish
        r"(?:(?:de|deze) )?pagina (?:is )?niet gevonden|fout",
        r"(?:(?:de|deze) )?pagina bestaat niet(?: meer)?",
        r"nie znaleziono(?: strony)?|strony nie znaleziono|błąd",
        r"strona nie (?:została znaleziona|istnieje)",
        r"sid(?:an|en) (?:kunde inte hittas|hittades inte|finns inte)",
        r"siden (?:blev ikke fundet|findes ikke|finnes ikke|ble ikke funnet)",
        r"str[aá]nka (?:nenalezena|nebyla nalezena|nenájdená|neexistuje)",
        r"(?:az )?oldal nem található|pagina nu (?:a fost găsită|există)|sayfa bulunamadı",
        # Russian, Ukrainian, Greek, Arabic
        r"страница не найдена|ошибка|сторінк[ау] не знайден[оа]|(?:η )?σελίδα δεν βρέθηκε",
        r"الصفحة غير موجودة|لم يتم العثور على الصفحة",
        # Chinese, Japanese, Korean
        rf"(?:您(?:所|要)?访问的|您要找的)?{_YE_MIAN}(?:不存在|未找到|找不到了?|已删除)",
        rf"找不到(?:该|此|您要的)?{_YE_MIAN}",
        r"(?:お探しの)?ページ(?:が|は)?見つかりません(?:でした)?",
        r"(?:요청하신 )?페이지를 찾을 수 없습니다",
    ),
    "consent": (
        r"(?:we (?:value|respect|care about) )?your privacy",
        r"your privacy (?:matters|is important to us|choices|settings|options)",
        (
            r"(?:privacy|cookie|cookies|consent|data protection)"
            r" (?:settings|preferences|choices|options|center|centre|notice|manager|management)"
        ),
        (
            r"(?:manage|customi[sz]e|update) (?:your )?(?:privacy|cookie|cookies|consent)"
            r"(?: settings| preferences| choices)?"
        ),
        r"(?:cookie|cookies) consent|(?:gdpr |privacy |cookie )?consent(?: required)?",
        r"before you continue(?: to [\w ]{1,40})?",
        r"(?:this (?:web)?site|we) uses? cookies|(?:accept|allow) (?:all )?cookies",
        r"(?:wir (?:respektieren|schätzen) )?ihre privatsphäre(?: ist uns wichtig)?",
        r"(?:datenschutz|privatsphäre|cookie) ?(?:einstellungen|hinweis|präferenzen)",
        r"datenschutzeinstellungen|einwilligung(?: erforderlich)?|zustimmung(?: erforderlich)?",
        r"bevor sie (?:fortfahren|weiterlesen)|wir verwenden cookies",
        (
            r"(?:nous (?:respectons|tenons à) )?(?:le respect de )?votre vie privée"
            r"(?: est (?:notre priorité|importante))?"
        ),
        (
            r"(?:paramètres|gestion|préférences|réglages)"
            r" (?:de confidentialité|des cookies|de cookies|du consentement)"
        ),
        r"avant de continuer|nous utilisons des cookies|consentement(?: aux cookies)?",
        r"(?:valoramos |respetamos )?(?:tu|su) privacidad",
        r"(?:configuración|ajustes|preferencias|gestión) de (?:la )?(?:privacidad|cookies)",
        r"antes de continuar|utilizamos cookies|consentimiento(?: de cookies)?",
        r"(?:rispettiamo )?la tua privacy",
        r"(?:impostazioni|preferenze|gestione) (?:della |sulla )?(?:privacy|dei cookie|cookie)",
        r"prima di continuare|utilizziamo (?:i )?cookie|consenso(?: ai cookie)?",
        r"(?:a )?(?:sua|tua) privacidade",
        r"(?:configurações|definições|preferências) de (?:privacidade|cookies)",
        r"(?:uw|jouw) privacy|(?:privacy|cookie) ?instellingen|voordat je verdergaat",
        r"twoja prywatność|ustawienia (?:prywatności|plików cookie|cookie)",
        r"zanim przejdziesz dalej",
    ),
    "bot check": (
        r"just a moment|one more step|attention required(?: cloudflare)?",
        r"access (?:denied|forbidden|blocked)|forbidden",
        r"access to this (?:page|site|website|resource) (?:has been|is) (?:denied|blocked)",
        r"(?:sorry )?you (?:have been|are|were) blocked",
        r"(?:please )?(?:verify|confirm|prove) (?:that )?you(?: are|'re) (?:a )?human",
        r"(?:verifying|checking) (?:that |if )?you(?: are|'re) (?:a )?human",
        r"are you (?:a )?(?:robot|human)|i'm not a robot",
        r"(?:human|bot|robot|security|browser) (?:verification|check)",
        r"checking your browser(?: before accessing [\w. ]+)?",
        r"checking if the site connection is secure",
        r"pardon our interruption|request (?:unsuccessful|blocked|rejected)",
        r"(?:the )?requested url was rejected|captcha|please enable cookies",
        r"(?:ddos|bot) protection(?: by [\w ]+)?|too many requests",
        r"unusual traffic(?: from your computer network)?",
        r"zugriff verweigert|sind sie ein (?:mensch|roboter)|sicherheitsüberprüfung",
        r"einen moment bitte",
        r"accès (?:refusé|interdit|bloqué)|êtes vous un robot|vérification de sécurité",
        r"un instant",
        r"acceso denegado|(?:eres|es usted) (?:un )?(?:robot|humano)|un momento",
        r"accesso negato|sei un robot|solo un momento|acesso negado|um momento",
        r"dostęp zabroniony|доступ запрещ[её]н",
    ),
    "maintenance": (
        r"we(?:'ll| will) be (?:right )?back(?: soon| shortly)?|be right back|back soon",
        (
            r"(?:(?:the )?(?:site|website|page|server|service) (?:is )?)?(?:under|down for|in)"
            r" maintenance"
        ),
        r"(?:scheduled|planned|site|website|system) maintenance",
        r"maintenance(?: mode| in progress)?|under construction",
        (
            r"(?:(?:the )?(?:site|website|service) (?:is )?)?(?:temporarily|currently)"
            r" (?:unavailable|down|offline)"
        ),
        r"wartungsarbeiten|wartungsmodus|wartung",
        r"wir sind (?:gleich|bald) (?:wieder )?(?:zurück|da)",
        r"(?:site )?en (?:cours de )?maintenance|maintenance en cours",
        r"nous revenons (?:très )?(?:bientôt|vite)",
        r"(?:sitio |página |web )?en mantenimiento|volvemos (?:pronto|enseguida)",
        r"(?:sito )?in manutenzione|torniamo presto|(?:site )?em manutenção",
        r"(?:in |wegens )?onderhoud",
    ),
    "server error": (
        r"(?:database|db) (?:connection )?error|error establishing (?:a )?database connection",
        r"(?:there has been a )?critical error(?: on (?:this|your) website)?",
        r"(?:internal )?server error|bad gateway|gateway time ?out",
        r"service (?:temporarily )?unavailable|backend fetch failed|guru meditation",
        r"(?:an )?(?:unexpected )?error (?:has )?occurred|something went wrong",
        r"(?:application|runtime|fatal|site|website|unexpected) error",
        r"datenbankfehler|(?:ein )?fehler ist aufgetreten|interner serverfehler",
        r"erreur (?:de base de données|de connexion à la base de données|serveur)",
        r"erreur interne(?: du serveur)?|une erreur (?:s'est produite|est survenue)",
        r"error (?:de (?:conexión a la )?base de datos|interno del servidor)",
        r"se ha producido un error|ha ocurrido un error|si è verificato un errore",
        r"errore (?:del database|interno del server)",
    ),
    "sign-in": (
        r"(?:please )?(?:sign|log) ?(?:in|on)",
        r"(?:sign|log) ?in (?:to|into) (?:your|my) account|(?:sign|log) ?in (?:to|and) continue",
        r"(?:sign|log) ?in (?:or|and) (?:register|sign up|subscribe|create an account)",
        r"(?:subscriber|member|user|account) (?:login|log in|sign in)",
        r"(?:register|sign up|subscribe) (?:or|and) (?:log|sign) in",
        r"anmelden|anmeldung|einloggen|(?:bitte )?melden sie sich an",
        r"(?:jetzt )?(?:anmelden|einloggen) (?:oder|und) registrieren",
        r"(?:se )?connecter|connexion|identifiez vous|identification",
        r"(?:iniciar|inicia|inicie) sesión|identif[ií]cate|acceder|ingresar|entrar",
        r"accedi|iniciar sessão|fazer login",
        r"inloggen|aanmelden|zaloguj się|logowanie|logga in|log ind|logg inn",
        r"přihlášení|přihlásit se|giriş yap|oturum aç|вход|войти",
        r"ログイン|登录|登入|登錄|로그인",
    ),
    "app shell": (
        r"(?:please )?(?:enable|turn on|activate) javascript(?: in your browser)?",
        r"(?:please )?enable javascript (?:and cookies )?to continue",
        r"javascript (?:is )?(?:required|disabled|not enabled)",
        r"you need to enable javascript to run this app",
        r"(?:bitte )?(?:aktivieren sie javascript|javascript aktivieren)",
        r"(?:veuillez )?activ(?:er|ez) javascript|(?:por favor )?(?:activa|habilita) javascript",
    ),
}
"""The phrases by what the page says it is (the kind an ``ErrorPage`` drop names)."""

# What pages put around the phrase: "Oops!", "Sorry,", "Error 404 -", "(404)".
_AROUND = (
    r"oops|ooops|whoops|oh no|uh oh|sorry|we're sorry|we are sorry|apologies|hmm|ouch|hoppla|"
    r"huch|ups|oups|oh|lo sentimos|perdón|désolé|entschuldigung|leider|error|erreur|fehler|"
    r"errore|erro|fout|błąd|ошибка|http|status|code|\d{3}"
)
_PHRASE = {
    kind: re.compile(rf"(?:(?:{_AROUND}) )*(?:{'|'.join(phrases)})(?: (?:{_AROUND}))*")
    for kind, phrases in PHRASES.items()
}
# The separators of a title's segments (as extraction.titles cuts them): a title none of whose
# segments is a phrase is not cut by each of the site's names (a third of a millisecond a
# page, on every page that declares no article).
_SEGMENTS = re.compile(r"\s+[|–—·•:/»\-]\s+|\s*[|｜]\s*")
_NOT_WORD = re.compile(r"[^\w']+")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "ʼ": "'"})
MAX_SAID_CHARS = 120
"""Titles and headings longer than this are headlines, not one of the phrases."""


def normalized(text: str) -> str:
    """``text`` as the phrases are written: case folded, typographic apostrophes straight,
    every other mark (punctuation, dashes, "...") a space, white space single."""
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES).casefold()
    return " ".join(_NOT_WORD.sub(" ", text).split()).strip("'")


def wall_kind(text: str) -> str | None:
    """What ``text``, as a whole, says the page is (a kind of :data:`PHRASES`), or ``None``."""
    if len(text) > MAX_SAID_CHARS:
        return None
    said = normalized(text)
    if not said:
        return None
    return next((kind for kind, phrase in _PHRASE.items() if phrase.fullmatch(said)), None)


@dataclass(frozen=True)
class Wall:
    """What a page says it is instead of an article."""

    kind: str
    """The kind of page: a key of :data:`PHRASES`."""
    said: str
    """The title or heading that says it, as the page writes it."""

    def message(self) -> str:
        return f'the page says it is an error or a wall ({self.kind}: "{self.said}")'


def wall_said(
    titles: Iterable[str | None],
    *,
    site_name: str | None = None,
    host: str | None = None,
) -> Wall | None:
    """The first of ``titles`` (the page's titles and its main heading) that is, once the
    segments naming the site are cut (:func:`extraction.titles.clean_title`, by the site's
    name or by a label of its host name: "Seite nicht gefunden | DW" on ``dw.com``), one of
    the phrases of :data:`PHRASES`; ``None`` when none is."""
    names = _site_names(site_name, host)
    for title in dict.fromkeys(titles):  # the <title> and the metadata's are often one
        if not title or not any(map(wall_kind, [title, *_SEGMENTS.split(title)])):
            continue
        for name in names:
            said = clean_title(title, site_name=name, host=host)
            kind = wall_kind(said) if said else None
            if said and kind:
                return Wall(kind, said)
    return None


# Labels of host names that name no site: "co.uk", "com.au".
_NO_SITE_LABELS = frozenset({"www", "m", "co", "com", "org", "net", "gov", "ac", "edu"})


def _site_names(site_name: str | None, host: str | None) -> list[str | None]:
    """The site's name, and the labels of its host name (and of a site name that is one,
    ``dw.com``), short ones included: :func:`clean_title` takes a host's labels of three
    letters or more, a title's "| DW" stays."""
    names: list[str | None] = [site_name]
    for name in (site_name, host):
        if name and " " not in name and "." in name:
            names += [
                label
                for label in name.lower().split(".")[:-1]
                if len(label) >= 2 and label not in _NO_SITE_LABELS and label not in names
            ]
    return names


MAX_NOTICE_SHOWN = 80
"""Characters of a notice an ``ErrorPage`` drop quotes."""


def wall_in_text(paragraphs: list[str]) -> Wall | None:
    """The wall a text shows when it is nothing but walls' notices (cookie consent, enable
    JavaScript, switch off the ad blocker: :func:`extraction.boilerplate.is_notice`; the
    boilerplate rules leave a text they would empty whole); ``None`` otherwise."""
    if not paragraphs or not all(is_notice(paragraph) for paragraph in paragraphs):
        return None
    first = paragraphs[0]
    shown = first if len(first) <= MAX_NOTICE_SHOWN else first[:MAX_NOTICE_SHOWN].rstrip() + "…"
    return Wall("notice", shown)
