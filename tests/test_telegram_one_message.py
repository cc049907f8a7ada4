"""One message per answer (issue 12): a tapped answer turns the question's message into the next
question, so it costs one call that Telegram's flood limits count (30 a second in all, about
one a second per chat), not two. Only the live question keeps buttons; a typed answer brings
the next question as a new message and takes the buttons off the old one; a question with a
recording still comes as new messages; the survey ends with a summary of the answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.language import texts
from bot.settings import PROJECT_ROOT, Settings
from tests.fakes import FakeBotAPI
from tests.fakes.bot_api.faults import FLOOD_CONTROLLED_METHODS
from tests.telegram import Mentee, RunningBot, running_bot, stored_answers
from tests.test_telegram_intake import INTAKE_SCRIPT

Message = dict[str, object]
AGE = "How old are you?"
GENDER = "What is your gender?"


def counted_calls(server: FakeBotAPI) -> list[str]:
    """The calls Telegram's flood control counts (messages sent and edited), by method."""
    return [call.method for call in server.calls if call.method in FLOOD_CONTROLLED_METHODS]


def pressable(mentee: Mentee) -> list[Message]:
    """The bot's messages that still carry buttons."""
    return [message for message in mentee.user.messages if message.get("reply_markup")]


def labels(message: Message) -> list[str]:
    markup = message["reply_markup"]
    assert isinstance(markup, dict)
    return [button["text"] for row in markup["inline_keyboard"] for button in row]


async def test_an_intake_answered_by_taps_costs_one_counted_call_per_answer(
    running: RunningBot, server: FakeBotAPI
) -> None:
    amina = Mentee(server.user(801, "Amina", language_code="da"), running)
    await amina.begin()
    costs: list[tuple[str, list[str]]] = []
    for answer_by, answer in INTAKE_SCRIPT:
        before = len(counted_calls(server))
        await answer_by(amina, answer)
        costs.append((answer_by.__name__, counted_calls(server)[before:]))
        # Only the question being asked keeps its buttons, and it is the latest message.
        live = pressable(amina)
        assert live == [] or live == [amina.user.messages[-1]], live

    *steps, (_, last) = costs
    taps = [calls for by, calls in steps if by in {"tap", "toggle"}]
    typed = [calls for by, calls in steps if by == "type"]
    # A tap (an answer, a tick, Done, Skip, "Prefer not to say") edits the one message.
    assert taps and all(calls == ["editMessageText"] for calls in taps)
    # A typed answer cannot edit her message: the next question comes, then the old one's
    # buttons go (that call yields to every other: handlers/telegram/rate_limit.py).
    assert typed and all(calls == ["sendMessage", "editMessageReplyMarkup"] for calls in typed)
    # The last tap: the question becomes the summary, then what happens next.
    assert last == ["editMessageText", "sendMessage"]
    total = sum(len(calls) for _, calls in costs)
    assert total == len(taps) + 2 * len(typed) + 2  # before: two calls for every tap
    assert pressable(amina) == []
    server.assert_no_violations()


async def test_back_shows_the_previous_question_in_the_same_message(
    running: RunningBot, server: FakeBotAPI
) -> None:
    amina = Mentee(server.user(802, "Amina", language_code="da"), running)
    await amina.begin()
    await amina.type("Amina")
    (asked,) = [m for m in await amina.tap(texts.SKIP)]  # the contact; now the age question
    assert amina.da(AGE) in str(asked["text"])
    (gender,) = await amina.tap("25 to 34")
    assert gender["message_id"] == asked["message_id"] and amina.da(GENDER) in str(gender["text"])
    before = len(counted_calls(server))

    (back,) = await amina.tap(texts.BACK)

    assert back["message_id"] == asked["message_id"]
    assert str(back["text"]).startswith("3 / ") and amina.da(AGE) in str(back["text"])
    assert amina.da("25 to 34") in labels(back)
    assert counted_calls(server)[before:] == ["editMessageText"]
    assert pressable(amina) == [amina.user.messages[-1]]
    (again,) = await amina.tap("35 to 44")
    assert amina.da(GENDER) in str(again["text"])
    assert (await stored_answers(running))["age_group"] == ("35_44", "answered")
    server.assert_no_violations()


async def test_a_typed_answer_brings_a_new_message_and_leaves_no_old_buttons(
    running: RunningBot, server: FakeBotAPI
) -> None:
    amina = Mentee(server.user(803, "Amina", language_code="da"), running)
    await amina.begin()
    name_question = amina.user.messages[-1]
    before = len(counted_calls(server))

    reply = await amina.type("Amina")

    old, new = reply
    assert old["message_id"] == name_question["message_id"] and "reply_markup" not in old
    assert old["text"] == name_question["text"]  # the question stays, her answer below it
    assert str(new["text"]).startswith("2 / ") and new["reply_markup"]
    # What she waits for first, then the clean-up (it yields to every other call).
    assert counted_calls(server)[before:] == ["sendMessage", "editMessageReplyMarkup"]
    assert pressable(amina) == [amina.user.messages[-1]]
    server.assert_no_violations()


