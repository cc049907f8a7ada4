"""The wake-up: scheduled runs start at once, and stopping lets the run in hand finish."""

from __future__ import annotations

import asyncio

from bot.wakeup import start_wakeup


async def test_stopping_the_wakeup_lets_the_run_in_hand_finish() -> None:
    # APScheduler cancelled it mid-transaction, and the database then closed under it.
    started, finished = asyncio.Event(), []

    async def tick() -> None:
        started.set()
        await asyncio.sleep(0.2)
        finished.append("tick")

    wakeup = start_wakeup({"tick": tick}, interval_seconds=3600)
    await asyncio.wait_for(started.wait(), 5)
    assert await wakeup.stop(grace=5) is True
    assert finished == ["tick"]


async def test_a_run_longer_than_the_grace_is_given_up() -> None:
    started, cancelled = asyncio.Event(), []

    async def stuck() -> None:
        started.set()
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.append("stuck")
            raise

    wakeup = start_wakeup({"stuck": stuck}, interval_seconds=3600)
    await asyncio.wait_for(started.wait(), 5)
    assert await wakeup.stop(grace=0.1) is False
    await asyncio.sleep(0.05)  # the cancelled run unwinds
    assert cancelled == ["stuck"]
