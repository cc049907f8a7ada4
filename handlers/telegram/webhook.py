"""Updates that Telegram POSTs to the bot (a webhook), taken into the inbox.

Telegram sends each update with the secret given to setWebhook in a header; a request without
the right one is refused before its body is read, so nothing from it is stored. An update is
answered 2xx only once the inbox has committed it (`TelegramInbox.receive`): any other answer,
or none (a crash, a time-out), makes Telegram send it again, and the inbox recognises a repeat.
"""

from __future__ import annotations

import hmac
import json
import logging

from aiogram import Bot
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from handlers.telegram.inbox import TelegramInbox

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# An update is a few kilobytes (a message's text has at most 4096 characters); anything far
# larger is not one.
MAX_UPDATE_BYTES = 1 << 20


def webhook_route(path: str, secret: str, inbox: TelegramInbox) -> Route:
    """The route that takes Telegram's POSTs at `path` into `inbox`."""
    expected = secret.encode("ascii")

    async def receive(request: Request) -> Response:
        # Compared in constant time, so that the answer's timing tells nothing of the secret.
        given = request.headers.get(SECRET_HEADER, "").encode("latin-1")
        if not hmac.compare_digest(given, expected):
            # No address logged: whoever sent it, it may be a person's.
            log.warning("webhook: a request without the right secret was refused")
            return Response(status_code=403)
        body = await _read_body(request)
        if body is None:
            return Response(status_code=413)
        try:
            payload = json.loads(body)
        except ValueError:
            return Response(status_code=400)
        if not isinstance(payload, dict) or type(payload.get("update_id")) is not int:
            return Response(status_code=400)
        try:
            await inbox.receive([payload])
        except Exception as error:  # the database busy or away: Telegram sends it again
            log.warning(
                "update %s not stored (%s); Telegram will send it again",
                payload["update_id"],
                type(error).__name__,
            )
            return Response(status_code=503)
        return Response(status_code=200)  # committed: only now may Telegram forget it

    return Route(path, receive, methods=["POST"], name="telegram-webhook")


async def _read_body(request: Request) -> bytes | None:
    """The request's body, or None if it is longer than any update."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_UPDATE_BYTES:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_UPDATE_BYTES:
            return None
    return bytes(body)


async def set_webhook(bot: Bot, url: str, secret: str, allowed_updates: list[str]) -> None:
    """Tell Telegram to POST the updates the routers use to `url`, with `secret`. Updates that
    wait at Telegram are kept (`drop_pending_updates=False`): they are people's messages."""
    await bot.set_webhook(
        url=url,
        secret_token=secret,
        allowed_updates=allowed_updates,
        drop_pending_updates=False,
    )
