"""Several real bot processes (`python -m bot run`) on one database, against the fake Bot API.

PostgreSQL: two processes share the work while people do their intakes and scheduled contacts
fall due: every update takes effect once, every contact is sent once, Telegram's 30 messages a
second hold for both together (the fake refuses anything over them with 429), and when the
process that long-polls is killed with SIGKILL the other takes over. SQLite: a second process
refuses to start with one line, and starts once the first was killed with SIGKILL.
"""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core import build_core
from bot.language import texts
from bot.settings import PROJECT_ROOT, load_settings
from storage import workers as rows
from storage.database import create_engine
from storage.models import Contact, ContactState, Participant
from tests.conftest import _emptied_postgres
from tests.course import FakeClock
from tests.crash import BOT, CRASH, QUESTIONS, Person
from tests.fakes import FakeBotAPI
from tests.telegram import TOKEN

PEOPLE = 30
CONTACTS = 60
SEED = 15
DEADLINE = 120.0  # for anything the test waits for: generous, only a hung bot reaches it
# The fake counts a call when it arrives, the bots when they send it: the trip between varies
# on a busy machine, so the fake forgives that much of its one-second window.
TOLERANCE = 0.1
SECRET = "workers-test-secret-0123456789"


def bot_environment(server: FakeBotAPI, database_url: str) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": str(PROJECT_ROOT),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": server.base_url,
        "DATABASE_URL": database_url,
        "DEFAULT_LANGUAGE": "en",
        "DEFAULT_PROGRAMME": "crash",
        "PROGRAMMES_DIR": str(CRASH / "programmes"),
        "SURVEYS_DIR": str(CRASH / "surveys"),
        "RESPONDENT_KEY_SECRET": SECRET,
        "DISPATCH_INTERVAL": "1",
    }


class Processes:
    """Bot processes forked from one that has done the imports (see BOT in
    tests/crash.py): started, killed with SIGKILL, stopped with SIGTERM."""

    def __init__(self, environment: dict[str, str], log: Path) -> None:
        with log.open("ab") as output:
            self.forks = subprocess.Popen(
                [sys.executable, "-c", BOT, "run"],
                env=environment,
                cwd=log.parent,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=output,
            )
        self.live: set[int] = set()
        self._asking = asyncio.Lock()

    async def _ask(self, command: str) -> int:
        assert self.forks.stdin is not None and self.forks.stdout is not None
        async with self._asking:
            self.forks.stdin.write(f"{command}\n".encode())
            self.forks.stdin.flush()
            return int(await asyncio.to_thread(self.forks.stdout.readline))

    async def start(self) -> int:
        pid = await self._ask("go")
        self.live.add(pid)
        return pid

    async def kill(self, pid: int) -> None:
        os.kill(pid, signal.SIGKILL)
        assert await self._ask(f"wait {pid}") == -signal.SIGKILL
        self.live.discard(pid)

    async def stop(self, pid: int) -> int:
        os.kill(pid, signal.SIGTERM)
        code = await self._ask(f"wait {pid}")
        self.live.discard(pid)
        return code

    def close(self) -> None:
        for pid in self.live:
            os.kill(pid, signal.SIGKILL)
        self.forks.kill()
        self.forks.wait(timeout=DEADLINE)
        for pipe in (self.forks.stdin, self.forks.stdout):
            if pipe is not None:
                pipe.close()


async def until(condition: object, describe: str, *, interval: float = 0.1) -> None:
    """Wait, up to the deadline, until `condition()` (sync or async) is true."""
    async with asyncio.timeout(DEADLINE):
        while True:
            result = condition()  # type: ignore[operator]
            if asyncio.iscoroutine(result):
                result = await result
            if result:
                return
            await asyncio.sleep(interval)
    raise AssertionError(describe)  # pragma: no cover (the timeout raises first)


# ------------------------------------------------------------------ PostgreSQL: a group of two


