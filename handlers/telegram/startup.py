"""The bot's first calls to Telegram, and what their failures mean to the person starting it.

aiogram's errors stop here: a refused token, a Bot API that cannot be reached or that fails
become the core's `ChannelError` with one line that says what to do (`bot.cli` prints it and
exits), instead of a hundred lines of traceback. `python -m bot check` asks the same question
as a start (`check_token`).
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import User

from bot.messages import ChannelRefused, ChannelUnreachable
from bot.settings import Settings
from handlers.telegram.retry import RetryMiddleware

TOKEN_HELP = "copy the token again from @BotFather (/mybots, API Token) into TELEGRAM_BOT_TOKEN"


@contextmanager
def explained_failures(settings: Settings) -> Iterator[None]:
    """Turns what Telegram (or the way to it) answered into a `ChannelError`."""
    where = settings.telegram_api_base_url
    try:
        yield
    except TelegramUnauthorizedError:
        raise ChannelRefused(
            f"Telegram refused the bot's token (401 Unauthorized): {TOKEN_HELP}"
        ) from None
    except TelegramNotFound:
        raise ChannelRefused(
            f"the Bot API at {where} knows no bot with this token (404 Not Found): "
            f"{TOKEN_HELP}, and check TELEGRAM_API_BASE_URL"
        ) from None
    except TelegramNetworkError as error:
        raise ChannelUnreachable(
            f"cannot reach the Telegram Bot API at {where} ({_reason(error, settings)}): check "
            "this machine's network connection, firewall or proxy, and TELEGRAM_API_BASE_URL; "
            "then start again"
        ) from None
    except TelegramServerError as error:
        raise ChannelUnreachable(
            f"the Telegram Bot API at {where} failed ({_one_line(error)}): try again later"
        ) from None
    except TelegramAPIError as error:
        raise ChannelRefused(
            f"the Telegram Bot API at {where} refused the bot ({_one_line(error)}): "
            "check TELEGRAM_BOT_TOKEN and TELEGRAM_API_BASE_URL"
        ) from None


def _reason(error: TelegramNetworkError, settings: Settings) -> str:
    """Why the connection failed, in a few words: from the innermost cause aiohttp gave."""
    cause: BaseException = error
    while cause.__cause__ is not None:
        cause = cause.__cause__
    if isinstance(cause, TimeoutError):
        return f"no answer within TELEGRAM_REQUEST_TIMEOUT, {settings.telegram_request_timeout:g} s"
    if isinstance(cause, ConnectionRefusedError):
        return "connection refused"
    if isinstance(cause, socket.gaierror):
        return "the host name is not known: no DNS, or a typo"
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return _one_line(error).removeprefix("HTTP Client says - ")


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__


async def introduce(bot: Bot, settings: Settings) -> User:
    """The bot's own account (getMe): the first call of every start, which proves the token and
    the way to Telegram."""
    with explained_failures(settings):
        return await bot.get_me()


async def check_token(settings: Settings, retries: int = 0) -> str:
    """The bot's @username, asked of Telegram with the configured token; a `ChannelError` says
    what is wrong. No retries unless asked: a check should answer at once."""
    session = AiohttpSession(
        api=TelegramAPIServer.from_base(settings.telegram_api_base_url),
        timeout=settings.telegram_request_timeout,
    )
    session.middleware(RetryMiddleware(max_retries=retries))
    bot = Bot(token=settings.require_token(), session=session)
    try:
        me = await introduce(bot, settings)
    finally:
        await bot.session.close()
    return f"@{me.username}" if me.username else f"bot {me.id}"
