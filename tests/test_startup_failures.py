"""A start that cannot go on ends with one line on stderr that says what to do, and a non-zero
exit code (2: a setting must change; 1: something was away, starting again later may work):
never a traceback. Run as the operator runs it, in a process of its own."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path

import pytest
from aiogram import Bot

from bot.messages import ChannelUnreachable
from bot.settings import PROJECT_ROOT, load_settings
from handlers.telegram.retry import RetryMiddleware
from handlers.telegram.startup import introduce
from tests.fakes import FakeBotAPI

TOKEN = "123456:START"


def closed_port() -> int:
    """A port on 127.0.0.1 where nothing listens (it was free a moment ago)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def start(command: str, cwd: Path, **settings: str) -> tuple[int, list[str]]:
    """`python -m bot COMMAND` with these settings: its exit code and its stderr's lines."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", command,
        env={
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(PROJECT_ROOT),
            "TELEGRAM_MAX_RETRIES": "0",
            **settings,
        },
        cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode is not None
    return process.returncode, err.decode().splitlines()


async def test_a_token_telegram_refuses(server: FakeBotAPI, tmp_path: Path) -> None:
    server.refused_tokens.add(TOKEN)

    code, err = await start(
        "run", tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=server.base_url
    )

    assert code == 2
    assert "Traceback" not in "\n".join(err)
    assert err[-1] == (
        "mentorbot: error: Telegram refused the bot's token (401 Unauthorized): copy the token "
        "again from @BotFather (/mybots, API Token) into TELEGRAM_BOT_TOKEN"
    )


async def test_no_way_to_the_bot_api(tmp_path: Path) -> None:
    port = closed_port()

    code, err = await start(
        "run", tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=f"http://127.0.0.1:{port}"
    )

    assert code == 1
    assert "Traceback" not in "\n".join(err)
    assert err[-1] == (
        f"mentorbot: error: cannot reach the Telegram Bot API at http://127.0.0.1:{port} "
        "(connection refused): check this machine's network connection, firewall or proxy, and "
        "TELEGRAM_API_BASE_URL; then start again"
    )


@pytest.mark.parametrize("command", ["run", "dashboard"])
async def test_a_database_that_cannot_be_reached(command: str, tmp_path: Path) -> None:
    port = closed_port()

    code, err = await start(
        command,
        tmp_path,
        TELEGRAM_BOT_TOKEN=TOKEN,
        DATABASE_URL=f"postgresql+asyncpg://bot:hunter2@127.0.0.1:{port}/mentorbot",
    )

    assert code == 1
    assert "Traceback" not in "\n".join(err)
    assert err == [
        f"mentorbot: error: cannot reach the database at postgresql+asyncpg://bot:***@127.0.0.1:"
        f"{port}/mentorbot (connection refused): check that its server is running and that "
        "DATABASE_URL names it; then start again"
    ]


async def test_a_database_file_that_cannot_be_made(tmp_path: Path) -> None:
    code, err = await start(
        "dashboard", tmp_path, DATABASE_URL=f"sqlite:///{tmp_path / 'missing' / 'bot.db'}"
    )

    assert code == 2
    assert err == [
        f"mentorbot: error: cannot open the database at sqlite+aiosqlite:///{tmp_path}/missing/"
        "bot.db (its folder does not exist): check DATABASE_URL, its folder must exist and "
        "be writable"
    ]


async def test_a_failing_bot_api_is_told_as_such(server: FakeBotAPI) -> None:
    """5xx: Telegram failed, the token may be fine; the channel says so in the core's terms."""
    settings = load_settings(telegram_api_base_url=server.base_url)
    session = server.bot_session()
    session.middleware(RetryMiddleware(max_retries=0))
    bot = Bot(TOKEN, session=session)
    server.fail_next("getMe", 502)
    try:
        with pytest.raises(ChannelUnreachable) as error:
            await introduce(bot, settings)
    finally:
        await bot.session.close()
    assert str(error.value) == (
        f"the Telegram Bot API at {server.base_url} failed (Telegram server says - Bad Gateway): "
        "try again later"
    )
