"""Long polling that confirms an update to Telegram only once the inbox has committed it.

aiogram's own polling moves the offset on before its handler has stored anything, so a crash
lost the updates in hand. Here each batch is committed to the inbox (`inbox.py`) first, and the
next getUpdates, with offset = the last committed id + 1, is what tells Telegram they arrived.
At start the offset is left out: Telegram then sends again whatever was not confirmed, and the
inbox recognises what it already holds (that also survives the random restart of update ids
Telegram makes after a week without updates).
"""

from __future__ import annotations

import asyncio
import logging
import random

from aiogram import Bot
from aiogram.exceptions import TelegramRetryAfter, TelegramUnauthorizedError
from aiogram.types import Update

from handlers.telegram.inbox import TelegramInbox, update_json

log = logging.getLogger(__name__)

POLL_TIMEOUT = 25  # seconds a getUpdates waits on Telegram's side for an update to come


class Poller:
    """getUpdates in a loop until `stopping` is set; network trouble is waited out with
    exponential back-off and jitter (at most `max_delay` seconds)."""

    def __init__(
        self,
        bot: Bot,
        inbox: TelegramInbox,
        allowed_updates: list[str],
        stopping: asyncio.Event,
        *,
        base_delay: float = 1.0,
        max_delay: float = 30.0,
    ) -> None:
        self.bot = bot
        self.inbox = inbox
        self.allowed_updates = allowed_updates
        self.stopping = stopping
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.offset: int | None = None

    async def run(self) -> None:
        failures = 0
        while not self.stopping.is_set():
            try:
                updates = await self._poll()
            except TelegramUnauthorizedError:
                raise  # a wrong token does not come right by waiting
            except TelegramRetryAfter as error:
                log.warning("getUpdates: flood control, waiting %s s", error.retry_after)
                await self._pause(error.retry_after)
                continue
            except Exception as error:  # network, 5xx, 409 (another instance polling)
                failures += 1
                delay = random.uniform(0, min(self.max_delay, self.base_delay * 2**failures))
                log.warning(
                    "getUpdates failed (%s); trying again in %.1f s", type(error).__name__, delay
                )
                await self._pause(delay)
                continue
            if updates is None:
                break  # stopped while waiting: nothing was confirmed, Telegram keeps them
            failures = 0
            if updates:
                try:
                    await self.inbox.receive([update_json(update) for update in updates])
                except Exception as error:  # the database busy or away: Telegram keeps them
                    log.warning("updates not stored (%s); asking again", type(error).__name__)
                    await self._pause(self.base_delay)
                    continue
                # Committed: only now may the offset move past them.
                self.offset = updates[-1].update_id + 1

    async def _poll(self) -> list[Update] | None:
        """The next updates, or None if `stopping` was set first (the call is cancelled)."""
        timeout = self.bot.session.timeout
        call = asyncio.create_task(
            self.bot.get_updates(
                offset=self.offset,
                timeout=POLL_TIMEOUT,
                allowed_updates=self.allowed_updates,
                request_timeout=int(POLL_TIMEOUT + (timeout or 0)) + 1,
            )
        )
        stop = asyncio.create_task(self.stopping.wait())
        try:
            await asyncio.wait({call, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not call.done():
                call.cancel()
                await asyncio.gather(call, return_exceptions=True)
        return call.result() if not call.cancelled() else None

    async def _pause(self, seconds: float) -> None:
        try:
            async with asyncio.timeout(seconds):
                await self.stopping.wait()
        except TimeoutError:
            pass
