"""Run `serve` (the same code path as `python -m bot serve`) in the test's own event loop: the
web server on a free port of 127.0.0.1, the bot against the fake Bot API, which POSTs the
updates there in webhook mode (as the reverse proxy in front of a real one would pass them on).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from aiogram import Bot, Dispatcher
from pydantic import SecretStr

from bot.core import Core, build_core
from bot.health import Readiness
from bot.settings import Settings
from dashboard.app import create_app
from handlers.telegram.app import create_bot, create_dispatcher
from handlers.telegram.inbox import TelegramInbox
from handlers.telegram.serve import serve
from handlers.web import listen
from tests.course import T0, FakeClock
from tests.fakes import FakeBotAPI
from tests.telegram import TOKEN, count_handled_updates

WEBHOOK_URL = "https://bot.example.org/telegram/updates"
WEBHOOK_PATH = "/telegram/updates"
WEBHOOK_SECRET = "webhook-Secret_0123456789"
DEADLINE = 30.0


@dataclass
class ServingBot:
    core: Core
    bot: Bot
    dispatcher: Dispatcher
    readiness: Readiness
    base_url: str  # http://127.0.0.1:PORT
    task: asyncio.Task[None]
    stopping: asyncio.Event

    @property
    def inbox(self) -> TelegramInbox:
        inbox = self.dispatcher.get("inbox")
        assert isinstance(inbox, TelegramInbox)
        return inbox

    async def stop(self) -> None:
        """As SIGTERM does: the web server stops taking requests, then the bot stops."""
        self.stopping.set()
        await self.task


def webhook_settings(settings: Settings, server: FakeBotAPI, *, webhook: bool) -> Settings:
    changes: dict[str, object] = {
        "telegram_api_base_url": server.base_url,
        "telegram_bot_token": SecretStr(TOKEN),
    }
    if webhook:
        changes |= {
            "telegram_webhook_url": WEBHOOK_URL,
            "telegram_webhook_secret": SecretStr(WEBHOOK_SECRET),
        }
    return settings.model_copy(update=changes)


@asynccontextmanager
async def serving_bot(
    settings: Settings,
    server: FakeBotAPI,
    *,
    webhook: bool = True,
    clock: FakeClock | None = None,
    started: Callable[[FakeBotAPI], bool] | None = None,
) -> AsyncIterator[ServingBot]:
    """`serve` with TELEGRAM_WEBHOOK_URL set (or, `webhook=False`, without it), yielded once
    the webhook is set (or the first long poll is made), or `started` says so."""
    settings = webhook_settings(settings, server, webhook=webhook)
    core = await build_core(settings, clock or FakeClock(T0))
    listening = listen("127.0.0.1", 0)
    base_url = f"http://127.0.0.1:{listening.getsockname()[1]}"
    server.forward_webhooks(base_url)
    try:
        readiness = Readiness(core.database, settings.dispatch_interval)
        # The tests tap at machine speed (tests/telegram.py says why the limit is lifted).
        bot = create_bot(core, session=server.bot_session(), per_chat_per_second=math.inf)
        dispatcher = create_dispatcher(core)
        server.busy = count_handled_updates(dispatcher, bot)
        stopping = asyncio.Event()
        task = asyncio.create_task(
            serve(
                core,
                create_app(core, readiness),
                readiness,
                listening=listening,
                bot=bot,
                dispatcher=dispatcher,
                stopping=stopping,
                handle_signals=False,
            )
        )
        running = ServingBot(core, bot, dispatcher, readiness, base_url, task, stopping)
        try:
            ready = started or (
                (lambda fake: fake.webhook is not None)
                if webhook
                else (lambda fake: bool(fake.calls_of("getUpdates")))
            )
            async with asyncio.timeout(DEADLINE):
                while not ready(server):
                    if task.done():
                        task.result()
                        raise AssertionError("serve ended before it was started")
                    await asyncio.sleep(0.01)
            yield running
        finally:
            stopping.set()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    finally:
        listening.close()
        await core.close()
