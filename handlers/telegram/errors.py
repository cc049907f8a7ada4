"""The kind word to a person whose update could not be handled: it was parked after its last
attempt (bot/inbox.py), or it failed after taking effect (its reply could not be sent)."""

from __future__ import annotations

import logging
from typing import Any

from aiogram import Bot

from bot.conversation import SurveyEngine
from bot.language import __

log = logging.getLogger(__name__)

SOMETHING_WENT_WRONG = __("Sorry, something went wrong on our side. Please try again.")


def _person(payload: dict[str, Any]) -> tuple[int, str | None] | None:
    """The chat to write to and the person's app language, for a message or a button press
    (other updates, such as a block, have nobody to tell)."""
    message, press = payload.get("message"), payload.get("callback_query")
    if isinstance(message, dict):
        chat, user = message.get("chat") or {}, message.get("from") or {}
    elif isinstance(press, dict):
        user = press.get("from") or {}
        chat = user
    else:
        return None
    if not isinstance(chat.get("id"), int):
        return None
    return chat["id"], user.get("language_code")


async def apologise(
    bot: Bot, engine: SurveyEngine, update_id: int, payload: dict[str, Any]
) -> None:
    person = _person(payload)
    if person is None:
        return
    chat_id, language_code = person
    try:
        with engine.catalogs.use(engine.likely_language(language_code)):
            await bot.send_message(chat_id=chat_id, text=str(SOMETHING_WENT_WRONG))
    except Exception as error:  # the apology is best effort; the failure is already logged
        log.warning(
            "could not tell the person that update %s failed: %s", update_id, type(error).__name__
        )
