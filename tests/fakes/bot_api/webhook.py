"""Webhook mode, as Telegram has it: after setWebhook the updates are POSTed to the bot.

Each update goes as a JSON body with the secret token in ``X-Telegram-Bot-Api-Secret-Token``.
One chat's updates go one at a time, in order (the next only once the previous was taken);
chats go side by side, up to ``max_connections``. An update whose POST did not get a 2xx (the
connection refused or cut, no answer within ``webhook_timeout``, a 4xx or 5xx) is POSTed again
after ``webhook_retry_delay`` until one does: only a 2xx confirms it, as a getUpdates offset
does. While a webhook is set, getUpdates answers 409 (``updates``); deleteWebhook ends it.

Telegram accepts only an https:// URL; the bot under test listens on plain HTTP on this
machine. ``forward_webhooks(to)`` plays the reverse proxy that terminates HTTPS in front of it:
every POST goes to ``to`` with the URL's path. Without it nothing is POSTed (the fake never
reaches the internet): each delivery fails, as to a host that cannot be reached.
"""

from __future__ import annotations

import asyncio
import copy
import re
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from ..bot_api_checks import bad_request
from .records import JSON

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_WEBHOOK_PORTS = {None, 80, 88, 443, 8443}


@dataclass(frozen=True)
class Webhook:
    """What setWebhook set."""

    url: str
    secret_token: str | None
    allowed_updates: list[str] | None
    max_connections: int
    drop_pending_updates: bool


