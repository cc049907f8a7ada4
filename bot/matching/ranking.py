"""Mentors ranked for one mentee, from the two sides' intake answers and the programme's
`matching:` rules. Pure: people come in as `Person`s, the ranking goes out with every reason
as data (bot/matching/wording.py puts it into words), and nothing is read or written.

A mentor is suggested if they are a mentor of the mentee's programme, waiting or matched with
room for another mentee (the programme's `capacity`), and meet every hard criterion. The score
is the sum of the weights of the criteria met. Higher scores come first; on a tie, the mentor
with fewer mentees now, then the lower participant number (who joined first), so the same
answers always give the same order.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from bot.matching import words
from bot.programmes import Criterion, CriterionKind, MatchingRules
from storage.models import ParticipantStatus

# Who may take a mentee: a mentor who finished the intake (waiting), or one in a match with
# room for more. A mentor whose course ended, who dropped out or withdrew is not asked again.
AVAILABLE = {ParticipantStatus.WAITING, ParticipantStatus.MATCHED}


@dataclass(frozen=True)
class Person:
    """A mentee or mentor as the ranking sees them."""

    id: int
    role: str
    programme: str  # its code
    status: str
    language: str | None = None  # the one they use with the bot
    answers: Mapping[str, object] = field(default_factory=dict)  # their intake, answered only
    mentees: int = 0  # a mentor's running matches
    name: str | None = None


class Shared(StrEnum):
    """What a reason's values are, for putting them into words."""

    OPTION = "option"  # option ids of the criterion's question (mentee's, or the wisher's)
    LANGUAGE = "language"  # language codes
    TYPED = "typed"  # words as the mentee typed them, or an area's name from the programme


@dataclass(frozen=True)
class Reason:
    """A criterion met, and what the two share ("Same field" and ["health"])."""

    criterion: Criterion
    shared: Shared
    values: tuple[str, ...] = ()
    role: str = "mentee"  # whose question the OPTION values belong to


class Left(StrEnum):
    """Why an available-looking mentor is not suggested (besides a hard criterion)."""

    FULL = "full"  # has as many mentees as the programme allows
    UNAVAILABLE = "unavailable"  # course ended, dropped out, withdrew, or intake unfinished


@dataclass(frozen=True)
class Assessment:
    """One mentor, weighed: suggested (no `left_out`) with a score and reasons, or not and why
    (a `Left` value, or the id of the first hard criterion not met)."""

    mentor: Person
    score: int
    reasons: tuple[Reason, ...]
    left_out: str | None = None

    @property
    def suggested(self) -> bool:
        return self.left_out is None


@dataclass(frozen=True)
class Ranking:
    mentee: Person
    best_score: int  # every criterion met
    assessed: tuple[Assessment, ...]  # every mentor of the programme, the suggested first

    @property
    def suggested(self) -> list[Assessment]:
        return [a for a in self.assessed if a.suggested]

    @property
    def left_out(self) -> Counter[str]:
        """How many mentors are not suggested, by why."""
        return Counter(a.left_out for a in self.assessed if a.left_out is not None)


def rank(
    mentee: Person,
    mentors: Iterable[Person],
    rules: MatchingRules,
    locales: Iterable[str] = ("en",),
) -> Ranking:
    """Every mentor of the mentee's programme, weighed; `locales` are the languages whose
    names of languages are read in typed answers (the programme's)."""
    locales = tuple(locales)
    assessed = [
        _assess(mentee, mentor, rules, locales)
        for mentor in mentors
        if mentor.role == "mentor" and mentor.programme == mentee.programme
    ]
    assessed.sort(key=lambda a: (not a.suggested, -a.score, a.mentor.mentees, a.mentor.id))
    return Ranking(mentee, rules.best_score, tuple(assessed))


