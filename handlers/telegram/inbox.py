"""Telegram's side of the inbox (bot/inbox.py): which chat an update belongs to, the entry a
webhook route would call, and feeding stored updates to the aiogram dispatcher."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.types import Update

from bot.core import Core
from bot.inbox import InboxWorker, Incoming
from handlers.telegram.errors import apologise
from handlers.telegram.middlewares import CHANNEL
from storage.models import InboxUpdate


def chat_of(payload: dict[str, Any]) -> str:
    """The chat whose updates this one queues behind: the message's chat, the chat of the
    message a button was pressed on, or else the person who sent it."""
    for kind, event in payload.items():
        if kind == "update_id" or not isinstance(event, dict):
            continue
        chat = event.get("chat") or (event.get("message") or {}).get("chat")
        person = event.get("from") or event.get("user")
        for found in (chat, person):
            if isinstance(found, dict) and isinstance(found.get("id"), int):
                return str(found["id"])
    return f"update {payload.get('update_id')}"  # a lane of its own


class TelegramInbox:
    """Updates in (`receive`), through the dispatcher, a kind word if one is parked."""

    def __init__(self, core: Core, bot: Bot, dispatcher: Dispatcher) -> None:
        self.core = core
        self.bot = bot
        self.dispatcher = dispatcher
        self.worker = InboxWorker(
            core.sessions,
            CHANNEL,
            self._feed,
            self._apologise,
            clock=core.clock,
            max_attempts=core.settings.inbox_max_attempts,
        )

    async def receive(self, payloads: Iterable[dict[str, Any]]) -> int:
        """Commit updates, as Telegram sent them (JSON), to the inbox; how many were new.

        A webhook route calls it with the request's body and answers 2xx only after it
        returned; long polling moves its offset past them only then (`polling.py`).
        """
        return await self.worker.receive(
            Incoming(int(payload["update_id"]), chat_of(payload), payload) for payload in payloads
        )

    async def _feed(self, row: InboxUpdate, attempt: int) -> None:
        update = Update.model_validate(row.payload, context={"bot": self.bot})
        # The unit of work marks the row done in the update's own transaction.
        await self.dispatcher.feed_update(self.bot, update, inbox_row=row.id, inbox_attempt=attempt)

    async def _apologise(self, row: InboxUpdate) -> None:
        await apologise(self.bot, self.core.engine, row.update_id, row.payload)


def update_json(update: Update) -> dict[str, Any]:
    """An update aiogram has read, as the JSON Telegram sent."""
    return update.model_dump(mode="json", by_alias=True, exclude_none=True)
