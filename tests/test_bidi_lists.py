"""Lists a person reads are joined as the reader's language writes a list (Babel, CLDR): the
options a person chose, in the summary at the end of a survey; their answers in /mydata; a
flagged answer in the coordinator's language. Never a Latin comma between words in Arabic script."""

from __future__ import annotations

from datetime import timedelta

import pytest
from bidi import get_display

from bot.coordination import flag_view
from bot.core import Core
from bot.course import create_match
from bot.language import Catalogs, _, listing, question_of, texts, value_text
from bot.messages import Action, Press, ShowMyData, Tap
from bot.programmes import Question, load_questionnaires
from bot.settings import PROJECT_ROOT
from storage.models import Flag
from tests.conversation import EngineChat
from tests.course import T0, RecordingOutbox, clock_at, contact, dispatcher, enrolled

SHIPPED = Catalogs.load(PROJECT_ROOT / "locales")
CHECK_IN = load_questionnaires(PROJECT_ROOT / "surveys")["checkin_mentee"]
TOPICS = question_of(CHECK_IN, "topics")
NEWS = question_of(CHECK_IN, "news")
CHOSEN = ["cv", "interview", "language"]

# How each language writes "A, B and C" (CLDR), with {0}, {1}, {2} for the three labels.
LIST_OF_THREE = {
    "en": "{0}, {1}, and {2}",
    "da": "{0}, {1} og {2}",
    "ar": "{0} و{1} و{2}",
    "fa": "{0}،\u200f {1}، و {2}",
    "fa_AF": "{0}،\u200f {1}، و {2}",
    "ps": "{0}، {1}، او {2}",
    "ur": "{0}، {1}، اور {2}",
    # CLDR has no list patterns for Sorani: the Arabic comma, not the root's Latin one.
    "ckb": "{0}، {1}، {2}",
}


def labels(language: str, question: Question | None, chosen: list[str]) -> list[str]:
    assert question is not None
    with SHIPPED.use(language):
        return [_(question.option_text(choice)) for choice in chosen]


async def topics_tapped(core: Core, language: str) -> EngineChat:
    """A mentee who reads `language` answers her first check-in of the fast course, ticking
    three of "What did you work on together?" and tapping Done."""
    mentee = await enrolled(core, "100", "mentee", language)
    mentor = await enrolled(core, "200", "mentor")
    async with core.sessions() as session:
        await create_match(session, core.programmes, mentee.id, mentor.id, T0)
        await session.commit()
    clock_at(core, T0 + timedelta(seconds=2))
    await dispatcher(core, RecordingOutbox()).tick()
    person = EngineChat(core, "100")
    checkin = await contact(core, "100", "checkin_1")
    await person.send(Tap(Press(Action.OPEN, option=checkin.id)))
    with SHIPPED.use(language):
        met, going = _("Yes, several times"), _("Good")
        done = str(texts.DONE)
    await person.tap(met)
    await person.tap(going)
    for label in labels(language, TOPICS, CHOSEN):
        await person.tap(label)
    await person.tap(done)
    return person


async def finish(person: EngineChat, language: str) -> None:
    """Answer the rest of the check-in with the first button of each question."""
    with SHIPPED.use(language):
        done = str(texts.DONE)
    while person.asks:
        labels = [b.label for row in person.prompt.keyboard for b in row] if person.prompt else []
        await person.tap(labels[0])
        if done in labels:
            await person.tap(done)


def summary_line(person: EngineChat, language: str) -> str:
    """The topics' line in the summary that ends the check-in (the pressed message)."""
    assert person.last.edit is not None and not person.last.edit.keyboard
    with SHIPPED.use(language):
        question = _("What did you work on together?")
    lines = person.last.edit.text.splitlines()
    return lines[lines.index(question) + 1]


def in_a_list(language: str) -> str:
    return LIST_OF_THREE[language].format(*labels(language, TOPICS, CHOSEN))


@pytest.mark.fast_course
@pytest.mark.parametrize("language", LIST_OF_THREE)
async def test_multiple_choice_answers_are_joined_in_the_persons_language(
    core: Core, language: str
) -> None:
    person = await topics_tapped(core, language)
    await finish(person, language)
    shown = summary_line(person, language)
    assert shown == f"✓ {in_a_list(language)}"
    if language not in {"en", "da"}:
        assert ", " not in shown  # no Latin comma between words in Arabic script


@pytest.mark.fast_course
@pytest.mark.parametrize("language", ["ar", "da"])
async def test_answers_in_mydata_are_joined_in_the_persons_language(
    core: Core, language: str
) -> None:
    person = await topics_tapped(core, language)
    reply = await person.send(ShowMyData())
    with SHIPPED.use(language):
        question = _("What did you work on together?")
    shown = "\n".join(message.text for message in reply.messages).splitlines()
    assert f"- {question} » {in_a_list(language)}" in shown


async def test_a_flagged_answer_is_joined_in_the_coordinators_language(core: Core) -> None:
    flag = Flag(
        id=1,
        participant_id=12,
        questionnaire_id="checkin_mentee",
        question_id="news",
        answer=["new_job", "education"],
        category="life_event",
        severity="info",
    )
    async with core.sessions() as session:
        with SHIPPED.use("da"):
            view = await flag_view(session, flag, core.questionnaires)
    new_job, education = labels("da", NEWS, ["new_job", "education"])
    assert f"» {new_job} og {education}" in view.text.splitlines()


def test_one_chosen_option_is_shown_as_it_is() -> None:
    with SHIPPED.use("ar"):
        assert value_text(TOPICS, "cv") == _("CV and job applications")
        assert listing([]) == ""


def test_a_language_babel_does_not_know_joins_as_english_does() -> None:
    with SHIPPED.use("xx"):
        assert listing(["A", "B", "C"]) == "A, B, and C"


@pytest.mark.fast_course
async def test_a_sorani_list_reads_right_to_left_with_its_latin_words_in_order(
    core: Core,
) -> None:
    person = await topics_tapped(core, "ckb")
    await finish(person, "ckb")
    first, _second, last = labels("ckb", TOPICS, CHOSEN)
    on_screen = get_display(summary_line(person, "ckb"))
    # Right to left: the first answer at the right edge, the last one at the left.
    assert on_screen.startswith(get_display(last))
    assert "CV" in first and "CV" in on_screen