@dataclass(frozen=True)
class WebhookDelivery:
    """One POST of an update: the answer's HTTP status, or the error when none came."""

    update_id: int
    status: int | None
    error: str | None = None

    @property
    def accepted(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def chat_of(update: JSON) -> str:
    """The chat an update belongs to, whose updates Telegram sends one after another."""
    for key, event in update.items():
        if key == "update_id" or not isinstance(event, dict):
            continue
        message = event.get("message") or {}
        for found in (event.get("chat"), message.get("chat"), event.get("from")):
            if isinstance(found, dict) and "id" in found:
                return str(found["id"])
    return f"update {update['update_id']}"


class WebhookMode:
    """The part of ``FakeBotAPI`` that sets webhooks and POSTs the updates to them.

    ``webhook`` is the one set (None: long polling); ``webhook_deliveries`` lists every POST
    with its outcome, so a test can see an update refused and then sent again.
    """

    # Provided by FakeBotAPI and its update queue:
    _changed: asyncio.Condition
    _closing: asyncio.Event
    _in_flight: int
    _last_activity: float
    _pending: list[JSON]
    _allowed_updates: list[str] | None
    _poll_generation: int
    _notify: Callable[[], Awaitable[None]]
    _is_allowed: Callable[[JSON], bool]
    _deliverable: Callable[[int], list[JSON]]

    def _init_webhook(self) -> None:
        self.webhook: Webhook | None = None
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.webhook_retry_delay = 0.1  # seconds; Telegram waits longer, a test need not
        self.webhook_timeout = 10.0  # seconds Telegram waits for the bot's answer
        self._forward_to: str | None = None
        self._deliverer: asyncio.Task[None] | None = None
        self._senders: dict[str, asyncio.Task[None]] = {}
        self._http: aiohttp.ClientSession | None = None

    def forward_webhooks(self, to: str) -> None:
        """POST updates to ``to`` (``http://127.0.0.1:PORT``) + the webhook URL's path, as the
        reverse proxy in front of the bot would."""
        self._forward_to = to.rstrip("/")

    # ------------------------------------------------------------ Bot API methods

    async def _set_webhook(self, params: JSON) -> bool:
        url = params["url"]
        if not url:
            return await self._delete_webhook(params)
        parts = urlsplit(url)
        if parts.scheme != "https":
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        if parts.port not in _WEBHOOK_PORTS:
            raise bad_request(
                "bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443"
            )
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN_RE.fullmatch(secret):
            raise bad_request("bad webhook: secret token contains unallowed characters")
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"]) or None
        drop = bool(params.get("drop_pending_updates"))
        if drop:
            self._pending.clear()
        self.webhook = Webhook(
            url,
            secret,
            copy.copy(self._allowed_updates),
            int(params.get("max_connections", 40)),
            drop,
        )
        self._poll_generation += 1  # a long poll still waiting ends with 409
        if self._http is None:
            self._http = aiohttp.ClientSession()
        if self._deliverer is None or self._deliverer.done():
            self._deliverer = asyncio.create_task(self._deliver(), name="fake webhook")
        await self._notify()
        return True

    async def _delete_webhook(self, params: JSON) -> bool:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        self.webhook = None
        await self._notify()
        return True

    async def _get_webhook_info(self, params: JSON) -> JSON:
        webhook = self.webhook
        if webhook is None:
            return {"url": "", "has_custom_certificate": False, "pending_update_count": 0}
        info: JSON = {
            "url": webhook.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
            "max_connections": webhook.max_connections,
        }
        if webhook.allowed_updates is not None:
            info["allowed_updates"] = list(webhook.allowed_updates)
        return info

    # ----------------------------------------------------------------- delivery

    async def _stop_webhook(self) -> None:
        """Stop delivering (the server stops); the webhook itself stays set."""
        tasks = [t for t in (self._deliverer, *self._senders.values()) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._deliverer = None
        self._senders.clear()
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def _deliver(self) -> None:
        """A sender for each chat with updates waiting, while a webhook is set."""
        async with self._changed:
            while self.webhook is not None and not self._closing.is_set():
                waiting = self._deliverable(max(len(self._pending), 1))
                for update in waiting:
                    chat = chat_of(update)
                    if chat in self._senders or len(self._senders) >= self.webhook.max_connections:
                        continue
                    self._senders[chat] = asyncio.create_task(
                        self._send_chat(chat), name=f"fake webhook {chat}"
                    )
                await self._changed.wait()

    async def _send_chat(self, chat: str) -> None:
        """The chat's updates, oldest first, each until a POST of it gets a 2xx."""
        try:
            while self.webhook is not None and not self._closing.is_set():
                head = next(
                    (u for u in self._pending if chat_of(u) == chat and self._is_allowed(u)), None
                )
                if head is None:
                    return
                if await self._post(self.webhook, copy.deepcopy(head)):
                    taken = head["update_id"]
                    self._pending = [u for u in self._pending if u["update_id"] != taken]
                    continue
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), self.webhook_retry_delay)
        finally:
            self._senders.pop(chat, None)
            await self._notify()

    async def _post(self, webhook: Webhook, update: JSON) -> bool:
        """One POST of ``update``; whether the bot took it (a 2xx)."""
        assert self._http is not None
        if self._forward_to is None:
            delivery = WebhookDelivery(update["update_id"], None, "not forwarded")
            self.webhook_deliveries.append(delivery)
            return False
        parts = urlsplit(webhook.url)
        query = f"?{parts.query}" if parts.query else ""
        target = f"{self._forward_to}{parts.path or '/'}{query}"
        headers: dict[str, Any] = {}
        if webhook.secret_token is not None:
            headers[SECRET_HEADER] = webhook.secret_token
        loop = asyncio.get_running_loop()
        self._in_flight += 1
        self._last_activity = loop.time()
        try:
            timeout = aiohttp.ClientTimeout(total=self.webhook_timeout)
            async with self._http.post(
                target, json=update, headers=headers, timeout=timeout
            ) as response:
                await response.read()
                delivery = WebhookDelivery(update["update_id"], response.status)
        except (aiohttp.ClientError, TimeoutError) as error:
            delivery = WebhookDelivery(update["update_id"], None, type(error).__name__)
        finally:
            self._in_flight -= 1
            self._last_activity = loop.time()
        self.webhook_deliveries.append(delivery)
        return delivery.accepted
