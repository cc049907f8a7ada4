"""Long polling into the inbox (handlers/telegram/polling.py): Telegram is told an update
arrived only once the inbox has stored it; network trouble is waited out."""

from __future__ import annotations

import asyncio
from typing import Any

from aiogram import Bot

from handlers.telegram.polling import Poller
from tests.fakes import FakeBotAPI
from tests.telegram import TOKEN


class FlakyInbox:
    """An inbox whose database refuses the first batch."""

    def __init__(self) -> None:
        self.refusals = 1
        self.stored: list[int] = []
        self.got_one = asyncio.Event()

    async def receive(self, payloads: list[dict[str, Any]]) -> int:
        if self.refusals:
            self.refusals -= 1
            raise ConnectionError("the database is away")
        self.stored += [payload["update_id"] for payload in payloads]
        self.got_one.set()
        return len(payloads)


async def test_the_offset_moves_past_an_update_only_once_it_is_stored(
    server: FakeBotAPI,
) -> None:
    bot = Bot(TOKEN, session=server.bot_session())
    inbox = FlakyInbox()
    stopping = asyncio.Event()
    poller = Poller(bot, inbox, ["message"], stopping, base_delay=0.01)  # type: ignore[arg-type]
    server.fail_next("getUpdates", 502)  # and the network fails once
    await server.user(1).send_text("hello")
    polling = asyncio.create_task(poller.run())
    try:
        async with asyncio.timeout(10):
            await inbox.got_one.wait()
        await server.wait_until_idle(timeout=10)  # the next poll confirms it
    finally:
        stopping.set()
        async with asyncio.timeout(10):
            await polling  # stopping ends the waiting long poll at once
        await bot.session.close()
    offsets = [call.get("offset") for call in server.calls_of("getUpdates")]
    # Refused by the network, refused by the database: asked again without an offset, and
    # the update came again; once stored, the next poll confirmed it.
    assert offsets[:4] == [None, None, None, 2]
    assert inbox.stored == [1]
    assert server.pending_updates == []
