"""The terminal channel: the same engine and database, buttons shown as numbers.

Used by `python -m bot demo` so anyone can try the intake without Telegram or a token.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.core import Core
from bot.messages import Button, Input, Reply, Start, Tap, Text

CHANNEL = "console"
QUIT = {"/quit", "/exit", "/q"}

ReadLine = Callable[[str], Awaitable[str | None]]
Write = Callable[[str], None]


async def _read_stdin(prompt: str) -> str | None:
    try:
        return await asyncio.to_thread(input, prompt)
    except EOFError:
        return None


def _render(reply: Reply, write: Write) -> list[Button]:
    """Print the reply; return the buttons of the last message, numbered from 1."""
    # An edit that shows what comes next is printed whole; one that records a choice only
    # by its last line, the choice.
    next_in_edit = reply.edit is not None and (reply.edit.keyboard or reply.edit_shows_next)
    if reply.edit is not None and not next_in_edit:
        write("   " + reply.edit.text.splitlines()[-1])
    buttons: list[Button] = []
    shown = [reply.edit] if reply.edit is not None and next_in_edit else []
    for message in [*shown, *reply.messages]:
        write("")
        if message.voice is not None and message.voice.path is not None:
            write(f"(voice note: {message.voice.path})")
        write(message.text)
        buttons = [button for row in message.keyboard for button in row]
        for number, button in enumerate(buttons, start=1):
            write(f"  [{number}] {button.label}")
    return buttons


def parse_line(line: str, buttons: list[Button]) -> Input:
    """A number picks that button; `/start` restarts; anything else is a typed answer."""
    stripped = line.strip()
    if stripped.isdigit() and buttons and 1 <= int(stripped) <= len(buttons):
        return Tap(buttons[int(stripped) - 1].press)
    if stripped.split(" ")[0] == "/start":
        payload = stripped.removeprefix("/start").strip()
        return Start(payload or None)
    return Text(line)


async def run_console(
    core: Core,
    user_id: str | None = None,
    read_line: ReadLine = _read_stdin,
    write: Write = print,
) -> str:
    """Talk to one demo person until they type /quit or input ends; returns their user id."""
    user_id = user_id or f"demo-{int(core.clock.now().timestamp())}"
    write(f"mentorbot demo. You are '{user_id}'. Type a button's number, or your answer.")
    write(f"Type /quit to stop. Continue later with: python -m bot demo --user {user_id}")
    incoming: Input = Start()
    while True:
        async with core.sessions() as session:
            reply = await core.engine.handle(session, CHANNEL, user_id, incoming)
            await session.commit()
        buttons = _render(reply, write)
        line = await read_line("> ")
        if line is None or line.strip() in QUIT:
            write("Bye. Your answers are saved.")
            return user_id
        incoming = parse_line(line, buttons)
