"""Retry a Bot API call only where a second attempt cannot show a person something twice.

What is retried, for every method:

* **429 "Too Many Requests: retry after N"**: Telegram refused the call and did nothing; it is
  sent again after exactly ``retry_after`` seconds.
* **5xx**: Telegram (or the gateway before it) answered that it failed the call.
* **could not connect** (connection refused, no route, DNS; aiohttp's ``ClientConnectorError``
  and its connect time-out): the request never left this machine.

A call whose **answer did not come** (the time-out ran out while waiting for it, or the
connection broke after the request was written) may well have been carried out: Telegram
often delivers the message and only the answer is slow. Such a call is repeated only for the
methods in ``IDEMPOTENT_METHODS``, whose second arrival changes nothing:

* reads: ``getMe``, ``getUpdates`` (the offset confirms updates, so none is lost or doubled),
  ``getFile``, ``getChat``, ``getMyCommands``…;
* calls that set a state to a given value: ``setMyCommands``, ``deleteMyCommands``,
  ``deleteWebhook``, ``setWebhook``…;
* ``editMessageText``, ``editMessageReplyMarkup``, ``editMessageCaption``: they set a message
  to the content given; a repeat of an edit that did arrive is refused with "message is not
  modified", which the delivery takes as done;
* ``sendChatAction``: a status that lasts a few seconds; twice is the same as once.

Everything else is not repeated after a missing answer, in particular what puts something in
a chat (``sendMessage``, ``sendVoice``, ``sendDocument``, ``sendPhoto``, ``copyMessage``,
``forwardMessage``…: a repeat shows it twice) and ``answerCallbackQuery`` (a press is
answered once: a repeat of an answer that arrived is refused as too old, and one that was lost
only leaves a spinner that stops by itself). The caller gets the ``TelegramNetworkError``;
``may_have_arrived`` tells it apart from a call that certainly did not arrive.

The waits grow exponentially with full jitter (a random share of ``base_delay * 2**attempt``,
capped at ``max_delay``), so that many chats failing at once do not come back in step; at most
``max_retries`` retries. ``rng`` and ``sleep`` are there for tests.

As the loop sees every attempt's outcome, it counts them (``bot/monitoring.py``): the messages
Telegram accepted, its 429s, and the retries by reason.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable

import aiohttp
from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

from bot.monitoring import MESSAGES_SENT, RETRIES, TOO_MANY_REQUESTS
from handlers.telegram.rate_limit import THROTTLED_METHODS

log = logging.getLogger(__name__)

IDEMPOTENT_METHODS = frozenset(
    {
        "getMe",
        "getUpdates",
        "getFile",
        "getChat",
        "getChatMember",
        "getMyCommands",
        "getMyName",
        "getMyDescription",
        "getWebhookInfo",
        "setMyCommands",
        "deleteMyCommands",
        "setWebhook",
        "deleteWebhook",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
        "sendChatAction",
    }
)
"""Methods that may be sent again when their answer did not come (see the module's text)."""

_NOT_SENT = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)
"""What aiohttp raises when the connection could not be made: nothing was sent."""


def may_have_arrived(error: BaseException) -> bool:
    """Whether a failed call may have been carried out by Telegram all the same: a network
    error other than a failure to connect (above all a time-out waiting for the answer)."""
    if not isinstance(error, TelegramNetworkError):
        return False
    cause: BaseException | None = error.__cause__
    while cause is not None:
        if isinstance(cause, _NOT_SENT):
            return False
        cause = cause.__cause__
    return True


class RetryMiddleware(BaseRequestMiddleware):
    def __init__(
        self,
        max_retries: int = 5,
        base_delay: float = 0.5,
        max_delay: float = 30.0,
        *,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[object]] = asyncio.sleep,
    ) -> None:
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay
        self._rng = rng or random.Random()
        self._sleep = sleep

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = method.__api_method__
        attempt = 0
        while True:
            try:
                response = await make_request(bot, method)
            except TelegramAPIError as error:
                if isinstance(error, TelegramRetryAfter):
                    TOO_MANY_REQUESTS.labels(name).inc()
                delay = self.delay(name, error, attempt)
                if delay is None or attempt >= self.max_retries:
                    raise
                attempt += 1
                reason = _reason(error)
                RETRIES.labels(name, reason).inc()
                log.warning(
                    "%s failed (%s); retry %d/%d in %.2fs",
                    name,
                    # A 429's own text names the chat; the others carry Telegram's or the
                    # network's description only.
                    reason if isinstance(error, TelegramRetryAfter) else error,
                    attempt,
                    self.max_retries,
                    delay,
                )
                await self._sleep(delay)
            else:
                if name in THROTTLED_METHODS:
                    MESSAGES_SENT.labels(name).inc()
                return response

    def delay(self, method: str, error: TelegramAPIError, attempt: int) -> float | None:
        """Seconds to wait before retry number ``attempt + 1``, or None: not to be retried."""
        if isinstance(error, TelegramRetryAfter):
            return float(error.retry_after)
        if isinstance(error, TelegramServerError):
            return self.back_off(attempt)
        if isinstance(error, TelegramNetworkError):
            if may_have_arrived(error) and method not in IDEMPOTENT_METHODS:
                return None
            return self.back_off(attempt)
        return None

    def back_off(self, attempt: int) -> float:
        """Full jitter: anything from nothing up to the exponential step, which is capped."""
        return self._rng.uniform(0.0, min(self.max_delay, self.base_delay * 2**attempt))


def _reason(error: TelegramAPIError) -> str:
    """Why a call is sent again, as `mentorbot_telegram_retries` labels it."""
    if isinstance(error, TelegramRetryAfter):
        return "flood_control"
    if isinstance(error, TelegramServerError):
        return "server_error"
    return "network_error"
