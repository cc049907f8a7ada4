"""APScheduler as the clock that wakes the contact dispatcher (the schedule itself is a table)
and takes in programmes changed in the dashboard."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from storage.models import utcnow

Job = Callable[[], Awaitable[object]]


class Clock:
    """The scheduler and the jobs it has in hand. Stopping lets a job in hand finish: APScheduler
    would cancel it mid-transaction, and the database then closed under it (a test's event
    loop waited for ever on the half-closed SQLite connection)."""

    def __init__(self) -> None:
        self.scheduler = AsyncIOScheduler(timezone="UTC")
        self._in_hand = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def add(self, name: str, job: Job, interval_seconds: float) -> None:
        """Run `job` now and every `interval_seconds`; runs never overlap or pile up."""
        self.scheduler.add_job(
            self._tracked(job),
            "interval",
            seconds=interval_seconds,
            id=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=utcnow(),
        )

    def _tracked(self, job: Job) -> Job:
        async def run() -> None:
            self._in_hand += 1
            self._idle.clear()
            try:
                await job()
            finally:
                self._in_hand -= 1
                if not self._in_hand:
                    self._idle.set()

        return run

    async def stop(self, grace: float) -> bool:
        """No new runs; wait up to `grace` seconds for the ones in hand. False if one was
        still running then (it is cancelled)."""
        self.scheduler.pause()
        try:
            async with asyncio.timeout(grace):
                await self._idle.wait()
            return True
        except TimeoutError:
            return False
        finally:
            self.scheduler.shutdown(wait=False)


def start_clock(jobs: Mapping[str, Job], interval_seconds: float) -> Clock:
    """Every job now and every `interval_seconds`."""
    clock = Clock()
    for name, job in jobs.items():
        clock.add(name, job, interval_seconds)
    clock.scheduler.start()
    return clock
