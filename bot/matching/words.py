"""What two typed answers have in common: languages named in them, a town, words. People type
in their own language and script, so each comparison is made loose on purpose but never
guesses: a language counts only if one of the bot's languages calls it by that name (CLDR, via
Babel), a place only if the same word or an area the programme lists is in both, a hobby only
if the same word (or the same stem, Snowball) is, the languages' common words left out."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

import snowballstemmer
import stop_words
from babel import Locale, UnknownLocaleError

# Languages that are one for a conversation, under the code whose name is shown: Norwegian
# written any way, and Dari, which is Persian as spoken in Afghanistan.
SAME_LANGUAGE = {"no": "nb", "nn": "nb", "prs": "fa", "fa_AF": "fa"}
# Codes of three letters that are languages of the bot's people (ISO 639-1 has none for them).
LANGUAGE_CODES_OF_THREE = {"ckb", "prs"}
# Babel's names of languages in every one of the bot's languages is enough to read "arabisk",
# "Arabic" and "العربية" alike; a name this short is more often a word than a language.
SHORTEST_NAME = 3
LONGEST_NAME = 3  # words
SHORTEST_WORD = 3
# Names CLDR does not give but people often write.
ALSO_CALLED: dict[tuple[str, ...], str] = {("farsi",): "fa"}
# Arabic script writes "and" as a letter joined to the next word ("والإنجليزية").
_JOINED_AND = "و"

# The Snowball stemmer and the stop-word list of a bot language, where one exists.
STEMMERS = {
    "ar": "arabic", "da": "danish", "en": "english", "fa": "persian", "fi": "finnish",
    "nb": "norwegian", "pl": "polish", "ru": "russian", "sv": "swedish", "tr": "turkish",
}  # fmt: skip
STOP_WORDS = {
    "ar": "arabic", "da": "danish", "en": "english", "fa": "persian", "fi": "finnish",
    "nb": "norwegian", "pl": "polish", "ru": "russian", "sv": "swedish", "tr": "turkish",
    "uk": "ukrainian",
}  # fmt: skip
# Letters that Danish, Norwegian, Swedish and German may also write with two ("Århus",
# "Aarhus"); the accents of other letters are dropped.
_SPELLED_OUT = str.maketrans(
    {"å": "aa", "æ": "ae", "ø": "oe", "ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss"}
)
_WORD = re.compile(r"\w+")


def canonical_language(code: str) -> str:
    code = SAME_LANGUAGE.get(code, code)
    return SAME_LANGUAGE.get(code.split("_")[0], code.split("_")[0])


@dataclass(frozen=True)
class Word:
    """A word as typed, and what it is compared by."""

    typed: str
    key: str


def words(text: str) -> list[Word]:
    """The words of a text, compared without case or accents (å as aa)."""
    return [Word(match.group(0), fold(match.group(0))) for match in _WORD.finditer(text)]


def fold(word: str) -> str:
    spelled = word.casefold().translate(_SPELLED_OUT)
    return "".join(
        c for c in unicodedata.normalize("NFKD", spelled) if not unicodedata.combining(c)
    )


# --- languages -----------------------------------------------------------------------------------


@cache
def _language_names(locales: tuple[str, ...]) -> dict[tuple[str, ...], str]:
    """Every name the given languages have for a language (as folded words) -> its code."""
    names: dict[tuple[str, ...], str] = {}
    for locale_code in locales:
        try:
            locale = Locale.parse(locale_code)
        except (UnknownLocaleError, ValueError):
            continue
        for code, name in locale.languages.items():
            if len(code) != 2 and code not in LANGUAGE_CODES_OF_THREE:
                continue
            key = tuple(word.key for word in words(name))
            if key and len(key) <= LONGEST_NAME and len("".join(key)) >= SHORTEST_NAME:
                names.setdefault(key, canonical_language(code))
    return {**ALSO_CALLED, **names}


def languages_in(text: str, locales: Iterable[str]) -> list[str]:
    """The languages a typed answer names ("Arabic, some English", "arabisk og engelsk"), as
    codes in the order they are named; `locales`: the languages whose names are read."""
    names = _language_names(tuple(sorted({*locales, "en"})))
    keys = [word.key for word in words(text)]
    found: list[str] = []
    for start in range(len(keys)):
        for length in range(LONGEST_NAME, 0, -1):
            key = tuple(keys[start : start + length])
            code = names.get(key)
            if code is None and length == 1 and key[0].startswith(_JOINED_AND):
                code = names.get((key[0][1:],))
            if code is not None:
                if code not in found:
                    found.append(code)
                break
    return found


def language_name(code: str, reader: str) -> str:
    """The language's name in the reader's language ("arabisk" for a Danish reader)."""
    try:
        return Locale.parse(reader).languages.get(code) or code
    except (UnknownLocaleError, ValueError):
        return code


# --- places --------------------------------------------------------------------------------------


def areas_of(text: str, areas: Mapping[str, Iterable[str]]) -> list[str]:
    """The areas (by name) one of whose places the text names."""
    keys = [word.key for word in words(text)]
    found = []
    for area, places in areas.items():
        for place in (area, *places):
            wanted = [word.key for word in words(place)]
            if wanted and _contains(keys, wanted):
                found.append(area)
                break
    return found


def _contains(keys: list[str], wanted: list[str]) -> bool:
    size = len(wanted)
    return any(keys[i : i + size] == wanted for i in range(len(keys) - size + 1))


def places_in_common(first: str, second: str, languages: Iterable[str]) -> list[str]:
    """The words of `first` (as typed) that `second` has too, leaving out the languages'
    common words ("I live in Aarhus" and "Aarhus C": "Aarhus")."""
    common = _common_words(tuple(sorted({"en", *languages})))
    theirs = {word.key for word in words(second)}
    return _unique(
        word.typed for word in words(first) if word.key in theirs and _meaningful(word.key, common)
    )


# --- words ---------------------------------------------------------------------------------------


@cache
def _common_words(languages: tuple[str, ...]) -> frozenset[str]:
    found: set[str] = set()
    for language in languages:
        name = STOP_WORDS.get(canonical_language(language))
        if name:
            found |= {fold(word) for word in stop_words.get_stop_words(name)}
    return frozenset(found)


@cache
def _stemmer(language: str) -> snowballstemmer.stemmer | None:
    name = STEMMERS.get(canonical_language(language))
    return snowballstemmer.stemmer(name) if name else None


def _meaningful(key: str, common: frozenset[str]) -> bool:
    return len(key) >= SHORTEST_WORD and not key.isdigit() and key not in common


def _stems(word: Word, languages: tuple[str, ...]) -> set[str]:
    found = {word.key}
    for language in languages:
        stemmer = _stemmer(language)
        if stemmer is not None:
            found.add(fold(stemmer.stemWord(word.typed.casefold())))
    return found


def words_in_common(first: str, second: str, languages: Iterable[str]) -> list[str]:
    """The words of `first` (as typed, in its order) that `second` has too, or a form of them
    ("cooking" and "cook"), in any of `languages` (English always), without common words."""
    chosen = tuple(sorted({"en", *(canonical_language(code) for code in languages)}))
    common = _common_words(chosen)
    theirs: set[str] = set()
    for word in words(second):
        if _meaningful(word.key, common):
            theirs |= _stems(word, chosen)
    return _unique(
        word.typed
        for word in words(first)
        if _meaningful(word.key, common) and _stems(word, chosen) & theirs
    )


def _unique(items: Iterable[str]) -> list[str]:
    seen: set[str] = set()
    found = []
    for item in items:
        if item.casefold() not in seen:
            seen.add(item.casefold())
            found.append(item)
    return found
