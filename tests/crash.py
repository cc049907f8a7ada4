"""The real bot as a process of its own, killed with SIGKILL at random moments while 20 people
do their intake, and what must hold after: no update lost, none taken effect twice, every
intake ends with exactly the answers given. Shared by tests/test_inbox_crash.py (`run`, long
polling) and tests/test_webhook_crash.py (`serve`, Telegram POSTing to a webhook)."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.language import texts
from bot.settings import PROJECT_ROOT
from handlers.telegram.errors import SOMETHING_WENT_WRONG
from tests.fakes import FakeBotAPI, FakeUser
from tests.fakes.bot_api import JSON
from tests.telegram import TOKEN

CRASH = Path(__file__).parent / "data" / "crash"
PEOPLE = 20
KILLS = 12
SEED = 12
PATIENCE = 5.0  # seconds a person waits for the next question before writing again
DEADLINE = 120.0  # for anything the test waits for: generous, only a hung bot reaches it
QUESTIONS = {
    "colour": ("Which colour do you like?", ["Red", "Blue"]),
    "season": ("Which season do you like?", ["Spring", "Autumn"]),
    "drink": ("What do you drink in the morning?", ["Tea", "Coffee"]),
}
VALUES = {"Red": "red", "Blue": "blue", "Spring": "spring", "Autumn": "autumn"}
VALUES |= {"Tea": "tea", "Coffee": "coffee"}
FINISHED = {str(texts.INTAKE_DONE.message), str(texts.NOTHING_OPEN.message)}
REPLIES = {"sendMessage", "editMessageText", "editMessageReplyMarkup", "answerCallbackQuery"}

# `python -m bot <command>` (its `main`), each run a process of its own, forked from one that
# has done the imports: a restart then costs what it costs on a warm machine, not seconds of
# imports, and the test does not depend on the machine's speed. Each update taken writes one
# row into `effects` in its own transaction: the row commits exactly when the update's effects
# and its "done" mark do, so an update done twice shows as two rows.
BOT = """
import functools
import math
import os
import sys

from sqlalchemy import text

import dashboard.app
import handlers.telegram.app as app
import handlers.telegram.serve as serve
from bot.cli import main
from storage import inbox

# The people tap at machine speed: Telegram's one message a second per chat would only slow
# the test down (tests/test_rate_limit.py checks the limiter on its own).
app.create_bot = serve.create_bot = functools.partial(app.create_bot, per_chat_per_second=math.inf)

taken = inbox.take


async def take_and_count(session, row_id, attempt):
    if not await taken(session, row_id, attempt):
        return False
    await session.execute(text("INSERT INTO effects (inbox_id) VALUES (:id)"), {"id": row_id})
    return True


inbox.take = take_and_count
for line in sys.stdin:
    command, _, argument = line.split()[0], None, line.split()[1:]
    if command == "go":
        pid = os.fork()
        if pid == 0:
            os.dup2(2, 1)
            os._exit(main([sys.argv[1]]))
        print(pid, flush=True)
    elif command == "wait":
        _, status = os.waitpid(int(argument[0]), 0)
        print(os.waitstatus_to_exitcode(status), flush=True)
