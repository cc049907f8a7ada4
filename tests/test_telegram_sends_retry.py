"""What the retry middleware sends again, and when (handlers/telegram/retry.py).

The policy is checked with a scripted request (no network, no real waiting: the sleep and the
random source are injected); what counts as "never arrived" and "may have arrived" is checked
with aiogram's real session against a closed port and against the fake Bot API; the fake's
own slow network (late answers, lost calls, edits that change nothing) is pinned down last.
"""

from __future__ import annotations

import asyncio
import random
import socket
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any, cast

import aiohttp
import pytest
from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import (
    AnswerCallbackQuery,
    EditMessageReplyMarkup,
    EditMessageText,
    GetMe,
    GetUpdates,
    SendDocument,
    SendMessage,
    SendVoice,
    SetMyCommands,
    TelegramMethod,
)
from aiogram.types import BotCommand

from bot.core import Core
from bot.settings import load_settings
from handlers.telegram.app import create_bot
from handlers.telegram.retry import RetryMiddleware, may_have_arrived
from tests.fakes import FakeBotAPI

TOKEN = "123456:TEST"
AMINA = 1001
SEND = SendMessage(chat_id=AMINA, text="Hvor gammel er du?")
EDIT = EditMessageText(chat_id=AMINA, message_id=7, text="Hvor gammel er du?\n\n✓ 25 til 34")


def timed_out(method: TelegramMethod[Any]) -> TelegramNetworkError:
    """What aiogram raises when the answer did not come within its time-out."""
    error = TelegramNetworkError(method=method, message="Request timeout error")
    error.__cause__ = TimeoutError()
    return error


def refused(method: TelegramMethod[Any]) -> TelegramNetworkError:
    """What aiogram raises when the connection could not be made at all."""
    key = SimpleNamespace(host="api.telegram.org", port=443, is_ssl=True, ssl=True)
    cause = aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "Connection refused"))  # type: ignore[arg-type]
    error = TelegramNetworkError(method=method, message=f"ClientConnectorError: {cause}")
    error.__cause__ = cause
    return error


class Script:
    """A request that fails with the given errors in turn, then succeeds; waits are recorded."""

    def __init__(self, *failures: Callable[[TelegramMethod[Any]], TelegramAPIError]) -> None:
        self.failures = list(failures)
        self.attempts = 0
        self.waits: list[float] = []

    async def request(self, bot: Bot, method: TelegramMethod[Any]) -> str:
        self.attempts += 1
        if self.failures:
            raise self.failures.pop(0)(method)
        return "ok"

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)


class Bounds(random.Random):
    """A random source that answers a fixed share of each range and notes the ranges."""

    def __init__(self, share: float) -> None:
        super().__init__(0)
        self.share = share
        self.ranges: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.ranges.append((a, b))
        return a + (b - a) * self.share


async def call(retry: RetryMiddleware, script: Script, method: TelegramMethod[Any]) -> Any:
    return await retry(script.request, cast(Bot, None), method)


def middleware(script: Script, **options: Any) -> RetryMiddleware:
    return RetryMiddleware(sleep=script.sleep, rng=random.Random(1), **options)


def server_error(method: TelegramMethod[Any]) -> TelegramAPIError:
    return TelegramServerError(method=method, message="Bad Gateway")


# ------------------------------------------------------------------ the policy


@pytest.mark.parametrize(
    "method",
    [
        SEND,
        SendVoice(chat_id=AMINA, voice="fake-voice-0001"),
        SendDocument(chat_id=AMINA, document="fake-document-0001"),
        AnswerCallbackQuery(callback_query_id="1001000001"),
    ],
    ids=["sendMessage", "sendVoice", "sendDocument", "answerCallbackQuery"],
)
async def test_a_send_whose_answer_timed_out_is_not_sent_again(method: Any) -> None:
    # Regression: a time-out was retried like a refusal, and the message came twice.
    script = Script(timed_out)
    with pytest.raises(TelegramNetworkError, match="timeout"):
        await call(middleware(script), script, method)
    assert script.attempts == 1
    assert script.waits == []


