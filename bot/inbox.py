"""Incoming updates, nothing lost and nothing done twice: stored in the inbox before the channel
is told they arrived, then worked off chat by chat (storage/inbox.py holds the rows).

A chat's updates run one after another in the order they came; chats run side by side, so a
slow or failing chat holds up nobody else. An update whose attempts all failed, or were cut
short by a crash, is parked with its error, the person is told, and the chat's later updates
go on. Updates left unfinished by a stopped or crashed process are taken first at the next
start. Channel-neutral: the channel passes in how to run an update and how to apologise.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import timedelta
from typing import Any, NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.monitoring import UPDATE_FAILURES, UPDATES_PARKED, UPDATES_RECEIVED, log_scope
from storage import inbox
from storage.models import InboxState, InboxUpdate

log = logging.getLogger(__name__)

# Finished updates (done or parked) are deleted this long after they came: long enough to
# recognise any repeat (Telegram redelivers for at most a day) and to look into a parked one
# (its id, chat and error class: the payload of a finished update is emptied at once).
KEEP_FINISHED = timedelta(days=7)

RunUpdate = Callable[[InboxUpdate, int], Awaitable[None]]
"""Runs an update (the row and the attempt's number) in a unit of work that calls
`storage.inbox.take` with them, so that "done" commits with the update's effects."""

Apologise = Callable[[InboxUpdate], Awaitable[None]]
"""Tells the person that their update could not be handled (best effort)."""


class Incoming(NamedTuple):
    update_id: int
    chat: str
    payload: dict[str, Any]


class InboxWorker:
    """Stores incoming updates (`receive`) and works them off (`start` … `stop`)."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        channel: str,
        run_update: RunUpdate,
        apologise: Apologise,
        *,
        clock: Clock,
        max_attempts: int = 3,
        max_chats: int = 50,
        retry_delay: float = 1.0,
        rescan_interval: float = 5.0,
    ) -> None:
        self.sessions = sessions
        self.channel = channel
        self.run_update = run_update
        self.apologise = apologise
        self.clock = clock
        self.max_attempts = max_attempts
        self.max_chats = max_chats  # chats worked on at once
        self.retry_delay = retry_delay  # times the attempt's number, before the next attempt
        # How often to look again for chats another process was working on.
        self.rescan_interval = rescan_interval
        # Which worker of several on PostgreSQL this process is now (bot/workers.py), or None.
        self.worker: Callable[[], int | None] = lambda: None
        self._lanes: dict[str, asyncio.Task[None]] = {}
        self._wake = asyncio.Event()
        self._scanning = False
        self._stopping = asyncio.Event()
        self._scanner: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def busy(self) -> bool:
        """Whether updates are in hand or stored ones wait to be looked at."""
        return bool(self._lanes) or self._scanning or self._wake.is_set()

    async def wait_idle(self) -> None:
        """Until no update is in hand and none waits to be looked at (bound it with
        `asyncio.timeout`)."""
        await self._idle.wait()

    def wake(self) -> None:
        """Look for updates now: another process has stored some (`bot/workers.py`)."""
        if not self._stopping.is_set():
            self._wake_up()

    def _wake_up(self) -> None:
        self._idle.clear()
        self._wake.set()

    def _settle(self) -> None:
        if not self.busy:
            self._idle.set()

    async def receive(self, updates: Iterable[Incoming]) -> int:
        """Commit the updates to the inbox; how many were new (a repeat changes nothing).

        Only once this has returned may the channel be told they arrived (the polling offset
        moved past them, a webhook answered 2xx): a crash before that makes it deliver them
        again.
        """
        new = 0
        async with self.sessions.begin() as session:
            now = self.clock.now()
            for update in updates:
                new += await inbox.store(
                    session, self.channel, update.update_id, update.chat, update.payload, now
                )
            if new:
                await inbox.announce(session)
        UPDATES_RECEIVED.labels(self.channel).inc(new)
        if new:
            self._wake_up()
        return new

    async def start(self) -> None:
        """Take up the updates left unfinished (they go first), then watch for new ones."""
        await self._scan()
        self._scanner = asyncio.create_task(self._watch(), name="inbox")

    async def stop(self, grace: float) -> bool:
        """No new update is begun; those in hand get `grace` seconds to finish, then are
        cancelled (rolled back, to be done at the next start). False if any was cancelled."""
        self._stopping.set()
        self._wake_up()
        if self._scanner is not None:
            await self._scanner
        lanes = list(self._lanes.values())
        late: set[asyncio.Task[None]] = set()
        if lanes:
            _, late = await asyncio.wait(lanes, timeout=grace)
            for lane in late:
                lane.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self._wake.clear()
        self._settle()
        return not late

    async def prune(self) -> int:
        """Delete the finished updates older than `KEEP_FINISHED` (their ids, chats and times
        of arrival: the payloads went when they were finished)."""
        async with self.sessions.begin() as session:
            pruned = await inbox.prune(session, self.clock.now() - KEEP_FINISHED)
        if pruned:
            log.info("inbox: %s finished update(s) older than %s deleted", pruned, KEEP_FINISHED)
        return pruned

    # ------------------------------------------------------------------ the work

    async def _watch(self) -> None:
        while not self._stopping.is_set():
            try:
                async with asyncio.timeout(self.rescan_interval):
                    await self._wake.wait()
            except TimeoutError:
                pass
            if self._stopping.is_set():
                break
            try:
                await self._scan()
            except Exception as error:  # the database away for a moment: look again later
                log.warning("inbox: could not look for updates: %s", type(error).__name__)

    async def _scan(self) -> None:
        """A lane for every chat with updates waiting that has none yet."""
        self._scanning = True
        self._idle.clear()
        self._wake.clear()
        try:
            async with self.sessions() as session:
                chats = await inbox.chats_with_work(session, self.channel)
            for chat in chats:
                if len(self._lanes) >= self.max_chats:
                    break  # a lane that ends wakes us for the rest
                if chat not in self._lanes and not self._stopping.is_set():
                    self._lanes[chat] = asyncio.create_task(self._lane(chat), name=f"inbox {chat}")
        finally:
            self._scanning = False
            self._settle()

    async def _lane(self, chat: str) -> None:
        """One chat's updates, one after another, until none is left."""
        finished = True
        try:
            while not self._stopping.is_set():
                async with self.sessions() as session:
                    head = await inbox.next_of_chat(session, self.channel, chat)
                if head is None:
                    break
                if not await self._attempt(head.id):
                    finished = False  # another process has it: look again later
                    break
        except Exception as error:  # the database away: the rows wait for the next scan
            log.warning("inbox: chat lane stopped: %s", type(error).__name__)
            finished = False
        finally:
            del self._lanes[chat]
            if finished:
                self._wake_up()  # an update may have come for this chat as it ended
            self._settle()

    async def _attempt(self, row_id: int) -> bool:
        """One attempt at an update; False if another process is working on it."""
        async with self.sessions.begin() as session:
            attempt = await inbox.begin_attempt(session, row_id, self.max_attempts, self.worker())
        if attempt is None:
            return False
        update = attempt.update
        # Everything logged about it, here and by the handlers, names the update.
        with log_scope(update_id=update.update_id):
            if attempt.parked:
                UPDATES_PARKED.labels(self.channel).inc()
                log.error(
                    "update %s parked: %s attempt(s) ended without a result (%s)",
                    update.update_id,
                    attempt.number,
                    update.error,
                )
                await self.apologise(update)
                async with self.sessions.begin() as session:
                    await inbox.forget_payload(session, update.id)
                return True
            try:
                await self.run_update(update, attempt.number)
            except Exception as error:
                await self._failed(update, attempt.number, error)
        return True

    async def _failed(self, update: InboxUpdate, attempt: int, error: Exception) -> None:
        # The class only: an exception's message may quote what the person wrote.
        name = type(error).__name__
        UPDATE_FAILURES.labels(self.channel).inc()
        log.debug("update %s failed", update.update_id, exc_info=error)
        async with self.sessions.begin() as session:
            state = await inbox.record_failure(session, update.id, attempt, name, self.max_attempts)
            if state is None and await inbox.state_of(session, update.id) == InboxState.DONE:
                # Its effects were committed before it failed (a reply that could not be
                # sent): it is done, and is not run again.
                log.error("update %s failed after it took effect: %s", update.update_id, name)
                state = InboxState.DONE
        if state == InboxState.PARKED:
            UPDATES_PARKED.labels(self.channel).inc()
            log.error(
                "update %s parked after %s failed attempt(s): %s", update.update_id, attempt, name
            )
        if state in {InboxState.PARKED, InboxState.DONE}:
            await self.apologise(update)
            return
        log.warning(
            "update %s failed (attempt %s of %s): %s; trying again",
            update.update_id,
            attempt,
            self.max_attempts,
            name,
        )
        try:
            async with asyncio.timeout(self.retry_delay * attempt):
                await self._stopping.wait()
        except TimeoutError:
            pass
