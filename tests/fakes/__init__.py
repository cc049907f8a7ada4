"""Fakes of external services for end-to-end tests (see ``bot_api`` for Telegram)."""

from .bot_api import ApiCall, FakeBotAPI, FakeUser, StoredFile
from .bot_api_checks import BotAPIError
from .bot_api_spec import SPEC_ENV_VAR, UploadedFile

__all__ = [
    "SPEC_ENV_VAR",
    "ApiCall",
    "BotAPIError",
    "FakeBotAPI",
    "FakeUser",
    "StoredFile",
    "UploadedFile",
]
