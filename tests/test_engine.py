"""The survey engine without any channel: steps, skip logic, validation, back/skip, resume."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.core import Core, build_core
from bot.language import texts
from bot.messages import Action, MalformedTap, Press, Tap
from bot.settings import Settings, load_settings
from storage.models import Answer, AnswerStatus, Participant, RunStatus, SurveyRun
from tests.conversation import EngineChat
from tests.course import T0, FakeClock

DATA = Path(__file__).parent / "data"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return load_settings(
        database_url=database_url,
        default_language="en",
        default_programme="sample",
        surveys_dir=DATA / "surveys",
        programmes_dir=DATA / "programmes",
        max_text_length=50,
    )


@pytest.fixture
async def core(settings: Settings) -> AsyncIterator[Core]:
    core = await build_core(settings, FakeClock(T0))
    yield core
    await core.close()


async def consented(core: Core, user_id: str = "1") -> EngineChat:
    chat = EngineChat(core, user_id)
    await chat.start()
    await chat.tap("English")
    await chat.tap(str(texts.CONSENT_YES))
    return chat


async def after_pets(core: Core, pet: str) -> EngineChat:
    """Consented, answered Red, then ``pet`` as the only pet."""
    chat = await consented(core)
    await chat.tap("Red")
    await chat.tap(pet)
    await chat.tap(str(texts.DONE))
    return chat


async def at_age(core: Core) -> EngineChat:
    """Red, only a fish: the dog's name does not apply, so the age question is next."""
    return await after_pets(core, "Fish")


async def at_dog_name(core: Core) -> EngineChat:
    return await after_pets(core, "Dog")


async def answers(core: Core) -> dict[str, tuple[object, str]]:
    async with core.sessions() as session:
        rows = await session.scalars(select(Answer))
        return {row.question_id: (row.value, row.status) for row in rows}


async def test_language_is_asked_first_with_names_in_their_own_script(core: Core) -> None:
    chat = EngineChat(core)
    await chat.start()
    assert [b.label for row in chat.prompt.keyboard for b in row] == ["English", "Dansk"]
    assert "Choose your language." in chat.question_text


async def test_telegram_language_preselects_but_person_confirms(core: Core) -> None:
    chat = EngineChat(core, hint="da-DK")
    await chat.start()
    labels = [b.label for row in chat.prompt.keyboard for b in row]
    assert labels[0] == "Dansk"
    async with core.sessions() as session:
        participant = await session.scalar(select(Participant))
        assert participant.language is None


async def test_consent_no_ends_politely_and_stores_nothing_else(core: Core) -> None:
    chat = EngineChat(core)
    await chat.start()
    await chat.tap("English")
    reply = await chat.tap(str(texts.CONSENT_NO))
    assert chat.texts == [str(texts.CONSENT_DECLINED)]
    assert reply.edit is not None and reply.edit.keyboard == ()
    async with core.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(SurveyRun)) == 0
        participant = await session.scalar(select(Participant))
        assert participant.consent_given_at is None
        assert participant.consent_declined_at is not None


async def test_consent_is_stored_with_time_and_version(core: Core) -> None:
    await consented(core)
    async with core.sessions() as session:
        participant = await session.scalar(select(Participant))
        assert participant.consent_version == texts.CONSENT_VERSION
        assert participant.consent_given_at is not None
        assert participant.language == "en"


async def test_whole_questionnaire_with_skip_logic_and_every_type(core: Core) -> None:
    chat = await consented(core)
    # Six questions may come: "What is your dog called?" counts until the pets rule it out.
    assert chat.question_text.startswith("1 / 6\n\nWhich colour do you like?")
    reply = await chat.tap("Blue")
    # The pressed message becomes the next question: no new message.
    assert reply.edit.text.startswith("2 / 6\n\nWhich pets do you have?") and reply.edit.keyboard
    assert reply.edit_shows_next and reply.messages == []
    await chat.tap("Cat")
    assert [b.label for b in chat.prompt.keyboard[0]] == ["✓ Cat"]
    await chat.tap("Dog")
    await chat.tap("✓ Cat")  # untick
    reply = await chat.tap(str(texts.DONE))
    assert reply.edit is chat.prompt and reply.messages == []
    assert "What is your dog called?" in chat.question_text  # shown because of "Dog"
    assert chat.question_text.startswith("3 / 6")
    await chat.say("  Rex  ")
    await chat.say("42")
    assert "1 = Bad" in chat.question_text
    await chat.tap("4")
    reply = await chat.tap(str(texts.NEXT))
    assert chat.texts == [str(texts.INTAKE_DONE)]
    # The pressed message sums up her answers, the note "Almost done." aside.
    assert (
        reply.edit is not None
        and reply.edit.keyboard == ()
        and reply.edit.text
        == (
            "Your answers:\n\n"
            "Which colour do you like?\n✓ Blue\n\n"
            "Which pets do you have?\n✓ Dog\n\n"
            "What is your dog called?\n✓ Rex\n\n"
            "How old are you?\n✓ 42\n\n"
            "How do you feel?\n✓ 4"
        )
    )
    assert await answers(core) == {
        "colour": ("blue", AnswerStatus.ANSWERED),
        "pets": (["dog"], AnswerStatus.ANSWERED),
        "dog_name": ("Rex", AnswerStatus.ANSWERED),
        "age": (42, AnswerStatus.ANSWERED),
        "mood": (4, AnswerStatus.ANSWERED),
        "thanks": (None, AnswerStatus.ANSWERED),
    }


