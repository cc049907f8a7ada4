"""APScheduler as the clock that wakes the contact dispatcher (the schedule itself is a table)
and takes in programmes changed in the dashboard."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.dispatch import ContactDispatcher
from storage.models import utcnow


def start_clock(
    dispatcher: ContactDispatcher,
    interval_seconds: float,
    reload_programmes: Callable[[], Awaitable[bool]] | None = None,
) -> AsyncIOScheduler:
    """Wake the dispatcher now and every `interval_seconds`, and look for changed programmes
    as often; runs never overlap or pile up."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    jobs: dict[str, Callable[[], Awaitable[object]]] = {"contact-dispatcher": dispatcher.tick}
    if reload_programmes is not None:
        jobs["programme-reload"] = reload_programmes
    for name, job in jobs.items():
        scheduler.add_job(
            job,
            "interval",
            seconds=interval_seconds,
            id=name,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=None,
            next_run_time=utcnow(),
        )
    scheduler.start()
    return scheduler
