"""The bot (or the aiogram echo bot) in a process of its own, for the load benchmarks.

Started by ``benchmarks.harness.bot_process``, never by hand: it long polls the benchmark's fake
Bot API server until SIGTERM. It runs the same code as ``python -m bot run``: ``build_core``,
``create_bot`` and ``run_polling``; ``--unthrottled`` only passes ``create_bot`` the limits
``math.inf`` (no waiting for Telegram's flood limits), for figures bounded by the processor.

``--echo`` runs instead a minimal aiogram Dispatcher with one handler that echoes each text, its
Bot built by the bot's own ``create_bot`` (the same retry and flood-limit request middlewares),
so that it meets the same rules: the ceiling of aiogram, the limiter and the fake server.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import cast

from aiogram import Bot, Dispatcher
from aiogram.types import Message

from bot.clock import SystemClock
from bot.core import Core, build_core
from bot.settings import Settings, load_settings
from handlers.telegram.app import create_bot, create_dispatcher, run_polling

TOKEN = "123456:BENCHMARK-token"


def settings_for(database_url: str, api_base_url: str, folder: Path) -> Settings:
    """The settings the benchmark's bot runs with: nothing read from `.env` or the folder."""
    return load_settings(
        _env_file=None,
        database_url=database_url,
        telegram_api_base_url=api_base_url,
        telegram_bot_token=TOKEN,
        default_language="en",
        respondent_key_secret="benchmark-secret-not-for-real-use",
        voice_storage_dir=folder / "voice",
        secret_file=folder / "mentorbot.secret",
        log_level="WARNING",
    )


def bot_for(core: Core, unthrottled: bool) -> Bot:
    """The bot's Bot as `python -m bot run` makes it; unthrottled, its limiter never waits."""
    if unthrottled:
        return create_bot(core, per_second=math.inf, per_chat_per_second=math.inf)
    return create_bot(core)


async def run_bot(settings: Settings, unthrottled: bool) -> None:
    core = await build_core(settings, SystemClock())
    try:
        bot = bot_for(core, unthrottled)
        await run_polling(core, bot=bot, dispatcher=create_dispatcher(core))
    finally:
        await core.close()


async def run_echo(settings: Settings, unthrottled: bool) -> None:
    # create_bot reads only the settings of the core.
    bot = bot_for(cast(Core, SimpleNamespace(settings=settings)), unthrottled)
    dispatcher = Dispatcher()

    @dispatcher.message()
    async def echo(message: Message) -> None:
        await message.answer(message.text or "?")

    try:
        await dispatcher.start_polling(bot, handle_signals=True, close_bot_session=False)
    finally:
        await bot.session.close()


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bot_process")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--api-base-url", required=True)
    parser.add_argument("--folder", required=True, type=Path)
    parser.add_argument("--unthrottled", action="store_true")
    parser.add_argument("--echo", action="store_true")
    options = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    settings = settings_for(options.database_url, options.api_base_url, options.folder)
    runner = run_echo if options.echo else run_bot
    asyncio.run(runner(settings, options.unthrottled))


if __name__ == "__main__":
    main(sys.argv[1:])
