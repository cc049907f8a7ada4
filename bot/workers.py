"""Several bot processes on one database: on SQLite one at a time, on PostgreSQL a group that
shares the work, the long poll and Telegram's 30 messages a second.

**SQLite** (`sole_worker`): a process that runs the bot holds an exclusive lock on a file beside
the database (`mentorbot.db.lock`); a second one refuses to start with one line. The operating
system releases the lock when the process ends, however it ends (`kill -9` too), so nothing is
left to clean up by hand.

**PostgreSQL** (`WorkerGroup`): each process joins with a row in `workers` and a session-level
advisory lock on a connection of its own (`storage/workers.py`); it is alive while it holds the
lock. Updates (the inbox) and scheduled contacts are claimed row by row, so every process works
on them side by side; an update's attempt is left to the live process that began it, and stored
updates are announced (`NOTIFY`), which the group hears on its connection. One process at a
time long-polls: the one holding the polling lock; when it dies, its lock goes with its
connection and another takes the turn within a look or two.

**The message limit.** Every process keeps a share of the limit (30 a second) in its row, and the
shares in the table never add up to more than the limit (raises are serialised by a lock). A
process never sends faster than its own row reserves:

* it raises its row first and its limiter (`on_share`) after;
* it lowers its limiter first and its row only `drain` seconds later, when calls sent at the
  higher rate have left every one-second window (1 s, plus a margin for their way there);
* its share holds for `lease` seconds after the look that confirmed it still holds its lock
  (measured from before that look); the limiter starts nothing after that without a new look.
  So a process cut off from the database stops sending within `lease` seconds, while it could
  not yet know that its lock is gone;
* a dead process's row is deleted only `lease + drain` seconds after another saw it dead: by
  then its last calls count nowhere. A process that stops (`leave`) stops sending first and
  then marks its row stopped, so its row goes `drain` seconds after another saw it gone.

Hence, in every one-second window, each process's calls at Telegram stay within what its row
reserves, and the rows within the limit. The fair share is limit // live processes (15 each for
two); a newcomer starts at 0 and gets its share as the others give theirs back (a few seconds).
Nothing here costs a call to Telegram anything: the limiter counts in memory, and the group
looks at the table once every `check_interval`. The durations are measured by each process's
monotonic clock, never compared between machines.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

from filelock import FileLock, Timeout
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from storage import inbox
from storage import workers as rows

log = logging.getLogger(__name__)

CHECK_INTERVAL = 1.0  # seconds between two looks at the group
LEASE = 3.0  # how long a share holds after the start of the look that confirmed it
DRAIN = 1.5  # a one-second window and a margin: how long a call can still count at Telegram

ShareChanged = Callable[[int, float], None]
"""Told the messages a second this process may send and until when (monotonic seconds)."""


class WorkerError(Exception):
    """This process cannot run the bot beside the others; the message says why, in one line."""


@contextlib.contextmanager
def sole_worker(database_url: str) -> Iterator[None]:
    """On SQLite, the exclusive lock on `<database>.lock` for as long as the block runs; a
    `WorkerError` if another process holds it. Nothing on PostgreSQL or an in-memory database."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or url.database in {None, "", ":memory:"}:
        yield
        return
    database = Path(str(url.database))
    path = database.with_name(f"{database.name}.lock")
    lock = FileLock(path)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise WorkerError(
            f"another mentorbot process is already running on {database} (it holds {path}); "
            "on SQLite only one can run: stop it first, or use PostgreSQL to run several"
        ) from None
    try:
        yield
    finally:
        lock.release()


