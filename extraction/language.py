"""Language detection with langdetect, seeded so that results repeat.

The page's declared language (``<html lang>``, JSON-LD ``inLanguage``, ``og:locale``) is only a
fallback, used when detection is unsure: it is often wrong (templates say ``en`` on pages in
other languages).
"""

from __future__ import annotations

import json
from array import array
from dataclasses import dataclass
from functools import cache
from operator import mul
from pathlib import Path

from langdetect.detector import Detector
from langdetect.detector_factory import PROFILES_DIRECTORY
from langdetect.lang_detect_exception import LangDetectException
from langdetect.utils.ngram import NGram

DEFAULT_SEED = 0
DEFAULT_SAMPLE_CHARS = 600
"""Characters of text a detection reads: on the corpus 600 name the same languages as 2,000."""
DEFAULT_MIN_CONFIDENCE = 0.80
"""Below this probability the page's declared language wins over the detected one."""
# langdetect codes that are not plain ISO 639-1.
_CODE_FIXES = {"zh-cn": "zh", "zh-tw": "zh"}


@dataclass(frozen=True, kw_only=True)
class Detection:
    """What langdetect said of a text, and how it was asked (what its answer depends on)."""

    language: str | None
    """The most probable language (ISO 639-1), ``None`` when the text has no letters."""
    confidence: float | None
    """Its probability."""
    seed: int
    sample_chars: int
    """The detection read the text's first ``sample_chars`` characters."""

    def made_with(self, *, seed: int, sample_chars: int) -> bool:
        """Whether a detector with this seed and sample would give the same answer."""
        return self.seed == seed and self.sample_chars == sample_chars


class Profiles:
    """langdetect's n-gram profiles, stored compactly.

    langdetect keeps, for each of its ~88,000 n-grams, a list of one probability per language
    (55), as Python floats: about 60 MB, of which 0.2% are not zero. Here each n-gram names a
    run of (language, probability) pairs in flat arrays: about 14 MB in all, most of it the
    n-grams themselves. The arrays hold no Python objects, so the extraction workers forked
    after the profiles are loaded read the probabilities without copying them (reading a Python
    object writes its reference count, which copies its memory page into the reading process).

    The probabilities are langdetect's, computed the same way, and
    :class:`CompactDetector` multiplies them in the same order: detections are identical.
    """

    def __init__(self, directory: str = PROFILES_DIRECTORY) -> None:
        languages, words, self.starts, self.language_of, self.probability = _read(directory)
        # The names and n-grams are made again from one string each once the files' objects
        # are freed, so that they sit together in memory instead of each keeping alive the
        # block of memory the file it came from was read into (~25 MB more).
        self.languages = languages.split("\0")
        self.rows: dict[str, int] = {word: row for row, word in enumerate(words.split("\0"))}
        """Each n-gram's row: its pairs are ``starts[row]`` to ``starts[row + 1]``."""


def _read(directory: str) -> tuple[str, str, array[int], array[int], array[float]]:
    """langdetect's profile files as languages and n-grams, each joined by NUL, and the three
    arrays."""
    languages: list[str] = []
    rows: dict[str, list[tuple[int, float]]] = {}
    # langdetect's own order (the directory's), which its seeded trials depend on. The files
    # are all read before any is parsed: what opening a file leaves behind would otherwise be
    # spread among the parsed objects, and keep their memory from being given back.
    files = [
        path.read_bytes()
        for path in Path(directory).iterdir()
        if not path.name.startswith(".") and path.is_file()
    ]
    for content in files:
        profile = json.loads(content)
        index = len(languages)
        languages.append(profile["name"])
        n_words = profile["n_words"]
        for word, count in profile["freq"].items():
            pairs = rows.setdefault(word, [])
            if 1 <= len(word) <= 3:
                pairs.append((index, 1.0 * count / n_words[len(word) - 1]))
    starts, language_of, probability = array("I", [0]), array("B"), array("d")
    for pairs in rows.values():
        for language, value in pairs:
            language_of.append(language)
            probability.append(value)
        starts.append(len(probability))
    return "\0".join(languages), "\0".join(rows), starts, language_of, probability


_normalized_char = cache(NGram.normalize)
"""langdetect's normalization of one character (a pure function of it), remembered."""