async def test_question_that_does_not_apply_is_not_shown(core: Core) -> None:
    chat = await at_age(core)
    assert "How old are you?" in chat.question_text
    assert chat.question_text.startswith("3 / 5")


async def test_skip_and_prefer_not_to_say_are_stored_as_such(core: Core) -> None:
    chat = await at_age(core)
    await chat.tap(str(texts.SKIP))
    await chat.tap(str(texts.PREFER_NOT))
    stored = await answers(core)
    assert stored["age"] == (None, AnswerStatus.SKIPPED)
    assert stored["mood"] == (None, AnswerStatus.DECLINED)


async def test_required_question_has_no_skip_button_and_cannot_be_skipped(core: Core) -> None:
    chat = await consented(core)
    labels = [b.label for row in chat.prompt.keyboard for b in row]
    assert str(texts.SKIP) not in labels and str(texts.BACK) not in labels
    first = chat.prompt.keyboard[0][0].press
    await chat.send(Tap(Press(Action.SKIP, first.run, first.question)))
    assert chat.texts[0] == str(texts.CANNOT_SKIP)
    assert await answers(core) == {}


async def test_back_returns_to_previous_question_and_reanswer_replaces(core: Core) -> None:
    chat = await consented(core)
    await chat.tap("Red")
    reply = await chat.tap(str(texts.BACK))
    # The pressed message shows the previous question again, with its buttons.
    assert reply.edit is chat.prompt and reply.messages == []
    assert chat.question_text.startswith("1 / 6\n\nWhich colour do you like?")
    await chat.tap("Blue")
    assert (await answers(core))["colour"] == ("blue", AnswerStatus.ANSWERED)


async def test_back_keeps_earlier_multi_choice_ticked(core: Core) -> None:
    chat = await at_age(core)
    await chat.tap(str(texts.BACK))
    assert "✓ Fish" in [b.label for row in chat.prompt.keyboard for b in row]


async def test_answer_to_question_hidden_after_back_is_dropped_at_the_end(core: Core) -> None:
    chat = await at_dog_name(core)
    await chat.say("Rex")
    await chat.tap(str(texts.BACK))  # back to dog_name
    await chat.tap(str(texts.BACK))  # back to pets
    await chat.tap("✓ Dog")
    await chat.tap("Cat")
    await chat.tap(str(texts.DONE))
    await chat.tap(str(texts.SKIP))
    await chat.tap("3")
    await chat.tap(str(texts.NEXT))
    stored = await answers(core)
    assert "dog_name" not in stored
    assert stored["pets"] == (["cat"], AnswerStatus.ANSWERED)


async def test_done_without_a_choice_asks_for_one(core: Core) -> None:
    chat = await consented(core)
    await chat.tap("Red")
    await chat.tap(str(texts.DONE))
    assert chat.texts[0] == str(texts.CHOOSE_AT_LEAST_ONE)
    assert "pets" not in await answers(core)


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
async def test_empty_text_repeats_question(core: Core, text: str) -> None:
    chat = await at_dog_name(core)
    await chat.say(text)
    assert chat.texts[0] == str(texts.WRITE_SOMETHING)
    assert "What is your dog called?" in chat.texts[1]
    assert "dog_name" not in await answers(core)


async def test_over_long_text_is_refused_with_the_limit(core: Core) -> None:
    chat = await at_dog_name(core)
    await chat.say("R" * 21)
    assert chat.texts[0] == "Your answer is too long. Please use at most 20 characters."
    assert "dog_name" not in await answers(core)


@pytest.mark.parametrize("text", ["abc", "15", "100", "4.5"])
async def test_number_outside_range_or_not_a_number_is_refused(core: Core, text: str) -> None:
    chat = await at_age(core)
    await chat.say(text)
    assert chat.texts[0] == "Please write only a number from 16 to 99."
    assert "age" not in await answers(core)


