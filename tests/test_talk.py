""" "Talk to a person": from every question and from /help, with the person's own words."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.conversation.talk import SEND
from bot.core import Core
from bot.language import texts
from bot.messages import Action, AskForPerson, Press, Tap
from storage.models import Answer, Flag, Participant
from tests.conversation import EngineChat
from tests.course import chat, contact, course_at

pytestmark = pytest.mark.fast_course


async def in_intake(core: Core) -> EngineChat:
    chat = EngineChat(core, "5")
    await chat.start()
    await chat.tap("English")
    await chat.tap(str(texts.CONSENT_YES))
    return chat


async def flags(core: Core) -> list[tuple[str, str, object, int | None]]:
    async with core.sessions() as session:
        rows = await session.scalars(select(Flag))
        return [(f.category, f.severity, f.answer, f.participant_id) for f in rows]


async def test_every_question_offers_talk_to_a_person(core: Core) -> None:
    chat = await in_intake(core)
    assert chat.prompt.keyboard[-1][0].label == str(texts.TALK_BUTTON)


async def test_help_takes_the_persons_own_words_and_says_when_to_expect_an_answer(
    core: Core,
) -> None:
    chat = await in_intake(core)
    await chat.send(AskForPerson())
    assert chat.texts == [str(texts.TALK_ASK)]
    await chat.say("My mentor did not come twice.")
    assert chat.texts[0] == "Thank you. Your coordinator will answer you within 2 working days."
    assert "What is your name?" in chat.texts[-1]  # and the question again
    assert await flags(core) == [("talk_to_person", "soon", "My mentor did not come twice.", 1)]
    async with core.sessions() as session:
        assert list(await session.scalars(select(Answer))) == []  # not taken as her name


async def test_talk_button_then_send_without_words(core: Core) -> None:
    chat = await in_intake(core)
    await chat.tap(str(texts.TALK_BUTTON))
    await chat.tap(str(texts.TALK_SEND))
    assert await flags(core) == [("talk_to_person", "soon", None, 1)]


async def test_cancel_sends_nothing(core: Core) -> None:
    chat = await in_intake(core)
    await chat.tap(str(texts.TALK_BUTTON))
    await chat.tap(str(texts.TALK_CANCEL))
    assert chat.texts[0] == str(texts.TALK_CANCELLED)
    assert await flags(core) == []


async def test_the_promise_uses_the_programmes_reply_time_and_plural(core: Core) -> None:
    core.programmes["fast"] = core.programmes["fast"].model_copy(
        update={"coordinator_reply_days": 1}
    )
    chat = await in_intake(core)
    await chat.send(AskForPerson())
    await chat.tap(str(texts.TALK_SEND))
    assert chat.texts[0] == "Thank you. Your coordinator will answer you within 1 working day."


async def test_words_that_suggest_danger_raise_an_urgent_flag_and_show_help_now(
    core: Core,
) -> None:
    chat = await in_intake(core)
    await chat.say("Amina")  # her name: nothing alarming
    await chat.tap(str(texts.SKIP))
    for _ in range(3):  # age, gender, mentor: up to "Which country do you come from?"
        await chat.tap(chat.prompt.keyboard[0][0].label)
    assert "Which country" in chat.question_text
    await chat.say("Syria. My husband hits me")
    help_now = chat.texts[0]
    assert help_now.startswith("Thank you for telling us.")
    assert "Emergency (police, ambulance): 112" in help_now
    assert "Violence at home (Lev Uden Vold): 1888" in help_now
    assert "How long have you lived" in chat.texts[-1]  # and on with the questions
    assert await flags(core) == [("danger", "urgent", "Syria. My husband hits me", 1)]


async def test_danger_in_a_message_to_the_coordinator_is_flagged_urgent_too(core: Core) -> None:
    chat = await in_intake(core)
    await chat.send(AskForPerson())
    await chat.say("I want to kill myself")
    assert ("danger", "urgent", "I want to kill myself", 1) in await flags(core)
    assert ("talk_to_person", "soon", "I want to kill myself", 1) in await flags(core)
    assert chat.texts[0].startswith("Thank you for telling us.")


async def test_help_lines_are_shown_in_the_persons_language(core: Core) -> None:
    chat = EngineChat(core, "6")
    await chat.start()
    await chat.tap("Dansk")
    await chat.tap(chat.prompt.keyboard[0][0].label)
    await chat.send(AskForPerson())
    await chat.say("han slår mig")
    assert "Vold i hjemmet (Lev Uden Vold): 1888" in chat.texts[0]


async def in_anonymous_survey(core: Core) -> EngineChat:
    """Amina (participant 1) in her end survey, which the fast course makes anonymous."""
    await course_at(core, 9)
    amina = chat(core, "100")
    end = await contact(core, "100", "end")
    await amina.send(Tap(Press(Action.OPEN, option=end.id)))
    return amina


async def test_in_an_anonymous_survey_she_first_learns_her_message_goes_with_her_name(
    core: Core,
) -> None:
    amina = await in_anonymous_survey(core)
    question = amina.question_text
    await amina.tap(str(texts.TALK_BUTTON))
    assert amina.texts == [str(texts.TALK_CONSENT)]
    assert await flags(core) == []
    await amina.tap(str(texts.TALK_WITH_NAME))
    assert amina.texts == [str(texts.TALK_ASK)]
    await amina.say("Can we talk about my mentor?")
    assert await flags(core) == [("talk_to_person", "soon", "Can we talk about my mentor?", 1)]
    assert amina.texts[-1] == question  # and on with the anonymous survey


async def test_in_an_anonymous_survey_no_sends_nothing_and_the_survey_goes_on(
    core: Core,
) -> None:
    amina = await in_anonymous_survey(core)
    question = amina.question_text
    await amina.send(AskForPerson())  # /help asks first too
    assert amina.texts == [str(texts.TALK_CONSENT)]
    await amina.tap(str(texts.CONTACT_ME_DONT_SEND))
    assert amina.texts == [str(texts.CONTACT_ME_NOT_SENT), question]
    assert await flags(core) == []
    async with core.sessions() as session:
        person = await session.scalar(select(Participant).where(Participant.id == 1))
        assert person is not None and person.talk_requested_at is None


async def test_an_old_send_button_in_an_anonymous_survey_asks_first(core: Core) -> None:
    amina = await in_anonymous_survey(core)
    await amina.send(Tap(Press(Action.TALK, option=SEND)))  # kept from before the survey
    assert amina.texts == [str(texts.TALK_CONSENT)]
    assert await flags(core) == []