@pytest.mark.parametrize(
    "method",
    [
        EDIT,
        EditMessageReplyMarkup(chat_id=AMINA, message_id=7),
        GetMe(),
        GetUpdates(offset=5, timeout=10),
        SetMyCommands(commands=[BotCommand(command="start", description="Start")]),
    ],
    ids=["editMessageText", "editMessageReplyMarkup", "getMe", "getUpdates", "setMyCommands"],
)
async def test_an_idempotent_call_whose_answer_timed_out_is_sent_again(method: Any) -> None:
    script = Script(timed_out, timed_out)
    assert await call(middleware(script), script, method) == "ok"
    assert script.attempts == 3


async def test_a_message_that_never_left_is_sent_again() -> None:
    script = Script(refused, refused)
    assert await call(middleware(script), script, SEND) == "ok"
    assert script.attempts == 3


async def test_flood_control_is_waited_out_exactly() -> None:
    def flood(method: TelegramMethod[Any]) -> TelegramAPIError:
        return TelegramRetryAfter(method=method, message="Too Many Requests", retry_after=7)

    script = Script(flood)
    assert await call(middleware(script), script, SEND) == "ok"
    assert script.waits == [7.0]


async def test_server_errors_back_off_exponentially_with_full_jitter_up_to_a_cap() -> None:
    script = Script(*[server_error] * 5)
    rng = Bounds(share=0.5)
    retry = RetryMiddleware(base_delay=0.5, max_delay=3.0, sleep=script.sleep, rng=rng)
    assert await call(retry, script, SEND) == "ok"
    assert rng.ranges == [(0.0, 0.5), (0.0, 1.0), (0.0, 2.0), (0.0, 3.0), (0.0, 3.0)]
    assert script.waits == [0.25, 0.5, 1.0, 1.5, 1.5]


async def test_retries_have_jitter_so_many_chats_do_not_come_back_in_step() -> None:
    # Regression: every failed call waited exactly 0.5, 1, 2… seconds, all in step.
    waits = []
    for seed in (1, 2):
        script = Script(*[server_error] * 3)
        retry = RetryMiddleware(sleep=script.sleep, rng=random.Random(seed))
        await call(retry, script, SEND)
        waits.append(script.waits)
    assert waits[0] != waits[1]
    assert all(0.0 <= wait <= 0.5 * 2**i for series in waits for i, wait in enumerate(series))
    again = Script(*[server_error] * 3)
    await call(RetryMiddleware(sleep=again.sleep, rng=random.Random(1)), again, SEND)
    assert again.waits == waits[0]  # a seeded source gives the same waits


async def test_attempts_are_bounded() -> None:
    script = Script(*[server_error] * 10)
    with pytest.raises(TelegramServerError):
        await call(middleware(script, max_retries=3), script, SEND)
    assert script.attempts == 4  # the call and three retries
    assert len(script.waits) == 3


async def test_a_refusal_is_not_retried() -> None:
    def bad(method: TelegramMethod[Any]) -> TelegramAPIError:
        return TelegramBadRequest(method=method, message="Bad Request: message text is empty")

    script = Script(bad)
    with pytest.raises(TelegramBadRequest):
        await call(middleware(script), script, SEND)
    assert script.attempts == 1


# ------------------------------------------- real failures, told apart correctly


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_a_refused_connection_never_arrived_and_a_late_answer_may_have(
    server: FakeBotAPI,
) -> None:
    nowhere = AiohttpSession(api=TelegramAPIServer.from_base(f"http://127.0.0.1:{closed_port()}"))
    bot = Bot(TOKEN, session=nowhere)
    try:
        with pytest.raises(TelegramNetworkError) as not_sent:
            await bot.send_message(AMINA, "Hej")
    finally:
        await bot.session.close()
    assert not may_have_arrived(not_sent.value)

    amina = server.user(AMINA)
    server.answer_late(1.0, after=0.3)
    session = server.bot_session()
    session.timeout = 0.1
    bot = Bot(TOKEN, session=session)
    try:
        with pytest.raises(TelegramNetworkError) as late:
            await bot.send_message(AMINA, "Hej")
    finally:
        await bot.session.close()
    assert may_have_arrived(late.value)
    assert [m["text"] for m in amina.messages] == ["Hej"]  # it did arrive


