"""Keep outgoing messages within Telegram's flood limits before Telegram has to refuse them.

Telegram lets a bot send about 30 messages a second in all and about one a second to any one
chat; past that it answers 429 "Too Many Requests: retry after N" and holds the bot back for
N seconds. The retry middleware only reacts once Telegram has refused, so a burst of scheduled
check-ins would trip flood control again and again. This request middleware makes each
message-sending call wait for its turn instead, so a burst takes as long as the limits demand
and no longer, and nothing is refused on the way:

* in all: never more than ``per_second`` calls start in any one-second window (a sliding log
  of the last start times, so the check is exact rather than averaged);
* per chat: successive calls to the same chat start at least ``1 / per_chat_per_second``
  seconds apart.

Waiting callers are served first come, first served: per chat, and then for the global slots
(a call waiting for its own chat's spacing does not hold up calls to other chats). One kind of
call yields to all others: taking the buttons off an old message (``editMessageReplyMarkup``
with no markup), which nobody is waiting to read. It waits until no other call waits, and it
leaves a fifth of the window free (``yield_headroom``): the calls people wait for come at
random moments, and a clean-up that filled every free slot as it came would make each of them
wait for a slot to end. So when more calls are due than Telegram allows (a crowd answering at
once), the questions people wait for go first and the clean-up trails behind. Waiting is
sleeping, never polling. A chat is forgotten once nothing is waiting for it and its spacing has
passed, so memory follows the chats of the last moments, not every chat ever seen.

Register it *after* ``RetryMiddleware`` on the session (the first registered middleware is the
outermost), so every attempt, retries included, passes through the limiter.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

ChatKey = int | str
"""A chat as Telegram's ``chat_id``: a numeric id or a ``@username``."""

THROTTLED_METHODS = frozenset(
    {
        "sendMessage",
        "sendVoice",
        "sendDocument",
        "sendPhoto",
        "sendAudio",
        "sendVideo",
        "sendAnimation",
        "sendSticker",
        "sendLocation",
        "sendMediaGroup",
        "editMessageText",
        "editMessageCaption",
        "editMessageMedia",
        "editMessageReplyMarkup",
        "copyMessage",
        "forwardMessage",
    }
)
"""Bot API methods that send or edit a message, the calls flood control counts.

``sendChatAction`` and ``answerCallbackQuery`` are cheap and deliberately not throttled: holding
back a button's spinner or a "typing…" behind a queue of messages would only make the bot feel
slow.
"""

_MIN_SWEEP = 1024


@dataclass
class _Slot:
    """One call in the global window: when it started, then when its answer came back.
    Telegram counts the call when it arrives, somewhere between the two; anchoring the window
    at the answer keeps a slow first burst (new connections) from bunching with the next."""

    at: float
    answered: bool = False


@dataclass
class _ChatState:
    burst: int
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    starts: deque[float] = field(init=False)
    users: int = 0
    """Callers holding or waiting for ``lock``; a chat in use is never forgotten."""

    def __post_init__(self) -> None:
        self.starts = deque(maxlen=self.burst)

    @property
    def last_start(self) -> float:
        return self.starts[-1] if self.starts else -math.inf

    def wait(self, interval: float, now: float) -> float:
        """How long until the next call to this chat may start (0 or less: now): at most
        ``burst`` calls in any ``burst * interval`` seconds."""
        if len(self.starts) < self.burst:
            return 0.0
        return self.starts[0] + interval * self.burst - now