@cache
def profiles() -> Profiles:
    """The profiles, loaded once per process (about 0.3 s)."""
    return Profiles()


class CompactDetector(Detector):
    """langdetect's detector over :class:`Profiles`."""

    def __init__(self, source: Profiles, seed: int) -> None:
        self.profiles = source
        self.word_lang_prob_map = source.rows  # what langdetect tests n-grams against
        self.langlist = source.languages
        self.seed = seed
        super().__init__(self)

    def _extract_ngrams(self) -> list[str]:
        """langdetect's ``_extract_ngrams`` (the same n-grams in the same order) without its
        ``NGram`` object: one loop, and each character's normalization looked up once per
        process (it depends on the character alone)."""
        known = self.word_lang_prob_map
        result: list[str] = []
        grams = " "
        capital = False
        for raw in self.text:
            char = _normalized_char(raw)
            last = grams[-1]
            if last == " ":
                grams = " "
                capital = False
                if char == " ":
                    continue
            elif len(grams) >= NGram.N_GRAM:
                grams = grams[1:]
            grams += char
            # langdetect skips the n-grams of a run of capitals (an acronym)
            capital = char.isupper() and (capital or last.isupper())
            if capital:
                continue
            if char != " " and char in known:
                result.append(char)
            if len(grams) >= 2:
                if grams[-2:] in known:
                    result.append(grams[-2:])
                if len(grams) >= NGram.N_GRAM and grams in known:
                    result.append(grams)
        return result

    def _update_lang_prob(self, prob: list[float], word: str | None, alpha: float) -> bool:
        # langdetect: prob[i] *= weight + lang_prob_map[i], lang_prob_map[i] mostly 0.0.
        row = self.word_lang_prob_map.get(word) if word is not None else None
        if row is None:
            return False
        weight = alpha / self.BASE_FREQ
        factors = [weight] * len(prob)
        source = self.profiles
        start, end = source.starts[row], source.starts[row + 1]
        for language, probability in zip(
            source.language_of[start:end], source.probability[start:end], strict=True
        ):
            factors[language] = weight + probability
        prob[:] = map(mul, prob, factors)
        return True


class LanguageDetector:
    """A seeded langdetect detector (its own seed; the profiles, read-only, are loaded once per
    process and shared; no other global state).

    >>> LanguageDetector().detect("Das ist ein kurzer deutscher Satz über das Wetter.")[0]
    'de'
    """

    TRIALS = 5
    """Random trials per detection (langdetect's default is 7): on the corpus, 5 trials on 600
    characters name the same languages as 7 trials on 2,000, at half the cost; the
    probability still moves in steps of 0.2 or finer."""

    def __init__(
        self, *, seed: int = DEFAULT_SEED, sample_chars: int = DEFAULT_SAMPLE_CHARS
    ) -> None:
        self._profiles = profiles()
        self.seed = seed
        self.sample_chars = sample_chars

    def detect(self, text: str) -> tuple[str | None, float | None]:
        """The most probable language of ``text`` (its first ``sample_chars`` characters)
        and its probability; ``(None, None)`` when the text has no letters to go by."""
        detector = CompactDetector(self._profiles, self.seed)
        detector.n_trial = self.TRIALS
        detector.append(text[: self.sample_chars])
        try:
            best = detector.get_probabilities()[0]
        except (LangDetectException, IndexError):
            return None, None
        return _CODE_FIXES.get(best.lang, best.lang), round(float(best.prob), 4)

    def detection(self, text: str) -> Detection:
        """:meth:`detect`, with what the answer depends on."""
        language, confidence = self.detect(text)
        return Detection(
            language=language,
            confidence=confidence,
            seed=self.seed,
            sample_chars=self.sample_chars,
        )


def choose_language(
    detected: str | None,
    confidence: float | None,
    declared: str | None,
    *,
    min_confidence: float = DEFAULT_MIN_CONFIDENCE,
) -> tuple[str | None, float | None]:
    """The language to store: the detected one when confident, else the declared one, else
    the unsure detection. The confidence is ``None`` when the declaration was used."""
    if detected is not None and confidence is not None and confidence >= min_confidence:
        return detected, confidence
    if declared:
        return declared, None
    return detected, confidence
