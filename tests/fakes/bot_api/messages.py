"""The bot's side of the private chats: messages sent and edited, files, answers to taps."""

from __future__ import annotations

import copy
import itertools
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..bot_api_checks import (
    NOT_MODIFIED,
    BotAPIError,
    RenderedText,
    bad_request,
    check_callback_answer_text,
    check_caption,
    check_message_text,
    check_reply_markup,
    inline_markup_of,
)
from ..bot_api_spec import UploadedFile
from .records import JSON, ApiCall, CallbackQuery, Chat, StoredFile, StoredMessage

if TYPE_CHECKING:
    from .user import FakeUser

CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


class Messaging:
    """The part of ``FakeBotAPI`` that carries the bot's messages into the fake users' chats.

    ``files`` holds every file by file id: the bot's uploads and the media fake users send;
    ``unchanged_edits`` every edit refused because it would not have changed the message
    (Telegram's "message is not modified": a wasted call).
    """

    # Provided by FakeBotAPI and by BotProfile (a property there):
    _users: dict[int, FakeUser]
    bot_user: JSON

    def _init_messages(self) -> None:
        self.files: dict[str, StoredFile] = {}
        self.unchanged_edits: list[ApiCall] = []
        self._callbacks: dict[str, CallbackQuery] = {}
        self._file_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)

    def store_file(
        self, kind: str, data: bytes, *, file_name: str | None = None, mime_type: str | None = None
    ) -> StoredFile:
        """Register a file (bot upload or user media) so getFile and downloads find it."""
        number = next(self._file_ids)
        suffix = Path(file_name).suffix if file_name else ""
        stored = StoredFile(
            file_id=f"fake-{kind}-{number:04d}",
            file_unique_id=f"uniq{number:04d}",
            file_path=f"{kind}s/file_{number}{suffix}",
            data=data,
            mime_type=mime_type,
            file_name=file_name,
        )
        self.files[stored.file_id] = stored
        return stored

    def _resolve_file(self, value: Any, kind: str, default_mime: str) -> StoredFile:
        """A file parameter: an upload is stored, a known file_id or a URL is reused."""
        if isinstance(value, UploadedFile):
            mime = value.content_type
            if not mime or mime == "application/octet-stream":
                mime = default_mime
            return self.store_file(kind, value.data, file_name=value.filename, mime_type=mime)
        if isinstance(value, str) and value in self.files:
            return self.files[value]
        if isinstance(value, str) and value.startswith(("http://", "https://")):
            name = value.rstrip("/").rpartition("/")[2] or None
            return self.store_file(kind, b"", file_name=name, mime_type=default_mime)
        raise bad_request("wrong file identifier/HTTP URL specified", detail=f"{kind}={value!r}")

    # ------------------------------------------------------------ Bot API methods

    async def _send_message(self, params: JSON) -> JSON:
        chat = self._recipient(params)
        rendered = check_message_text(params.get("text"), params.get("parse_mode"))
        return self._send(chat, {"text": rendered.text}, params.get("reply_markup"), rendered)

    async def _edit_message_text(self, params: JSON) -> JSON:
        chat, stored = self._message_to_edit(params)
        if "text" not in stored.data:
            raise bad_request("there is no text in the message to edit")
        rendered = check_message_text(params.get("text"), params.get("parse_mode"))
        markup = params.get("reply_markup")
        if markup is not None:
            check_reply_markup(markup, inline_only=True)
        return self._edit(chat, stored, "editMessageText", rendered, inline_markup_of(markup))

    async def _edit_message_reply_markup(self, params: JSON) -> JSON:
        chat, stored = self._message_to_edit(params)
        markup = params.get("reply_markup")
        if markup is not None:
            check_reply_markup(markup, inline_only=True)
        return self._edit(chat, stored, "editMessageReplyMarkup", None, inline_markup_of(markup))

    async def _answer_callback_query(self, params: JSON) -> bool:
        query_id = params["callback_query_id"]
        query = self._callbacks.get(query_id)
        if query is None or query.answer is not None:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid",
                detail=f"callback query {query_id!r} "
                + ("already answered" if query else "was never sent"),
            )
        check_callback_answer_text(params.get("text"))
        query.answer = copy.deepcopy(params)
        return True

    async def _send_chat_action(self, params: JSON) -> bool:
        self._recipient(params)
        if params["action"] not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request", detail=params["action"])
        return True

    async def _send_voice(self, params: JSON) -> JSON:
        chat = self._recipient(params)
        caption = check_caption(params.get("caption"), params.get("parse_mode"))
        stored = self._resolve_file(params["voice"], "voice", "audio/ogg")
        content: JSON = {
            "voice": {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "duration": int(params.get("duration", 1)),
                "mime_type": stored.mime_type,
                "file_size": len(stored.data),
            }
        }
        if caption is not None:
            content["caption"] = caption.text
        return self._send(chat, content, params.get("reply_markup"), caption)

    async def _send_document(self, params: JSON) -> JSON:
        chat = self._recipient(params)
        caption = check_caption(params.get("caption"), params.get("parse_mode"))
        stored = self._resolve_file(params["document"], "document", "application/octet-stream")
        document: JSON = {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "mime_type": stored.mime_type,
            "file_size": len(stored.data),
        }
        if stored.file_name:
            document["file_name"] = stored.file_name
        content: JSON = {"document": document}
        if caption is not None:
            content["caption"] = caption.text
        return self._send(chat, content, params.get("reply_markup"), caption)

    async def _get_file(self, params: JSON) -> JSON:
        stored = self.files.get(params["file_id"])
        if stored is None:
            raise bad_request("invalid file_id", detail=repr(params["file_id"]))
        return stored.as_telegram()

    # ----------------------------------------------------------------- helpers

    def _chat(self, chat_id: Any) -> Chat:
        if isinstance(chat_id, str) and chat_id.removeprefix("-").isdigit():
            chat_id = int(chat_id)  # Telegram accepts numeric ids as strings too
        fake = self._users.get(chat_id) if isinstance(chat_id, int) else None
        if fake is None:
            raise bad_request("chat not found", detail=f"no FakeUser with id {chat_id!r}")
        return fake._chat

    def _recipient(self, params: JSON) -> Chat:
        chat = self._chat(params.get("chat_id"))
        if chat.blocked:
            raise BotAPIError(403, "Forbidden: bot was blocked by the user", violation=False)
        return chat

    def _send(
        self,
        chat: Chat,
        content: JSON,
        markup: Any,
        rendered: RenderedText | None = None,
    ) -> JSON:
        """Store a message the bot sent and return it as Telegram would."""
        if markup is not None:
            check_reply_markup(markup, inline_only=False)
        inline = inline_markup_of(markup)
        if inline is not None:
            content = {**content, "reply_markup": inline}
        elif isinstance(markup, dict) and "keyboard" in markup:
            chat.reply_keyboard = copy.deepcopy(markup)
        elif isinstance(markup, dict) and "remove_keyboard" in markup:
            chat.reply_keyboard = None
        stored = chat.add(self.bot_user, content, from_bot=True)
        stored.formatting = rendered.formatting if rendered else ()
        return stored.wire()

    def _message_to_edit(self, params: JSON) -> tuple[Chat, StoredMessage]:
        if "inline_message_id" in params:
            raise bad_request("fake server does not implement inline messages")
        if "chat_id" not in params or "message_id" not in params:
            raise bad_request("message identifier is not specified")
        chat = self._chat(params["chat_id"])
        stored = chat.messages.get(params["message_id"])
        if stored is None:
            raise bad_request(
                "message to edit not found", detail=f"message_id {params['message_id']}"
            )
        if not stored.from_bot:
            raise bad_request("message can't be edited", detail="it was sent by the user")
        return chat, stored

    def _edit(
        self,
        chat: Chat,
        stored: StoredMessage,
        method: str,
        rendered: RenderedText | None,
        markup: JSON | None,
    ) -> JSON:
        """Apply an edit in place, refusing one that changes nothing (as Telegram does)."""
        data = stored.data
        text = rendered.text if rendered else data.get("text")
        formatting = rendered.formatting if rendered else stored.formatting
        if (
            text == data.get("text")
            and formatting == stored.formatting
            and markup == data.get("reply_markup")
        ):
            where = {"chat_id": chat.user["id"], "message_id": stored.message_id}
            self.unchanged_edits.append(ApiCall(method, where))
            raise BotAPIError(400, NOT_MODIFIED, detail=f"message_id {stored.message_id}")
        now = int(time.time())
        stored.edits.append(
            {
                "method": method,
                "edit_date": now,
                "before": {"text": data.get("text"), "reply_markup": data.get("reply_markup")},
            }
        )
        if rendered is not None:
            data["text"] = rendered.text
            stored.formatting = rendered.formatting
        if markup is None:
            data.pop("reply_markup", None)
        else:
            data["reply_markup"] = markup
        data["edit_date"] = now
        chat.outputs.append(stored.message_id)
        return stored.wire()
