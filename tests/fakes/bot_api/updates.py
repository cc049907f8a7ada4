"""The updates waiting for the bot, and the long polling (getUpdates) that delivers them."""

# The waits take `timeout=` on purpose: it is the test-facing deadline named in the brief,
# and each wait turns it into an AssertionError with diagnostics, not a bare cancellation.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import copy
import itertools
from collections.abc import Awaitable, Callable
from contextlib import suppress

from ..bot_api_checks import BotAPIError
from .records import JSON

CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
WEBHOOK_ACTIVE = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
_DEFAULT_UPDATE_TYPES_EXCLUDED = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)


class UpdateQueue:
    """The part of ``FakeBotAPI`` that queues updates and serves getUpdates.

    An update stays pending until a getUpdates ``offset`` confirms it (or, in webhook mode, a
    POST of it is answered 2xx: ``webhook``); one of a type the bot did not ask for
    (``allowed_updates``) is dropped into ``dropped_updates``, as Telegram never sends it.
    While a webhook is set, getUpdates answers 409, as Telegram's does.
    """

    # Provided by FakeBotAPI, its waiting machinery:
    _changed: asyncio.Condition
    _closing: asyncio.Event
    _last_activity: float
    _notify: Callable[[], Awaitable[None]]
    _wait: Callable[..., Awaitable[None]]
    webhook: object | None  # provided by WebhookMode: the webhook set, if any

    def _init_updates(self) -> None:
        self.dropped_updates: list[JSON] = []
        self._pending: list[JSON] = []
        self._allowed_updates: list[str] | None = None
        self._update_ids = itertools.count(1)
        self._poll_generation = 0
        # Long polls answered 409 Conflict because a newer one came: two pollers at once.
        self.poll_conflicts = 0

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates queued and not yet confirmed by a getUpdates offset."""
        return copy.deepcopy(self._pending)

    async def enqueue_update(self, update: JSON) -> int:
        """Queue an arbitrary update (an ``update_id`` is assigned) and wake a waiting poll."""
        update_id = next(self._update_ids)
        self._pending.append({"update_id": update_id, **update})
        await self._notify()
        return update_id

    async def wait_until_idle(self, timeout: float = 5.0, quiet: float | None = None) -> None:
        """Wait until every queued update is confirmed and the bot has gone quiet.

        "Quiet" is ``quiet`` seconds (default ``quiet_period``) with no call in progress or
        arriving, not counting getUpdates long polls.
        """
        await self._wait(
            lambda: not self._pending,
            timeout=timeout,
            quiet=quiet,
            describe=lambda: f"{len(self._pending)} update(s) still unconfirmed",
        )

    # ------------------------------------------------------------ Bot API methods

    async def _get_updates(self, params: JSON) -> list[JSON]:
        """Long polling: confirm by offset, then answer at once or when an update arrives.

        A newer getUpdates supersedes a waiting one, which gets Telegram's 409 Conflict; so
        does a webhook set meanwhile. With a webhook set, getUpdates is refused at once.
        """
        if self.webhook is not None:
            raise BotAPIError(409, WEBHOOK_ACTIVE)
        offset = params.get("offset")
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(float(params.get("timeout", 0)), 0.0)
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"]) or None
        self._poll_generation += 1
        generation = self._poll_generation
        async with self._changed:
            if offset is not None:
                self._confirm(int(offset))
            self._changed.notify_all()
            while True:
                if generation != self._poll_generation:
                    if self.webhook is not None:
                        raise BotAPIError(409, WEBHOOK_ACTIVE, violation=False)
                    self.poll_conflicts += 1
                    raise BotAPIError(409, CONFLICT, violation=False)
                ready = self._deliverable(limit)
                remaining = deadline - loop.time()
                if ready or remaining <= 0 or self._closing.is_set():
                    return ready
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)

    # ----------------------------------------------------------------- helpers

    def _confirm(self, offset: int) -> None:
        before = len(self._pending)
        if offset < 0:
            self._pending = self._pending[offset:]
        else:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        if len(self._pending) != before:
            self._last_activity = asyncio.get_running_loop().time()

    def _deliverable(self, limit: int) -> list[JSON]:
        """Pending updates the bot asked for; others are dropped, as Telegram never sends them."""
        kept: list[JSON] = []
        for update in self._pending:
            (kept if self._is_allowed(update) else self.dropped_updates).append(update)
        self._pending = kept
        return copy.deepcopy(kept[:limit])

    def _is_allowed(self, update: JSON) -> bool:
        """Whether the bot asked for updates of this kind (``allowed_updates``)."""
        kind = next(key for key in update if key != "update_id")
        if self._allowed_updates is not None:
            return kind in self._allowed_updates
        return kind not in _DEFAULT_UPDATE_TYPES_EXCLUDED