class WorkerGroup:
    """This process among those running the bot on one database (see the module's doc).

    `join` before anything is sent, `leave` at the end. On SQLite it is a group of one: the
    limiter keeps its whole limit and the polling turn is always this process's.
    """

    def __init__(
        self,
        database: AsyncEngine,
        on_share: ShareChanged,
        *,
        limit: int,
        check_interval: float = CHECK_INTERVAL,
        lease: float = LEASE,
        drain: float = DRAIN,
        clock: Callable[[], float] = time.monotonic,
        on_new_updates: Callable[[], None] | None = None,
    ) -> None:
        self.database = database
        self.on_share = on_share
        self.on_new_updates = on_new_updates  # another process stored updates: look now
        self.limit = limit
        self.check_interval = check_interval
        self.lease = lease
        self.drain = drain
        self.clock = clock
        self.shared = database.dialect.name == "postgresql"
        self.worker_id: int | None = None
        self.share = 0  # messages a second this process may send now
        self._connection: AsyncConnection | None = None
        self._reserved = 0  # what its row reserves: never less than `share` lately was
        self._lowered_at = -float("inf")
        self._dead_since: dict[int, float] = {}
        self._keeper: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._wants_turn = False
        self._turn = asyncio.Event()
        self._turn_over = asyncio.Event()
        self._leaving = False

    # ------------------------------------------------------------------ joining and leaving

    async def join(self) -> None:
        """Join the group and take the share there is room for; then keep looking."""
        if not self.shared:
            return
        self._tell(0, 0.0)  # nothing is sent before the first look says how much may be
        await self._look(self.clock())
        self._keeper = asyncio.create_task(self._keep(), name="workers")

    async def leave(self) -> None:
        """Stop sending and say so: the others free this process's share `drain` after they
        see it gone, sooner than the share of one that died without a word."""
        if self._keeper is None:
            return
        self._leaving = True
        self._wake.set()
        await self._keeper
        self._tell(0, 0.0)
        with contextlib.suppress(Exception):  # the database gone: freed as a dead one's
            if self._connection is not None and self.worker_id is not None:
                async with asyncio.timeout(self.check_interval * 2):
                    await rows.stop(self._connection, self.worker_id)
        await self._disconnect()

    # ------------------------------------------------------------------ the polling turn

    async def run_polling_turns(
        self, stopping: asyncio.Event, poll: Callable[[asyncio.Event], Awaitable[None]]
    ) -> None:
        """Until `stopping` is set: wait for this process's turn to long-poll, then
        `poll(halt)`, where `halt` is set when stopping or when the turn is lost (the
        database connection went: another process may poll now)."""
        while not stopping.is_set():
            turn_over = await self._wait_turn(stopping)
            if turn_over is None:
                return
            halt = asyncio.Event()
            relay = asyncio.create_task(_set_when_any(halt, stopping, turn_over))
            try:
                await poll(halt)
            finally:
                relay.cancel()
                await asyncio.gather(relay, return_exceptions=True)

    async def _wait_turn(self, stopping: asyncio.Event) -> asyncio.Event | None:
        """This process's turn to poll (the event that is set when it ends), or None if
        stopping came first."""
        if not self.shared:
            return asyncio.Event()  # a group of one: the turn never ends
        self._wants_turn = True
        self._wake.set()
        turn = asyncio.create_task(self._turn.wait())
        stop = asyncio.create_task(stopping.wait())
        await asyncio.wait({turn, stop}, return_when=asyncio.FIRST_COMPLETED)
        for task in (turn, stop):
            task.cancel()
        await asyncio.gather(turn, stop, return_exceptions=True)
        return self._turn_over if self._turn.is_set() and not stopping.is_set() else None

    # ------------------------------------------------------------------ looking at the group

    async def _keep(self) -> None:
        while not self._leaving:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.check_interval):
                    await self._wake.wait()
            self._wake.clear()
            if self._leaving:
                return
            started = self.clock()
            try:
                # A look that hangs (a network cut off without a word) fails once the share
                # it would renew has lapsed anyway.
                async with asyncio.timeout(self.lease):
                    await self._look(started)
            except Exception as error:
                log.warning(
                    "workers: lost the database (%s); not sending until it is back",
                    type(error).__name__,
                )
                await self._lost()

    async def _look(self, started: float) -> None:
        """Confirm this process is alive, free dead ones' shares, move this one's share
        towards the fair one, and take the polling turn if it is wanted and free."""
        connection = await self._connected()
        assert self.worker_id is not None
        group = await rows.survey(connection)
        mine = group.get(self.worker_id)
        if mine is None or not mine.alive:
            raise ConnectionError("this process's lock is gone")
        self._reserved = mine.per_second
        live = [worker for worker, member in group.items() if member.alive]
        await self._forget_dead(connection, group, started)
        fair = max(1, self.limit // len(live))
        if self.share > fair:
            self.share = fair  # at once; the row gives it back after `drain`
            self._tell(self.share, started + self.lease)
            self._lowered_at = self.clock()
        elif self.share < fair:
            if self._reserved < fair:
                self._reserved = await rows.reserve(connection, self.worker_id, fair, self.limit)
            self.share = min(fair, self._reserved)
        if self._reserved > self.share and self.clock() - self._lowered_at >= self.drain:
            await rows.lower(connection, self.worker_id, self.share)
            self._reserved = self.share
        self._tell(self.share, started + self.lease)
        if self._wants_turn and not self._turn.is_set() and await rows.take_polling(connection):
            log.info("workers: this process long-polls now (worker %s)", self.worker_id)
            self._turn_over = asyncio.Event()
            self._turn.set()

    async def _forget_dead(
        self, connection: AsyncConnection, group: dict[int, rows.Member], started: float
    ) -> None:
        """A dead process's row goes `lease + drain` after this one first saw it dead, or
        `drain` after if it said it had stopped sending before it went."""
        self._dead_since = {
            worker: self._dead_since.get(worker, started)
            for worker, member in group.items()
            if not member.alive
        }
        ripe = [
            worker
            for worker, since in self._dead_since.items()
            if started - since >= self.drain + (0 if group[worker].stopped else self.lease)
        ]
        if ripe and await rows.forget(connection, ripe):
            log.info("workers: freed the share of %s process(es) gone", len(ripe))

    async def _connected(self) -> AsyncConnection:
        if self._connection is None:
            self._connection = await self.database.connect()
            self.worker_id = await rows.join(self._connection, socket.gethostname(), os.getpid())
            if self.on_new_updates is not None:
                await rows.listen(self._connection, inbox.NEW_UPDATES, self.on_new_updates)
                self.on_new_updates()  # what was announced while it was not listening
            self.share = self._reserved = 0
            self._dead_since = {}
            log.info("workers: joined as worker %s", self.worker_id)
        return self._connection

    async def _lost(self) -> None:
        """Stop sending at once, give up the polling turn, and join again at the next look
        (the old row is freed by whoever sees it dead)."""
        self._tell(0, 0.0)
        self.share = 0
        self._lowered_at = self.clock()
        if self._turn.is_set():
            self._turn.clear()
            self._turn_over.set()
        await self._disconnect()

    async def _disconnect(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(self.check_interval):
                    await connection.invalidate()  # its locks go with it
                await connection.close()

    def _tell(self, per_second: int, until: float) -> None:
        self.on_share(per_second, until)


async def _set_when_any(out: asyncio.Event, *events: asyncio.Event) -> None:
    waits = [asyncio.create_task(event.wait()) for event in events]
    try:
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        out.set()
    finally:
        for wait in waits:
            wait.cancel()
