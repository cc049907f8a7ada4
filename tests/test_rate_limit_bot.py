"""The rate limiter wired into the bot: a real aiogram Bot from ``create_bot`` against the fake
Bot API server with its flood control switched on (the limiter's own rules, on a virtual clock,
are in test_rate_limit.py), and the fake's flood control itself.
"""

from __future__ import annotations

import asyncio
import time
from types import SimpleNamespace
from typing import cast

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter

from bot.core import Core
from bot.settings import load_settings
from handlers.telegram.app import create_bot
from handlers.telegram.rate_limit import RateLimitMiddleware
from handlers.telegram.retry import RetryMiddleware
from tests.fakes import FakeBotAPI

TOKEN = "123456:TEST"
AMINA = 1001


# ------------------------------------------------ a real bot against the fake server


def _bot_from_create_bot(
    server: FakeBotAPI, *, per_second: float, per_chat_per_second: float, per_chat_burst: int = 1
) -> Bot:
    """The bot exactly as the application builds it (retries outside, limiter inside)."""
    settings = load_settings(telegram_bot_token=TOKEN, telegram_api_base_url=server.base_url)
    core = cast(Core, SimpleNamespace(settings=settings))  # create_bot reads only the settings
    return create_bot(
        core,
        session=server.bot_session(),
        per_second=per_second,
        per_chat_per_second=per_chat_per_second,
        per_chat_burst=per_chat_burst,  # the fake checks strict spacing: no bursts
    )


def test_create_bot_puts_the_limiter_inside_the_retry_loop() -> None:
    settings = load_settings(telegram_bot_token=TOKEN)
    bot = create_bot(cast(Core, SimpleNamespace(settings=settings)))
    # aiogram wraps request middlewares so that the first registered is the outermost.
    assert [type(m) for m in bot.session.middleware] == [RetryMiddleware, RateLimitMiddleware]


async def test_two_hundred_chats_at_once_are_all_delivered_without_flood_errors(
    server: FakeBotAPI,
) -> None:
    # The fake counts arrivals, the limiter counts sends; a burst's first requests open their
    # connections and arrive late when the machine is busy (the fake server shares the
    # test's event loop), hence the tolerance.
    server.enforce_flood_limits(per_second=50, per_chat_per_second=1.0, tolerance=0.25)
    people = [server.user(5000 + i, f"P{i}") for i in range(200)]
    bot = _bot_from_create_bot(server, per_second=50, per_chat_per_second=1.0)
    try:
        began = time.monotonic()
        await asyncio.gather(*(bot.send_message(p.id, f"Hej {p.first_name}") for p in people))
        elapsed = time.monotonic() - began
    finally:
        await bot.session.close()

    assert server.flood_rejections == []
    assert all([m["text"] for m in p.messages] == [f"Hej {p.first_name}"] for p in people)
    # 50 at 0 s, 1 s, 2 s and 3 s: the sliding window cannot do 200 in less than 3 s.
    assert elapsed >= 3.0
    server.assert_no_violations()


async def test_messages_to_one_chat_are_spaced_and_keep_their_order(server: FakeBotAPI) -> None:
    server.enforce_flood_limits(per_second=30, per_chat_per_second=20, tolerance=0.01)
    amina = server.user(AMINA)
    bot = _bot_from_create_bot(server, per_second=30, per_chat_per_second=20)
    try:
        began = time.monotonic()
        await asyncio.gather(*(bot.send_message(AMINA, f"besked {i}") for i in range(5)))
        elapsed = time.monotonic() - began
    finally:
        await bot.session.close()

    assert server.flood_rejections == []
    assert [m["text"] for m in amina.messages] == [f"besked {i}" for i in range(5)]
    assert elapsed >= 4 / 20


async def test_a_retry_waits_for_its_turn_too(server: FakeBotAPI) -> None:
    server.enforce_flood_limits(per_second=30, per_chat_per_second=20, tolerance=0.01)
    amina = server.user(AMINA)
    server.fail_next("sendMessage", 502)
    bot = _bot_from_create_bot(server, per_second=30, per_chat_per_second=20)
    limit = next(m for m in bot.session.middleware if isinstance(m, RateLimitMiddleware))
    acquired: list[int | str | None] = []
    original = limit.acquire

    async def counting(chat_id: int | str | None = None, *, yielding: bool = False) -> object:
        acquired.append(chat_id)
        return await original(chat_id, yielding=yielding)

    limit.acquire = counting  # type: ignore[method-assign]
    try:
        await bot.send_message(AMINA, "igen")
    finally:
        await bot.session.close()

    assert acquired == [AMINA, AMINA]  # the first attempt and the retry
    assert [m["text"] for m in amina.messages] == ["igen"]
    assert server.flood_rejections == []


# ----------------------------------------------------- the fake's flood control


async def test_fake_refuses_a_burst_to_one_chat_with_retry_after(server: FakeBotAPI) -> None:
    server.enforce_flood_limits(per_second=30, per_chat_per_second=1.0)
    amina = server.user(AMINA)
    bot = Bot(TOKEN, session=server.bot_session())  # no limiter, no retries
    try:
        await bot.send_message(AMINA, "første")
        await bot.send_chat_action(AMINA, "typing")  # not a message: never refused
        with pytest.raises(TelegramRetryAfter) as refused:
            await bot.send_message(AMINA, "anden")
    finally:
        await bot.session.close()

    assert refused.value.retry_after == 1
    assert [(r.method, r.chat_id) for r in server.flood_rejections] == [("sendMessage", AMINA)]
    assert [m["text"] for m in amina.messages] == ["første"]
    assert server.violations == []  # expected behaviour, not a bot bug


async def test_fake_refuses_more_than_the_limit_in_one_second(server: FakeBotAPI) -> None:
    server.enforce_flood_limits(per_second=3, per_chat_per_second=None)
    for i in range(4):
        server.user(AMINA + i)
    bot = Bot(TOKEN, session=server.bot_session())
    try:
        for i in range(3):
            await bot.send_message(AMINA + i, "hej")
        with pytest.raises(TelegramRetryAfter, match="retry after 1"):
            await bot.send_message(AMINA + 3, "hej")
    finally:
        await bot.session.close()

    assert [(r.method, r.chat_id) for r in server.flood_rejections] == [("sendMessage", AMINA + 3)]
    assert server.violations == []


async def test_fake_flood_control_is_off_by_default(server: FakeBotAPI) -> None:
    server.user(AMINA)
    bot = Bot(TOKEN, session=server.bot_session())
    try:
        await asyncio.gather(*(bot.send_message(AMINA, str(i)) for i in range(40)))
    finally:
        await bot.session.close()
    assert server.flood_rejections == []
