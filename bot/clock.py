"""APScheduler as the clock that wakes the contact dispatcher; the schedule itself is a table."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.dispatch import ContactDispatcher
from storage.models import utcnow


def start_clock(dispatcher: ContactDispatcher, interval_seconds: float) -> AsyncIOScheduler:
    """Wake the dispatcher now and every `interval_seconds`; runs never overlap or pile up."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    scheduler.add_job(
        dispatcher.tick,
        "interval",
        seconds=interval_seconds,
        id="contact-dispatcher",
        max_instances=1,
        coalesce=True,
        misfire_grace_time=None,
        next_run_time=utcnow(),
    )
    scheduler.start()
    return scheduler
