"""Run the real bot (the same code path as `python -m bot run`) against the fake Bot API."""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update
from pydantic import SecretStr
from sqlalchemy import select

from bot.core import Core, build_core
from bot.language import texts
from bot.settings import Settings
from handlers.telegram.app import create_bot, create_dispatcher, run_polling
from handlers.telegram.inbox import TelegramInbox
from handlers.telegram.retiring import retirements
from storage.models import Answer
from tests.course import T0, FakeClock
from tests.fakes import FakeBotAPI, FakeUser

TOKEN = "123456:TEST-token"


@dataclass
class RunningBot:
    core: Core
    bot: Bot
    dispatcher: Dispatcher
    task: asyncio.Task[None]
    stopping: asyncio.Event

    @property
    def inbox(self) -> TelegramInbox:
        inbox = self.dispatcher.get("inbox")
        assert isinstance(inbox, TelegramInbox), "the bot has not started yet"
        return inbox

    async def stop(self) -> None:
        """As SIGTERM does: polling stops, the updates in hand finish."""
        self.stopping.set()
        await self.task


def count_handled_updates(dispatcher: Dispatcher, bot: Bot) -> Callable[[], bool]:
    """Whether the dispatcher is inside an update, the inbox holds updates not yet looked at,
    or old buttons are still being taken off, so that the fake server waits for the whole
    answer however slow the machine is."""
    handling = 0
    feed = dispatcher.feed_update

    async def counted(bot: Bot, update: Update, **kwargs: Any) -> Any:
        nonlocal handling
        handling += 1
        try:
            return await feed(bot, update, **kwargs)
        finally:
            handling -= 1

    dispatcher.feed_update = counted  # type: ignore[method-assign]

    def busy() -> bool:
        inbox = dispatcher.get("inbox")
        return (
            handling > 0
            or (isinstance(inbox, TelegramInbox) and inbox.worker.busy)
            or retirements(bot).pending > 0
        )

    return busy


@asynccontextmanager
async def running_bot(
    settings: Settings,
    server: FakeBotAPI,
    session_timeout: float | None = None,
    clock: FakeClock | None = None,
) -> AsyncIterator[RunningBot]:
    """The bot on `clock` (a new one standing at T0 if none is given)."""
    settings = settings.model_copy(
        update={"telegram_api_base_url": server.base_url, "telegram_bot_token": SecretStr(TOKEN)}
    )
    core = await build_core(settings, clock or FakeClock(T0))
    try:
        session = server.bot_session()
        if session_timeout is not None:
            session.timeout = session_timeout
        # The tests tap and type at machine speed, faster than any person: the per-chat
        # spacing would only slow them down (tests/test_rate_limit.py checks it on its own).
        bot = create_bot(core, session=session, per_chat_per_second=math.inf)
        dispatcher = create_dispatcher(core)
        server.busy = count_handled_updates(dispatcher, bot)
        stopping = asyncio.Event()
        task = asyncio.create_task(
            run_polling(
                core, bot=bot, dispatcher=dispatcher, handle_signals=False, stopping=stopping
            )
        )
        try:
            yield RunningBot(core, bot, dispatcher, task, stopping)
        finally:
            stopping.set()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    finally:
        await core.close()


class Mentee:
    """Amina, who reads Danish, tapping and typing; `da` gives the Danish of an English text."""

    def __init__(self, user: FakeUser, running: RunningBot) -> None:
        self.user = user
        self.catalogs = running.core.catalogs

    def da(self, english: object) -> str:
        return self.catalogs.gettext("da", getattr(english, "message", str(english)))

    async def _until_new_message(self, sent_before: int) -> list[dict[str, object]]:
        """Everything the bot did in reply, up to at least one new message: edits of the old
        question come first and may be followed, on a busy machine, by a pause."""
        reply = await self.user.wait_for_reply()
        while len(self.user.messages) == sent_before:
            reply += await self.user.wait_for_reply()
        return list({message["message_id"]: message for message in reply}.values())

    async def tap(self, english: object, count: int = 1) -> list[dict[str, object]]:
        """Tap a button; what the bot sent or edited in reply (usually the tapped message,
        now showing the next question)."""
        await self.user.tap(self.da(english))
        return await self.user.wait_for_reply(count=count)

    async def toggle(self, english: object) -> list[dict[str, object]]:
        """Tick a multi-choice answer: the question's own message changes, nothing new comes."""
        await self.user.tap(self.da(english))
        return await self.user.wait_for_reply()

    async def type(self, text: str) -> list[dict[str, object]]:
        before = len(self.user.messages)
        await self.user.send_text(text)
        return await self._until_new_message(before)

    async def start(self, code: str | None = "bridge") -> list[dict[str, object]]:
        before = len(self.user.messages)
        await self.user.send_command("/start", code)
        return await self._until_new_message(before)

    async def begin(self) -> None:
        await self.start()
        await self.user.tap("Dansk")
        await self.user.wait_for_reply(count=2)
        await self.tap(texts.CONSENT_YES, count=2)  # the consent, edited, and the 1st question


async def stored_answers(running: RunningBot) -> dict[str, tuple[object, str]]:
    async with running.core.sessions() as session:
        rows = await session.scalars(select(Answer).order_by(Answer.id))
        return {row.question_id: (row.value, row.status) for row in rows}