async def test_the_bot_tries_again_while_it_cannot_connect() -> None:
    settings = load_settings(
        telegram_bot_token=TOKEN, telegram_api_base_url=f"http://127.0.0.1:{closed_port()}"
    )
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    retry = RetryMiddleware(max_retries=3, sleep=sleep, rng=random.Random(1))
    bot = create_bot(cast(Core, SimpleNamespace(settings=settings)), retry=retry)
    try:
        with pytest.raises(TelegramNetworkError):
            await bot.send_message(AMINA, "Hej")
    finally:
        await bot.session.close()
    assert len(waits) == 3


# ----------------------------------------------------------- the fake's slow network


@pytest.fixture
async def slow_bot(server: FakeBotAPI) -> AsyncIterator[Bot]:
    """A bot without retries whose time-out is shorter than the fake's late answers."""
    session = server.bot_session()
    session.timeout = 0.1
    bot = Bot(TOKEN, session=session)
    yield bot
    await bot.session.close()


async def test_the_fake_answers_a_share_of_calls_late_but_carries_them_out(
    server: FakeBotAPI, slow_bot: Bot
) -> None:
    amina = server.user(AMINA)
    server.answer_late(0.3, after=0.2)
    outcomes = []
    for i in range(1, 11):
        try:
            await slow_bot.send_message(AMINA, f"besked {i}")
            outcomes.append("answered")
        except TelegramNetworkError:
            outcomes.append("late")
    # The fixed pattern: the 4th, 7th and 10th call of ten.
    assert [i for i, outcome in enumerate(outcomes, 1) if outcome == "late"] == [4, 7, 10]
    assert [m["text"] for m in amina.messages] == [f"besked {i}" for i in range(1, 11)]
    assert [call.params["text"] for call in server.late_answers] == [
        "besked 4",
        "besked 7",
        "besked 10",
    ]
    server.assert_no_violations()


async def test_a_seeded_fake_picks_the_same_late_calls_each_time() -> None:
    picks = []
    for _ in range(2):
        async with FakeBotAPI() as server:
            server.answer_late(0.3, after=0.0, seed=42, methods=["sendMessage"])
            server.user(AMINA)
            bot = Bot(TOKEN, session=server.bot_session())
            try:
                for i in range(20):
                    await bot.send_message(AMINA, str(i))
                    await bot.send_chat_action(AMINA, "typing")  # not chosen: never late
            finally:
                await bot.session.close()
            picks.append([call.params["text"] for call in server.late_answers])
    assert picks[0] == picks[1] and 0 < len(picks[0]) < 20


async def test_the_fake_loses_a_call_without_carrying_it_out(
    server: FakeBotAPI, slow_bot: Bot
) -> None:
    amina = server.user(AMINA)
    server.lose_next("sendMessage", after=0.2)
    with pytest.raises(TelegramNetworkError):
        await slow_bot.send_message(AMINA, "tabt")
    await slow_bot.send_message(AMINA, "fremme")
    await asyncio.sleep(0.2)  # the lost call's hold ends: still nothing
    assert [m["text"] for m in amina.messages] == ["fremme"]


async def test_the_fake_counts_edits_that_would_change_nothing(
    server: FakeBotAPI, slow_bot: Bot
) -> None:
    server.user(AMINA)
    sent = await slow_bot.send_message(AMINA, "Hvor gammel er du?")
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await slow_bot.edit_message_reply_markup(chat_id=AMINA, message_id=sent.message_id)
    await slow_bot.edit_message_text("Tak", chat_id=AMINA, message_id=sent.message_id)
    assert [(e.method, e.params) for e in server.unchanged_edits] == [
        ("editMessageReplyMarkup", {"chat_id": AMINA, "message_id": sent.message_id})
    ]