@pytest.fixture
async def postgres(postgres_url: str | None) -> AsyncIterator[tuple[str, AsyncEngine]]:
    if postgres_url is None:
        pytest.skip("several bot processes share a PostgreSQL database (TEST_DATABASE_URL)")
    await _emptied_postgres(postgres_url)
    engine = create_engine(postgres_url)
    async with engine.begin() as connection:  # see BOT: one row per update taken
        await connection.execute(text("DROP TABLE IF EXISTS effects"))
        await connection.execute(text("CREATE TABLE effects (inbox_id INTEGER NOT NULL)"))
    yield postgres_url, engine
    async with engine.begin() as connection:
        await connection.execute(text("DROP TABLE effects"))
    await engine.dispose()


async def plan_contacts(database_url: str, server: FakeBotAPI) -> dict[int, int]:
    """`CONTACTS` people who did their intake, each with a check-in due a minute ago (by the
    wall clock the bots run on); their fake users by contact id."""
    settings = load_settings(
        database_url=database_url,
        programmes_dir=CRASH / "programmes",
        surveys_dir=CRASH / "surveys",
        default_programme="crash",
        default_language="en",
        respondent_key_secret=SECRET,
    )
    due = datetime.now(UTC) - timedelta(minutes=1)
    core = await build_core(settings, FakeClock(due))
    try:
        async with core.sessions.begin() as session:
            programme = await session.scalar(text("SELECT id FROM programmes WHERE code = 'crash'"))
            contacts = []
            for number in range(CONTACTS):
                user = server.user(7000 + number, f"Invited {number}", language_code="en")
                person = Participant(
                    channel="telegram",
                    channel_user_id=str(user.id),
                    programme_id=programme,
                    status="waiting",
                    language="en",
                )
                session.add(person)
                await session.flush()
                contact = Contact(
                    participant_id=person.id,
                    rule="check_in",
                    questionnaire_id="crash_intake",
                    due_at=due,
                    state=ContactState.PLANNED,
                )
                session.add(contact)
                await session.flush()
                contacts.append((contact.id, user.id))
    finally:
        await core.close()
    return dict(contacts)


async def polling_pid(engine: AsyncEngine) -> int | None:
    """The process id of the worker that holds the polling lock, if any."""
    async with engine.connect() as connection:
        return await connection.scalar(
            text(
                "SELECT w.pid FROM workers w"
                " JOIN pg_locks m ON m.locktype = 'advisory' AND m.granted"
                " AND m.classid = :members AND m.objid = w.id AND m.objsubid = 2"
                " JOIN pg_locks p ON p.pid = m.pid AND p.locktype = 'advisory' AND p.granted"
                " AND p.classid = :locks AND p.objid = :polling AND p.objsubid = 2"
            ),
            {"members": rows.MEMBERS, "locks": rows.LOCKS, "polling": rows.POLLING},
        )


