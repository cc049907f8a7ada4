"""How easy a text is to read: Flesch reading ease for English, LIX for the Scandinavian
languages, and the length of each sentence.

Flesch (1948): 206.835 - 1.015 * words per sentence - 84.6 * syllables per word; 70 and more is
"fairly easy" (a 12-year-old reads it). Syllables are counted from Pyphen's hyphenation
dictionaries (the same patterns TeX and LibreOffice use), one more than the hyphenation points,
and at least one per vowel group in words Pyphen leaves whole.

LIX (Björnsson, 1968): words per sentence + 100 * share of words longer than six letters.
Under 30 is "very easy" (children's books); 40 is ordinary newspaper text.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache

import pyphen

from bot.language.i18n import Catalogs, LazyPlural, LazyText
from bot.programmes import Programme, Questionnaire

# Placeholders and Telegram's emoji carry no words.
_PLACEHOLDER = re.compile(r"\{[^}]*\}|%\([^)]*\)s|%s")
_SENTENCE_END = re.compile(r"[.!?…:;\n\u061f\u061b\u06d4\u1362\u1367]+")
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*", re.UNICODE)
_VOWEL_GROUP = re.compile(r"[aeiouyæøåäöé]+", re.IGNORECASE)


@dataclass(frozen=True)
class TextCounts:
    sentences: int
    words: int
    long_words: int  # more than six letters (LIX)
    syllables: int
    longest_sentence: int  # in words

    def __add__(self, other: TextCounts) -> TextCounts:
        return TextCounts(
            self.sentences + other.sentences,
            self.words + other.words,
            self.long_words + other.long_words,
            self.syllables + other.syllables,
            max(self.longest_sentence, other.longest_sentence),
        )

    @property
    def flesch(self) -> float:
        if not self.words:
            return 100.0
        return (
            206.835
            - 1.015 * self.words / max(self.sentences, 1)
            - 84.6 * self.syllables / self.words
        )

    @property
    def lix(self) -> float:
        if not self.words:
            return 0.0
        return self.words / max(self.sentences, 1) + 100 * self.long_words / self.words


EMPTY = TextCounts(0, 0, 0, 0, 0)
# The languages LIX is made for (and tested on).
LIX_LANGUAGES = ("da", "nb", "sv")


@cache
def _hyphenator(language: str) -> pyphen.Pyphen:
    return pyphen.Pyphen(lang=language if language != "en" else "en_US")


def syllables(word: str, language: str = "en") -> int:
    dictionary = "en_US" if language == "en" else language
    points = _hyphenator(language).positions(word.lower()) if dictionary in pyphen.LANGUAGES else []
    if points:
        return len(points) + 1
    groups = len(_VOWEL_GROUP.findall(word))
    silent_e = word.lower().endswith("e") and not word.lower().endswith(("ee", "le", "ye"))
    if language == "en" and silent_e and groups > 1:
        groups -= 1  # "like", "time"; not "mentee", "little"
    return max(groups, 1)


def sentences(text: str) -> list[list[str]]:
    """The words of each sentence (placeholders removed)."""
    clean = _PLACEHOLDER.sub(" ", text)
    found = [_WORD.findall(part) for part in _SENTENCE_END.split(clean)]
    return [words for words in found if words]


def counts(text: str, language: str = "en") -> TextCounts:
    parts = sentences(text)
    words = [word for sentence in parts for word in sentence]
    return TextCounts(
        sentences=len(parts),
        words=len(words),
        long_words=sum(1 for word in words if len(word) > 6),
        syllables=sum(syllables(word, language) for word in words),
        longest_sentence=max((len(sentence) for sentence in parts), default=0),
    )


def total(texts: Iterable[str], language: str = "en") -> TextCounts:
    result = EMPTY
    for text in texts:
        result = result + counts(text, language)
    return result


@dataclass(frozen=True)
class SourceText:
    """An English source text a participant reads; `question` marks a question's own text."""

    text: str
    question: bool = False


def participant_texts(
    questionnaires: Mapping[str, Questionnaire], programmes: Mapping[str, Programme]
) -> list[SourceText]:
    """Every source text a mentee or mentor reads: the bot's messages and buttons, and the
    questionnaires and help lines of the programmes (coordinators' texts are not included)."""
    from bot.language import texts

    found = [SourceText(v.message) for v in vars(texts).values() if isinstance(v, LazyText)]
    found += [
        SourceText(form)
        for v in vars(texts).values()
        if isinstance(v, LazyPlural)
        for form in (v.message, v.plural)
    ]
    found += [SourceText(str(text.message)) for _, text in texts.COMMANDS]
    used = sorted(
        {qid for programme in programmes.values() for qid in programme.questionnaire_ids()}
    )
    for questionnaire_id in used:
        questionnaire = questionnaires[questionnaire_id]
        found.append(SourceText(questionnaire.title))
        for question in questionnaire.questions:
            found.append(SourceText(question.text, question=True))
            extras = [question.why, question.min_label, question.max_label]
            found += [SourceText(option.text) for option in question.options]
            found += [SourceText(extra) for extra in extras if extra]
    for programme in programmes.values():
        found += [SourceText(line.label) for line in programme.help_lines]
    unique: dict[str, SourceText] = {}
    for item in found:
        if item.text not in unique or item.question:
            unique[item.text] = item
    return list(unique.values())


def distribution(catalogs: Catalogs, sources: list[SourceText], language: str) -> dict[str, str]:
    """One row of the README's readability table for a language's participant texts."""
    translated = [(catalogs.gettext(language, s.text), s.question) for s in sources]
    every = [counts(text, language) for text, _ in translated]
    questions = sorted(
        (counts(text, language) for text, question in translated if question),
        key=lambda c: c.words / max(c.sentences, 1),
    )
    whole = total((text for text, _ in translated), language)
    row = {
        "texts": str(len(translated)),
        "words per sentence": f"{whole.words / max(whole.sentences, 1):.1f}",
        "longest sentence": str(max(c.longest_sentence for c in every)),
        "Flesch": "-",
        "LIX": "-",
    }
    if language == "en":
        scores = sorted(c.flesch for c in questions)
        row["Flesch"] = (
            f"all {whole.flesch:.0f}; questions min {scores[0]:.0f}, "
            f"10th percentile {_percentile(scores, 10):.0f}, median {_percentile(scores, 50):.0f}"
        )
    if language in LIX_LANGUAGES:
        scores = sorted(c.lix for c in questions)
        row["LIX"] = (
            f"all {whole.lix:.0f}; questions median {_percentile(scores, 50):.0f}, "
            f"90th percentile {_percentile(scores, 90):.0f}, max {scores[-1]:.0f}"
        )
    return row


def _percentile(ordered: list[float], percent: int) -> float:
    """Nearest-rank percentile of sorted values."""
    rank = max(1, -(-percent * len(ordered) // 100))  # ceiling
    return ordered[rank - 1]
