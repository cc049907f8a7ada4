"""Old buttons taken off in the background (handlers/telegram/retiring.py): the bot waits for
them when it stops, gives up on them after its grace period, and logs one that failed."""

from __future__ import annotations

import asyncio
import logging

import pytest

from handlers.telegram.retiring import Retirements


async def test_stopping_waits_for_the_edits_under_way() -> None:
    retirements = Retirements()
    release = asyncio.Event()
    done: list[int] = []

    async def edit() -> None:
        await release.wait()
        done.append(1)

    retirements.start(edit())
    assert retirements.pending == 1
    finishing = asyncio.create_task(retirements.finish(grace=60))
    await asyncio.sleep(0)
    assert not finishing.done()  # still waiting for the edit
    release.set()

    assert await finishing is True
    assert done == [1] and retirements.pending == 0


async def test_an_edit_still_going_after_the_grace_period_is_cancelled() -> None:
    retirements = Retirements()
    never = asyncio.Event()
    retirements.start(never.wait())

    assert await retirements.finish(grace=0.01) is False
    assert retirements.pending == 0


async def test_a_failed_edit_is_logged_not_lost(caplog: pytest.LogCaptureFixture) -> None:
    retirements = Retirements()

    async def edit() -> None:
        raise RuntimeError("Telegram said no")

    with caplog.at_level(logging.ERROR, logger="handlers.telegram.retiring"):
        retirements.start(edit())
        assert await retirements.finish(grace=60) is True

    (record,) = caplog.records
    assert "old question" in record.getMessage() and record.exc_info is not None


async def test_nothing_under_way_finishes_at_once() -> None:
    assert await Retirements().finish(grace=0) is True
