"""The command menu Telegram shows beside the text field, in every shipped language."""

from __future__ import annotations

from aiogram import Bot
from aiogram.types import BotCommand

from bot.language import COMMANDS, SOURCE_LANGUAGE, Catalogs


async def publish_commands(bot: Bot, catalogs: Catalogs) -> None:
    for language in catalogs.languages:
        with catalogs.use(language):
            commands = [BotCommand(command=name, description=str(text)) for name, text in COMMANDS]
        # Without a language code the list is for everyone whose language has no list of its own.
        code = None if language == SOURCE_LANGUAGE else language
        await bot.set_my_commands(commands, language_code=code)
