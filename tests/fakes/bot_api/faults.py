"""Trouble a test can ask for: injected failures and delays, and Telegram's flood limits."""

from __future__ import annotations

import asyncio
import math
import random
from collections import deque
from collections.abc import Iterable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from ..bot_api_checks import BotAPIError
from ..bot_api_spec import BotAPISpec
from .records import JSON, ApiCall

_INJECTED_DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    403: "Forbidden: bot was blocked by the user",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
FLOOD_CONTROLLED_METHODS = frozenset(
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
"""Methods that send or edit a message: what ``enforce_flood_limits`` counts.

sendChatAction and answerCallbackQuery are not counted; they cost Telegram next to nothing.

Deliberately the fake's own list, not the bot's ``handlers.telegram.rate_limit``
``THROTTLED_METHODS``: this is what *Telegram* counts, the referee the bot's limiter is tested
against. Were it imported, a method the bot forgot to throttle would go uncounted here too, and
the end-to-end flood tests could no longer notice.
"""


class FloodRejection(NamedTuple):
    """A call refused by flood control: method, ``chat_id`` (None without one), loop time."""

    method: str
    chat_id: Any
    time: float


@dataclass
class Failure:
    """An injected error answer: what ``fail_next`` queued for one call."""

    error_code: int
    description: str
    retry_after: int | None


@dataclass
class FloodControl:
    """Telegram's flood limits: calls per bot in any one-second window, spacing per chat.

    Only accepted calls are remembered, so ``retry_after`` is an honest "try again then".
    ``tolerance`` (seconds) is forgiven on both limits: the bot measures when it sends, the
    server when the request arrives, and the trip between the two varies a little.
    """

    per_second: int | None
    interval: float | None
    tolerance: float
    starts: deque[float] = field(default_factory=deque)
    last_by_chat: dict[Any, float] = field(default_factory=dict)

    def wait(self, chat_id: Any, now: float) -> float | None:
        """Seconds until this call would be allowed, or None: allowed now (and recorded)."""
        waits: list[float] = []
        if self.per_second is not None:
            window = 1.0 - self.tolerance
            while self.starts and now - self.starts[0] >= window:
                self.starts.popleft()
            if len(self.starts) >= self.per_second:
                waits.append(self.starts[0] + window - now)
        last = self.last_by_chat.get(chat_id) if chat_id is not None else None
        if self.interval is not None and last is not None:
            spacing = self.interval - self.tolerance
            if now - last < spacing:
                waits.append(last + spacing - now)
        if waits:
            return max(waits)
        if self.per_second is not None:
            self.starts.append(now)
        if chat_id is not None:
            self.last_by_chat[chat_id] = now
        return None


@dataclass
class LateAnswers:
    """Which calls ``answer_late`` holds back: a share of them, by a seeded draw or a pattern."""

    share: float
    after: float
    methods: frozenset[str] | None
    rng: random.Random | None
    seen: int = 0

    def due(self, method: str) -> bool:
        """Whether this call's answer comes late (counts the call if it is one that may)."""
        if self.methods is None and method == "getUpdates":
            return False
        if self.methods is not None and method not in self.methods:
            return False
        self.seen += 1
        if self.rng is not None:
            return self.rng.random() < self.share
        # An even, fixed pattern: a call is late when it takes the number of late calls past
        # ``share`` of the calls so far (0.3: the 4th, 7th, 10th, 14th…).
        return math.floor(self.seen * self.share) > math.floor((self.seen - 1) * self.share)


class FaultInjection:
    """The part of ``FakeBotAPI`` that fails, delays and flood-limits calls on request.

    ``flood_rejections`` lists the calls refused by ``enforce_flood_limits``, ``late_answers``
    the calls whose answer ``answer_late`` held back. Injected failures, delays, late answers
    and flood refusals are not violations: Telegram does all of them.
    """

    # Provided by FakeBotAPI:
    spec: BotAPISpec
    _closing: asyncio.Event

    def _init_faults(self) -> None:
        self.flood_rejections: list[FloodRejection] = []
        self._failures: dict[str, deque[Failure]] = {}
        self._delays: dict[str, deque[float]] = {}
        self._holds: dict[str, deque[asyncio.Event]] = {}
        self._flood: FloodControl | None = None
        self.late_answers: list[ApiCall] = []
        self._late: LateAnswers | None = None
        self._losses: dict[str, deque[float]] = {}

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        *,
        retry_after: int = 1,
        description: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail, as Telegram sometimes does.

        429 answers "Too Many Requests: retry after N" with ``parameters.retry_after``; 5xx
        answers "Internal Server Error"/"Bad Gateway". Injected failures are not violations.
        """
        self._require_method(method)
        if error_code == 429:
            text = description or f"Too Many Requests: retry after {retry_after}"
        else:
            text = description or _INJECTED_DESCRIPTIONS.get(error_code, "Injected failure")
        failure = Failure(error_code, text, retry_after if error_code == 429 else None)
        self._failures.setdefault(method, deque()).extend([failure] * times)

    def delay_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Hold the next ``times`` calls of ``method`` for ``seconds`` before processing them.

        The call is still carried out afterwards, like a real request that outlived the
        client's timeout: the message may arrive although the bot saw a network error.
        """
        self._require_method(method)
        self._delays.setdefault(method, deque()).extend([seconds] * times)

    def hold_next(self, method: str) -> asyncio.Event:
        """Hold the next call of ``method`` until the test sets the event returned (or the
        server stops), then carry it out: a call that takes as long as the test wants."""
        self._require_method(method)
        release = asyncio.Event()
        self._holds.setdefault(method, deque()).append(release)
        return release

    def lose_next(self, method: str, *, after: float, times: int = 1) -> None:
        """Lose the next ``times`` calls of ``method`` on the way: each is held ``after``
        seconds and then dropped, never carried out (a bot with a shorter time-out sees the
        same time-out as for a late answer, but nothing reached the chat)."""
        self._require_method(method)
        self._losses.setdefault(method, deque()).extend([after] * times)

    def answer_late(
        self,
        share: float = 0.3,
        *,
        after: float,
        seed: int | None = None,
        methods: Iterable[str] | None = None,
    ) -> None:
        """Answer a ``share`` of the calls only ``after`` seconds late, as a slow network does.

        The call itself is carried out at once (the message is in the chat, the edit made);
        only its answer is held back. A bot whose time-out is shorter than ``after`` sees a
        time-out for a call that succeeded: the case a retry must not turn into a second
        message. Which calls: with ``seed``, each by a draw of ``random.Random(seed)``; without,
        a fixed, evenly spread pattern (for 0.3 the 4th, 7th, 10th, 14th… call). ``methods``
        limits it to those methods; by default every method but getUpdates, whose long poll has
        a long time-out of its own. Each late call is recorded in ``late_answers``;
        ``share=0`` switches it off.
        """
        if not 0.0 <= share <= 1.0:
            msg = f"share must be in [0, 1], not {share!r}"
            raise ValueError(msg)
        chosen = None
        if methods is not None:
            chosen = frozenset(methods)
            for method in chosen:
                self._require_method(method)
        rng = random.Random(seed) if seed is not None else None
        self._late = LateAnswers(share, after, chosen, rng) if share else None

    def enforce_flood_limits(
        self,
        per_second: int | None = 30,
        per_chat_per_second: float | None = 1.0,
        *,
        tolerance: float = 0.0,
    ) -> None:
        """Refuse message-sending calls over Telegram's flood limits (off until called).

        A call of a ``FLOOD_CONTROLLED_METHODS`` method is answered 429 "Too Many Requests:
        retry after N" (with ``parameters.retry_after``) when ``per_second`` such calls were
        already accepted in the last second, or when the last accepted call to the same chat
        is less than ``1 / per_chat_per_second`` seconds old; ``None`` switches a limit off.
        A refusal is recorded in ``flood_rejections``, not in ``violations``: Telegram expects
        a busy bot to meet it now and then, but a test can assert that it never happened.
        """
        if per_second is not None and per_second < 1:
            msg = f"per_second must be at least 1, not {per_second!r}"
            raise ValueError(msg)
        if per_chat_per_second is not None and not per_chat_per_second > 0:
            msg = f"per_chat_per_second must be positive, not {per_chat_per_second!r}"
            raise ValueError(msg)
        if not 0.0 <= tolerance < 1.0:
            msg = f"tolerance must be in [0, 1) seconds, not {tolerance!r}"
            raise ValueError(msg)
        interval = 1.0 / per_chat_per_second if per_chat_per_second is not None else None
        self._flood = FloodControl(per_second, interval, tolerance)

    async def _hold_if_delayed(self, method: str) -> None:
        """Sit out the next hold or delay queued for ``method``, if any (cut short by
        ``stop``)."""
        holds = self._holds.get(method)
        if holds:
            release = holds.popleft()
            waits = [asyncio.ensure_future(event.wait()) for event in (release, self._closing)]
            _, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            for wait in pending:
                wait.cancel()
        delays = self._delays.get(method)
        if delays:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), delays.popleft())

    async def _answer_late_if_due(self, method: str, params: JSON) -> None:
        """Hold a carried-out call's answer back, if ``answer_late`` picks it (cut short by
        ``stop``)."""
        late = self._late
        if late is not None and late.due(method):
            self.late_answers.append(ApiCall(method, params))
            with suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), late.after)

    async def _lose_if_due(self, method: str) -> None:
        """Hold and then drop the call, if ``lose_next`` queued a loss for ``method``."""
        losses = self._losses.get(method)
        if losses:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), losses.popleft())
            raise BotAPIError(500, "Internal Server Error: lost on the way", violation=False)

    def _raise_if_failing(self, method: str) -> None:
        """Answer with the next failure queued for ``method``, if any."""
        failures = self._failures.get(method)
        if failures:
            failure = failures.popleft()
            parameters = {"retry_after": failure.retry_after} if failure.retry_after else None
            raise BotAPIError(
                failure.error_code, failure.description, violation=False, parameters=parameters
            )

    def _check_flood(self, method: str, params: JSON, arrived: float) -> None:
        """Let the call through, or refuse it with 429 as Telegram's flood control would.

        A call counts from when it arrived, before its body was read or any injected delay.
        """
        if self._flood is None or method not in FLOOD_CONTROLLED_METHODS:
            return
        chat_id = params.get("chat_id")
        if isinstance(chat_id, str) and chat_id.removeprefix("-").isdigit():
            chat_id = int(chat_id)
        wait = self._flood.wait(chat_id, arrived)
        if wait is None:
            return
        self.flood_rejections.append(FloodRejection(method, chat_id, arrived))
        retry_after = max(1, math.ceil(wait))
        raise BotAPIError(
            429,
            f"Too Many Requests: retry after {retry_after}",
            violation=False,
            parameters={"retry_after": retry_after},
        )

    def _require_method(self, method: str) -> None:
        if method not in self.spec.methods:
            msg = f"{method!r} is not a Bot API method"
            raise ValueError(msg)