class RateLimitMiddleware(BaseRequestMiddleware):
    """Delay message-sending Bot API calls so they stay within Telegram's flood limits.

    ``per_second`` is the global ceiling: at most that many calls start in any one-second
    window (a fraction rounds down; below one, 0.5 say, it means one call in any two seconds);
    ``math.inf`` switches it off. ``per_chat_per_second`` spaces calls to one chat;
    ``math.inf`` switches the spacing off. ``per_chat_burst`` lets that many calls to one chat
    go at once (a typed answer takes the old question's buttons off and sends the next) while
    keeping the average: at most ``burst`` calls in any ``burst / per_chat_per_second`` seconds.
    ``yield_headroom`` calls of ``per_second`` are left free by a yielding call (default a
    fifth, at least one when ``per_second`` is two or more). ``latency_margin`` (seconds)
    widens the one-second window of a call still unanswered, because Telegram counts calls when
    they arrive: an answered call has arrived before its answer, and its window starts there,
    so it needs no margin (the limiter then keeps close to ``per_second``: that many calls per
    one second plus one round trip). ``clock`` (monotonic, in seconds) and ``sleep`` are there
    for tests.
    """

    def __init__(
        self,
        per_second: float = 30,
        per_chat_per_second: float = 1.0,
        per_chat_burst: int = 1,
        latency_margin: float = 0.0,
        yield_headroom: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        if not per_second > 0:
            msg = f"per_second must be positive, not {per_second!r}"
            raise ValueError(msg)
        if not per_chat_per_second > 0:
            msg = f"per_chat_per_second must be positive, not {per_chat_per_second!r}"
            raise ValueError(msg)
        self.per_second = per_second
        self.per_chat_per_second = per_chat_per_second
        if per_chat_burst < 1:
            msg = f"per_chat_burst must be at least 1, not {per_chat_burst!r}"
            raise ValueError(msg)
        self.per_chat_burst = per_chat_burst
        self._capacity = max(1, math.floor(per_second)) if math.isfinite(per_second) else 0
        self._window = max(1.0, 1.0 / per_second)
        if yield_headroom is None:
            yield_headroom = max(1, self._capacity // 5) if self._capacity > 1 else 0
        if not 0 <= yield_headroom < max(1, self._capacity):
            msg = f"yield_headroom must leave a yielding call a slot, not {yield_headroom!r}"
            raise ValueError(msg)
        self._headroom = yield_headroom
        # Telegram counts a call when it arrives, which trails our start by the network's
        # latency: a call still on its way may arrive after its window would have ended.
        self._margin = latency_margin
        self._interval = 1.0 / per_chat_per_second
        self._clock = clock
        self._sleep = sleep
        self._starts: deque[_Slot] = deque(maxlen=self._capacity)
        self._global = asyncio.Lock()
        self._chats: dict[ChatKey, _ChatState] = {}
        self._sweep_at = _MIN_SWEEP
        self._urgent = 0  # calls waiting that a yielding call lets go first
        self._no_urgent = asyncio.Event()
        self._no_urgent.set()
        self._yielding = asyncio.Lock()
        # Several processes sending for one bot each keep to a share of `per_second`
        # (`set_share`, bot/workers.py); None: this process has all of it.
        self._share: int | None = None
        self._share_until = math.inf
        self._shared = asyncio.Event()

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        if method.__api_method__ not in THROTTLED_METHODS:
            return await make_request(bot, method)
        slot = await self.acquire(getattr(method, "chat_id", None), yielding=_yields(method))
        try:
            return await make_request(bot, method)
        finally:
            slot.at = max(slot.at, self._clock())
            slot.answered = True

    async def acquire(self, chat_id: ChatKey | None = None, *, yielding: bool = False) -> _Slot:
        """Wait until a message to ``chat_id`` (or to no particular chat) may start now; a
        ``yielding`` call waits until no other call is waiting, too.

        Returning counts as the start: call it once per request, right before sending.
        """
        if yielding:
            return await self._take_when_none_waits(chat_id)
        self._urgent += 1
        self._no_urgent.clear()
        try:
            return await self._take(chat_id)
        finally:
            self._urgent -= 1
            if not self._urgent:
                self._no_urgent.set()

    async def _take(self, chat_id: ChatKey | None) -> _Slot:
        if chat_id is None:
            return await self._take_global_slot()
        chat = self._chat(chat_id)
        chat.users += 1
        try:
            async with chat.lock:
                while (wait := chat.wait(self._interval, self._clock())) > 0:
                    await self._sleep(wait)
                slot = await self._take_global_slot()
                chat.starts.append(slot.at)
                return slot
        finally:
            chat.users -= 1

    async def _take_when_none_waits(self, chat_id: ChatKey | None) -> _Slot:
        """First come, first served among the yielding calls; each takes no lock while it
        waits (only other calls hold the chat and global locks, and only while counted in
        ``_urgent``), so a later question to its own chat goes first."""
        async with self._yielding:
            while True:
                while self._urgent:
                    await self._no_urgent.wait()
                chat = None if chat_id is None else self._chat(chat_id)
                now = self._clock()
                if not self._may_send(now):
                    await self._until_shared()
                    continue
                wait = max(
                    self._global_wait(now, keep_free=self._headroom),
                    chat.wait(self._interval, now) if chat else 0,
                )
                if wait <= 0:
                    slot = self._start(now)
                    if chat is not None:
                        chat.starts.append(slot.at)
                    return slot
                await self._sleep(wait)

    def _chat(self, chat_id: ChatKey) -> _ChatState:
        key = _normalise(chat_id)
        chat = self._chats.get(key)
        if chat is None:
            if len(self._chats) >= self._sweep_at:
                self._forget_idle_chats()
            chat = self._chats[key] = _ChatState(self.per_chat_burst)
        return chat

    @property
    def tracked_chats(self) -> int:
        """How many chats the limiter currently remembers (for tests and monitoring)."""
        return len(self._chats)

    async def _take_global_slot(self) -> _Slot:
        """Wait (first come, first served) until fewer than the limit started in the window."""
        async with self._global:
            while True:
                now = self._clock()
                if not self._may_send(now):
                    await self._until_shared()
                elif (wait := self._global_wait(now)) > 0:
                    await self._sleep(wait)
                else:
                    return self._start(now)

    def set_share(self, per_second: int, until: float = math.inf) -> None:
        """Keep to `per_second` of the calls in any one-second window (at most the limiter's
        own `per_second`) until `until` (on the limiter's clock, monotonic): the share of
        this process when several send for one bot (bot/workers.py). A lower share holds for
        every call that starts from now on; at 0, or once `until` has passed without a new
        share, no call starts until one comes."""
        if not self._capacity:
            msg = "a limiter without a per_second limit has no share to give"
            raise ValueError(msg)
        self._share = max(0, min(per_second, self._capacity))
        self._share_until = until
        if self._may_send(self._clock()):
            self._shared.set()

    def _may_send(self, now: float) -> bool:
        return self._share is None or (self._share > 0 and now < self._share_until)

    async def _until_shared(self) -> None:
        self._shared.clear()
        await self._shared.wait()

    def _global_wait(self, now: float, keep_free: int = 0) -> float:
        """How long until a call may start as far as the global window goes (0 or less: now),
        leaving ``keep_free`` of the window's calls to others (of a share, as much of it)."""
        if not self._capacity:
            return 0.0
        capacity = self._capacity
        if self._share is not None:
            keep_free = keep_free * self._share // self._capacity
            capacity = max(1, self._share)
        allowed = max(1, capacity - keep_free)
        if len(self._starts) < allowed:
            return 0.0
        # Once this one has left the window, fewer than `allowed` calls are in it.
        oldest = self._starts[len(self._starts) - allowed]
        free_at = oldest.at + self._window
        if not oldest.answered and now >= free_at:
            free_at += self._margin  # a window's end came, but maybe not the call
        return free_at - now

    def _start(self, now: float) -> _Slot:
        slot = _Slot(now)
        if self._capacity:  # per_second=math.inf keeps no log
            self._starts.append(slot)  # the deque's maxlen drops the oldest
        return slot

    def _forget_idle_chats(self) -> None:
        """Drop chats nobody waits for whose spacing has passed; they would not delay anyone."""
        horizon = self._clock() - self._interval * self.per_chat_burst
        self._chats = {
            key: chat
            for key, chat in self._chats.items()
            if chat.users or chat.last_start > horizon
        }
        self._sweep_at = max(_MIN_SWEEP, 2 * len(self._chats))


def _yields(method: TelegramMethod[TelegramType]) -> bool:
    """Taking the buttons off a message: the one call nobody waits for."""
    return method.__api_method__ == "editMessageReplyMarkup" and (
        getattr(method, "reply_markup", None) is None
    )


def _normalise(chat_id: ChatKey) -> ChatKey:
    """``"123"`` and ``123`` are the same chat to Telegram, so they share one spacing."""
    if isinstance(chat_id, str) and chat_id.removeprefix("-").isdigit():
        return int(chat_id)
    return chat_id