"""


class Bots:
    """The bot (`python -m bot <command>`, with `env` besides the test's settings): started,
    killed with SIGKILL, stopped with SIGTERM, one process at a time."""

    def __init__(
        self, server: FakeBotAPI, database: Path, log: Path, command: str, env: dict[str, str]
    ) -> None:
        env = {
            **env,
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(PROJECT_ROOT),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": server.base_url,
            "DATABASE_URL": f"sqlite+aiosqlite:///{database}",
            "DEFAULT_LANGUAGE": "en",
            "DEFAULT_PROGRAMME": "crash",
            "PROGRAMMES_DIR": str(CRASH / "programmes"),
            "SURVEYS_DIR": str(CRASH / "surveys"),
            "RESPONDENT_KEY_SECRET": "crash-test-secret-0123456789",
        }
        with log.open("ab") as output:
            self.forks = subprocess.Popen(
                [sys.executable, "-c", BOT, command],
                env=env,
                cwd=log.parent,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=output,
            )
        self.live: int | None = None
        self.kills = 0

    async def _ask(self, command: str) -> int:
        assert self.forks.stdin is not None and self.forks.stdout is not None
        self.forks.stdin.write(f"{command}\n".encode())
        self.forks.stdin.flush()
        return int(await asyncio.to_thread(self.forks.stdout.readline))

    async def start(self) -> None:
        self.live = await self._ask("go")

    async def kill(self) -> None:
        assert self.live is not None
        os.kill(self.live, signal.SIGKILL)
        assert await self._ask(f"wait {self.live}") == -signal.SIGKILL
        self.live = None
        self.kills += 1

    async def stop(self) -> int:
        """SIGTERM, as an operator stops it; its exit code."""
        assert self.live is not None
        os.kill(self.live, signal.SIGTERM)
        code = await self._ask(f"wait {self.live}")
        self.live = None
        return code

    def close(self) -> None:
        if self.live is not None:
            os.kill(self.live, signal.SIGKILL)
        self.forks.kill()
        self.forks.wait(timeout=DEADLINE)
        for pipe in (self.forks.stdin, self.forks.stdout):
            if pipe is not None:
                pipe.close()


def buttons(message: JSON) -> list[str]:
    keyboard = (message.get("reply_markup") or {}).get("inline_keyboard") or []
    return [button["text"] for row in keyboard for button in row]


@dataclass
class Person:
    """Someone doing the intake by taps, who writes again when the bot keeps them waiting."""

    user: FakeUser
    choices: dict[str, str]  # question id → the label tapped
    tapped: set[int] = field(default_factory=set)
    rewrites: int = 0
    apologies: int = 0

    def step_of(self, message: JSON) -> str | None:
        labels = buttons(message)
        if "English" in labels:
            return "language"
        if str(texts.CONSENT_YES.message) in labels:
            return "consent"
        return next((q for q, (text, _) in QUESTIONS.items() if text in message["text"]), None)

    def answer(self, step: str) -> str:
        if step == "language":
            return "English"
        if step == "consent":
            return str(texts.CONSENT_YES.message)
        return self.choices[step]

    async def do_the_intake(self) -> None:
        """Answer the newest question. A question already answered is answered again only if
        it came back after the person wrote again (their answer did not take)."""
        await self.user.send_command("/start", "crash")
        answered: dict[str, int] = {}  # step → how often they had written again by then
        answered_at = 0
        while True:
            messages = self.user.messages
            if "drink" in answered and any(m["text"] in FINISHED for m in messages[answered_at:]):
                return
            prompts = [m for m in messages if buttons(m)]
            latest = prompts[-1] if prompts else None
            if latest is not None and latest["message_id"] not in self.tapped:
                self.tapped.add(latest["message_id"])
                step = self.step_of(latest)
                if step is not None and answered.get(step, -1) < self.rewrites:
                    await self.user.tap(self.answer(step), latest)
                    answered[step], answered_at = self.rewrites, len(messages)
                    continue
            try:
                await self.user.wait_for_reply(timeout=PATIENCE, quiet=0.0)
            except AssertionError:  # nothing new for a while: as a person would, write again
                self.rewrites += 1
                await self.user.send_command("/start")

    def wrote(self) -> list[str]:
        return [m["text"] for m in self.user.messages]


async def killer(server: FakeBotAPI, bots: Bots, rng: random.Random, done: asyncio.Event) -> None:
    """Kill the bot after a random number of its replies since it started; start it again."""
    while bots.kills < KILLS and not done.is_set():
        start = sum(call.method in REPLIES for call in server.calls)
        wanted = start + rng.randint(3, 20)
        await server._wait(
            lambda wanted=wanted: (  # type: ignore[misc]
                done.is_set() or sum(c.method in REPLIES for c in server.calls) >= wanted
            ),
            timeout=DEADLINE,
            quiet=0.0,
            describe=lambda: "the bot made no progress",
        )
        if done.is_set():
            return
        await bots.kill()
        await bots.start()


async def settle(server: FakeBotAPI, database: Path) -> None:
    """Until Telegram has nothing unconfirmed and the inbox nothing unfinished: each update
    left in the inbox shows as a reply once it is done."""
    while True:
        await server.wait_until_idle(timeout=DEADLINE)
        if not _query(database, "SELECT id FROM inbox WHERE state = 'pending'"):
            return
        seen = len(server.calls)
        await server._wait(
            lambda seen=seen: len(server.calls) > seen,  # type: ignore[misc]
            timeout=DEADLINE,
            quiet=0.0,
            describe=lambda: "updates stay unfinished in the inbox",
        )


def _query(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(sql).fetchall()


async def killed_during_intakes(
    server: FakeBotAPI, tmp_path: Path, command: str, env: dict[str, str] | None = None
) -> Bots:
    """`python -m bot <command>` killed KILLS times while PEOPLE do their intake, then stopped;
    fails unless every update Telegram delivered is done or parked, each took effect once, and
    every intake is complete with exactly the answers given. The bots, for more checks."""
    rng = random.Random(SEED)
    enqueued: list[int] = []
    enqueue = server.enqueue_update

    async def recorded(update: JSON) -> int:
        enqueued.append(await enqueue(update))
        return enqueued[-1]

    server.enqueue_update = recorded  # type: ignore[method-assign]
    database = tmp_path / "crash.db"
    with sqlite3.connect(database) as connection:  # see BOT: one row per update taken
        connection.execute("CREATE TABLE effects (inbox_id INTEGER NOT NULL)")
    people = [
        Person(
            server.user(5000 + number, f"Person {number}", language_code="en"),
            {question: rng.choice(labels) for question, (_, labels) in QUESTIONS.items()},
        )
        for number in range(PEOPLE)
    ]
    bots = Bots(server, database, tmp_path / "bot.log", command, env or {})
    done = asyncio.Event()
    try:
        await bots.start()
        kills = asyncio.create_task(killer(server, bots, rng, done))
        async with asyncio.timeout(DEADLINE * 2):
            await asyncio.gather(*(person.do_the_intake() for person in people))
        done.set()
        await kills
        await settle(server, database)
        assert await bots.stop() == 0
    finally:
        bots.close()

    delivered = set(enqueued)
    inbox = {update_id: (row, state) for row, update_id, state in _query(
        database, "SELECT id, update_id, state FROM inbox WHERE channel = 'telegram'"
    )}  # fmt: skip
    effects = Counter(row for (row,) in _query(database, "SELECT inbox_id FROM effects"))
    states = Counter(state for _, state in inbox.values())
    parked = {row for row, state in inbox.values() if state == "parked"}
    print(
        f"\n{bots.kills} kills; {len(delivered)} updates delivered, {states['done']} done, "
        f"{len(parked)} parked; {sum(p.rewrites for p in people)} times a person wrote again; "
        f"{sum(SOMETHING_WENT_WRONG.message in p.wrote() for p in people)} apologies"
    )
    assert bots.kills >= 10
    # Nothing lost: every update Telegram delivered is in the inbox, finished.
    assert server.pending_updates == [] and server.dropped_updates == []
    assert set(inbox) == delivered
    assert states["pending"] == 0
    # Nothing twice: each update took effect once if done, never if parked.
    assert {row: effects[row] for row, _ in inbox.values() if effects[row] != 1} == {
        row: 0 for row in parked
    }
    assert set(effects) <= {row for row, _ in inbox.values()}
    # Every intake is complete, with exactly the answers given.
    stored = _query(
        database,
        "SELECT p.channel_user_id, p.status, a.question_id, a.value FROM answers a "
        "JOIN survey_runs r ON r.id = a.run_id JOIN participants p ON p.id = r.participant_id",
    )
    answers: dict[str, dict[str, str]] = {}
    for person_id, status, question_id, value in stored:
        assert status == "waiting"
        answers.setdefault(person_id, {})[question_id] = value.strip('"')
    assert answers == {
        str(person.user.id): {q: VALUES[label] for q, label in person.choices.items()}
        for person in people
    }
    assert len(stored) == PEOPLE * len(QUESTIONS)
    return bots
