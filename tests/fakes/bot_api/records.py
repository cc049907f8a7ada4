"""What the fake server remembers: calls, files, private chats with their messages, taps."""

from __future__ import annotations

import copy
import itertools
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple

JSON = dict[str, Any]


class ApiCall(NamedTuple):
    """One request the bot made: the method name and its decoded parameters."""

    method: str
    params: JSON


@dataclass
class StoredFile:
    """A file known to the fake: uploaded by the bot or sent by a fake user."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    mime_type: str | None = None
    file_name: str | None = None

    def as_telegram(self) -> JSON:
        """The ``File`` object getFile returns."""
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass
class StoredMessage:
    """A message in a chat; ``data`` is the Telegram ``Message`` object, edited in place."""

    data: JSON
    from_bot: bool
    formatting: tuple[Any, ...] = ()
    edits: list[JSON] = field(default_factory=list)

    @property
    def message_id(self) -> int:
        return int(self.data["message_id"])

    def wire(self) -> JSON:
        """A copy fit to send to the bot (the edit history is the fake's own bookkeeping)."""
        return copy.deepcopy(self.data)

    def view(self) -> JSON:
        """A copy for tests: the current message plus its ``edits`` history."""
        return {**self.wire(), "edits": copy.deepcopy(self.edits)}

    def inline_buttons(self) -> list[JSON]:
        """The buttons of the message's inline keyboard, row by row (none without one)."""
        rows = (self.data.get("reply_markup") or {}).get("inline_keyboard") or []
        return [button for row in rows for button in row]


@dataclass
class CallbackQuery:
    """A tap a fake user made, and the bot's answerCallbackQuery parameters once it answered."""

    user_id: int
    answer: JSON | None = None


@dataclass
class Chat:
    """The private chat between the bot and one fake user.

    Message ids are shared by both sides, as in a real private chat. ``outputs`` lists the
    message id of every message the bot sent or edited, in order; ``marker`` is how far the
    test has already looked (see ``FakeUser.wait_for_reply``).
    """

    user: JSON
    messages: dict[int, StoredMessage] = field(default_factory=dict)
    outputs: list[int] = field(default_factory=list)
    marker: int = 0
    reply_keyboard: JSON | None = None
    blocked: bool = False
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def telegram(self) -> JSON:
        """The ``Chat`` object of a private chat."""
        chat: JSON = {"id": self.user["id"], "type": "private"}
        for key in ("first_name", "last_name", "username"):
            if key in self.user:
                chat[key] = self.user[key]
        return chat

    def add(self, sender: JSON, content: JSON, *, from_bot: bool) -> StoredMessage:
        message_id = next(self._ids)
        data = {
            "message_id": message_id,
            "from": sender,
            "chat": self.telegram,
            "date": int(time.time()),
            **content,
        }
        stored = StoredMessage(data=data, from_bot=from_bot)
        self.messages[message_id] = stored
        if from_bot:
            self.outputs.append(message_id)
        return stored

    def bot_messages(self) -> list[StoredMessage]:
        return [m for _, m in sorted(self.messages.items()) if m.from_bot]
