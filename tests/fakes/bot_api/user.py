"""A fake person in a private chat with the bot, driven by the test."""

# The waits take `timeout=` on purpose: it is the test-facing deadline named in the brief,
# and each wait turns it into an AssertionError with diagnostics, not a bare cancellation.
# ruff: noqa: ASYNC109

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from . import factories
from .records import JSON, CallbackQuery, Chat, StoredMessage

if TYPE_CHECKING:
    from .server import FakeBotAPI

ButtonMatcher = str | Callable[[JSON], bool]


class FakeUser:
    """A person chatting with the bot in a private chat, driven by the test.

    Actions (``send_*``, ``tap``) queue updates for the bot's getUpdates; observations
    (``messages``, ``buttons``, ``wait_for_reply``) read what the bot sent back.
    """

    def __init__(
        self,
        server: FakeBotAPI,
        user_id: int,
        first_name: str,
        language_code: str | None,
        last_name: str | None = None,
        username: str | None = None,
    ) -> None:
        self.server = server
        self.id = user_id
        self.first_name = first_name
        self.language_code = language_code
        telegram: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        optional = {"last_name": last_name, "username": username, "language_code": language_code}
        telegram.update({key: value for key, value in optional.items() if value is not None})
        self.telegram: JSON = telegram
        """This person as a Telegram ``User`` object."""
        self.last_callback_id: str | None = None
        self._chat = Chat(user=telegram)

    def __repr__(self) -> str:
        return f"FakeUser(id={self.id}, first_name={self.first_name!r})"

    # ------------------------------------------------------------ observations

    @property
    def messages(self) -> list[JSON]:
        """Copies of the bot's messages in this chat, edits applied, each with ``edits``."""
        return [stored.view() for stored in self._chat.bot_messages()]

    @property
    def last_message(self) -> JSON:
        """The bot's latest message in this chat (fails the test if there is none)."""
        sent = self._chat.bot_messages()
        if not sent:
            msg = f"the bot has sent nothing to {self!r}"
            raise AssertionError(msg)
        return sent[-1].view()

    @property
    def reply_keyboard(self) -> JSON | None:
        """The custom (reply) keyboard the bot last showed, unless it was removed."""
        return copy.deepcopy(self._chat.reply_keyboard)

    @property
    def blocked(self) -> bool:
        return self._chat.blocked

    @property
    def callback_answers(self) -> dict[str, JSON]:
        """answerCallbackQuery parameters by callback query id, for this user's taps."""
        return {
            query_id: copy.deepcopy(query.answer)
            for query_id, query in self.server._callbacks.items()
            if query.user_id == self.id and query.answer is not None
        }

    def buttons(self, message: JSON | int | None = None) -> list[str]:
        """Labels of the inline buttons on ``message`` or on the latest message with any."""
        stored = self._keyboard_message(message, required=False)
        return [button["text"] for button in stored.inline_buttons()] if stored else []

    async def wait_for_reply(
        self, count: int = 1, timeout: float = 5.0, quiet: float | None = None
    ) -> list[JSON]:
        """Wait for the bot's answer and return the messages it sent or edited.

        Returns once at least ``count`` messages were sent or edited in this chat since the
        previous ``wait_for_reply`` (or since the user was created) *and* the bot has been
        quiet for the server's quiet period, so trailing messages of the same answer are
        included. Each message appears once, in its current state, in the order the messages
        stand in the chat (as the person sees them: an edit does not move a message).
        ``count=0`` just waits for quiet.
        """
        chat = self._chat
        start = chat.marker
        await self.server._wait(
            lambda: len(chat.outputs) - start >= count,
            timeout=timeout,
            quiet=quiet,
            describe=lambda: (
                f"{self!r} expected {count} new bot message(s), got {len(chat.outputs) - start}"
            ),
        )
        touched = sorted(set(chat.outputs[start:]))
        chat.marker = len(chat.outputs)
        return [chat.messages[message_id].view() for message_id in touched]

    async def wait_for_callback_answer(
        self, query_id: str | None = None, timeout: float = 5.0
    ) -> JSON:
        """Wait until the bot answered the callback query (default: this user's last tap)."""
        target = query_id or self.last_callback_id
        query = self.server._callbacks.get(target or "")
        if query is None:
            msg = f"{self!r} has no callback query {target!r} to wait for"
            raise AssertionError(msg)
        await self.server._wait(
            lambda: query.answer is not None,
            timeout=timeout,
            quiet=0.0,
            describe=lambda: f"callback query {target!r} of {self!r} was not answered",
        )
        return copy.deepcopy(query.answer or {})

    # ----------------------------------------------------------------- actions

    async def send_message(self, **content: Any) -> JSON:
        """Queue a message update from this user with arbitrary ``Message`` content fields."""
        stored = self._chat.add(self.telegram, content, from_bot=False)
        await self.server.enqueue_update({"message": stored.wire()})
        return stored.wire()

    async def send_text(self, text: str) -> JSON:
        """Type and send ``text``; a leading /command gets its bot_command entity, as in apps."""
        return await self.send_message(**factories.text_content(text))

    async def send_command(self, command: str = "/start", payload: str | None = None) -> JSON:
        """Send ``/command`` or ``/command payload`` (a deep link such as ``/start CODE``)."""
        command = command if command.startswith("/") else f"/{command}"
        return await self.send_text(f"{command} {payload}" if payload else command)

    async def send_sticker(self, emoji: str = "👍") -> JSON:
        stored = self.server.store_file("sticker", b"RIFF-fake-webp", mime_type="image/webp")
        return await self.send_message(sticker=factories.sticker_object(stored, emoji))

    async def send_photo(self, caption: str | None = None) -> JSON:
        sizes = []
        for width, height in factories.PHOTO_SIZES:
            stored = self.server.store_file("photo", b"\xff\xd8fake-jpeg", mime_type="image/jpeg")
            sizes.append({**factories.media_ids(stored), "width": width, "height": height})
        content: JSON = {"photo": sizes}
        if caption is not None:
            content["caption"] = caption
        return await self.send_message(**content)

    async def send_voice(self, duration: int = 3) -> JSON:
        stored = self.server.store_file("voice", b"OggS-fake-opus", mime_type="audio/ogg")
        voice = {**factories.media_ids(stored), "duration": duration, "mime_type": "audio/ogg"}
        return await self.send_message(voice=voice)

    async def send_location(self, latitude: float, longitude: float) -> JSON:
        return await self.send_message(location={"latitude": latitude, "longitude": longitude})

    async def tap(self, button: ButtonMatcher, message: JSON | int | None = None) -> str:
        """Tap an inline button and return the callback query id.

        ``button`` is the exact label or a predicate on the button dict; ``message`` (a
        message dict or id) defaults to the bot's latest message that has an inline keyboard.
        The tap sees the message as it is now, so buttons removed by an edit cannot be tapped
        (use ``tap_raw`` to simulate a stale or forged tap).
        """
        stored = self._keyboard_message(message, required=True)
        assert stored is not None
        buttons = stored.inline_buttons()
        matches = (lambda b: b.get("text") == button) if isinstance(button, str) else button
        found = next((b for b in buttons if matches(b)), None)
        if found is None:
            labels = [b.get("text") for b in buttons]
            msg = (
                f"no button {button!r} on message {stored.message_id} "
                f"({str(stored.data.get('text', ''))[:60]!r}); buttons: {labels}"
            )
            raise AssertionError(msg)
        if "callback_data" not in found:
            msg = f"button {found['text']!r} has no callback_data, a tap would not reach the bot"
            raise AssertionError(msg)
        return await self._queue_callback(found["callback_data"], stored.message_id)

    async def tap_raw(self, callback_data: str, message_id: int) -> str:
        """Queue a callback query with arbitrary data, e.g. forged, stale or foreign."""
        return await self._queue_callback(callback_data, message_id)

    async def block(self) -> None:
        """Block the bot: sends fail with 403, and the bot gets a my_chat_member update."""
        self._chat.blocked = True
        await self._queue_member_update(old="member", new="kicked")

    async def unblock(self) -> None:
        """Unblock the bot (restarting the chat): sends work again."""
        self._chat.blocked = False
        await self._queue_member_update(old="kicked", new="member")

    # ----------------------------------------------------------------- helpers

    def _keyboard_message(
        self, message: JSON | int | None, *, required: bool
    ) -> StoredMessage | None:
        chat = self._chat
        if message is not None:
            message_id = message["message_id"] if isinstance(message, dict) else message
            stored = chat.messages.get(message_id)
            if stored is None and required:
                msg = f"no message {message_id} in the chat with {self!r}"
                raise AssertionError(msg)
            return stored
        with_keyboard = [m for m in chat.bot_messages() if m.inline_buttons()]
        if with_keyboard:
            return with_keyboard[-1]
        if required:
            msg = f"the bot has sent {self!r} no message with an inline keyboard"
            raise AssertionError(msg)
        return None

    async def _queue_callback(self, data: str, message_id: int) -> str:
        server = self.server
        query_id = f"{self.id}{next(server._callback_ids):06d}"
        server._callbacks[query_id] = CallbackQuery(user_id=self.id)
        stored = self._chat.messages.get(message_id)
        message = (
            stored.wire()
            if stored is not None
            else {"chat": self._chat.telegram, "message_id": message_id, "date": 0}
        )
        query = factories.callback_query(query_id, self.telegram, message, data)
        self.last_callback_id = query_id
        await server.enqueue_update({"callback_query": query})
        return query_id

    async def _queue_member_update(self, *, old: str, new: str) -> None:
        chat, bot = self._chat.telegram, self.server.bot_user
        update = factories.member_update(chat, self.telegram, bot, old=old, new=new)
        await self.server.enqueue_update({"my_chat_member": update})
