"""The unit of work around each update: one database session, one person at a time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any
from weakref import WeakValueDictionary

from aiogram import BaseMiddleware
from aiogram.types import TelegramObject, Update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import repositories as repo

CHANNEL = "telegram"
log = logging.getLogger(__name__)


class UnitOfWorkMiddleware(BaseMiddleware):
    """Opens a session per update, skips updates already processed, commits at the end.

    Updates of one person run one after another (a double tap must not race itself);
    different people run in parallel.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self.sessions = sessions
        self._locks: WeakValueDictionary[int, asyncio.Lock] = WeakValueDictionary()
        self._in_flight = 0
        self._idle = asyncio.Event()
        self._idle.set()

    async def wait_idle(self) -> None:
        """Until no update is being handled: aiogram does not wait for its handler tasks when
        polling stops. Callers bound it with `asyncio.timeout`."""
        await self._idle.wait()

    def _lock_for(self, user_id: int) -> asyncio.Lock:
        lock = self._locks.get(user_id)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[user_id] = lock
        return lock

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
        user = data.get("event_from_user")
        lock = self._lock_for(user.id) if user is not None else asyncio.Lock()
        async with lock, self.sessions() as session:
            if not await repo.claim_update(session, CHANNEL, event.update_id):
                log.info("update %s was processed before; skipped", event.update_id)
                return None
            data["session"] = session
            try:
                result = await handler(event, data)
            except BaseException:
                await session.rollback()
                raise
            await session.commit()
            return result
