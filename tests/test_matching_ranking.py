"""The ranking of mentors for a mentee (bot/matching/), on hand-made profiles: the weights of
the programme's criteria, each hard rule, capacity, programme and status, the order of ties,
what typed answers have in common, and the reasons in words."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.language import Catalogs
from bot.matching import Left, Person, Ranking, rank, reason_text
from bot.matching.words import areas_of, languages_in, words_in_common
from bot.programmes import (
    MatchingRules,
    Programme,
    ProgrammeError,
    load_programmes,
    load_questionnaires,
)
from storage.models import ParticipantStatus

ROOT = Path(__file__).parent.parent
QUESTIONNAIRES = load_questionnaires(ROOT / "surveys")
CATALOGS = (ROOT / "locales").glob("*/LC_MESSAGES/messages.po")
LANGUAGES = sorted(path.parent.parent.name for path in CATALOGS)
BRIDGE = load_programmes(ROOT / "programmes", QUESTIONNAIRES, [*LANGUAGES, "en"])["bridge"]
RULES = BRIDGE.matching  # field 4, languages 3, area 2, availability 1, interests 1; wishes hard


def mentee(**answers: object) -> Person:
    return Person(1, "mentee", "bridge", "waiting", "en", answers, name="Amina")


def mentor(
    number: int,
    *,
    status: str = ParticipantStatus.WAITING,
    mentees: int = 0,
    programme: str = "bridge",
    language: str = "da",
    **answers: object,
) -> Person:
    return Person(number, "mentor", programme, status, language, answers, mentees)


def ranked(ranking: Ranking) -> list[tuple[int, int]]:
    return [(a.mentor.id, a.score) for a in ranking.suggested]


def reasons(ranking: Ranking, number: int) -> list[str]:
    (found,) = [a for a in ranking.assessed if a.mentor.id == number]
    return [reason_text(r, BRIDGE, QUESTIONNAIRES) for r in found.reasons]


def rules(text: str) -> MatchingRules:
    return MatchingRules.model_validate(yaml.safe_load(text))


# --- weights and order -------------------------------------------------------------------------


def test_the_score_is_the_sum_of_the_weights_of_the_criteria_met() -> None:
    her = mentee(industry="health", home_town="Aarhus C", interests="football and cooking",
                 availability="yes", other_languages="Arabic")  # fmt: skip
    everything = mentor(10, industry="health", home_town="Viby J", interests="Cooking, football",
                        availability="two_to_four", languages="Danish, Arabic")  # fmt: skip
    field_only = mentor(11, industry="health", home_town="Odense", availability="less")
    place_and_hobby = mentor(12, industry="it", home_town="Aarhus", interests="football")
    nothing = mentor(13, industry="law", home_town="Aalborg")
    ranking = rank(her, [nothing, place_and_hobby, field_only, everything], RULES, LANGUAGES)
    assert ranked(ranking) == [(10, 11), (11, 4), (12, 3), (13, 0)]
    assert ranking.best_score == 11
    assert reasons(ranking, 10) == [
        "Same field: Health and medicine",
        "Speaks the same language: Arabic",
        "Lives in the same area: Aarhus",
        "Both can meet 2 to 4 times a month",
        "Interests in common: football and cooking",
    ]
    assert reasons(ranking, 13) == []


def test_the_weights_come_from_the_programme() -> None:
    her = mentee(industry="health", home_town="Aarhus")
    same_field = mentor(10, industry="health", home_town="Odense")
    same_town = mentor(11, industry="it", home_town="Aarhus")
    assert ranked(rank(her, [same_field, same_town], RULES))[0] == (10, 4)
    place_first = RULES.model_copy(
        update={"criteria": tuple(
            c.model_copy(update={"weight": 9}) if c.id == "area" else c for c in RULES.criteria
        )}
    )  # fmt: skip
    assert ranked(rank(her, [same_field, same_town], place_first)) == [(11, 9), (10, 4)]


def test_ties_go_to_the_mentor_with_fewer_mentees_then_the_lower_number() -> None:
    two_each = RULES.model_copy(update={"capacity": 2})
    her = mentee(industry="it")
    people = [
        mentor(14, industry="it", mentees=1, status=ParticipantStatus.MATCHED),
        mentor(12, industry="it"),
        mentor(13, industry="it"),
        mentor(11, industry="law"),
    ]
    for order in (people, people[::-1]):
        assert ranked(rank(her, order, two_each)) == [(12, 4), (13, 4), (14, 4), (11, 0)]


def test_an_option_the_programme_ignores_is_no_reason() -> None:
    her = mentee(industry="other")
    assert ranked(rank(her, [mentor(10, industry="other")], RULES)) == [(10, 0)]


# --- hard rules ----------------------------------------------------------------------------------


def test_the_mentees_wish_for_a_woman_is_a_hard_rule() -> None:
    her = mentee(mentor_gender="woman")
    woman, man, unsaid = mentor(10, gender="woman"), mentor(11, gender="man"), mentor(12)
    ranking = rank(her, [woman, man, unsaid], RULES)
    assert ranked(ranking) == [(10, 0)]
    assert reasons(ranking, 10) == ["The mentee's wish: A woman"]
    assert ranking.left_out == {"mentee_wish": 2}


def test_no_wish_leaves_every_mentor_in_and_gives_no_reason() -> None:
    for wish in ({"mentor_gender": "no_preference"}, {}):
        ranking = rank(mentee(**wish), [mentor(10, gender="man"), mentor(11)], RULES)
        assert ranked(ranking) == [(10, 0), (11, 0)]
        assert reasons(ranking, 10) == []


def test_the_mentors_wish_is_a_hard_rule_too() -> None:
    her = mentee(gender="woman")
    wants_a_man = mentor(10, mentee_gender="man")
    wants_a_woman = mentor(11, mentee_gender="woman")
    either = mentor(12, mentee_gender="no_preference")
    ranking = rank(her, [wants_a_man, wants_a_woman, either], RULES)
    assert ranked(ranking) == [(11, 0), (12, 0)]
    assert reasons(ranking, 11) == ["The mentor's wish: A woman"]
    assert ranking.left_out == {"mentor_wish": 1}


def test_any_criterion_can_be_made_a_hard_rule() -> None:
    same_field_only = rules(
        "criteria: [{id: field, kind: same_choice, mentee: industry, mentor: industry,"
        " hard: true, label: Same field}]"
    )
    her = mentee(industry="health")
    ranking = rank(her, [mentor(10, industry="health"), mentor(11, industry="it")], same_field_only)
    assert ranked(ranking) == [(10, 1)]
    assert ranking.left_out == {"field": 1}


# --- who can be suggested -----------------------------------------------------------------------


def test_a_mentor_with_as_many_mentees_as_the_programme_allows_is_full() -> None:
    busy = mentor(10, status=ParticipantStatus.MATCHED, mentees=1, industry="it")
    free = mentor(11, industry="law")
    ranking = rank(mentee(industry="it"), [busy, free], RULES)
    assert ranked(ranking) == [(11, 0)]
    assert ranking.left_out == {Left.FULL: 1}
    roomy = RULES.model_copy(update={"capacity": 2})
    assert ranked(rank(mentee(industry="it"), [busy, free], roomy)) == [(10, 4), (11, 0)]


@pytest.mark.parametrize(
    "status",
    [ParticipantStatus.ENDED, ParticipantStatus.WITHDRAWN, ParticipantStatus.DROPPED_OUT,
     ParticipantStatus.INTAKE],
)  # fmt: skip
def test_a_mentor_who_cannot_take_a_mentee_is_not_suggested(status: str) -> None:
    ranking = rank(mentee(industry="it"), [mentor(10, status=status, industry="it")], RULES)
    assert ranking.suggested == []
    assert ranking.left_out == {Left.UNAVAILABLE: 1}


def test_mentors_of_another_programme_and_mentees_are_not_weighed() -> None:
    elsewhere = mentor(10, programme="harbour", industry="it")
    another_mentee = Person(11, "mentee", "bridge", "waiting", "en", {"industry": "it"})
    ranking = rank(mentee(industry="it"), [elsewhere, another_mentee], RULES)
    assert ranking.assessed == ()


def test_a_mentee_with_no_suitable_mentor_gets_none_and_the_reasons_counted() -> None:
    her = mentee(mentor_gender="woman")
    people = [
        mentor(10, gender="man"),
        mentor(11, gender="woman", status=ParticipantStatus.MATCHED, mentees=1),
        mentor(12, gender="woman", status=ParticipantStatus.ENDED),
    ]
    ranking = rank(her, people, RULES)
    assert ranking.suggested == []
    assert ranking.left_out == {"mentee_wish": 1, Left.FULL: 1, Left.UNAVAILABLE: 1}


# --- typed answers ------------------------------------------------------------------------------


def test_languages_are_read_in_any_of_the_bots_languages_and_from_the_bot_language() -> None:
    assert languages_in("Arabic, some English", LANGUAGES) == ["ar", "en"]
    assert languages_in("arabisk og lidt fransk", LANGUAGES) == ["ar", "fr"]
    assert languages_in("العربية والإنجليزية", LANGUAGES) == ["ar", "en"]
    assert languages_in("Farsi, norsk", LANGUAGES) == ["fa", "nb"]
    assert languages_in("I like to cook", LANGUAGES) == []
    her = Person(1, "mentee", "bridge", "waiting", "ar", {})  # uses the bot in Arabic
    typed = mentor(10, languages="Dansk, engelsk, arabisk")
    ranking = rank(her, [typed], RULES, LANGUAGES)
    assert reasons(ranking, 10) == ["Speaks the same language: Arabic"]


def test_places_match_by_area_or_by_the_same_town() -> None:
    areas = {"Aarhus": ("Aarhus", "Viby")}
    assert areas_of("Århus V", areas) == ["Aarhus"] == areas_of("viby j", areas)
    her = mentee(home_town="In the town of Vejle")
    ranking = rank(her, [mentor(10, home_town="Vejle Ø"), mentor(11, home_town="In the city")],
                   RULES)  # fmt: skip
    assert reasons(ranking, 10) == ["Lives in the same area: Vejle"]
    assert reasons(ranking, 11) == []  # common words are no place


def test_interests_in_common_are_words_or_their_forms_without_common_words() -> None:
    assert words_in_common("Football, cooking and reading", "I cook and play football", []) == [
        "Football",
        "cooking",
    ]
    assert words_in_common("fodbold og madlavning", "Fodbold, løb", ["da"]) == ["fodbold"]
    assert words_in_common("I like to walk", "I like to swim", []) == []


def test_reasons_are_in_the_readers_language() -> None:
    catalogs = Catalogs.load(ROOT / "locales")
    her = mentee(industry="health", mentor_gender="woman", other_languages="Arabic")
    him = mentor(10, industry="health", gender="woman", languages="arabisk")
    ranking = rank(her, [him], RULES, LANGUAGES)
    with catalogs.use("da"):
        text = reasons(ranking, 10)
    assert text == [
        "Menteens ønske: En kvinde",
        "Samme fagområde: Sundhed og medicin",
        "Taler samme sprog: arabisk",
    ]


# --- the rules are checked when the programme is read -------------------------------------------


@pytest.mark.parametrize(
    ("criterion", "says"),
    [
        ("{id: a, kind: same_choice, mentee: nope, mentor: industry, label: A}",
         "the mentee intake has no question 'nope'"),
        ("{id: a, kind: words, mentee: industry, mentor: interests, label: A}",
         "'industry' is a single question"),
        ("{id: a, kind: wish, wisher: mentee, mentee: mentor_gender, mentor: industry, label: A}",
         "no wish can be met"),
        ("{id: a, kind: same_choice, mentee: industry, mentor: industry, ignore: [x], label: A}",
         "has no answers ['x']"),
        ("{id: a, kind: wish, mentee: mentor_gender, mentor: gender, label: A}",
         "a wish needs 'wisher"),
    ],
)  # fmt: skip
def test_a_broken_criterion_stops_the_programme_with_its_field(
    tmp_path: Path, criterion: str, says: str
) -> None:
    text = (ROOT / "programmes" / "bridge.yaml").read_text(encoding="utf-8")
    start = text.index("matching:")
    end = text.index("\n# Shown at once")
    broken = f"{text[:start]}matching:\n  criteria:\n    - {criterion}\n{text[end:]}"
    (tmp_path / "bridge.yaml").write_text(broken, encoding="utf-8")
    with pytest.raises(ProgrammeError) as raised:
        load_programmes(tmp_path, QUESTIONNAIRES, [*LANGUAGES, "en"])
    assert "bridge.yaml" in str(raised.value) and says in str(raised.value)


def test_a_programme_without_matching_rules_suggests_every_free_mentor() -> None:
    data = yaml.safe_load((ROOT / "programmes" / "bridge.yaml").read_text(encoding="utf-8"))
    del data["matching"]
    plain = Programme.model_validate(data)
    assert plain.matching.capacity == 1 and plain.matching.criteria == ()
    ranking = rank(mentee(industry="it"), [mentor(11), mentor(10)], plain.matching)
    assert ranked(ranking) == [(10, 0), (11, 0)]
