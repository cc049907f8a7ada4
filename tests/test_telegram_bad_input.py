"""Bad input gets a kind answer, never silence and never a crash; nothing is stored for anyone."""

from __future__ import annotations

import logging

import pytest

from bot.language import texts
from bot.messages import Action
from handlers.telegram.callbacks import SurveyTap
from handlers.telegram.errors import SOMETHING_WENT_WRONG
from tests.fakes import FakeBotAPI
from tests.telegram import Mentee, RunningBot, stored_answers

NAME = "What is your name? A nickname is fine."
AGE = "How old are you?"


async def at_first_question(running: RunningBot, server: FakeBotAPI, user_id: int = 7) -> Mentee:
    mentee = Mentee(server.user(user_id, "Amina"), running)
    await mentee.begin()
    return mentee


async def at_button_question(running: RunningBot, server: FakeBotAPI) -> Mentee:
    mentee = await at_first_question(running, server)
    await mentee.type("Amina")
    await mentee.tap(texts.SKIP)  # contact is optional
    return mentee


def repeated(mentee: Mentee, reply: list[dict[str, object]], note: object, question: str) -> None:
    """The reply is a short explanation, then the current question again."""
    assert [message["text"] for message in reply][-2] == mentee.da(note)
    assert mentee.da(question) in str(reply[-1]["text"])


@pytest.mark.parametrize(
    "send",
    [
        lambda user: user.send_sticker(),
        lambda user: user.send_photo(),
        lambda user: user.send_location(55.68, 12.57),
    ],
    ids=["sticker", "photo", "location"],
)
async def test_media_where_text_is_expected(running: RunningBot, server: FakeBotAPI, send) -> None:  # type: ignore[no-untyped-def]
    mentee = await at_first_question(running, server)
    await send(mentee.user)
    repeated(mentee, await mentee.user.wait_for_reply(count=2), texts.ONLY_TEXT, NAME)
    assert await stored_answers(running) == {}
    server.assert_no_violations()


async def test_text_where_a_button_is_expected(running: RunningBot, server: FakeBotAPI) -> None:
    mentee = await at_button_question(running, server)
    repeated(mentee, await mentee.type("35"), texts.PRESS_A_BUTTON, AGE)
    assert "age_group" not in await stored_answers(running)
    server.assert_no_violations()


async def test_sticker_where_a_button_is_expected(running: RunningBot, server: FakeBotAPI) -> None:
    mentee = await at_button_question(running, server)
    await mentee.user.send_sticker()
    repeated(mentee, await mentee.user.wait_for_reply(count=2), texts.PRESS_A_BUTTON, AGE)


async def test_over_long_text_is_refused_with_its_limit(
    running: RunningBot, server: FakeBotAPI
) -> None:
    mentee = await at_first_question(running, server)
    reply = await mentee.type("A" * 101)  # the name question allows 100 characters
    assert reply[-2]["text"] == mentee.da(texts.TOO_LONG).format(limit=100)
    assert mentee.da(NAME) in reply[-1]["text"]
    assert await stored_answers(running) == {}


@pytest.mark.parametrize("text", ["   ", "\n\n", "\u3000"])
async def test_whitespace_message(running: RunningBot, server: FakeBotAPI, text: str) -> None:
    mentee = await at_first_question(running, server)
    repeated(mentee, await mentee.type(text), texts.WRITE_SOMETHING, NAME)
    assert await stored_answers(running) == {}


async def test_unknown_command_repeats_the_question(
    running: RunningBot, server: FakeBotAPI
) -> None:
    mentee = await at_first_question(running, server)
    repeated(mentee, await mentee.type("/weather"), texts.ONLY_TEXT, NAME)
    assert await stored_answers(running) == {}


async def test_button_from_an_old_message(running: RunningBot, server: FakeBotAPI) -> None:
    mentee = await at_button_question(running, server)
    age_message = mentee.user.last_message
    old_data = age_message["reply_markup"]["inline_keyboard"][1][0]["callback_data"]
    await mentee.tap("25 to 34")
    await mentee.user.tap_raw(old_data, age_message["message_id"])  # "35 to 44", pressed late
    reply = await mentee.user.wait_for_reply(count=2)
    assert reply[-2]["text"] == mentee.da(texts.OLD_BUTTON)
    assert (await stored_answers(running))["age_group"] == ("25_34", "answered")


