"""Render an engine `Reply` as Telegram messages, edits and keyboards."""

from __future__ import annotations

import logging

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import OutgoingMessage, Reply
from bot.engine import SurveyEngine
from handlers.telegram.callbacks import SurveyTap

log = logging.getLogger(__name__)


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


async def deliver(
    reply: Reply,
    *,
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    engine: SurveyEngine,
    tapped_message_id: int | None = None,
) -> None:
    # The answer is committed before anything is sent: a failed send never loses it.
    await session.commit()
    if reply.edit is not None and tapped_message_id is not None:
        try:
            await bot.edit_message_text(
                text=reply.edit.text,
                chat_id=chat_id,
                message_id=tapped_message_id,
                reply_markup=keyboard(reply.edit),
            )
        except TelegramBadRequest as error:
            if not _harmless(error):
                raise
    if reply.retire_prompt_id is not None and reply.retire_prompt_id != tapped_message_id:
        try:
            await bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=reply.retire_prompt_id, reply_markup=None
            )
        except TelegramBadRequest as error:
            if not _harmless(error):
                raise
    for message in reply.messages:
        sent = await bot.send_message(
            chat_id=chat_id, text=message.text, reply_markup=keyboard(message)
        )
        if message.is_prompt:
            await engine.remember_prompt(session, reply.participant_id, sent.message_id)
    if reply.edit is not None and reply.edit.keyboard and tapped_message_id is not None:
        # The tapped message stays the prompt (a multi-choice toggle edits it in place).
        await engine.remember_prompt(session, reply.participant_id, tapped_message_id)
