"""First router: a press on a message that is not in the presser's own private chat with the
bot (a group, another person's chat, an inline message) acts on nothing: it is answered with a
short notice, and no other router sees it."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import CallbackQuery

from bot.conversation import SurveyEngine
from bot.language import texts
from handlers.telegram.answers import answer_quietly
from handlers.telegram.callbacks import from_own_chat

log = logging.getLogger(__name__)


def from_elsewhere(callback: CallbackQuery) -> bool:
    return not from_own_chat(callback)


async def press_elsewhere(callback: CallbackQuery, engine: SurveyEngine) -> None:
    log.info("a button press refused: not in the presser's own chat")
    with engine.catalogs.use(engine.likely_language(callback.from_user.language_code)):
        notice = str(texts.NOT_UNDERSTOOD)
    await answer_quietly(callback, notice)


def create_router() -> Router:
    router = Router(name="elsewhere")
    router.callback_query.register(press_elsewhere, from_elsewhere)
    return router
