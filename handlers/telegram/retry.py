"""Retry Bot API calls on flood control (429), server errors (5xx) and network failures."""

from __future__ import annotations

import asyncio
import logging

from aiogram import Bot
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.exceptions import TelegramNetworkError, TelegramRetryAfter, TelegramServerError
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType

log = logging.getLogger(__name__)


class RetryMiddleware(BaseRequestMiddleware):
    def __init__(self, max_retries: int = 5, base_delay: float = 0.5, max_delay: float = 30.0):
        self.max_retries = max_retries
        self.base_delay = base_delay
        self.max_delay = max_delay

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        attempt = 0
        while True:
            try:
                return await make_request(bot, method)
            except TelegramRetryAfter as error:
                failure: Exception = error
                delay: float = error.retry_after
            except (TelegramServerError, TelegramNetworkError) as error:
                failure = error
                delay = min(self.max_delay, self.base_delay * 2**attempt)
            attempt += 1
            if attempt > self.max_retries:
                raise failure
            log.warning(
                "%s failed (%s); retry %d/%d in %.1fs",
                type(method).__name__,
                failure,
                attempt,
                self.max_retries,
                delay,
            )
            await asyncio.sleep(delay)
