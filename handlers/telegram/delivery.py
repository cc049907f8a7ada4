"""Render an engine `Reply` as Telegram messages, edits and keyboards."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import OutgoingMessage, Reply
from bot.engine import SurveyEngine
from handlers.telegram.callbacks import SurveyTap

log = logging.getLogger(__name__)
_UNCHANGED = -1


def keyboard(message: OutgoingMessage) -> InlineKeyboardMarkup | None:
    if not message.keyboard:
        return None
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text=button.label, callback_data=SurveyTap.of(button.press).pack()
                )
                for button in row
            ]
            for row in message.keyboard
        ]
    )


def _harmless(error: TelegramBadRequest) -> bool:
    """Edits of a message that is already so, gone, or too old to edit change nothing we need."""
    text = error.message.lower()
    return any(
        reason in text
        for reason in ("message is not modified", "message to edit not found", "can't be edited")
    )


async def _edit(bot: Bot, chat_id: int, message_id: int, message: OutgoingMessage | None) -> None:
    """Replace a message's text and buttons; with no message, just remove its buttons."""
    try:
        if message is None:
            await bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=None
            )
        else:
            await bot.edit_message_text(
                text=message.text,
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=keyboard(message),
            )
    except TelegramBadRequest as error:
        if not _harmless(error):
            raise
        log.info("edit of message %s in chat %s skipped: %s", message_id, chat_id, error.message)


async def deliver(
    reply: Reply,
    *,
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    engine: SurveyEngine,
    callback: CallbackQuery | None = None,
) -> None:
    """Commit, then show the reply. Buttons stay on one message only: the live prompt."""
    # The answer is committed before anything is sent: a failed send never loses it.
    await session.commit()
    live_prompt: int | None = _UNCHANGED
    tapped = None
    if callback is not None:
        try:
            await callback.answer()  # stops the button's spinner
        except TelegramBadRequest as error:  # e.g. "query is too old"
            log.info("callback %s not answered: %s", callback.id, error.message)
        if callback.message is not None:
            tapped = callback.message.message_id
            # A tapped message shows the answer, or keeps fresh buttons, or loses its buttons.
            await _edit(bot, chat_id, tapped, reply.edit)
            live_prompt = tapped if reply.edit is not None and reply.edit.keyboard else None
    if reply.retire_prompt_id is not None and reply.retire_prompt_id != tapped:
        await _edit(bot, chat_id, reply.retire_prompt_id, None)
        live_prompt = None
    for message in reply.messages:
        sent = await bot.send_message(
            chat_id=chat_id, text=message.text, reply_markup=keyboard(message)
        )
        if message.keyboard:
            live_prompt = sent.message_id
    for name, content in reply.documents:
        await bot.send_document(chat_id=chat_id, document=BufferedInputFile(content, filename=name))
    if live_prompt != _UNCHANGED and reply.participant_id:
        await engine.remember_prompt(session, reply.participant_id, live_prompt)
