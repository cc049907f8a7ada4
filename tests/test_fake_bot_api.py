"""The fake Bot API server, driven by a real aiogram Bot.

End-to-end tests are only as good as this fake: it must accept what Telegram accepts, refuse
what Telegram refuses (with the errors aiogram maps to its exceptions), and let a test play the
participant. These tests pin that down with aiogram's real HTTP session.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.filters import CommandObject, CommandStart
from aiogram.types import (
    BotCommand,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from tests.fakes import SPEC_ENV_VAR, FakeBotAPI
from tests.fakes.bot_api_spec import SHARED_SPEC, VENDORED_SPEC

TOKEN = "123456:TEST"
AMINA = 1001


def keyboard(*buttons: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [InlineKeyboardButton(text=text, callback_data=data)] for text, data in buttons
        ]
    )


YES_NO = keyboard(("Ja", "answer:yes"), ("Nej", "answer:no"))


@pytest.fixture
async def server() -> AsyncIterator[FakeBotAPI]:
    async with FakeBotAPI() as fake:
        yield fake


@pytest.fixture
async def bot(server: FakeBotAPI) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, session=server.bot_session())
    yield bot
    await bot.session.close()


async def test_send_message_with_plain_aiogram_session_returns_message(
    server: FakeBotAPI,
) -> None:
    amina = server.user(AMINA)
    bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(server.base_url)))
    try:
        me = await bot.get_me()
        first = await bot.send_message(AMINA, "Hej Amina", reply_markup=YES_NO)
        second = await bot.send_message(AMINA, "Andet spørgsmål")
    finally:
        await bot.session.close()

    assert (me.id, me.is_bot, me.username) == (123456, True, "mentorbot_test_bot")
    assert server.token == TOKEN
    assert isinstance(first, Message)
    assert (first.message_id, second.message_id) == (1, 2)
    assert first.chat.id == AMINA and first.chat.type == "private"
    assert first.from_user is not None and first.from_user.id == 123456
    assert first.reply_markup is not None
    assert first.reply_markup.model_dump() == YES_NO.model_dump()
    params = server.calls_of("sendMessage")[0]
    assert params["chat_id"] == AMINA
    assert params["reply_markup"] == {
        "inline_keyboard": [
            [{"text": "Ja", "callback_data": "answer:yes"}],
            [{"text": "Nej", "callback_data": "answer:no"}],
        ]
    }
    assert [m["text"] for m in amina.messages] == ["Hej Amina", "Andet spørgsmål"]
    assert amina.buttons() == ["Ja", "Nej"]
    server.assert_no_violations()


async def test_text_length_limits(server: FakeBotAPI, bot: Bot) -> None:
    server.user(AMINA)
    await bot.send_message(AMINA, "x" * 4096)

    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await bot.send_message(AMINA, "x" * 4097)
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(AMINA, "   ")
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await bot.send_message(AMINA, "")

    assert len(server.violations) == 3
    assert server.violations[0].startswith("sendMessage: Bad Request: message is too long")


async def test_callback_data_is_limited_to_64_bytes(server: FakeBotAPI, bot: Bot) -> None:
    server.user(AMINA)
    await bot.send_message(AMINA, "ok", reply_markup=keyboard(("Да", "д" * 32)))  # 64 bytes

    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(AMINA, "q", reply_markup=keyboard(("A", "x" * 65)))
    with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
        await bot.send_message(AMINA, "q", reply_markup=keyboard(("Да", "д" * 33)))  # 66 bytes

    assert len(server.violations) == 2
    assert "65 bytes" in server.violations[0]


async def test_edits_apply_in_place_and_identical_edits_are_refused(
    server: FakeBotAPI, bot: Bot
) -> None:
    amina = server.user(AMINA)
    sent = await bot.send_message(AMINA, "Hvordan går det?", reply_markup=YES_NO)

    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_text(
            "Hvordan går det?", chat_id=AMINA, message_id=sent.message_id, reply_markup=YES_NO
        )
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await bot.edit_message_text("x", chat_id=AMINA, message_id=99)
    edited = await bot.edit_message_text(
        "Tak for dit svar", chat_id=AMINA, message_id=sent.message_id
    )

    assert isinstance(edited, Message) and edited.edit_date is not None
    [message] = amina.messages
    assert message["text"] == "Tak for dit svar"
    assert "reply_markup" not in message  # editMessageText without markup drops the keyboard
    assert message["edits"][0]["before"]["text"] == "Hvordan går det?"
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await bot.edit_message_reply_markup(chat_id=AMINA, message_id=sent.message_id)
    assert len(server.violations) == 3


async def test_html_must_be_well_formed(server: FakeBotAPI, bot: Bot) -> None:
    amina = server.user(AMINA)
    await bot.send_message(AMINA, "<b>Hej</b> &lt;3", parse_mode="HTML")

    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await bot.send_message(AMINA, "1 < 2", parse_mode="HTML")

    assert amina.last_message["text"] == "Hej <3"
    assert len(server.violations) == 1


def test_spec_path_can_be_overridden(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(SPEC_ENV_VAR, str(tmp_path / "missing.json"))
    with pytest.raises(FileNotFoundError, match=SPEC_ENV_VAR):
        FakeBotAPI()


async def test_unknown_method_parameter_and_unimplemented_method_are_recorded(
    server: FakeBotAPI, bot: Bot
) -> None:
    server.user(AMINA)
    base = f"{server.base_url}/bot{TOKEN}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{base}/sendMesage", data={"chat_id": "1"}) as response:
            assert response.status == 404
            assert (await response.json())["description"] == "Not Found: method not found"
        form = {"chat_id": str(AMINA), "text": "hi", "colour": "red"}
        async with http.post(f"{base}/sendMessage", data=form) as response:
            assert response.status == 400
        async with http.post(f"{base}/answerCallbackQuery", json={}) as response:
            body = await response.json()
            assert body["description"] == "Bad Request: callback_query_id is required"
    with pytest.raises(TelegramBadRequest, match="fake server does not implement sendPhoto"):
        await bot.send_photo(AMINA, photo="AgAD-photo")

    assert [v.split(":")[0] for v in server.violations] == [
        "sendMesage",
        "sendMessage",
        "answerCallbackQuery",
        "sendPhoto",
    ]
    assert 'unknown parameter "colour"' in server.violations[1]


async def test_get_updates_returns_queued_updates_and_honours_offset(
    server: FakeBotAPI, bot: Bot
) -> None:
    amina = server.user(AMINA)
    await amina.send_text("hej")
    await amina.send_command("/start", payload="CODE42")

    updates = await bot.get_updates()
    again = await bot.get_updates()
    confirmed = await bot.get_updates(offset=updates[-1].update_id + 1)

    assert [u.update_id for u in again] == [u.update_id for u in updates]
    first, start = (u.message for u in updates)
    assert first is not None and first.text == "hej" and first.from_user is not None
    assert first.from_user.language_code == "da"
    assert start is not None and start.text == "/start CODE42"
    assert start.entities is not None and start.entities[0].type == "bot_command"
    assert start.message_id == first.message_id + 1
    assert confirmed == []
    assert server.pending_updates == []


async def test_long_polling_wakes_as_soon_as_an_update_is_queued(
    server: FakeBotAPI, bot: Bot
) -> None:
    amina = server.user(AMINA)
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    assert not poll.done()

    await amina.send_text("er der nogen?")
    updates = await asyncio.wait_for(poll, timeout=1)

    assert time.monotonic() - started < 1
    assert [u.message.text for u in updates if u.message] == ["er der nogen?"]


async def test_user_media_updates_parse_as_aiogram_types(server: FakeBotAPI, bot: Bot) -> None:
    amina = server.user(AMINA)
    await amina.send_sticker()
    await amina.send_photo(caption="mit billede")
    await amina.send_voice(duration=7)
    await amina.send_location(55.68, 12.57)

    sticker, photo, voice, location = (u.message for u in await bot.get_updates())

    assert sticker is not None and sticker.sticker is not None
    assert photo is not None and photo.photo is not None and photo.caption == "mit billede"
    assert voice is not None and voice.voice is not None and voice.voice.duration == 7
    assert location is not None and location.location is not None
    assert location.location.latitude == 55.68
    voice_file = await bot.get_file(voice.voice.file_id)
    assert voice_file.file_path is not None


async def test_tap_queues_callback_query_with_the_buttons_data(
    server: FakeBotAPI, bot: Bot
) -> None:
    amina = server.user(AMINA)
    sent = await bot.send_message(AMINA, "Har du det godt?", reply_markup=YES_NO)

    query_id = await amina.tap("Nej")
    [update] = await bot.get_updates()
    query = update.callback_query
    assert query is not None and query.id == query_id
    assert query.data == "answer:no"
    assert query.from_user.id == AMINA
    assert query.message is not None and query.message.message_id == sent.message_id

    await bot.answer_callback_query(query.id, text="Tak")
    assert amina.callback_answers[query_id]["text"] == "Tak"
    with pytest.raises(TelegramBadRequest, match="query is too old"):
        await bot.answer_callback_query(query.id)
    with pytest.raises(AssertionError, match=r"buttons: \['Ja', 'Nej'\]"):
        await amina.tap("Måske")

    await amina.tap(lambda button: button["callback_data"].endswith("yes"))
    await amina.tap_raw("forged:999", message_id=sent.message_id)
    updates = await bot.get_updates(offset=update.update_id + 1)
    assert [u.callback_query.data for u in updates if u.callback_query] == [
        "answer:yes",
        "forged:999",
    ]
    assert len(server.violations) == 1  # the double answer


async def test_failure_injection(server: FakeBotAPI, bot: Bot) -> None:
    amina = server.user(AMINA)
    server.fail_next("sendMessage", retry_after=2)
    with pytest.raises(TelegramRetryAfter) as retry:
        await bot.send_message(AMINA, "første forsøg")
    assert retry.value.retry_after == 2

    server.fail_next("sendMessage", 502)
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await bot.send_message(AMINA, "andet forsøg")
    await bot.send_message(AMINA, "tredje forsøg")

    await amina.block()
    with pytest.raises(TelegramForbiddenError, match="blocked by the user"):
        await bot.send_message(AMINA, "efter blokering")
    with pytest.raises(ValueError, match="not a Bot API method"):
        server.fail_next("sendMesage")

    assert [m["text"] for m in amina.messages] == ["tredje forsøg"]
    server.assert_no_violations()


async def test_a_delayed_call_can_outlive_the_client_timeout_and_still_deliver(
    server: FakeBotAPI,
) -> None:
    amina = server.user(AMINA)
    session = server.bot_session()
    session.timeout = 0.1
    bot = Bot(TOKEN, session=session)
    server.delay_next("sendMessage", 0.2)
    try:
        with pytest.raises(TelegramNetworkError, match="timeout"):
            await bot.send_message(AMINA, "langsomt svar")
        await server.wait_until_idle()
    finally:
        await bot.session.close()

    assert [m["text"] for m in amina.messages] == ["langsomt svar"]


async def test_files_and_commands(server: FakeBotAPI, bot: Bot) -> None:
    amina = server.user(AMINA)
    upload = BufferedInputFile(b"PK-fake-xlsx", filename="results.xlsx")
    sent = await bot.send_document(AMINA, upload, caption="Resultater")
    assert sent.document is not None and sent.document.file_name == "results.xlsx"
    file = await bot.get_file(sent.document.file_id)
    assert file.file_path is not None
    downloaded = await bot.download_file(file.file_path)
    assert downloaded is not None and downloaded.read() == b"PK-fake-xlsx"

    user_voice = (await amina.send_voice())["voice"]["file_id"]
    echoed = await bot.send_voice(AMINA, voice=user_voice)
    assert echoed.voice is not None and echoed.voice.file_id == user_voice
    with pytest.raises(TelegramBadRequest, match="wrong file identifier"):
        await bot.send_voice(AMINA, voice="no-such-file")

    await bot.send_chat_action(AMINA, "typing")
    commands = [BotCommand(command="start", description="Begin")]
    await bot.set_my_commands(commands, language_code="da")
    [listed] = await bot.get_my_commands(language_code="da")
    assert (listed.command, listed.description) == ("start", "Begin")
    assert await bot.get_my_commands() == []
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand(command="Start!", description="x")])
    assert len(server.violations) == 2


async def test_a_polling_dispatcher_round_trip(server: FakeBotAPI, bot: Bot) -> None:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message, command: CommandObject) -> None:
        await message.answer(f"Velkommen {command.args}", reply_markup=YES_NO)

    @router.callback_query(F.data.startswith("answer:"))
    async def answer(query: CallbackQuery) -> None:
        await query.answer("Tak")
        assert isinstance(query.message, Message)
        await query.message.edit_text(f"Du svarede {query.data}")
        await query.message.answer("Næste spørgsmål")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    amina = server.user(AMINA)
    polling = asyncio.create_task(
        dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False)
    )
    try:
        await amina.send_command("/start", payload="CODE42")
        [welcome] = await amina.wait_for_reply()
        assert welcome["text"] == "Velkommen CODE42"
        assert amina.buttons() == ["Ja", "Nej"]

        await amina.tap("Ja")
        edited, following = await amina.wait_for_reply()
        assert edited["message_id"] == welcome["message_id"]
        assert edited["text"] == "Du svarede answer:yes" and "reply_markup" not in edited
        assert following["text"] == "Næste spørgsmål"
        assert (await amina.wait_for_callback_answer())["text"] == "Tak"
        await server.wait_until_idle()
    finally:
        await dispatcher.stop_polling()
        await polling

    assert server.pending_updates == []
    server.assert_no_violations()


@pytest.mark.skipif(not SHARED_SPEC.exists(), reason="no shared/ folder beside this checkout")
def test_vendored_spec_equals_the_shared_one() -> None:
    assert VENDORED_SPEC.read_bytes() == SHARED_SPEC.read_bytes()


async def test_a_second_long_poll_supersedes_the_first_with_a_counted_conflict(
    server: FakeBotAPI,
) -> None:
    first, second = (Bot(TOKEN, session=server.bot_session()) for _ in range(2))
    try:
        waiting = asyncio.create_task(first.get_updates(timeout=10))
        await server._wait(  # until the first waits on the server
            lambda: bool(server.calls_of("getUpdates")),
            timeout=10,
            quiet=0.0,
            describe=lambda: "the first long poll never came",
        )
        superseding = asyncio.create_task(second.get_updates(timeout=0))
        with pytest.raises(TelegramConflictError):
            await waiting
        assert await superseding == []
        assert server.poll_conflicts == 1
    finally:
        await first.session.close()
        await second.session.close()
