"""Telegram objects as a fake user's app would produce them: commands, media, taps, blocks.

Pure builders of the JSON Telegram puts into updates; ``FakeUser`` decides when to send them.
"""

from __future__ import annotations

import re
import time

from ..bot_api_checks import telegram_length
from .records import JSON, StoredFile

_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(@\w+)?")

PHOTO_SIZES = ((90, 67), (320, 240), (1280, 960))
"""Width and height of the sizes Telegram makes of a sent photo, smallest first."""


def text_content(text: str) -> JSON:
    """A typed message; a leading /command gets its bot_command entity, as apps add it."""
    content: JSON = {"text": text}
    command = _COMMAND_RE.match(text)
    if command and (command.end() == len(text) or text[command.end()].isspace()):
        length = telegram_length(command.group(0))
        content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
    return content


def media_ids(stored: StoredFile) -> JSON:
    """The id and size fields every media object (sticker, photo size, voice) carries."""
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
    }


def sticker_object(stored: StoredFile, emoji: str) -> JSON:
    """A regular (static) 512×512 ``Sticker``."""
    return {
        **media_ids(stored),
        "type": "regular",
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "emoji": emoji,
    }


def callback_query(query_id: str, user: JSON, message: JSON, data: str) -> JSON:
    """The ``CallbackQuery`` of a tap on an inline button of ``message``."""
    return {
        "id": query_id,
        "from": user,
        "message": message,
        "chat_instance": str(-4_000_000_000 - user["id"]),
        "data": data,
    }


def member_update(chat: JSON, user: JSON, bot: JSON, *, old: str, new: str) -> JSON:
    """The ``ChatMemberUpdated`` of a user blocking (``kicked``) or unblocking the bot."""
    return {
        "chat": chat,
        "from": user,
        "date": int(time.time()),
        "old_chat_member": {"status": old, "user": bot},
        "new_chat_member": {"status": new, "user": bot}
        | ({"until_date": 0} if new == "kicked" else {}),
    }
