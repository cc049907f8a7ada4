"""The unit of work around each update: one database session, committed with the update's
"done" mark in the inbox."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.monitoring import UPDATES_PROCESSED, count_when_committed
from storage import inbox

CHANNEL = "telegram"
log = logging.getLogger(__name__)


class UnitOfWorkMiddleware(BaseMiddleware):
    """Opens a session per update, marks its inbox row done in it, commits at the end.

    Updates come from the inbox (`inbox.py`), which runs one chat's updates one after another
    and different chats in parallel; the row and attempt it passes (`inbox_row`,
    `inbox_attempt`) are marked done here, in the same transaction as everything the handler
    writes. If another process took the update meanwhile, it is skipped.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def wait_idle(self) -> None:
        """Until no update is being handled. Callers bound it with `asyncio.timeout`."""
        await self._idle.wait()

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        assert isinstance(event, Update)
        self._in_flight += 1
        self._idle.clear()
        try:
            return await self._handle(handler, event, data)
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                self._idle.set()

    async def _handle(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: Update,
        data: dict[str, Any],
    ) -> Any:
        row, attempt = data.get("inbox_row"), data.get("inbox_attempt")
        if not isinstance(row, int) or not isinstance(attempt, int):
            raise RuntimeError("updates are fed through the inbox (handlers/telegram/inbox.py)")
        async with self.sessions() as session:
            if not await inbox.take(session, row, attempt):
                log.info("update %s is done or taken by another process; skipped", event.update_id)
                return None
            count_when_committed(session, UPDATES_PROCESSED, CHANNEL)  # with its "done"
            data["session"] = session
            try:
                result = await handler(event, data)
            except BaseException:
                await session.rollback()
                raise
            await session.commit()
            return result
