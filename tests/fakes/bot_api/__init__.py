"""A fake Telegram Bot API server for end-to-end tests (see ``server`` for the overview).

Modules: ``server`` (``FakeBotAPI``: the aiohttp server, its routing and waiting), ``wire``
(requests read and checked against the spec), ``updates`` (update queue, long polling),
``webhook`` (webhook mode: updates POSTed to the bot, sent again until answered 2xx),
``messages`` (chats, messages, files, answers to taps), ``profile`` (getMe, commands),
``faults`` (injected failures and delays, late answers, lost calls, flood limits),
``records`` (what the server keeps), ``user`` (``FakeUser``, the simulated person) and
``factories`` (the Telegram objects a person's app sends).
"""

from .faults import FLOOD_CONTROLLED_METHODS, FloodRejection
from .messages import CHAT_ACTIONS
from .records import JSON, ApiCall, StoredFile
from .server import FakeBotAPI
from .updates import CONFLICT, WEBHOOK_ACTIVE
from .user import ButtonMatcher, FakeUser
from .webhook import SECRET_HEADER, Webhook, WebhookDelivery

__all__ = [
    "CHAT_ACTIONS",
    "CONFLICT",
    "FLOOD_CONTROLLED_METHODS",
    "JSON",
    "SECRET_HEADER",
    "WEBHOOK_ACTIVE",
    "ApiCall",
    "ButtonMatcher",
    "FakeBotAPI",
    "FakeUser",
    "FloodRejection",
    "StoredFile",
    "Webhook",
    "WebhookDelivery",
]