async def test_arabic_indic_digits_are_read_as_a_number(core: Core) -> None:
    chat = await at_age(core)
    await chat.say("٤٢")
    assert (await answers(core))["age"] == (42, AnswerStatus.ANSWERED)


async def test_text_where_a_button_is_expected_repeats_question(core: Core) -> None:
    chat = await consented(core)
    await chat.say("red")
    assert chat.texts[0] == str(texts.PRESS_A_BUTTON)
    assert "Which colour do you like?" in chat.texts[1]
    assert await answers(core) == {}


async def test_sticker_where_text_is_expected_repeats_question(core: Core) -> None:
    chat = await at_dog_name(core)
    await chat.send_sticker()
    assert chat.texts[0] == str(texts.ONLY_TEXT)
    assert "What is your dog called?" in chat.texts[1]


async def test_button_from_an_old_message_is_refused(core: Core) -> None:
    chat = await consented(core)
    first_question = chat.prompt
    await chat.tap("Red")
    await chat.tap("Blue", message=first_question)
    assert chat.texts[0] == str(texts.OLD_BUTTON)
    assert (await answers(core))["colour"] == ("red", AnswerStatus.ANSWERED)


async def test_button_of_another_persons_run_changes_nothing_for_anyone(core: Core) -> None:
    amina = await consented(core, "amina")
    omar = await consented(core, "omar")
    aminas_red = amina.button("Red").press
    assert aminas_red.run != omar.button("Red").press.run
    await omar.send(Tap(aminas_red))
    assert omar.texts[0] == str(texts.OLD_BUTTON)
    assert await answers(core) == {}


async def test_malformed_button_repeats_question(core: Core) -> None:
    chat = await consented(core)
    await chat.send(MalformedTap())
    assert chat.texts[0] == str(texts.NOT_UNDERSTOOD)
    assert "Which colour do you like?" in chat.texts[1]


async def test_out_of_range_option_is_not_stored(core: Core) -> None:
    chat = await consented(core)
    press = chat.prompt.keyboard[0][0].press
    await chat.send(Tap(Press(Action.CHOOSE, press.run, press.question, option=7)))
    assert chat.texts[0] == str(texts.NOT_UNDERSTOOD)
    assert await answers(core) == {}


async def test_start_again_resumes_at_the_same_question(core: Core) -> None:
    chat = await consented(core)
    await chat.tap("Red")
    again = EngineChat(core)
    await again.start()
    assert again.texts[0] == str(texts.WELCOME_BACK)
    assert "Which pets do you have?" in again.texts[1]
    assert (await answers(core)) == {"colour": ("red", AnswerStatus.ANSWERED)}


async def test_finishing_twice_is_impossible(core: Core) -> None:
    chat = await at_age(core)
    await chat.tap(str(texts.SKIP))
    await chat.tap("2")
    last_prompt = chat.prompt
    await chat.tap(str(texts.NEXT))
    await chat.start()
    assert chat.texts == [str(texts.NOTHING_OPEN)]
    await chat.tap(str(texts.NEXT), message=last_prompt)
    assert chat.texts == [str(texts.NOTHING_OPEN)]
    async with core.sessions() as session:
        runs = list(await session.scalars(select(SurveyRun)))
    assert len(runs) == 1 and runs[0].status == RunStatus.COMPLETED


async def test_deep_link_enrols_in_that_programme(core: Core) -> None:
    chat = EngineChat(core)
    await chat.start("OTHER")
    assert [b.label for row in chat.prompt.keyboard for b in row] == ["Dansk"]
    async with core.sessions() as session:
        participant = await session.scalar(select(Participant))
        assert participant.programme.code == "other"


async def test_unknown_link_says_so_and_uses_default_programme(core: Core) -> None:
    chat = EngineChat(core)
    await chat.start("nonsense")
    assert chat.texts[0] == str(texts.UNKNOWN_LINK)
    async with core.sessions() as session:
        participant = await session.scalar(select(Participant))
        assert participant.programme.code == "sample"


async def test_questions_are_shown_in_the_chosen_language(core: Core) -> None:
    chat = EngineChat(core)
    await chat.start()
    await chat.tap("Dansk")
    consent = chat.prompt
    with core.catalogs.use("da"):
        yes = str(texts.CONSENT_YES)
        assert consent.text == str(texts.CONSENT)
    assert consent.text != texts.CONSENT.message  # really Danish, not the English source
    await chat.tap(yes)
    assert chat.last.language == "da"