async def test_slow_removal_of_old_buttons_does_not_hold_up_her_next_answer(
    running: RunningBot, server: FakeBotAPI
) -> None:
    """Regression (information meeting, issue 12): the clean-up after a typed answer yields to
    every other call, so at a busy moment it waits; awaited in her update, it held up her next
    update behind it in the inbox, and her next question came seconds late."""
    amina = Mentee(server.user(806, "Amina", language_code="da"), running)
    await amina.begin()
    name_question = amina.user.messages[-1]
    clean_up = server.hold_next("editMessageReplyMarkup")  # as long as the test wants

    await amina.user.send_text("Amina")
    # quiet=0: the bot is still busy taking the old buttons off; the next question is there.
    (contact,) = await amina.user.wait_for_reply(quiet=0, timeout=20)
    assert str(contact["text"]).startswith("2 / ")
    await amina.user.tap(amina.da(texts.SKIP))
    (age,) = await amina.user.wait_for_reply(quiet=0, timeout=20)

    assert age["message_id"] == contact["message_id"] and amina.da(AGE) in str(age["text"])
    assert amina.user.buttons(name_question["message_id"])  # still held
    clean_up.set()
    await amina.user.wait_for_reply(count=0)
    assert pressable(amina) == [amina.user.messages[-1]]
    server.assert_no_violations()


async def test_a_finished_survey_ends_with_a_summary_where_its_last_question_was(
    running: RunningBot, server: FakeBotAPI
) -> None:
    amina = Mentee(server.user(804, "Amina", language_code="da"), running)
    await amina.begin()
    for answer_by, answer in INTAKE_SCRIPT[:-1]:
        await answer_by(amina, answer)
    question = amina.user.messages[-1]
    summary, thanks = await amina.tap("Language school")
    assert summary["message_id"] == question["message_id"] and "reply_markup" not in summary
    lines = str(summary["text"]).splitlines()
    assert lines[0] == amina.da(texts.YOUR_ANSWERS)
    answers = lines[3::3]
    # One answer for every question she was asked, in order, as she gave it.
    assert len(answers) == len(await stored_answers(running)) == 22
    assert answers[0] == "✓ Amina" and answers[-1] == "✓ " + amina.da("Language school")
    assert thanks["text"] == amina.da(texts.INTAKE_DONE)
    server.assert_no_violations()


@pytest.fixture
def gender_recorded(settings: Settings, tmp_path: Path) -> Settings:
    """The shipped programme with one recording: the gender question in Danish."""
    programmes = tmp_path / "programmes"
    programmes.mkdir()
    source = (PROJECT_ROOT / "programmes" / "bridge.yaml").read_text(encoding="utf-8")
    (programmes / "bridge.yaml").write_text(source + "\naudio: audio\n", encoding="utf-8")
    folder = programmes / "audio" / "da" / "mentee_intake"
    folder.mkdir(parents=True)
    (folder / "gender.ogg").write_bytes(b"OggS-gender")
    return settings.model_copy(update={"programmes_dir": programmes})


@pytest.fixture
async def recorded_bot(gender_recorded: Settings, server: FakeBotAPI) -> AsyncIterator[RunningBot]:
    async with running_bot(gender_recorded, server) as bot:
        yield bot


async def test_a_question_with_a_recording_comes_as_new_messages_after_a_tap(
    recorded_bot: RunningBot, server: FakeBotAPI
) -> None:
    # A voice note cannot be edited into text: the tapped message shows the answer instead.
    amina = Mentee(server.user(805, "Amina", language_code="da"), recorded_bot)
    await amina.begin()
    await amina.type("Amina")
    (asked,) = await amina.tap(texts.SKIP)
    answered, voice, question = await amina.tap("25 to 34", count=3)
    assert answered["message_id"] == asked["message_id"] and "reply_markup" not in answered
    assert str(answered["text"]).endswith("✓ " + amina.da("25 to 34"))
    assert "voice" in voice and amina.da(GENDER) in str(question["text"])
    assert pressable(amina) == [question]
    server.assert_no_violations()


async def test_a_pressed_message_that_cannot_be_edited_brings_the_question_as_a_new_one(
    running: RunningBot, server: FakeBotAPI
) -> None:
    # She deleted the question's message before tapping (or it is too old to edit): the next
    # question must come all the same.
    amina = Mentee(server.user(806, "Amina", language_code="da"), running)
    await amina.begin()
    await amina.type("Amina")
    await amina.tap(texts.SKIP)  # the contact; now the age question
    server.fail_next("editMessageText", 400, description="Bad Request: message to edit not found")
    reply = await amina.tap("25 to 34", count=2)
    assert amina.da(GENDER) in str(reply[-1]["text"]) and reply[-1]["reply_markup"]
    assert pressable(amina) == [amina.user.messages[-1]]
    assert (await stored_answers(running))["age_group"] == ("25_34", "answered")
