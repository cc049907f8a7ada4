"""Danger screening of free-text answers: word lists per language in `locales/danger/*.txt`.

An answer that suggests violence at home, negative social control, self-harm or suicide must
reach a coordinator at once (DOMAIN.md: "highest priority"). The lists are plain text beside the
translation catalogs so that translators and coordinators can extend them without touching code;
this module only reads them and matches. It knows nothing about channels or storage: the caller
decides what a hit leads to. Word lists miss things and raise false alarms; see
docs/DANGER_SCREENING.md. They support a coordinator and never replace one.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.file_versions import read_once_per_version

# Most severe first: the order hits are returned in, so a caller that shows or stores only the
# first hit still sees the worst one.
CATEGORIES: tuple[str, ...] = ("suicide", "self_harm", "violence", "social_control")
_RANK = {category: rank for rank, category in enumerate(CATEGORIES)}

# Every list is also checked against English, because people mix languages ("min mand hits me").
FALLBACK_LANGUAGE = "en"

# Dropped before anything else, so "don't", "don’t", "don´t" and "dont" are one word. The acute
# accent is on Danish keyboards next to the apostrophe and NFKC would turn it into a space.
_APOSTROPHES = dict.fromkeys(map(ord, "'’‘ʼ´`′"), None)


class DangerListError(Exception):
    """A word list is broken; the message names the file and line so a non-programmer can fix it."""


@dataclass(frozen=True)
class DangerHit:
    """One list entry found in an answer: its category and the phrase as written in the list."""

    category: str
    phrase: str


def normalise(text: str) -> list[str]:
    """The words of a text as the screen compares them: NFKC, casefolded, punctuation removed.

    Both answers and list phrases go through this, so the two always agree on what a word is.
    Letters, digits and combining marks make words; everything else separates them.
    """
    folded = unicodedata.normalize("NFKC", text.translate(_APOSTROPHES)).casefold()
    words: list[str] = []
    current: list[str] = []
    for char in folded:
        if unicodedata.category(char)[0] in "LNM":
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return words


@dataclass(frozen=True)
class _Word:
    text: str
    prefix: bool

    def matches(self, word: str) -> bool:
        return word.startswith(self.text) if self.prefix else word == self.text


@dataclass(frozen=True)
class _Entry:
    category: str  # empty for a negative entry
    phrase: str
    words: tuple[_Word, ...]

    def spans(self, words: Sequence[str]) -> list[tuple[int, int]]:
        """Every place the phrase occurs as consecutive words, as (start, end) word indices."""
        size = len(self.words)
        return [
            (start, start + size)
            for start in range(len(words) - size + 1)
            if all(w.matches(words[start + i]) for i, w in enumerate(self.words))
        ]


@dataclass(frozen=True)
class _WordList:
    positives: tuple[_Entry, ...]
    negatives: tuple[_Entry, ...]


@dataclass(frozen=True)
class _Match:
    entry: _Entry
    start: int
    end: int

    @property
    def rank(self) -> int:
        return _RANK[self.entry.category]

    def inside(self, start: int, end: int) -> bool:
        return start <= self.start and self.end <= end


def _parse_phrase(raw: str, where: str) -> tuple[_Word, ...]:
    words: list[_Word] = []
    for token in raw.split():
        prefix = token.endswith("*")
        stem = token[:-1] if prefix else token
        if "*" in stem:
            raise DangerListError(
                f"{where}: '*' may only end a word, as in 'hit* me' (found {token!r})"
            )
        parts = normalise(stem)
        if prefix and not parts:
            raise DangerListError(f"{where}: '*' must follow letters (found {token!r})")
        words.extend(_Word(part, prefix=False) for part in parts[:-1])
        if parts:
            words.append(_Word(parts[-1], prefix=prefix))
    if not words:
        raise DangerListError(f"{where}: the phrase is empty")
    return tuple(words)


@read_once_per_version
def _parse_file(path: Path) -> _WordList:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as error:
        raise DangerListError(f"{path}: not UTF-8 ({error}); save the file as UTF-8") from error
    positives: list[_Entry] = []
    negatives: list[_Entry] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        where = f"{path}, line {number}"
        if stripped.startswith("!"):
            raw = stripped[1:]
            negatives.append(_Entry("", " ".join(raw.split()), _parse_phrase(raw, where)))
            continue
        category, colon, raw = stripped.partition(":")
        category = category.strip()
        if not colon:
            raise DangerListError(
                f"{where}: expected 'category: phrase' or '!phrase', found {stripped!r}"
            )
        if category not in _RANK:
            raise DangerListError(
                f"{where}: unknown category {category!r}; use one of {', '.join(CATEGORIES)}"
            )
        positives.append(_Entry(category, " ".join(raw.split()), _parse_phrase(raw, where)))
    return _WordList(tuple(positives), tuple(negatives))


def _code(language: str) -> str:
    """ "fa_AF", "fa-af" and "FA_af" are one language."""
    return language.strip().casefold().replace("_", "-")


class DangerScreen:
    """Screens free text against the word list of the person's language and the English list."""

    def __init__(self, lists: Mapping[str, _WordList]) -> None:
        # Keyed as written (the catalog's code, "fa_AF"), looked up case- and separator-blind.
        self._names = sorted(lists)
        self._lists = {_code(language): words for language, words in lists.items()}

    @classmethod
    def load(cls, directory: Path) -> DangerScreen:
        """Read every `<language>.txt` in `directory`, failing loudly on any broken line.

        A missing or empty directory is an error too: a screen that silently checks nothing is
        worse than a bot that does not start.
        """
        paths = sorted(directory.glob("*.txt")) if directory.is_dir() else []
        if not paths:
            raise DangerListError(f"{directory}: no danger word lists (<language>.txt) found")
        return cls({path.stem: _parse_file(path) for path in paths})

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages that have a list, sorted, as their files are named."""
        return tuple(self._names)

    def _lists_for(self, language: str) -> list[_WordList]:
        """The person's list ("da-DK" finds "da") and the English one; an unknown language
        still gets English, because English words are the most likely ones in a mixed answer."""
        code = _code(language)
        own = self._lists.get(code) or self._lists.get(code.split("-")[0])
        fallback = self._lists.get(FALLBACK_LANGUAGE)
        lists = [own] if own is not None else []
        if fallback is not None and fallback is not own:
            lists.append(fallback)
        return lists

    def screen(self, text: str, language: str) -> list[DangerHit]:
        """The list entries found in `text`, most severe category first, each entry once.

        A hit that lies wholly inside a negative entry ("!it hit* me") is dropped, and so is a
        hit inside a longer hit of the same or a more severe category, so "dræbe mig selv"
        reports suicide and not also violence ("dræbe mig"). Within a category, hits keep the
        order they appear in the text.
        """
        words = normalise(text)
        if not words:
            return []
        lists = self._lists_for(language)
        blocked = [
            span
            for wordlist in lists
            for entry in wordlist.negatives
            for span in entry.spans(words)
        ]
        matches = [
            _Match(entry, start, end)
            for wordlist in lists
            for entry in wordlist.positives
            for start, end in entry.spans(words)
            if not any(b_start <= start and end <= b_end for b_start, b_end in blocked)
        ]
        kept = [
            match
            for match in matches
            if not any(
                other.end - other.start > match.end - match.start
                and match.inside(other.start, other.end)
                and other.rank <= match.rank
                for other in matches
            )
        ]
        kept.sort(key=lambda match: (match.rank, match.start, match.entry.phrase))
        hits: list[DangerHit] = []
        for match in kept:
            hit = DangerHit(match.entry.category, match.entry.phrase)
            if hit not in hits:
                hits.append(hit)
        return hits
