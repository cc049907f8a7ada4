"""Build the aiogram bot and dispatcher around the core, the parts that run beside them
(`TelegramService`) and long polling into the inbox (`run`; `serve.py` adds the webhook)."""

from __future__ import annotations

import asyncio
import logging
import math
import signal

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer

from bot.core import Core
from bot.health import Readiness
from bot.wakeup import Wakeup, start_wakeup
from bot.workers import ShareChanged, WorkerGroup
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


async def join_workers(core: Core, bot: Bot, inbox: TelegramInbox) -> WorkerGroup:
    """This process among those running the bot on the database (`bot/workers.py`): on
    PostgreSQL its limiter keeps to its share of Telegram's limit from now on. Join before
    anything is sent; `leave` once nothing more is."""
    limiter = next((m for m in bot.session.middleware if isinstance(m, RateLimitMiddleware)), None)
    share: ShareChanged = _keep_all  # a limiter without a limit (tests) has nothing to share
    limit = 30
    if limiter is not None and math.isfinite(limiter.per_second):
        share, limit = limiter.set_share, math.floor(limiter.per_second)
    group = WorkerGroup(core.database, share, limit=limit, on_new_updates=inbox.worker.wake)
    await group.join()
    inbox.worker.worker = lambda: group.worker_id  # its attempts are its own while it lives
    return group


def _keep_all(_per_second: int, _until: float) -> None:
    """A limiter without a limit has no share to keep to."""


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


class TelegramService:
    """The parts of the bot that run however the updates come in (long polling or a webhook):
    the inbox and its worker, the dispatcher's wake-up and the command menu. `readiness`, when
    given (`serve`), learns that getMe answered and each time the dispatcher ran."""

    def __init__(
        self, core: Core, bot: Bot, dispatcher: Dispatcher, readiness: Readiness | None = None
    ) -> None:
        self.core = core
        self.bot = bot
        self.dispatcher = dispatcher
        self.readiness = readiness
        # There from the first moment: a webhook may bring updates before the start is done.
        self.inbox = TelegramInbox(core, bot, dispatcher)
        dispatcher["inbox"] = self.inbox
        self.allowed_updates = dispatcher.resolve_used_update_types()
        self._wakeup: Wakeup | None = None
        self._group: WorkerGroup | None = None

    async def start(self, how: str) -> None:
        """getMe (a wrong token or no network stops here), the command menu, the wake-up,
        then the updates a crash or stop left unfinished."""
        settings = self.core.settings
        me = await introduce(self.bot, settings)
        if self.readiness is not None:
            self.readiness.telegram_reached()
        log.info("mentorbot is running as @%s (%s)", me.username, how)
        with explained_failures(settings):
            await publish_commands(self.bot, self.core.catalogs)
        # With other processes on the database: its share of the limit, before anything is sent.
        self._group = await join_workers(self.core, self.bot, self.inbox)
        contacts = self.core.contact_dispatcher({CHANNEL: TelegramOutbox(self.bot)})
        self.dispatcher["contacts"] = contacts

        async def dispatch() -> None:
            await contacts.tick()
            if self.readiness is not None:
                self.readiness.dispatcher_ran()

        self._wakeup = start_wakeup(
            {
                "contact-dispatcher": dispatch,
                "programme-reload": self.core.reload_programmes,
                "inbox-prune": self.inbox.worker.prune,
            },
            self.core.settings.dispatch_interval,
        )
        await self.inbox.worker.start()  # what a crash or stop left unfinished goes first

    async def poll(self, stopping: asyncio.Event) -> None:
        """Long polling until `stopping` is set, in this process's turns: of several processes
        on PostgreSQL one polls at a time (`bot/workers.py`), the others wait for it to go. A
        webhook left set (by `serve` with TELEGRAM_WEBHOOK_URL) is removed first, keeping its
        updates: while one is set, Telegram answers getUpdates with 409."""
        assert self._group is not None, "start() first"

        async def poll_in_turn(halt: asyncio.Event) -> None:
            with explained_failures(self.core.settings):  # a token revoked while it runs, too
                await self.bot.delete_webhook(drop_pending_updates=False)
                await Poller(self.bot, self.inbox, self.allowed_updates, halt).run()

        await self._group.run_polling_turns(stopping, poll_in_turn)

    async def stop(self) -> None:
        """Scheduled runs and updates being handled finish before the session and the
        database close under them."""
        if self._wakeup is not None and not await self._wakeup.stop(SHUTDOWN_GRACE):
            log.warning("stopped with a scheduled run still going after %s s", SHUTDOWN_GRACE)
        if not await self.inbox.worker.stop(SHUTDOWN_GRACE):
            log.warning("stopped with updates still in hand after %s s", SHUTDOWN_GRACE)
        if not await retirements(self.bot).finish(SHUTDOWN_GRACE):
            log.warning("stopped with old buttons still being taken off after %s s", SHUTDOWN_GRACE)
        if self._group is not None:
            await self._group.leave()  # nothing more is sent: its share goes to the others


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
    service = TelegramService(core, bot, dispatcher)
    try:
        await service.start("long polling")
        await service.poll(stopping)
    finally:
        await service.stop()
        if handle_signals:
            for signum in (signal.SIGINT, signal.SIGTERM):
                asyncio.get_running_loop().remove_signal_handler(signum)
        await bot.session.close()
