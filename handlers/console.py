"""The terminal channel: the same engine and database; the answers' buttons as numbers, every
other button as a word that starts with "/".

Used by `python -m bot demo` so anyone can try the intake without Telegram or a token. A typed
number is a button only where the question has numbered answers: on a free-text or number
question it is the answer itself. The buttons beside the answers (Back, Skip, …) keep the same
word on every question. The terminal cannot send voice, so it is not offered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from bot.core import Core
from bot.language import __, fill, ngettext
from bot.messages import Action, Button, Input, Reply, Start, Tap, Text
from bot.people import IntakeRecord, intake_record

CHANNEL = "console"
QUIT = {"/quit", "/exit", "/q"}

# The buttons that are not an answer, each with its one word, listed after the answers.
WORDS = {
    Action.DONE: "/done",
    Action.DECLINE: "/decline",
    Action.BACK: "/back",
    Action.SKIP: "/skip",
    Action.WHY: "/why",
}
TALK_WORD = "/talk"  # "Talk to a person" below a question (the talk's own buttons are answers)

# What to try after the demo: shown as they are typed, in every language.
DASHBOARD_COMMAND = "python -m bot demo --with-dashboard"
RUN_COMMAND = "python -m bot run"
SERVE_COMMAND = "python -m bot serve"

INTRO = __("This is the mentorbot demo. You are {user}.")
HOW_TO_ANSWER = __("To answer, type the number of a button, or write your answer.")
OTHER_KEYS = __("The other buttons have a word with /, like /back.")
WHERE_SAVED = __("The demo saves everything in its own database, also for next time: {database}")
HOW_TO_STOP = __("Type /quit to stop. To go on later: {command}")
RECORDING = __("(Recording: {path})")
STOPPED = __("Goodbye! Your answers are saved.")
SAVED = __("That was the intake. The demo saved this about you:")
SAVED_YOU = __("You are participant {number}.")
SAVED_CONSENT = __("Your language and your consent, with the time.")
SAVED_IN = __("It is all in {database}.")
TRY_NEXT = __("What to try next:")
TRY_DASHBOARD = __("{command}: the coordinators' web pages, with made-up people.")
TRY_RUN = __("{command}: the bot in Telegram. You need a token from @BotFather.")
TRY_SERVE = __("{command}: the whole service in one program, for real use.")
GOODBYE = __("Goodbye!")

ReadLine = Callable[[str], Awaitable[str | None]]
Write = Callable[[str], None]
Keys = dict[str, Button]


async def _read_stdin(prompt: str) -> str | None:
    try:
        return await asyncio.to_thread(input, prompt)
    except EOFError:
        return None


def key_of(button: Button) -> str | None:
    """The word of a button that is not an answer; None for an answer's button (numbered)."""
    if button.press.action is Action.TALK and button.press.option == 0:
        return TALK_WORD
    return WORDS.get(button.press.action)


def _keys(buttons: list[Button]) -> Keys:
    """The answers numbered from 1 in their order, then the other buttons by their words."""
    answers = [button for button in buttons if key_of(button) is None]
    keys: Keys = {str(number): button for number, button in enumerate(answers, start=1)}
    for button in buttons:
        word = key_of(button)
        if word is not None:
            keys[word] = button
    return keys


def _render(reply: Reply, write: Write) -> Keys:
    """Print the reply; return the keys of the last message's buttons."""
    # An edit that shows what comes next is printed whole; one that records a choice only
    # by its last line, the choice.
    next_in_edit = reply.edit is not None and (reply.edit.keyboard or reply.edit_shows_next)
    if reply.edit is not None and not next_in_edit:
        write("   " + reply.edit.text.splitlines()[-1])
    keys: Keys = {}
    shown = [reply.edit] if reply.edit is not None and next_in_edit else []
    for message in [*shown, *reply.messages]:
        write("")
        if message.voice is not None and message.voice.path is not None:
            write(RECORDING.format(path=message.voice.path))
        write(message.text)
        keys = _keys([button for row in message.keyboard for button in row])
        for key, button in keys.items():
            write(f"  [{key}] {button.label}")
    return keys


def parse_line(line: str, keys: Keys) -> Input:
    """A button's number or word presses it; `/start` restarts; anything else, a number on a
    question without numbered answers too, is a typed answer."""
    stripped = line.strip()
    button = keys.get(stripped.casefold())
    if button is not None:
        return Tap(button.press)
    if stripped.split(" ")[0] == "/start":
        payload = stripped.removeprefix("/start").strip()
        return Start(payload or None)
    return Text(line)


def _summary(record: IntakeRecord, database: str | None) -> list[str]:
    """What the intake stored, and what to try next: in the person's language."""
    lines = ["", str(SAVED), "- " + SAVED_YOU.format(number=record.participant_id)]
    lines.append(f"- {SAVED_CONSENT}")
    answered = ngettext("{count} answer.", "{count} answers.", record.answered)
    lines.append("- " + fill(answered, count=record.answered))
    if record.passed:
        passed = ngettext("{count} question skipped.", "{count} questions skipped.", record.passed)
        lines.append("- " + fill(passed, count=record.passed))
    if record.flags:
        flags = ngettext(
            "{count} flag: your coordinator will see it.",
            "{count} flags: your coordinator will see them.",
            record.flags,
        )
        lines.append("- " + fill(flags, count=record.flags))
    if database is not None:
        lines.append(SAVED_IN.format(database=database))
    lines += ["", str(TRY_NEXT)]
    lines += [
        "- " + text.format(command=command)
        for text, command in (
            (TRY_DASHBOARD, DASHBOARD_COMMAND),
            (TRY_RUN, RUN_COMMAND),
            (TRY_SERVE, SERVE_COMMAND),
        )
    ]
    return [*lines, "", str(GOODBYE)]


async def run_console(
    core: Core,
    user_id: str | None = None,
    read_line: ReadLine = _read_stdin,
    write: Write = print,
    *,
    database: str | None = None,
) -> str:
    """Talk to one demo person until their intake is done (then say what was stored and what
    to try next), they type /quit, or input ends; returns their user id. `database` says
    where the demo keeps its data."""
    user_id = user_id or f"demo-{int(core.clock.now().timestamp())}"
    catalogs = core.engine.catalogs
    language = core.engine.config.default_language
    with catalogs.use(language):
        write(INTRO.format(user=user_id))
        write(f"{HOW_TO_ANSWER}\n{OTHER_KEYS}")
        if database is not None:
            write(WHERE_SAVED.format(database=database))
        write(HOW_TO_STOP.format(command=f"python -m bot demo --user {user_id}"))
    incoming: Input = Start()
    while True:
        async with core.sessions() as session:
            reply = await core.engine.handle(
                session, CHANNEL, user_id, incoming, voice_answers=False
            )
            await session.commit()
            record = await intake_record(session, reply.participant_id)
        language = reply.language
        keys = _render(reply, write)
        if record is not None and record.complete:
            with catalogs.use(language):
                for line in _summary(record, database):
                    write(line)
            return user_id
        typed = await read_line("> ")
        if typed is None or typed.strip().casefold() in QUIT:
            with catalogs.use(language):
                write(str(STOPPED))
            return user_id
        incoming = parse_line(typed, keys)
