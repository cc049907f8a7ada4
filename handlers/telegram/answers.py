"""Every button press is answered, so that its spinner stops: by its handler, or else (a
handler that did not, or failed) once the handler is done.

Whether a press was answered is seen on the way out: the bot (`AnswerNotingBot`) notes each
answerCallbackQuery in the set that `AnswerEveryPress` keeps for the update being handled (a
context variable: the handler's calls run in the update's own task).
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, TypeVar, cast

from aiogram import BaseMiddleware, Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.methods import AnswerCallbackQuery, TelegramMethod
from aiogram.types import CallbackQuery, TelegramObject

log = logging.getLogger(__name__)
_T = TypeVar("_T")

# Presses answered lately (a retry follows within seconds; Telegram takes an answer for 15 s).
ANSWERED_PRESSES_KEPT = 10_000

_answered: ContextVar[set[str] | None] = ContextVar("answered_callback_queries", default=None)


class AnswerNotingBot(Bot):
    """The bot, noting the button presses it answers while one is handled (tried counts: a
    press Telegram refused to have answered is not answered again). A press is answered once
    in this process: an update tried again after a failure (bot/inbox.py) does not answer it
    a second time, which Telegram would refuse."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._answered_presses: OrderedDict[str, None] = OrderedDict()

    async def __call__(self, method: TelegramMethod[_T], request_timeout: int | None = None) -> _T:
        if isinstance(method, AnswerCallbackQuery):
            answered = _answered.get()
            if answered is not None:
                answered.add(method.callback_query_id)
            if method.callback_query_id in self._answered_presses:
                return cast(_T, True)
            self._answered_presses[method.callback_query_id] = None
            if len(self._answered_presses) > ANSWERED_PRESSES_KEPT:
                self._answered_presses.popitem(last=False)
        return await super().__call__(method, request_timeout)


class AnswerEveryPress(BaseMiddleware):
    """Outer middleware of callback queries: answers a press its handler left unanswered,
    also when the handler failed (the inbox then tries the update again or says sorry). With a bot
    that notes no answers, only a failed press is answered here."""

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, CallbackQuery):
            return await handler(event, data)
        answered: set[str] = set()
        token = _answered.set(answered)
        try:
            result = await handler(event, data)
        except Exception:
            if event.id not in answered:
                await answer_quietly(event)
            raise
        finally:
            _answered.reset(token)
        if isinstance(data.get("bot"), AnswerNotingBot) and event.id not in answered:
            await answer_quietly(event)
        return result


async def answer_quietly(
    callback: CallbackQuery, text: str | None = None, *, alert: bool | None = None
) -> None:
    """Answer a press; one Telegram no longer takes (too old, already answered) is let be."""
    try:
        await callback.answer(text, show_alert=alert)
    except TelegramAPIError as error:
        log.info("callback %s not answered: %s", callback.id, error.message)
