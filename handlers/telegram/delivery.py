"""Render an engine `Reply` as Telegram messages, edits and keyboards.

On a slow network a message may arrive although its answer never came (see `retry.py`): such a
message is taken as sent and never sent again; the rest of the reply goes on. If it really was
lost, the person gets the open question again when she next writes, or with the next reminder.
Edits are made only where they change what the message shows: what each recent message shows
is kept (`ShownMessages`), so an answer tapped twice, or buttons taken off a message that has
none, costs no call that Telegram would refuse as "message is not modified".
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import OrderedDict
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar
from weakref import WeakKeyDictionary

import aiohttp
from aiogram import Bot
from aiogram.client.session.base import BaseSession
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramNetworkError,
    TelegramServerError,
)
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
from handlers.telegram.retiring import retirements
from handlers.telegram.retry import may_have_arrived

log = logging.getLogger(__name__)
_UNCHANGED = -1
_T = TypeVar("_T")

Buttons = tuple[tuple[tuple[str, str | None], ...], ...]
"""An inline keyboard as (label, callback data) per button, row by row; () for none."""


@dataclass(frozen=True)
class Shown:
    """What one of the bot's messages shows: its text (None: not known) and its buttons."""

    text: str | None
    buttons: Buttons


class ShownMessages:
    """What the bot's recent messages show, as this process last sent or edited them.

    Only a cache, as the database is the memory: a message it does not know (sent before a
    restart, or long ago) is simply edited, and Telegram's "message is not modified" for it is
    harmless. It holds the ``limit`` messages used last.
    """

    def __init__(self, limit: int = 10_000) -> None:
        self.limit = limit
        self._shown: OrderedDict[tuple[int, int], Shown] = OrderedDict()

    def get(self, chat_id: int, message_id: int) -> Shown | None:
        return self._shown.get((chat_id, message_id))

    def remember(self, chat_id: int, message_id: int, shown: Shown) -> None:
        key = (chat_id, message_id)
        self._shown[key] = shown
        self._shown.move_to_end(key)
        while len(self._shown) > self.limit:
            self._shown.popitem(last=False)

    def forget(self, chat_id: int, message_id: int) -> None:
        self._shown.pop((chat_id, message_id), None)


_shown_by_session: WeakKeyDictionary[BaseSession, ShownMessages] = WeakKeyDictionary()


def shown_messages(bot: Bot) -> ShownMessages:
    """What this bot's messages show, one cache per bot session (the process's one bot).

    Not per ``Bot``: aiogram counts bots with the same token as equal, so a bot made anew
    (a restart within the process, each test) would find the old bot's cache.
    """
    shown = _shown_by_session.get(bot.session)
    if shown is None:
        shown = _shown_by_session[bot.session] = ShownMessages()
    return shown


def _buttons(markup: InlineKeyboardMarkup | None) -> Buttons:
    if markup is None:
        return ()
    return tuple(
        tuple((button.text, button.callback_data) for button in row)
        for row in markup.inline_keyboard
    )


def _visible(text: str) -> str:
    """The text as Telegram keeps it (it strips surrounding white space)."""
    return text.strip()


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
    """Edits of a message that is gone or too old to edit change nothing we need."""
    text = error.message.lower()
    return any(reason in text for reason in ("message to edit not found", "can't be edited"))


def _not_modified(error: TelegramBadRequest) -> bool:
    return "message is not modified" in error.message.lower()


async def _edit(bot: Bot, chat_id: int, message_id: int, message: OutgoingMessage | None) -> bool:
    """Replace a message's text and buttons; with no message, just remove its buttons. True
    when the message shows that now (as far as can be known).

    Skipped when the message already shows exactly that. An edit that still fails for the
    network or Telegram's servers once the retries are spent is logged and left (False): the
    answer is committed, and what follows in the reply matters more than this edit.
    """
    shown = shown_messages(bot)
    before = shown.get(chat_id, message_id)
    if message is None:
        after = Shown(before.text if before else None, ())
    else:
        after = Shown(_visible(message.text), _buttons(keyboard(message)))
    if before == after:
        log.debug("message %s already shows this; not edited", message_id)
        return True
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
        if _not_modified(error):  # e.g. a repeat of an edit whose answer came too late
            shown.remember(chat_id, message_id, after)
            return True
        shown.forget(chat_id, message_id)
        if not _harmless(error):
            raise
        log.info("edit of message %s skipped: %s", message_id, error.message)
        return False
    except (TelegramNetworkError, TelegramServerError) as error:
        shown.forget(chat_id, message_id)  # it may or may not have changed
        log.warning("edit of message %s failed: %s", message_id, error)
        return False
    shown.remember(chat_id, message_id, after)
    return True


