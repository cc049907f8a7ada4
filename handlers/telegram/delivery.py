"""Render an engine `Reply` as Telegram messages, edits and keyboards."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.types import (
    BufferedInputFile,
    CallbackQuery,
    FSInputFile,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from sqlalchemy.ext.asyncio import AsyncSession

from bot.conversation import SurveyEngine
from bot.messages import OutgoingMessage, Reply, VoiceNote
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
        sent = await send(bot, chat_id, message)
        if message.keyboard:
            live_prompt = sent.message_id
    for name, content in reply.documents:
        await bot.send_document(chat_id=chat_id, document=BufferedInputFile(content, filename=name))
    if live_prompt != _UNCHANGED and reply.participant_id:
        await engine.remember_prompt(session, reply.participant_id, live_prompt)
    await _download(bot, reply.downloads, engine.config.voice_dir)


# Telegram's file id of each recording once uploaded: the same file is not uploaded again.
# Only a cache: losing it (a restart) means one more upload.
_uploaded: dict[Path, str] = {}


async def send(bot: Bot, chat_id: int, message: OutgoingMessage) -> Message:
    """A message, with its voice note first if it has one (a recorded question, or a voice
    answer played to a coordinator), so that the buttons stay on the last message."""
    if message.voice is not None:
        await _send_voice(bot, chat_id, message.voice)
    return await bot.send_message(
        chat_id=chat_id, text=message.text, reply_markup=keyboard(message)
    )


async def _send_voice(bot: Bot, chat_id: int, voice: VoiceNote) -> None:
    if voice.file_id is not None:
        await bot.send_voice(chat_id=chat_id, voice=voice.file_id)
        return
    assert voice.path is not None
    cached = _uploaded.get(voice.path)
    sent = await bot.send_voice(chat_id=chat_id, voice=cached or FSInputFile(voice.path))
    if sent.voice is not None:
        _uploaded[voice.path] = sent.voice.file_id


async def _download(bot: Bot, downloads: list[tuple[str, str]], folder: Path) -> None:
    """Keep voice answers as files. The answer is already stored with Telegram's file id, so a
    failed download is logged, not fatal: the file can still be fetched while Telegram keeps it."""
    for file_id, name in downloads:
        try:
            await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
            await bot.download(file_id, destination=folder / name)
        except (TelegramAPIError, OSError, aiohttp.ClientError):
            log.warning("voice answer %s could not be downloaded to %s", file_id, folder / name)
