"""An update that fails is logged with its id and skipped; the person is told kindly."""

from __future__ import annotations

import logging

from aiogram import Bot, Router
from aiogram.types import ErrorEvent

from bot.conversation import SurveyEngine
from bot.language import __

log = logging.getLogger(__name__)

SOMETHING_WENT_WRONG = __("Sorry, something went wrong on our side. Please try again.")


async def update_failed(event: ErrorEvent, bot: Bot, engine: SurveyEngine) -> bool:
    update = event.update
    log.error(
        "update %s failed and is skipped: %r",
        update.update_id,
        event.exception,
        exc_info=event.exception,
    )
    chat_id, user = None, None
    if update.message is not None:
        chat_id, user = update.message.chat.id, update.message.from_user
    elif update.callback_query is not None:
        chat_id, user = update.callback_query.from_user.id, update.callback_query.from_user
    if chat_id is not None:
        language = engine.likely_language(user.language_code if user else None)
        try:
            with engine.catalogs.use(language):
                await bot.send_message(chat_id=chat_id, text=str(SOMETHING_WENT_WRONG))
        except Exception:  # the apology is best effort; the failure is already logged
            log.exception("could not tell chat %s that update %s failed", chat_id, update.update_id)
    return True


def create_router() -> Router:
    router = Router(name="errors")
    router.error.register(update_failed)
    return router