def _assess(
    mentee: Person, mentor: Person, rules: MatchingRules, locales: tuple[str, ...]
) -> Assessment:
    if mentor.status not in AVAILABLE:
        return Assessment(mentor, 0, (), Left.UNAVAILABLE)
    if mentor.mentees >= rules.capacity:
        return Assessment(mentor, 0, (), Left.FULL)
    score, reasons = 0, []
    for criterion in rules.criteria:
        met, reason = _judge(criterion, mentee, mentor, locales)
        if criterion.hard and not met:
            return Assessment(mentor, 0, (), criterion.id)
        if reason is not None:
            score += criterion.weight
            reasons.append(reason)
    return Assessment(mentor, score, tuple(reasons))


def _judge(
    criterion: Criterion, mentee: Person, mentor: Person, locales: tuple[str, ...]
) -> tuple[bool, Reason | None]:
    """Whether the criterion holds for the pair, and the reason to show when it holds because
    of something they share (a wish for nothing in particular holds, and shows nothing)."""
    mine = mentee.answers.get(criterion.mentee) if criterion.mentee else None
    theirs = mentor.answers.get(criterion.mentor) if criterion.mentor else None
    match criterion.kind:
        case CriterionKind.SAME_CHOICE:
            chosen = [c for c in _chosen(mine) if c in _chosen(theirs)]
            shared = tuple(c for c in chosen if c not in criterion.ignore)
            return _held(criterion, Shared.OPTION, shared)
        case CriterionKind.WISH:
            return _wish(criterion, mine, theirs)
        case CriterionKind.BOTH_CHOSE:
            both = bool(set(_chosen(mine)) & set(criterion.mentee_answers)) and bool(
                set(_chosen(theirs)) & set(criterion.mentor_answers)
            )
            return both, Reason(criterion, Shared.TYPED) if both else None
        case CriterionKind.LANGUAGES:
            spoken = _languages(mentee, mine, locales)
            theirs_spoken = set(_languages(mentor, theirs, locales))
            ignored = {words.canonical_language(code) for code in criterion.ignore}
            codes = tuple(c for c in spoken if c in theirs_spoken and c not in ignored)
            return _held(criterion, Shared.LANGUAGE, codes)
        case CriterionKind.PLACE:
            if not (isinstance(mine, str) and isinstance(theirs, str)):
                return False, None
            areas = [a for a in words.areas_of(mine, criterion.areas)
                     if a in words.areas_of(theirs, criterion.areas)]  # fmt: skip
            languages = [code for code in (mentee.language, mentor.language) if code]
            found = areas or words.places_in_common(mine, theirs, languages)
            return _held(criterion, Shared.TYPED, tuple(found))
        case CriterionKind.WORDS:
            if not (isinstance(mine, str) and isinstance(theirs, str)):
                return False, None
            languages = [code for code in (mentee.language, mentor.language) if code]
            common = words.words_in_common(mine, theirs, languages)
            return _held(criterion, Shared.TYPED, tuple(common))
    return False, None  # pragma: no cover - every kind is handled above


def _held(
    criterion: Criterion, shared: Shared, values: tuple[str, ...]
) -> tuple[bool, Reason | None]:
    return (True, Reason(criterion, shared, values)) if values else (False, None)


def _wish(criterion: Criterion, mine: object, theirs: object) -> tuple[bool, Reason | None]:
    wish, answer = (mine, theirs) if criterion.wisher == "mentee" else (theirs, mine)
    wished = [c for c in _chosen(wish) if c not in criterion.any]
    if not wished:  # no wish, or "it does not matter"
        return True, None
    granted = tuple(c for c in wished if c in _chosen(answer))
    if not granted:
        return False, None
    assert criterion.wisher is not None
    return True, Reason(criterion, Shared.OPTION, granted, role=criterion.wisher)


def _chosen(value: object) -> list[str]:
    """The option ids of a choice answer (one, or a list); nothing for anything else."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [str(item) for item in value if isinstance(item, str)]
    return []


def _languages(person: Person, typed: object, locales: tuple[str, ...]) -> list[str]:
    """The languages a person speaks: the one they use with the bot, and those they typed."""
    found = [words.canonical_language(person.language)] if person.language else []
    if isinstance(typed, str):
        found += [c for c in words.languages_in(typed, locales) if c not in found]
    return found