@pytest.mark.parametrize("data", ["garbage", "s:x:1:2:3", "s:o:1", "s:o:abc:0:0", "ä" * 30])
async def test_malformed_callback_data(running: RunningBot, server: FakeBotAPI, data: str) -> None:
    mentee = await at_button_question(running, server)
    await mentee.user.tap_raw(data, mentee.user.last_message["message_id"])
    repeated(mentee, await mentee.user.wait_for_reply(count=2), texts.NOT_UNDERSTOOD, AGE)
    assert "age_group" not in await stored_answers(running)
    assert mentee.user.last_callback_id in mentee.user.callback_answers  # spinner stopped


async def test_callback_of_another_person(running: RunningBot, server: FakeBotAPI) -> None:
    amina = await at_button_question(running, server)
    omar = await at_first_question(running, server, user_id=8)
    aminas_button = amina.user.last_message["reply_markup"]["inline_keyboard"][0][0]
    assert SurveyTap.unpack(aminas_button["callback_data"]).a is Action.CHOOSE
    await omar.user.tap_raw(aminas_button["callback_data"], omar.user.last_message["message_id"])
    reply = await omar.user.wait_for_reply(count=2)
    assert reply[-2]["text"] == omar.da(texts.OLD_BUTTON)
    stored = await stored_answers(running)
    assert "age_group" not in stored  # neither Amina's nor Omar's
    assert len(stored) == 2  # Amina's name and skipped contact only


async def test_failing_update_is_parked_after_its_attempts_and_the_person_is_told(
    running: RunningBot,
    server: FakeBotAPI,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mentee = await at_first_question(running, server)
    real_handle = running.core.engine.handle

    async def handle_with_a_bug(session, channel, user_id, incoming, hint=None):  # type: ignore[no-untyped-def]
        if getattr(incoming, "text", None) == "boom":
            raise RuntimeError("an unplanned bug")
        return await real_handle(session, channel, user_id, incoming, hint)

    monkeypatch.setattr(running.core.engine, "handle", handle_with_a_bug)
    running.inbox.worker.retry_delay = 0.0
    with caplog.at_level(logging.WARNING):
        await mentee.user.send_text("boom")
        sorry = await mentee.user.wait_for_reply()
    assert sorry[-1]["text"] == mentee.da(SOMETHING_WENT_WRONG)
    tries = [r.getMessage() for r in caplog.records if r.name == "bot.inbox"]
    assert tries == [
        "update 4 failed (attempt 1 of 3): RuntimeError; trying again",
        "update 4 failed (attempt 2 of 3): RuntimeError; trying again",
        "update 4 parked after 3 failed attempt(s): RuntimeError",
    ]
    assert "an unplanned bug" not in caplog.text  # the class only: a message may quote people
    # The updates behind it are not blocked, and nothing of the failed one was stored.
    reply = await mentee.type("Amina")
    assert "1 / " not in reply[-1]["text"]
    assert await stored_answers(running) == {"name": ("Amina", "answered")}


async def test_the_same_update_twice_is_processed_once(
    running: RunningBot, server: FakeBotAPI
) -> None:
    mentee = await at_first_question(running, server)
    sent_before = len(server.calls_of("sendMessage"))
    update = {
        "update_id": 990001,
        "message": {
            "message_id": 9999,
            "date": 1764200000,
            "chat": {"id": mentee.user.id, "type": "private", "first_name": "Amina"},
            "from": mentee.user.telegram,
            "text": "Amina",
        },
    }
    assert await running.inbox.receive([update]) == 1
    assert await running.inbox.receive([update]) == 0  # Telegram redelivers it
    await mentee.user.wait_for_reply()
    assert len(server.calls_of("sendMessage")) == sent_before + 1
    assert await stored_answers(running) == {"name": ("Amina", "answered")}
