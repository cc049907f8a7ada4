"""Scheduled messages (check-in invitations, reminders) sent through the Telegram bot.

An invitation whose answer did not come is not sent again (see `retry.py`: it may well have
arrived); the error reaches the dispatcher, which records it, and the reminder follows as for
any invitation left unanswered.
"""

from __future__ import annotations

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramForbiddenError

from bot.course import Undeliverable
from bot.messages import OutgoingMessage
from handlers.telegram.delivery import send


class TelegramOutbox:
    def __init__(self, bot: Bot) -> None:
        self.bot = bot

    async def send(self, channel_user_id: str, message: OutgoingMessage) -> None:
        try:
            await send(self.bot, int(channel_user_id), message)
        except TelegramForbiddenError as error:  # blocked the bot, or deleted their account
            raise Undeliverable(error.message) from error
        except TelegramBadRequest as error:
            if "chat not found" in error.message.lower():
                raise Undeliverable(error.message) from error
            raise
