"""Several processes on one database (bot/workers.py, storage/workers.py), in one test process:
each "process" is a group member on an engine of its own, and its death is its connection
going (as PostgreSQL sees a killed process). The real processes are in
test_workers_processes.py."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.core import Core
from bot.workers import WorkerError, WorkerGroup, sole_worker
from storage import workers as rows
from storage.database import create_engine, create_session_factory, upgrade_database
from storage.models import Contact, ContactState, InboxUpdate, Worker
from tests.course import T0, FakeClock, RecordingOutbox, clock_at, dispatcher, matched
from tests.test_inbox import Handling, update

DEADLINE = 20.0  # seconds; only a hung group reaches it
FAST = {"check_interval": 0.05, "lease": 1.0, "drain": 0.3}  # the group's pace, sped up


def postgresql_only(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several processes share a PostgreSQL database; SQLite runs one")


class Member:
    """A process in the group: its engine, its group and every share it was told."""

    def __init__(self, database_url: str, pace: dict[str, float] = FAST) -> None:
        self.engine = create_engine(database_url)
        self.told: list[int] = []
        self.group = WorkerGroup(self.engine, self._told, limit=30, **pace)  # type: ignore[arg-type]

    def _told(self, per_second: int, _until: float) -> None:
        self.told.append(per_second)

    @property
    def share(self) -> int:
        return self.told[-1] if self.told else 30

    async def die(self) -> None:
        """As if killed: the looks stop and the connection goes, nothing is given back."""
        if self.group._keeper is not None:
            self.group._keeper.cancel()
            await asyncio.gather(self.group._keeper, return_exceptions=True)
        connection = self.group._connection
        if connection is not None:
            await connection.invalidate()
        await self.engine.dispose()


@pytest.fixture
async def members(database_url: str) -> AsyncIterator[Callable[[], Member]]:
    postgresql_only(database_url)
    made: list[Member] = []

    def member() -> Member:
        made.append(Member(database_url))
        return made[-1]

    yield member
    for each in made:
        with contextlib.suppress(Exception):
            await each.die()


async def until(condition: Callable[[], bool | Awaitable[bool]], describe: str) -> None:
    async with asyncio.timeout(DEADLINE):
        while True:
            result = condition()
            if not isinstance(result, bool):
                result = await result
            if result:
                return
            await asyncio.sleep(0.02)
    raise AssertionError(describe)  # pragma: no cover


async def reserved(engine: AsyncEngine) -> dict[int, int]:
    async with engine.connect() as connection:
        return dict((await connection.execute(select(Worker.id, Worker.per_second))).all())  # type: ignore[arg-type]


class Watch:
    """Checks, over and over while the test runs, what the group promises: the rows reserve
    no more than the limit together, and no member sends faster than its row reserves."""

    def __init__(self, engine: AsyncEngine, members: list[Member]) -> None:
        self.engine, self.members = engine, members
        self.looks = 0
        self.broken: list[str] = []
        self._task = asyncio.create_task(self._watch())

    async def _watch(self) -> None:
        while True:
            # The shares first, the rows after: a member raises its row before its share and
            # lowers its row after its share, so this order never sees a false breach.
            shares = {m.group.worker_id: m.share for m in self.members if m.group._keeper}
            table = await reserved(self.engine)
            if sum(table.values()) > 30:
                self.broken.append(f"the rows reserve {table}")
            for worker, share in shares.items():
                if worker in table and share > table[worker]:
                    self.broken.append(f"worker {worker} sends {share}, reserves {table[worker]}")
            self.looks += 1
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        assert self.broken == [] and self.looks > 10


async def test_alone_a_process_has_the_whole_limit_at_once(
    members: Callable[[], Member],
) -> None:
    alone = members()
    await alone.group.join()
    assert alone.told == [0, 30]  # nothing before the first look, then all of it


async def test_two_processes_split_the_limit_and_never_reserve_more_than_it(
    members: Callable[[], Member],
) -> None:
    first, second = members(), members()
    await first.group.join()
    watch = Watch(first.engine, [first, second])
    await second.group.join()
    assert second.share == 0  # the first has it all until it gives half back
    await until(lambda: first.share == second.share == 15, "the limit was never split")
    # The first lowered its share at once, its row only once its calls had left the window.
    assert first.told.index(15) < len(first.told) - 1
    third = members()
    await third.group.join()
    await until(lambda: {m.share for m in (first, second, third)} == {10}, "no split in three")
    await third.die()
    await until(lambda: first.share == second.share == 15, "the dead one's share stayed")
    await watch.stop()
    assert set((await reserved(first.engine)).values()) == {15}  # its row went too


async def test_a_dead_process_share_is_freed_only_after_its_calls_can_no_longer_count(
    members: Callable[[], Member],
) -> None:
    first, second = members(), members()
    await first.group.join()
    await second.group.join()
    await until(lambda: first.share == second.share == 15, "the limit was never split")
    await second.die()
    loop = asyncio.get_running_loop()
    died = loop.time()
    await until(lambda: first.share == 30, "the dead one's share was never freed")
    assert loop.time() - died >= FAST["lease"] + FAST["drain"]


async def test_one_process_long_polls_and_another_takes_over_when_it_dies(
    members: Callable[[], Member],
) -> None:
    first, second = members(), members()
    await first.group.join()
    await second.group.join()
    polling: list[Member] = []
    stopping = asyncio.Event()

    def poller(member: Member) -> Callable[[asyncio.Event], Awaitable[None]]:
        async def poll(halt: asyncio.Event) -> None:
            polling.append(member)
            await halt.wait()

        return poll

    turns = [
        asyncio.create_task(member.group.run_polling_turns(stopping, poller(member)))
        for member in (first, second)
    ]
    await until(lambda: len(polling) == 1, "nobody polls")
    await asyncio.sleep(10 * FAST["check_interval"])
    assert len(polling) == 1  # the other waits its turn
    polling_one = polling[0]
    other = second if polling_one is first else first
    turns[(first, second).index(polling_one)].cancel()
    await polling_one.die()
    await until(lambda: polling == [polling_one, other], "nobody took over the long poll")
    stopping.set()
    async with asyncio.timeout(DEADLINE):
        await asyncio.gather(*turns, return_exceptions=True)


async def test_cut_off_from_the_database_a_process_stops_sending_and_polling_then_rejoins(
    members: Callable[[], Member],
) -> None:
    alone = members()
    await alone.group.join()
    halted = asyncio.Event()
    stopping = asyncio.Event()

    async def poll(halt: asyncio.Event) -> None:
        await halt.wait()
        halted.set()
        await stopping.wait()

    turns = asyncio.create_task(alone.group.run_polling_turns(stopping, poll))
    await until(lambda: alone.group._turn.is_set(), "it never polled")
    old_id = alone.group.worker_id
    assert alone.group._connection is not None
    await alone.group._connection.invalidate()  # the connection breaks under it
    await until(halted.is_set, "it went on polling")
    assert 0 in alone.told[2:]  # it stopped sending at once
    # It joins again as a new worker; its old row is freed like any dead one's.
    await until(lambda: alone.group.worker_id != old_id, "it never joined again")
    await until(lambda: alone.share == 30, "it never got its share back")
    assert set(await reserved(alone.engine)) == {alone.group.worker_id}
    stopping.set()
    await turns


async def test_a_process_that_stops_frees_its_share_sooner_than_one_that_died(
    members: Callable[[], Member],
) -> None:
    first, second = members(), members()
    await first.group.join()
    await second.group.join()
    await until(lambda: first.share == second.share == 15, "the limit was never split")
    loop = asyncio.get_running_loop()
    await second.group.leave()
    left = loop.time()
    assert second.told[-1] == 0  # it sends nothing more
    await until(lambda: first.share == 30, "the share that was left stayed")
    # Its last calls may still count for `drain` after it stopped; it need not wait itself.
    assert loop.time() - left >= FAST["drain"]
    assert set(await reserved(first.engine)) == {first.group.worker_id}


async def test_another_process_hears_of_new_updates_at_once(database_url: str) -> None:
    postgresql_only(database_url)
    storing_engine = create_engine(database_url)
    storing = Handling(create_session_factory(storing_engine, FakeClock().now))
    working = Member(database_url, pace={})  # at its own pace: no look misses a notice
    handling = Handling(create_session_factory(working.engine, FakeClock().now))
    handling.expected = 1
    # It looks for work only every minute unless it hears of some.
    worker = handling.worker(rescan_interval=60.0)
    working.group.on_new_updates = worker.wake
    try:
        await working.group.join()
        await worker.start()
        await storing.worker().receive([update(1, "a")])  # stored by another process
        async with asyncio.timeout(DEADLINE):
            await handling.all_handled.wait()
    finally:
        await worker.stop(grace=DEADLINE)
        await working.group.leave()
        await working.engine.dispose()
        await storing_engine.dispose()
    assert handling.handled == [1]


async def test_a_group_of_one_on_sqlite_keeps_the_whole_limit_and_polls_at_once(
    tmp_path: Path,
) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}")
    told: list[int] = []
    group = WorkerGroup(engine, lambda share, _until: told.append(share), limit=30)
    await group.join()
    stopping = asyncio.Event()

    async def poll(halt: asyncio.Event) -> None:
        stopping.set()
        await halt.wait()

    async with asyncio.timeout(DEADLINE):
        await group.run_polling_turns(stopping, poll)
    await group.leave()
    await engine.dispose()
    assert told == []  # the limiter keeps its own limit


# ------------------------------------------------------------------ SQLite: one process


def test_on_sqlite_a_second_process_is_refused_until_the_first_is_gone(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    with sole_worker(url):
        with pytest.raises(WorkerError) as refused, sole_worker(url):
            pass  # pragma: no cover
        assert str(refused.value) == (
            f"another mentorbot process is already running on {tmp_path / 'bot.db'} (it holds "
            f"{tmp_path / 'bot.db.lock'}); on SQLite only one can run: stop it first, or use "
            "PostgreSQL to run several"
        )
    with sole_worker(url):  # the first is gone
        pass


@pytest.mark.parametrize(
    "url", ["sqlite+aiosqlite://", "postgresql+asyncpg://postgres@127.0.0.1:1/none"]
)
def test_no_lock_file_for_an_in_memory_database_or_postgresql(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with sole_worker(url), sole_worker(url):
        pass
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ start-up and the rounds


async def test_processes_starting_at_once_migrate_one_after_another(
    empty_database_url: str,
) -> None:
    postgresql_only(empty_database_url)
    engines = [create_engine(empty_database_url) for _ in range(3)]
    try:
        await asyncio.gather(*(upgrade_database(engine) for engine in engines))
        async with engines[0].connect() as connection:
            assert await connection.scalar(text("SELECT count(*) FROM workers")) == 0
    finally:
        for engine in engines:
            await engine.dispose()


@pytest.mark.fast_course
async def test_a_round_of_the_dispatcher_is_skipped_while_another_process_has_one(
    core: Core, database_url: str
) -> None:
    postgresql_only(database_url)
    await matched(core)
    clock_at(core, T0 + timedelta(seconds=2))
    outbox = RecordingOutbox()
    other = create_engine(database_url)
    try:
        async with create_session_factory(other, FakeClock().now)() as session:
            assert await rows.first_to(session, rows.ROUND)  # the other process's round
            report = await dispatcher(core, outbox).tick()
            assert report.sent == [] and outbox.sent == []
    finally:
        await other.dispose()
    report = await dispatcher(core, outbox).tick()  # its round is over
    assert len(report.sent) == len(outbox.sent) == 3
    async with core.sessions() as session:
        states = set(await session.scalars(select(Contact.state)))
    assert ContactState.SENT in states


async def test_an_update_begun_by_a_live_process_is_left_to_it(
    members: Callable[[], Member],
) -> None:
    """Two processes, woken together for every update: without the rule, one would begin an
    attempt at an update the other had just begun, each costing an attempt, until updates
    nobody failed were parked. The window between beginning and taking is widened here."""
    group = [members(), members()]
    handled: list[int] = []
    workers = []
    for member in group:
        handling = Handling(create_session_factory(member.engine, FakeClock().now))
        handling.handled = handled
        take = handling.run

        async def slow_to_take(row: InboxUpdate, attempt: int, take=take) -> None:  # type: ignore[no-untyped-def]
            await asyncio.sleep(0.02)
            await take(row, attempt)

        handling.run = slow_to_take  # type: ignore[method-assign]
        worker = handling.worker(rescan_interval=0.01)
        member.group.on_new_updates = worker.wake
        await member.group.join()
        worker.worker = lambda member=member: member.group.worker_id  # type: ignore[misc]
        workers.append(worker)
    try:
        await asyncio.gather(*(worker.start() for worker in workers))
        for number in range(1, 41):
            await workers[0].receive([update(number, f"chat {number % 4}")])
        await until(lambda: len(handled) == 40, "the updates were not all handled")
    finally:
        await asyncio.gather(*(worker.stop(grace=DEADLINE) for worker in workers))
    async with group[0].engine.connect() as connection:
        attempts = set(await connection.scalars(select(InboxUpdate.attempts)))
    assert sorted(handled) == list(range(1, 41)) and attempts == {1}
