"""APScheduler as the wake-up that runs the contact dispatcher (the schedule itself is a table)
and takes in programmes changed in the dashboard. It says when to look, never what time it is:
that comes from the injected clock (`bot.clock`), which a test may set a year ahead or behind.
APScheduler itself runs on the wall clock, so its first run is due at the wall clock's now."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import SystemClock

Job = Callable[[], Awaitable[object]]


class Wakeup:
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
            next_run_time=SystemClock().now(),
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


def start_wakeup(jobs: Mapping[str, Job], interval_seconds: float) -> Wakeup:
    """Every job now and every `interval_seconds`."""
    wakeup = Wakeup()
    for name, job in jobs.items():
        wakeup.add(name, job, interval_seconds)
    wakeup.scheduler.start()
    return wakeup
