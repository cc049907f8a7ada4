"""The inbox (bot/inbox.py, storage/inbox.py): updates stored before they are confirmed, done
once, in order within a chat, side by side across chats; failures parked after their
attempts, a crash counting as one."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest
from aiogram import Bot
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.core import Core
from bot.inbox import KEEP_FINISHED, InboxWorker, Incoming
from handlers.telegram.app import create_dispatcher
from handlers.telegram.inbox import TelegramInbox
from storage import inbox
from storage.database import create_engine, create_session_factory
from storage.models import InboxState, InboxUpdate
from tests.course import FakeClock
from tests.telegram import TOKEN

Sessions = async_sessionmaker[AsyncSession]
DEADLINE = 10  # seconds; only a hung worker reaches it


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(database_url)
    yield create_session_factory(engine, FakeClock().now)
    await engine.dispose()


class Handling:
    """What a channel does with an update, as the Telegram middleware and handlers do: marks
    the row done in the unit of work, commits, then "sends" (`sending`, which may be slow);
    an update in `failing` raises before the commit. Notes what was handled and apologised for."""

    def __init__(self, sessions: Sessions) -> None:
        self.sessions = sessions
        self.started: list[int] = []
        self.handled: list[int] = []
        self.apologised: list[int] = []
        self.failing: set[int] = set()
        self.sending: dict[int, Callable[[], Awaitable[None]]] = {}
        self.expected = 0
        self.all_handled = asyncio.Event()  # once `expected` updates are handled

    async def run(self, row: InboxUpdate, attempt: int) -> None:
        async with self.sessions() as session:
            if not await inbox.take(session, row.id, attempt):
                return
            self.started.append(row.update_id)
            if row.update_id in self.failing:
                raise ValueError("Amina wrote this")
            await session.commit()
        send = self.sending.get(row.update_id)
        if send is not None:
            await send()
        self.handled.append(row.update_id)
        if self.expected and len(self.handled) >= self.expected:
            self.all_handled.set()

    async def apologise(self, row: InboxUpdate) -> None:
        self.apologised.append(row.update_id)

    def worker(self, clock: FakeClock | None = None, **options: Any) -> InboxWorker:
        return InboxWorker(
            self.sessions,
            "test",
            self.run,
            self.apologise,
            clock=clock or FakeClock(),
            retry_delay=0.0,
            **options,
        )


def update(update_id: int, chat: str) -> Incoming:
    return Incoming(update_id, chat, {"update_id": update_id, "text": f"hello {update_id}"})


async def rows(sessions: Sessions) -> dict[int, InboxUpdate]:
    async with sessions() as session:
        found = await session.scalars(select(InboxUpdate).order_by(InboxUpdate.id))
        return {row.update_id: row for row in found}


async def worked_off(worker: InboxWorker, *updates: Incoming) -> None:
    await worker.start()
    try:
        await worker.receive(updates)
        async with asyncio.timeout(DEADLINE):
            await worker.wait_idle()
    finally:
        await worker.stop(grace=DEADLINE)


async def test_an_update_that_keeps_failing_is_parked_and_the_chat_goes_on(
    sessions: Sessions, caplog: pytest.LogCaptureFixture
) -> None:
    handling = Handling(sessions)
    handling.failing = {1}
    with caplog.at_level(logging.DEBUG, logger="bot.inbox"):
        await worked_off(handling.worker(), update(1, "a"), update(2, "a"))
    stored = await rows(sessions)
    assert (stored[1].state, stored[1].attempts, stored[1].error) == ("parked", 3, "ValueError")
    assert stored[2].state == InboxState.DONE
    assert handling.started == [1, 1, 1, 2] and handling.handled == [2]
    assert handling.apologised == [1]
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert logged[-1] == "update 1 parked after 3 failed attempt(s): ValueError"
    assert "Amina" not in "\n".join(logged)


async def test_a_chat_s_updates_run_one_after_another_in_the_order_they_came(
    sessions: Sessions,
) -> None:
    handling = Handling(sessions)
    first_may_end = asyncio.Event()

    async def slow() -> None:
        await first_may_end.wait()

    async def let_the_first_end() -> None:
        first_may_end.set()

    handling.sending[1] = slow
    handling.sending[9] = let_the_first_end  # another chat: the first is still in hand meanwhile
    await worked_off(handling.worker(), update(1, "a"), update(2, "a"), update(9, "b"))
    order = [update_id for update_id in handling.started if update_id != 9]
    assert order == [1, 2]
    assert handling.handled.index(1) < handling.started.index(2)


async def test_a_slow_chat_holds_up_no_other_chat(sessions: Sessions) -> None:
    handling = Handling(sessions)
    others_done = asyncio.Event()

    async def slow() -> None:  # finishes only once the other chats' updates are done
        await others_done.wait()

    others = 0

    async def other() -> None:
        nonlocal others
        others += 1
        if others == 2:
            others_done.set()

    handling.sending = {1: slow, 2: other, 3: other}
    await worked_off(handling.worker(), update(1, "slow"), update(2, "b"), update(3, "c"))
    assert set(handling.handled) == {1, 2, 3}  # the slow one ended only after the others


async def test_at_start_the_updates_left_unfinished_go_first(sessions: Sessions) -> None:
    handling = Handling(sessions)
    crashed = handling.worker()
    await crashed.receive([update(1, "a"), update(2, "b")])
    async with sessions.begin() as session:  # the process died in the middle of update 1
        assert await inbox.begin_attempt(session, (await rows(sessions))[1].id, 3) is not None
    restarted = handling.worker()
    await restarted.start()
    try:
        await restarted.receive([update(3, "a")])  # a new one for the same chat
        async with asyncio.timeout(DEADLINE):
            await restarted.wait_idle()
    finally:
        await restarted.stop(grace=DEADLINE)
    assert [u for u in handling.handled if u != 2] == [1, 3]
    stored = await rows(sessions)
    assert stored[1].attempts == 2 and {row.state for row in stored.values()} == {"done"}


async def test_an_update_that_crashed_the_process_each_time_is_parked_at_start(
    sessions: Sessions,
) -> None:
    handling = Handling(sessions)
    worker = handling.worker()
    await worker.receive([update(1, "a"), update(2, "a")])
    row_id = (await rows(sessions))[1].id
    for _ in range(3):  # three attempts, each cut short by a crash
        async with sessions.begin() as session:
            await inbox.begin_attempt(session, row_id, 3)
    await worked_off(worker)
    stored = await rows(sessions)
    assert (stored[1].state, stored[1].attempts, stored[1].error) == ("parked", 3, "Interrupted")
    assert handling.handled == [2] and handling.apologised == [1]


async def test_what_a_person_sent_goes_as_soon_as_it_is_handled_its_id_stays(
    sessions: Sessions,
) -> None:
    """A tap in an anonymous survey carries the run's number beside the person's Telegram id:
    kept for a week, the payload would link the two (docs/PRIVACY.md)."""
    handling = Handling(sessions)
    handling.failing = {2}
    worker = handling.worker()
    await worked_off(worker, update(1, "a"), update(2, "b"))
    await worker.receive([update(3, "c")])  # not yet handled: it keeps what it needs
    stored = await rows(sessions)
    assert (stored[1].state, stored[1].payload, stored[1].chat) == ("done", {}, "a")
    assert (stored[2].state, stored[2].payload, stored[2].error) == ("parked", {}, "ValueError")
    assert stored[3].payload == {"update_id": 3, "text": "hello 3"}
    assert handling.apologised == [2]  # the person was told all the same
    assert await worker.receive([update(1, "a"), update(2, "b")]) == 0  # repeats still known


async def test_an_update_parked_at_start_loses_its_payload_after_the_apology(
    sessions: Sessions,
) -> None:
    handling = Handling(sessions)
    worker = handling.worker()
    await worker.receive([update(1, "a")])
    row_id = (await rows(sessions))[1].id
    for _ in range(3):  # three attempts, each cut short by a crash
        async with sessions.begin() as session:
            await inbox.begin_attempt(session, row_id, 3)
    await worked_off(worker)
    stored = await rows(sessions)
    assert (stored[1].state, stored[1].payload) == ("parked", {})
    assert handling.apologised == [1]


async def test_a_repeated_update_id_changes_nothing(sessions: Sessions) -> None:
    handling = Handling(sessions)
    worker = handling.worker()
    assert await worker.receive([update(1, "a"), update(1, "a")]) == 1
    await worked_off(worker)
    assert await worker.receive([update(1, "a")]) == 0  # delivered again once it is done
    await worked_off(worker)
    assert handling.handled == [1]
    assert len(await rows(sessions)) == 1


async def test_two_processes_on_one_database_do_each_update_once_in_order(
    sessions: Sessions, database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        # Several processes on one database is PostgreSQL's promise (README); on SQLite one
        # process writes at a time, and a second one's "database is locked" counts as a failed
        # attempt (seen once in CI: an update parked, the test timed out).
        pytest.skip("several bot processes share PostgreSQL only")
    handling = Handling(sessions)
    other_engine = create_engine(database_url)  # a second process: its own connections
    other = Handling(create_session_factory(other_engine, FakeClock().now))
    updates = [update(number, f"chat {number % 4}") for number in range(1, 41)]
    other.handled, other.all_handled = handling.handled, handling.all_handled  # either's work
    handling.expected = other.expected = len(updates)
    workers = [handling.worker(rescan_interval=0.05), other.worker(rescan_interval=0.05)]
    try:
        await workers[0].receive(updates)
        await asyncio.gather(*(worker.start() for worker in workers))
        async with asyncio.timeout(DEADLINE * 3):
            await handling.all_handled.wait()
    finally:
        await asyncio.gather(*(worker.stop(grace=DEADLINE) for worker in workers))
        await other_engine.dispose()
    assert sorted(handling.handled) == list(range(1, 41))  # each once
    for chat in range(4):
        in_chat = [u for u in handling.handled if u % 4 == chat]
        assert in_chat == sorted(in_chat)


async def test_finished_updates_are_deleted_after_a_week_unfinished_ones_kept(
    sessions: Sessions,
) -> None:
    clock = FakeClock()
    handling = Handling(sessions)
    worker = handling.worker(clock)
    await worked_off(worker, update(1, "a"))
    await worker.receive([update(2, "b")])  # not worked off: pending
    clock.advance(seconds=KEEP_FINISHED.total_seconds() - 1)
    assert await worker.prune() == 0
    clock.advance(seconds=2)
    assert await worker.prune() == 1
    assert set(await rows(sessions)) == {2}


async def test_an_erased_chat_keeps_its_update_ids_without_what_was_written(
    sessions: Sessions,
) -> None:
    handling = Handling(sessions)
    worker = handling.worker()
    await worked_off(worker, update(1, "a"), update(2, "b"))
    await worker.receive([update(3, "a")])
    async with sessions.begin() as session:
        await inbox.forget_chat(session, "test", "a")
    stored = await rows(sessions)
    assert (stored[1].payload, stored[1].chat) == ({}, "erased")
    assert stored[2].chat == "b" and stored[3].payload  # 3 waits: it is not done yet
    assert await worker.receive([update(1, "a")]) == 0


async def test_the_webhook_entry_has_committed_the_update_when_it_returns(
    core: Core,
) -> None:
    telegram = TelegramInbox(core, Bot(TOKEN), create_dispatcher(core))
    payload = {
        "update_id": 77,
        "callback_query": {
            "id": "1",
            "from": {"id": 42, "is_bot": False, "first_name": "Amina"},
            "chat_instance": "-1",
            "data": "x",
            "message": {"message_id": 5, "date": 0, "chat": {"id": 42, "type": "private"}},
        },
    }
    assert await telegram.receive([payload]) == 1  # what a route answers 2xx after
    other = create_engine(core.settings.database_url)  # another connection sees it: committed
    try:
        async with create_session_factory(other, FakeClock().now)() as session:
            row = await session.scalar(select(InboxUpdate))
    finally:
        await other.dispose()
    assert row is not None
    assert (row.channel, row.update_id, row.chat, row.state) == ("telegram", 77, "42", "pending")
    assert row.payload == payload and row.received_at == core.clock.now()
    assert await telegram.receive([payload]) == 0
    await telegram.bot.session.close()


def test_a_stored_update_keeps_what_telegram_sent() -> None:
    from aiogram.types import Update

    from handlers.telegram.inbox import chat_of, update_json

    sent = {
        "update_id": 5,
        "message": {
            "message_id": 9,
            "date": 1764200000,
            "chat": {"id": 7, "type": "private", "first_name": "A"},
            "from": {"id": 7, "is_bot": False, "first_name": "A", "language_code": "da"},
            "text": "/start x",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    assert update_json(Update.model_validate(sent)) == sent
    assert chat_of(sent) == "7"
    assert chat_of({"update_id": 6, "poll": {"id": "p"}}) == "update 6"
    assert timedelta(days=7) == KEEP_FINISHED
