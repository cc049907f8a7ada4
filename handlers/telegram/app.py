"""Build the aiogram bot and dispatcher around the core and run long polling into the inbox."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.core import Core
from bot.wakeup import start_wakeup
from handlers.telegram.answers import AnswerEveryPress, AnswerNotingBot
from handlers.telegram.commands import publish_commands
from handlers.telegram.inbox import TelegramInbox
from handlers.telegram.middlewares import CHANNEL, UnitOfWorkMiddleware
from handlers.telegram.outbox import TelegramOutbox
from handlers.telegram.polling import Poller
from handlers.telegram.rate_limit import RateLimitMiddleware
from handlers.telegram.retiring import retirements
from handlers.telegram.retry import RetryMiddleware
from handlers.telegram.routers import create_routers
from handlers.telegram.startup import explained_failures, introduce

log = logging.getLogger(__name__)


def create_bot(
    core: Core,
    session: AiohttpSession | None = None,
    *,
    per_second: float = 30,
    per_chat_per_second: float = 1.0,
    per_chat_burst: int = 4,
    retry: RetryMiddleware | None = None,
) -> Bot:
    """The bot, its requests retried and its messages kept within Telegram's flood limits.

    ``per_second`` caps message-sending calls in any one second (Telegram allows about 30).
    ``per_chat_per_second`` keeps to about one a second per chat on average, while a burst of
    ``per_chat_burst`` may go at once: a tapped answer takes one call (its message becomes the
    next question), a typed one or a wrong input two to four (buttons off the old question, a
    short note, the next question), which Telegram allows, and spacing them a second apart
    would make every answer lag. The latency margin applies only to calls still unanswered
    (see ``rate_limit.py``), so the bot keeps close to ``per_second``. ``retry`` replaces the
    default retry policy (``settings.telegram_max_retries`` retries; see ``retry.py``).
    """
    settings = core.settings
    if session is None:
        session = AiohttpSession(
            api=TelegramAPIServer.from_base(settings.telegram_api_base_url),
            timeout=settings.telegram_request_timeout,
        )
    # aiogram runs request middlewares in registration order, the first outermost. The limiter
    # comes second, inside the retry loop, so every attempt (retries too) waits for its turn.
    session.middleware(retry or RetryMiddleware(max_retries=settings.telegram_max_retries))
    session.middleware(
        RateLimitMiddleware(per_second, per_chat_per_second, per_chat_burst, latency_margin=0.25)
    )
    # It notes which button presses it answered: the others are answered for it (`answers.py`).
    return AnswerNotingBot(token=settings.require_token(), session=session)


SHUTDOWN_GRACE = 10.0  # seconds for the updates in hand to finish when the bot stops


def create_dispatcher(core: Core) -> Dispatcher:
    # The database is the memory (DESIGN.md): no in-memory FSM that a restart would lose.
    dispatcher = Dispatcher(disable_fsm=True, engine=core.engine)
    work = UnitOfWorkMiddleware(core.sessions)
    dispatcher.update.outer_middleware(work)
    dispatcher["unit_of_work"] = work
    dispatcher.callback_query.outer_middleware(AnswerEveryPress())  # no spinner left turning
    dispatcher.include_routers(*create_routers())
    return dispatcher


async def run_polling(
    core: Core,
    *,
    bot: Bot | None = None,
    dispatcher: Dispatcher | None = None,
    handle_signals: bool = True,
    stopping: asyncio.Event | None = None,
) -> None:
    """Poll until stopped (SIGINT/SIGTERM, or `stopping` set); every update goes through the
    inbox (`inbox.py`), which the dispatcher's `inbox` entry holds."""
    bot = bot or create_bot(core)
    dispatcher = dispatcher or create_dispatcher(core)
    stopping = stopping or asyncio.Event()
    if handle_signals:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stopping.set)
    wakeup, inbox = None, None
    try:
        me = await introduce(bot, core.settings)
        log.info("mentorbot is running as @%s (long polling)", me.username)
        with explained_failures(core.settings):
            await publish_commands(bot, core.catalogs)
        contacts = core.contact_dispatcher({CHANNEL: TelegramOutbox(bot)})
        dispatcher["contacts"] = contacts
        inbox = TelegramInbox(core, bot, dispatcher)
        dispatcher["inbox"] = inbox
        wakeup = start_wakeup(
            {
                "contact-dispatcher": contacts.tick,
                "programme-reload": core.reload_programmes,
                "inbox-prune": inbox.worker.prune,
            },
            core.settings.dispatch_interval,
        )
        await inbox.worker.start()  # what a crash or stop left unfinished goes first
        allowed = dispatcher.resolve_used_update_types()
        with explained_failures(core.settings):  # a token revoked while it runs
            await Poller(bot, inbox, allowed, stopping).run()
    finally:
        # Scheduled runs and updates being handled finish before the session and the database
        # close under them.
        if wakeup is not None and not await wakeup.stop(SHUTDOWN_GRACE):
            log.warning("stopped with a scheduled run still going after %s s", SHUTDOWN_GRACE)
        if inbox is not None and not await inbox.worker.stop(SHUTDOWN_GRACE):
            log.warning("stopped with updates still in hand after %s s", SHUTDOWN_GRACE)
        if not await retirements(bot).finish(SHUTDOWN_GRACE):
            log.warning("stopped with old buttons still being taken off after %s s", SHUTDOWN_GRACE)
        if handle_signals:
            for signum in (signal.SIGINT, signal.SIGTERM):
                asyncio.get_running_loop().remove_signal_handler(signum)
        await bot.session.close()