async def _unless_unconfirmed(call: Awaitable[_T]) -> _T | None:
    """The call's result, or None when its answer did not come: it may have arrived, so it is
    taken as sent rather than sent again (a call that certainly did not arrive still fails)."""
    try:
        return await call
    except TelegramNetworkError as error:
        if not may_have_arrived(error):
            raise
        log.warning("no answer to a message (%s); not sent again", error)
        return None


async def deliver(
    reply: Reply,
    *,
    bot: Bot,
    chat_id: int,
    session: AsyncSession,
    engine: SurveyEngine,
    callback: CallbackQuery | None = None,
) -> None:
    """Commit, then show the reply. Buttons stay on one message only: the live prompt.

    A pressed message usually becomes the next question (one call per answer, see
    docs/ARCHITECTURE.md); if it cannot be edited (deleted, or the edit failed), that question
    comes as a new message instead, so the person is never left without one.
    """
    # The answer is committed before anything is sent: a failed send never loses it.
    await session.commit()
    live_prompt: int | None = _UNCHANGED
    tapped = None
    messages = list(reply.messages)
    if callback is not None:
        try:
            await callback.answer()  # stops the button's spinner
        except (TelegramBadRequest, TelegramNetworkError) as error:  # "query is too old", …
            log.info("callback %s not answered: %s", callback.id, error.message)
        if callback.message is not None:
            tapped = callback.message.message_id
            # A tapped message becomes the next question (or keeps fresh buttons), or shows
            # the answer, or loses its buttons.
            edited = await _edit(bot, chat_id, tapped, reply.edit)
            live_prompt = tapped if reply.edit is not None and reply.edit.keyboard else None
            if not edited and reply.edit_shows_next:
                live_prompt = None
                tapped = None  # its buttons may still be there: retire them if they are live
    if reply.edit is not None and reply.edit_shows_next and tapped is None:
        messages.insert(0, reply.edit)
    retired = reply.retire_prompt_id if reply.retire_prompt_id != tapped else None
    if retired is not None:
        live_prompt = None
    for message in messages:
        if message.voice is not None:
            await _unless_unconfirmed(_send_voice(bot, chat_id, message.voice))
        sent = await _unless_unconfirmed(_send_text(bot, chat_id, message))
        if message.keyboard:
            # Unconfirmed, its id is unknown: its buttons cannot be taken off later, but an
            # old button is refused kindly, and a press on it as the live one still works.
            live_prompt = sent.message_id if sent is not None else None
    for name, content in reply.documents:
        document = BufferedInputFile(content, filename=name)
        await _unless_unconfirmed(bot.send_document(chat_id=chat_id, document=document))
    if retired is not None:
        # After what she waits for, and not awaited: taking old buttons off yields to every
        # other message (rate_limit.py), and her next update must not wait for it (retiring.py).
        retirements(bot).start(_edit(bot, chat_id, retired, None))
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
    return await _send_text(bot, chat_id, message)


async def _send_text(bot: Bot, chat_id: int, message: OutgoingMessage) -> Message:
    markup = keyboard(message)
    sent = await bot.send_message(chat_id=chat_id, text=message.text, reply_markup=markup)
    shown = Shown(_visible(message.text), _buttons(markup))
    shown_messages(bot).remember(chat_id, sent.message_id, shown)
    return sent


async def _send_voice(bot: Bot, chat_id: int, voice: VoiceNote) -> None:
    if voice.file_id is not None:
        await bot.send_voice(chat_id=chat_id, voice=voice.file_id)
        return
    assert voice.path is not None
    cached = _uploaded.get(voice.path)
    sent = await bot.send_voice(chat_id=chat_id, voice=cached or FSInputFile(voice.path))
    if sent.voice is not None:
        _uploaded[voice.path] = sent.voice.file_id


SECONDS_A_DAY = 24 * 60 * 60


async def _download(bot: Bot, downloads: list[tuple[str, str]], folder: Path) -> None:
    """Keep voice answers as files. The answer is already stored with Telegram's file id, so a
    failed download is logged, not fatal: the file can still be fetched while Telegram keeps it."""
    for file_id, name in downloads:
        try:
            await asyncio.to_thread(folder.mkdir, parents=True, exist_ok=True)
            await bot.download(file_id, destination=folder / name)
            await asyncio.to_thread(_keep_the_day_only, folder / name)
        except (TelegramAPIError, OSError, aiohttp.ClientError):
            log.warning("voice answer %s could not be downloaded to %s", file_id, folder / name)


def _keep_the_day_only(path: Path) -> None:
    """The file's times are set back to the start of its day (UTC): to the second, they would
    date the voice answer, an anonymous one too (docs/PRIVACY.md)."""
    written = path.stat().st_mtime
    day = written - written % SECONDS_A_DAY
    os.utime(path, (day, day))
