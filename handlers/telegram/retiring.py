"""Old questions' buttons taken off in the background, outside the person's lane.

A typed answer leaves buttons on the question it answered; taking them off is an edit that
yields to every other call (`rate_limit.py`), so at a busy moment it waits for seconds. Awaited
in the update, it held up that person's next update, which queues behind it in the inbox: at an
information meeting her next question came seconds late. In the background it holds up no one.

Only tidying: if the process dies first, the buttons stay, and a press on an old question's
button is refused kindly as it would be anyway (the live prompt is in the database).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any
from weakref import WeakKeyDictionary

from aiogram import Bot
from aiogram.client.session.base import BaseSession

log = logging.getLogger(__name__)


class Retirements:
    """The edits taking buttons off old questions that are still under way."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def start(self, edit: Coroutine[Any, Any, Any]) -> None:
        # The task copies the update's log fields (bot/monitoring.py): its failure names them.
        task = asyncio.create_task(self._run(edit))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @property
    def pending(self) -> int:
        return len(self._tasks)

    async def finish(self, grace: float) -> bool:
        """Wait for those under way (when the bot stops, before its session closes); False
        if some were still going after ``grace`` seconds (they are cancelled)."""
        if not self._tasks:
            return True
        _done, going = await asyncio.wait(set(self._tasks), timeout=grace)
        for task in going:
            task.cancel()
        await asyncio.gather(*going, return_exceptions=True)
        return not going

    @staticmethod
    async def _run(edit: Coroutine[Any, Any, Any]) -> None:
        try:
            await edit
        except Exception:  # nobody awaits this task: an error must at least be logged
            log.exception("taking the buttons off an old question failed")


_by_session: WeakKeyDictionary[BaseSession, Retirements] = WeakKeyDictionary()


def retirements(bot: Bot) -> Retirements:
    """This bot's retirements, one set per bot session, as `delivery.shown_messages`."""
    found = _by_session.get(bot.session)
    if found is None:
        found = _by_session[bot.session] = Retirements()
    return found