async def test_two_processes_share_the_work_the_limit_and_the_long_poll(
    server: FakeBotAPI, postgres: tuple[str, AsyncEngine], tmp_path: Path
) -> None:
    database_url, engine = postgres
    invited = await plan_contacts(database_url, server)
    rng = random.Random(SEED)
    enqueued: list[int] = []
    enqueue = server.enqueue_update

    async def recorded(update: dict[str, object]) -> int:
        enqueued.append(await enqueue(update))
        return enqueued[-1]

    server.enqueue_update = recorded  # type: ignore[assignment]
    # Telegram's limit for the bot, whichever process sends; no per-chat spacing (the bots
    # are told not to keep it either: the people tap at machine speed).
    server.enforce_flood_limits(per_second=30, per_chat_per_second=None, tolerance=TOLERANCE)
    people = [
        Person(
            server.user(5000 + number, f"Person {number}", language_code="en"),
            {question: rng.choice(labels) for question, (_, labels) in QUESTIONS.items()},
        )
        for number in range(PEOPLE)
    ]
    processes = Processes(bot_environment(server, database_url), tmp_path / "bots.log")
    try:
        first, second = await processes.start(), await processes.start()
        intakes = asyncio.gather(*(person.do_the_intake() for person in people))
        invitations = texts.INVITATION.message.split("{")[0]

        def invitations_sent() -> list[int]:
            return [
                call.params["chat_id"]
                for call in server.calls
                if call.method == "sendMessage" and invitations in call.params.get("text", "")
            ]

        await until(lambda: len(invitations_sent()) >= CONTACTS, "the invitations never went")
        poller = await polling_pid(engine)
        assert poller in {first, second}
        await processes.kill(poller)
        survivor = second if poller == first else first
        await until(lambda: polling_pid(engine), "nobody took over the long poll", interval=0.2)
        assert await polling_pid(engine) == survivor
        async with asyncio.timeout(DEADLINE * 2):
            await intakes
        await until(lambda: _settled(server, engine), "updates stay unfinished")
        assert await processes.stop(survivor) == 0
    finally:
        processes.close()

    # Every update delivered is in the inbox, done, and took effect once.
    async with engine.connect() as connection:
        inbox = {
            update_id: (row, state)
            for row, update_id, state in await connection.execute(
                text("SELECT id, update_id, state FROM inbox WHERE channel = 'telegram'")
            )
        }
        effects = Counter(row for (row,) in await connection.execute(text("SELECT * FROM effects")))
        contacts = {
            contact: state
            for contact, state in await connection.execute(text("SELECT id, state FROM contacts"))
        }
    assert server.pending_updates == [] and set(inbox) == set(enqueued)
    # None parked: two processes never spend an update's attempts on each other (and one
    # kill costs at most one).
    assert Counter(state for _, state in inbox.values()) == {"done": len(inbox)}
    assert {row: effects[row] for row, _ in inbox.values() if effects[row] != 1} == {}
    # Every contact was claimed once and its invitation reached its person once.
    assert set(contacts.values()) == {ContactState.SENT.value}
    assert sorted(invitations_sent()) == sorted(invited.values())
    # Together within Telegram's 30 a second: the fake never had to refuse a message.
    assert server.flood_rejections == []
    # One long poll at a time: only the killed process's last one, left waiting, was
    # superseded by the next process's.
    assert server.poll_conflicts <= 1
    print(f"\n{len(enqueued)} updates, {len(invitations_sent())} invitations, 0 refused")


async def _settled(server: FakeBotAPI, engine: AsyncEngine) -> bool:
    if server.pending_updates:
        return False
    async with engine.connect() as connection:
        pending = await connection.scalar(
            text("SELECT count(*) FROM inbox WHERE state = 'pending'")
        )
    return pending == 0


# ------------------------------------------------------------------ SQLite: one at a time


def run_second(environment: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "run"],
        env=environment,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=DEADLINE,
        check=False,
    )


async def test_on_sqlite_a_second_process_refuses_to_start_until_the_first_is_gone(
    server: FakeBotAPI, tmp_path: Path
) -> None:
    database = tmp_path / "bot.db"
    environment = bot_environment(server, f"sqlite+aiosqlite:///{database}")
    processes = Processes(environment, tmp_path / "bots.log")
    try:
        first = await processes.start()
        await until(lambda: server.calls_of("getMe"), "the first process never started")
        refused = await asyncio.to_thread(run_second, environment, tmp_path)
        assert refused.returncode == 2
        assert refused.stdout == ""
        assert refused.stderr.splitlines() == [
            f"mentorbot: error: another mentorbot process is already running on {database} "
            f"(it holds {database}.lock); on SQLite only one can run: stop it first, or use "
            "PostgreSQL to run several"
        ]
        await processes.kill(first)
        second = await processes.start()  # the lock went with the killed process
        person = server.user(5000, "Amina", language_code="en")
        await person.send_command("/start", "crash")
        await person.wait_for_reply(timeout=DEADLINE)
        assert await processes.stop(second) == 0
    finally:
        processes.close()
