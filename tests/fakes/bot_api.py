"""A fake Telegram Bot API server for end-to-end tests.

The real bot (aiogram, unmodified) talks HTTP to this server instead of api.telegram.org::

    async with FakeBotAPI() as server:
        bot = Bot("123456:TEST", session=server.bot_session())
        amina = server.user(1001, first_name="Amina", language_code="da")
        ...  # start the dispatcher polling with `bot`
        await amina.send_command("/start")
        question = (await amina.wait_for_reply())[-1]
        await amina.tap("Yes")
        ...
        assert server.violations == []

Why a server rather than mocking ``Bot`` methods: the bot's own request building, aiogram's
serialisation (multipart form-data with JSON-encoded ``reply_markup``), long polling with offset
confirmation, error mapping (``TelegramBadRequest``, ``TelegramRetryAfter``) and timeouts are all
exercised for real. Every call is checked against the published Bot API spec and Telegram's
documented limits; anything the real Telegram would refuse is refused here too *and* recorded in
``server.violations``, so a test can fail on a bot bug even where the bot swallowed the error.
"""

# The waits take `timeout=` on purpose: it is the test-facing deadline named in the brief,
# and each wait turns it into an AssertionError with diagnostics, not a bare cancellation.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
import copy
import itertools
import math
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple, Self

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from .bot_api_checks import (
    NOT_MODIFIED,
    BotAPIError,
    RenderedText,
    bad_request,
    check_callback_answer_text,
    check_caption,
    check_message_text,
    check_reply_markup,
    inline_markup_of,
    telegram_length,
)
from .bot_api_spec import BotAPISpec, MethodSpec, UploadedFile, load_spec

JSON = dict[str, Any]
ButtonMatcher = str | Callable[[JSON], bool]
_Handler = Callable[[JSON], Awaitable[Any]]

CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
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
_DEFAULT_UPDATE_TYPES_EXCLUDED = frozenset(
    {"chat_member", "message_reaction", "message_reaction_count"}
)
_MISSING_FIELD_ERRORS = {("sendMessage", "text"): "message text is empty"}
"""Telegram's wording where it differs from "<field> is required".

aiogram drops empty strings from the form, so an empty text arrives as a missing one; Telegram
answers both with "message text is empty".
"""
_INJECTED_DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    403: "Forbidden: bot was blocked by the user",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}
FLOOD_CONTROLLED_METHODS = frozenset(
    {
        "sendMessage",
        "sendVoice",
        "sendDocument",
        "sendPhoto",
        "sendAudio",
        "sendVideo",
        "sendAnimation",
        "sendSticker",
        "sendLocation",
        "sendMediaGroup",
        "editMessageText",
        "editMessageCaption",
        "editMessageMedia",
        "editMessageReplyMarkup",
        "copyMessage",
        "forwardMessage",
    }
)
"""Methods that send or edit a message: what ``enforce_flood_limits`` counts.

sendChatAction and answerCallbackQuery are not counted; they cost Telegram next to nothing.
"""
_COMMAND_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(@\w+)?")
_BOT_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


class ApiCall(NamedTuple):
    """One request the bot made: the method name and its decoded parameters."""

    method: str
    params: JSON


class FloodRejection(NamedTuple):
    """A call refused by flood control: method, ``chat_id`` (None without one), loop time."""

    method: str
    chat_id: Any
    time: float


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
class _StoredMessage:
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


@dataclass
class _Failure:
    error_code: int
    description: str
    retry_after: int | None


@dataclass
class _FloodControl:
    """Telegram's flood limits: calls per bot in any one-second window, spacing per chat.

    Only accepted calls are remembered, so ``retry_after`` is an honest "try again then".
    ``tolerance`` (seconds) is forgiven on both limits: the bot measures when it sends, the
    server when the request arrives, and the trip between the two varies a little.
    """

    per_second: int | None
    interval: float | None
    tolerance: float
    starts: deque[float] = field(default_factory=deque)
    last_by_chat: dict[Any, float] = field(default_factory=dict)

    def wait(self, chat_id: Any, now: float) -> float | None:
        """Seconds until this call would be allowed, or None: allowed now (and recorded)."""
        waits: list[float] = []
        if self.per_second is not None:
            window = 1.0 - self.tolerance
            while self.starts and now - self.starts[0] >= window:
                self.starts.popleft()
            if len(self.starts) >= self.per_second:
                waits.append(self.starts[0] + window - now)
        last = self.last_by_chat.get(chat_id) if chat_id is not None else None
        if self.interval is not None and last is not None:
            spacing = self.interval - self.tolerance
            if now - last < spacing:
                waits.append(last + spacing - now)
        if waits:
            return max(waits)
        if self.per_second is not None:
            self.starts.append(now)
        if chat_id is not None:
            self.last_by_chat[chat_id] = now
        return None


@dataclass
class _CallbackQuery:
    user_id: int
    answer: JSON | None = None


@dataclass
class _Chat:
    """The private chat between the bot and one fake user.

    Message ids are shared by both sides, as in a real private chat. ``outputs`` lists the
    message id of every message the bot sent or edited, in order; ``marker`` is how far the
    test has already looked (see ``FakeUser.wait_for_reply``).
    """

    user: JSON
    messages: dict[int, _StoredMessage] = field(default_factory=dict)
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

    def add(self, sender: JSON, content: JSON, *, from_bot: bool) -> _StoredMessage:
        message_id = next(self._ids)
        data = {
            "message_id": message_id,
            "from": sender,
            "chat": self.telegram,
            "date": int(time.time()),
            **content,
        }
        stored = _StoredMessage(data=data, from_bot=from_bot)
        self.messages[message_id] = stored
        if from_bot:
            self.outputs.append(message_id)
        return stored

    def bot_messages(self) -> list[_StoredMessage]:
        return [m for _, m in sorted(self.messages.items()) if m.from_bot]


class FakeBotAPI:
    """An aiohttp server that speaks the Telegram Bot API well enough for end-to-end tests.

    State a test can read: ``calls`` (every request, decoded), ``violations`` (every request
    the real Telegram would refuse, as "method: description"), ``flood_rejections`` (calls
    refused by ``enforce_flood_limits``), ``files`` (by file id), ``commands`` (per scope and
    language), ``token`` (last token seen).
    """

    def __init__(
        self,
        *,
        spec_path: Path | None = None,
        bot_first_name: str = "Mentorbot",
        bot_username: str = "mentorbot_test_bot",
        quiet_period: float = 0.05,
    ) -> None:
        self.spec: BotAPISpec = load_spec(spec_path)
        self.quiet_period = quiet_period
        self.calls: list[ApiCall] = []
        self.violations: list[str] = []
        self.flood_rejections: list[FloodRejection] = []
        self.files: dict[str, StoredFile] = {}
        self.commands: dict[tuple[str, str], list[JSON]] = {}
        self.dropped_updates: list[JSON] = []
        self.token: str | None = None
        self._bot_first_name = bot_first_name
        self._bot_username = bot_username
        self._users: dict[int, FakeUser] = {}
        self._pending: list[JSON] = []
        self._allowed_updates: list[str] | None = None
        self._callbacks: dict[str, _CallbackQuery] = {}
        self._failures: dict[str, deque[_Failure]] = {}
        self._delays: dict[str, deque[float]] = {}
        self._flood: _FloodControl | None = None
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._file_ids = itertools.count(1)
        self._poll_generation = 0
        self._in_flight = 0
        self._last_activity = 0.0
        self._changed = asyncio.Condition()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._handlers: dict[str, _Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setMyCommands": self._set_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "getMyCommands": self._get_my_commands,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "answerCallbackQuery": self._answer_callback_query,
            "sendChatAction": self._send_chat_action,
            "sendVoice": self._send_voice,
            "sendDocument": self._send_document,
            "getFile": self._get_file,
            "close": self._return_true,
            "logOut": self._return_true,
        }

    # ----------------------------------------------------------------- lifecycle

    async def start(self) -> None:
        """Listen on 127.0.0.1 on a free port (a stopped server may be started again)."""
        self._closing.clear()
        app = web.Application(client_max_size=50 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_method)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        self._runner = runner
        self._base_url = f"http://{host}:{port}"

    async def stop(self) -> None:
        """Release waiting long polls and delayed calls, then shut the server down."""
        self._closing.set()
        await self._notify()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT``, for ``TelegramAPIServer.from_base``."""
        if self._base_url is None:
            msg = "FakeBotAPI is not started"
            raise RuntimeError(msg)
        return self._base_url

    def bot_session(self) -> AiohttpSession:
        """An aiogram session pointed at this server.

        It closes without aiogram's 250 ms pause for TLS shutdown (there is no TLS here),
        which keeps a suite that opens a bot per test fast.
        """
        return _FakeServerSession(api=TelegramAPIServer.from_base(self.base_url))

    # ---------------------------------------------------------------- test API

    def user(
        self,
        user_id: int,
        first_name: str = "Amina",
        language_code: str | None = "da",
        *,
        last_name: str | None = None,
        username: str | None = None,
    ) -> FakeUser:
        """The fake person with this id (created on first use) and their private chat."""
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        fake = FakeUser(self, user_id, first_name, language_code, last_name, username)
        self._users[user_id] = fake
        return fake

    @property
    def bot_user(self) -> JSON:
        """The bot's own ``User``; its id is the numeric part of the token, as in Telegram."""
        prefix = (self.token or "").partition(":")[0]
        return {
            "id": int(prefix) if prefix.isdigit() else 1,
            "is_bot": True,
            "first_name": self._bot_first_name,
            "username": self._bot_username,
        }

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates queued and not yet confirmed by a getUpdates offset."""
        return copy.deepcopy(self._pending)

    def calls_of(self, method: str) -> list[JSON]:
        """Parameters of every call of ``method``, in order."""
        return [call.params for call in self.calls if call.method == method]

    def assert_no_violations(self) -> None:
        """Fail with the full list if the bot made any call Telegram would refuse."""
        if self.violations:
            listing = "\n  ".join(self.violations)
            msg = f"{len(self.violations)} Bot API violation(s):\n  {listing}"
            raise AssertionError(msg)

    async def enqueue_update(self, update: JSON) -> int:
        """Queue an arbitrary update (an ``update_id`` is assigned) and wake a waiting poll."""
        update_id = next(self._update_ids)
        self._pending.append({"update_id": update_id, **update})
        await self._notify()
        return update_id

    def fail_next(
        self,
        method: str,
        error_code: int = 429,
        *,
        retry_after: int = 1,
        description: str | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` fail, as Telegram sometimes does.

        429 answers "Too Many Requests: retry after N" with ``parameters.retry_after``; 5xx
        answers "Internal Server Error"/"Bad Gateway". Injected failures are not violations.
        """
        self._require_method(method)
        if error_code == 429:
            text = description or f"Too Many Requests: retry after {retry_after}"
        else:
            text = description or _INJECTED_DESCRIPTIONS.get(error_code, "Injected failure")
        failure = _Failure(error_code, text, retry_after if error_code == 429 else None)
        self._failures.setdefault(method, deque()).extend([failure] * times)

    def delay_next(self, method: str, seconds: float, *, times: int = 1) -> None:
        """Hold the next ``times`` calls of ``method`` for ``seconds`` before processing them.

        The call is still carried out afterwards, like a real request that outlived the
        client's timeout: the message may arrive although the bot saw a network error.
        """
        self._require_method(method)
        self._delays.setdefault(method, deque()).extend([seconds] * times)

    def enforce_flood_limits(
        self,
        per_second: int | None = 30,
        per_chat_per_second: float | None = 1.0,
        *,
        tolerance: float = 0.0,
    ) -> None:
        """Refuse message-sending calls over Telegram's flood limits (off until called).

        A call of a ``FLOOD_CONTROLLED_METHODS`` method is answered 429 "Too Many Requests:
        retry after N" (with ``parameters.retry_after``) when ``per_second`` such calls were
        already accepted in the last second, or when the last accepted call to the same chat
        is less than ``1 / per_chat_per_second`` seconds old; ``None`` switches a limit off.
        A refusal is recorded in ``flood_rejections``, not in ``violations``: Telegram expects
        a busy bot to meet it now and then, but a test can assert that it never happened.
        """
        if per_second is not None and per_second < 1:
            msg = f"per_second must be at least 1, not {per_second!r}"
            raise ValueError(msg)
        if per_chat_per_second is not None and not per_chat_per_second > 0:
            msg = f"per_chat_per_second must be positive, not {per_chat_per_second!r}"
            raise ValueError(msg)
        if not 0.0 <= tolerance < 1.0:
            msg = f"tolerance must be in [0, 1) seconds, not {tolerance!r}"
            raise ValueError(msg)
        interval = 1.0 / per_chat_per_second if per_chat_per_second is not None else None
        self._flood = _FloodControl(per_second, interval, tolerance)

    async def wait_until_idle(self, timeout: float = 5.0, quiet: float | None = None) -> None:
        """Wait until every queued update is confirmed and the bot has gone quiet.

        "Quiet" is ``quiet`` seconds (default ``quiet_period``) with no call in progress or
        arriving, not counting getUpdates long polls.
        """
        await self._wait(
            lambda: not self._pending,
            timeout=timeout,
            quiet=quiet,
            describe=lambda: f"{len(self._pending)} update(s) still unconfirmed",
        )

    # ------------------------------------------------------------ HTTP plumbing

    async def _handle_method(self, request: web.Request) -> web.Response:
        self.token = request.match_info["token"]
        name = request.match_info["method"]
        arrived = asyncio.get_running_loop().time()
        long_poll = name.lower() == "getupdates"
        if long_poll:
            body, status = await self._respond(name, request, arrived)
            return web.json_response(body, status=status)
        self._in_flight += 1
        self._last_activity = asyncio.get_running_loop().time()
        try:
            body, status = await self._respond(name, request, arrived)
        finally:
            self._in_flight -= 1
            self._last_activity = asyncio.get_running_loop().time()
            await self._notify()
        return web.json_response(body, status=status)

    async def _respond(self, name: str, request: web.Request, arrived: float) -> tuple[JSON, int]:
        try:
            return {"ok": True, "result": await self._dispatch(name, request, arrived)}, 200
        except BotAPIError as error:
            if error.violation:
                detail = f" ({error.detail})" if error.detail else ""
                self.violations.append(f"{name}: {error.description}{detail}")
            return error.payload(), error.error_code

    async def _dispatch(self, name: str, request: web.Request, arrived: float) -> Any:
        """Answer one call; ``arrived`` is the loop time the request came in (flood control)."""
        strings, typed, uploads = await self._read_request(request)
        spec = self.spec.method(name)
        if spec is None:
            self.calls.append(ApiCall(name, {**strings, **typed, **uploads}))
            raise BotAPIError(404, "Not Found: method not found", detail="not in the Bot API spec")
        params = self._decode(spec, strings, typed, uploads)
        self.calls.append(ApiCall(spec.name, params))
        delays = self._delays.get(spec.name)
        if delays:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), delays.popleft())
        self._validate(spec, params)
        failures = self._failures.get(spec.name)
        if failures:
            failure = failures.popleft()
            parameters = {"retry_after": failure.retry_after} if failure.retry_after else None
            raise BotAPIError(
                failure.error_code, failure.description, violation=False, parameters=parameters
            )
        if self._flood is not None and spec.name in FLOOD_CONTROLLED_METHODS:
            self._check_flood(spec.name, params, arrived)
        handler = self._handlers.get(spec.name)
        if handler is None:
            raise bad_request(f"fake server does not implement {spec.name}")
        return await handler(params)

    def _check_flood(self, method: str, params: JSON, arrived: float) -> None:
        """Let the call through, or refuse it with 429 as Telegram's flood control would.

        A call counts from when it arrived, before its body was read or any injected delay.
        """
        assert self._flood is not None
        chat_id = params.get("chat_id")
        if isinstance(chat_id, str) and chat_id.removeprefix("-").isdigit():
            chat_id = int(chat_id)
        wait = self._flood.wait(chat_id, arrived)
        if wait is None:
            return
        self.flood_rejections.append(FloodRejection(method, chat_id, arrived))
        retry_after = max(1, math.ceil(wait))
        raise BotAPIError(
            429,
            f"Too Many Requests: retry after {retry_after}",
            violation=False,
            parameters={"retry_after": retry_after},
        )

    @staticmethod
    async def _read_request(
        request: web.Request,
    ) -> tuple[dict[str, str], JSON, dict[str, UploadedFile]]:
        """Split a request into string parameters (query, form), typed ones (JSON) and files."""
        strings: dict[str, str] = dict(request.query)
        typed: JSON = {}
        uploads: dict[str, UploadedFile] = {}
        if not request.body_exists:
            return strings, typed, uploads
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise bad_request("request body must be a JSON object")
            typed.update(body)
            return strings, typed, uploads
        for key, value in (await request.post()).items():
            if isinstance(value, web.FileField):
                uploads[key] = UploadedFile(
                    name=key,
                    filename=value.filename,
                    content_type=value.content_type,
                    data=value.file.read(),
                )
            else:
                strings[key] = value if isinstance(value, str) else bytes(value).decode()
        return strings, typed, uploads

    def _decode(
        self,
        spec: MethodSpec,
        strings: dict[str, str],
        typed: JSON,
        uploads: dict[str, UploadedFile],
    ) -> JSON:
        """Typed parameters: form strings decoded per the spec, ``attach://`` files resolved."""
        params: JSON = {}
        for key, value in strings.items():
            field_spec = spec.fields.get(key)
            params[key] = (
                self.spec.decode_form_value(value, field_spec.types) if field_spec else value
            )
        params.update(typed)
        attached: set[str] = set()
        for key, value in params.items():
            if isinstance(value, str) and value.startswith("attach://"):
                part = value.removeprefix("attach://")
                if part in uploads:
                    params[key] = uploads[part]
                    attached.add(part)
        params.update({name: f for name, f in uploads.items() if name not in attached})
        return params

    def _validate(self, spec: MethodSpec, params: JSON) -> None:
        """Unknown, missing and ill-typed parameters, checked against the spec."""
        unknown = [key for key in params if key not in spec.fields]
        if unknown:
            raise bad_request(
                f'unknown parameter "{unknown[0]}"',
                detail=f"{spec.name} has no parameter(s) {', '.join(unknown)}",
            )
        for field_spec in spec.fields.values():
            if field_spec.required and field_spec.name not in params:
                wording = _MISSING_FIELD_ERRORS.get((spec.name, field_spec.name))
                raise bad_request(wording or f"{field_spec.name} is required")
        for key, value in params.items():
            errors = self.spec.type_errors(value, spec.fields[key].types, key)
            if errors:
                raise bad_request(f"can't parse {key}: {errors[0]}", detail="; ".join(errors))

    async def _handle_file(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        stored = next((f for f in self.files.values() if f.file_path == path), None)
        if stored is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )

    # ------------------------------------------------------- waiting machinery

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _wait(
        self,
        predicate: Callable[[], bool],
        *,
        timeout: float,
        quiet: float | None,
        describe: Callable[[], str],
    ) -> None:
        """Wait until ``predicate`` holds and no call has been in progress for ``quiet`` s.

        The quiet period is what makes "the bot has finished answering" observable from the
        outside: a handler that sends two messages is caught whole, not half.
        """
        quiet = self.quiet_period if quiet is None else quiet
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        async with self._changed:
            while True:
                now = loop.time()
                wake_at = deadline
                if predicate():
                    idle = 0.0 if self._in_flight else now - self._last_activity
                    if idle >= quiet:
                        return
                    wake_at = min(deadline, now + quiet - idle)
                if now >= deadline:
                    raise AssertionError(f"{describe()} after {timeout}s{self._diagnostics()}")
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), wake_at - now)

    def _diagnostics(self) -> str:
        recent = ", ".join(call.method for call in self.calls[-10:]) or "none"
        lines = [
            f"\n  unconfirmed updates: {len(self._pending)}",
            f"\n  last calls: {recent}",
        ]
        if self.violations:
            lines.append(f"\n  violations: {self.violations}")
        return "".join(lines)

    # ------------------------------------------------------------ state helpers

    def _require_method(self, method: str) -> None:
        if method not in self.spec.methods:
            msg = f"{method!r} is not a Bot API method"
            raise ValueError(msg)

    def _chat(self, chat_id: Any) -> _Chat:
        if isinstance(chat_id, str) and chat_id.removeprefix("-").isdigit():
            chat_id = int(chat_id)  # Telegram accepts numeric ids as strings too
        fake = self._users.get(chat_id) if isinstance(chat_id, int) else None
        if fake is None:
            raise bad_request("chat not found", detail=f"no FakeUser with id {chat_id!r}")
        return fake._chat

    def _recipient(self, params: JSON) -> _Chat:
        chat = self._chat(params.get("chat_id"))
        if chat.blocked:
            raise BotAPIError(403, "Forbidden: bot was blocked by the user", violation=False)
        return chat

    def _send(
        self,
        chat: _Chat,
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

    def _message_to_edit(self, params: JSON) -> tuple[_Chat, _StoredMessage]:
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
        chat: _Chat,
        stored: _StoredMessage,
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

    async def _return_true(self, params: JSON) -> bool:
        return True

    async def _get_me(self, params: JSON) -> JSON:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JSON) -> list[JSON]:
        """Long polling: confirm by offset, then answer at once or when an update arrives.

        A newer getUpdates supersedes a waiting one, which gets Telegram's 409 Conflict.
        """
        offset = params.get("offset")
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(float(params.get("timeout", 0)), 0.0)
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"]) or None
        self._poll_generation += 1
        generation = self._poll_generation
        async with self._changed:
            if offset is not None:
                self._confirm(int(offset))
            self._changed.notify_all()
            while True:
                if generation != self._poll_generation:
                    raise BotAPIError(409, CONFLICT, violation=False)
                ready = self._deliverable(limit)
                remaining = deadline - loop.time()
                if ready or remaining <= 0 or self._closing.is_set():
                    return ready
                with suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), remaining)

    def _confirm(self, offset: int) -> None:
        before = len(self._pending)
        if offset < 0:
            self._pending = self._pending[offset:]
        else:
            self._pending = [u for u in self._pending if u["update_id"] >= offset]
        if len(self._pending) != before:
            self._last_activity = asyncio.get_running_loop().time()

    def _deliverable(self, limit: int) -> list[JSON]:
        """Pending updates the bot asked for; others are dropped, as Telegram never sends them."""
        kept: list[JSON] = []
        for update in self._pending:
            kind = next(key for key in update if key != "update_id")
            allowed = (
                kind in self._allowed_updates
                if self._allowed_updates is not None
                else kind not in _DEFAULT_UPDATE_TYPES_EXCLUDED
            )
            (kept if allowed else self.dropped_updates).append(update)
        self._pending = kept
        return copy.deepcopy(kept[:limit])

    async def _delete_webhook(self, params: JSON) -> bool:
        if params.get("drop_pending_updates"):
            self._pending.clear()
        return True

    @staticmethod
    def _commands_key(params: JSON) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return str(scope.get("type")), str(params.get("language_code") or "")

    async def _set_my_commands(self, params: JSON) -> bool:
        commands = params["commands"]
        if len(commands) > 100:
            raise bad_request("too many commands", detail=f"{len(commands)}, the limit is 100")
        for command in commands:
            if not _BOT_COMMAND_RE.fullmatch(command["command"]):
                raise bad_request("BOT_COMMAND_INVALID", detail=repr(command["command"]))
            if not 1 <= telegram_length(command["description"]) <= 256:
                raise bad_request(
                    "BOT_COMMAND_DESCRIPTION_INVALID", detail=repr(command["description"])
                )
        self.commands[self._commands_key(params)] = copy.deepcopy(commands)
        return True

    async def _delete_my_commands(self, params: JSON) -> bool:
        self.commands.pop(self._commands_key(params), None)
        return True

    async def _get_my_commands(self, params: JSON) -> list[JSON]:
        return copy.deepcopy(self.commands.get(self._commands_key(params), []))

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
        self._chat = _Chat(user=telegram)

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
        return [button["text"] for button in _inline_buttons(stored)] if stored else []

    async def wait_for_reply(
        self, count: int = 1, timeout: float = 5.0, quiet: float | None = None
    ) -> list[JSON]:
        """Wait for the bot's answer and return the messages it sent or edited.

        Returns once at least ``count`` messages were sent or edited in this chat since the
        previous ``wait_for_reply`` (or since the user was created) *and* the bot has been
        quiet for the server's quiet period, so trailing messages of the same answer are
        included. Each message appears once, in its current state, in the order first
        touched. ``count=0`` just waits for quiet.
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
        touched = list(dict.fromkeys(chat.outputs[start:]))
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
        content: JSON = {"text": text}
        command = _COMMAND_RE.match(text)
        if command and (command.end() == len(text) or text[command.end()].isspace()):
            length = telegram_length(command.group(0))
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return await self.send_message(**content)

    async def send_command(self, command: str = "/start", payload: str | None = None) -> JSON:
        """Send ``/command`` or ``/command payload`` (a deep link such as ``/start CODE``)."""
        command = command if command.startswith("/") else f"/{command}"
        return await self.send_text(f"{command} {payload}" if payload else command)

    async def send_sticker(self, emoji: str = "👍") -> JSON:
        stored = self.server.store_file("sticker", b"RIFF-fake-webp", mime_type="image/webp")
        sticker = {
            **_media_ids(stored),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return await self.send_message(sticker=sticker)

    async def send_photo(self, caption: str | None = None) -> JSON:
        sizes = []
        for width, height in ((90, 67), (320, 240), (1280, 960)):
            stored = self.server.store_file("photo", b"\xff\xd8fake-jpeg", mime_type="image/jpeg")
            sizes.append({**_media_ids(stored), "width": width, "height": height})
        content: JSON = {"photo": sizes}
        if caption is not None:
            content["caption"] = caption
        return await self.send_message(**content)

    async def send_voice(self, duration: int = 3) -> JSON:
        stored = self.server.store_file("voice", b"OggS-fake-opus", mime_type="audio/ogg")
        voice = {**_media_ids(stored), "duration": duration, "mime_type": "audio/ogg"}
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
        buttons = _inline_buttons(stored)
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
    ) -> _StoredMessage | None:
        chat = self._chat
        if message is not None:
            message_id = message["message_id"] if isinstance(message, dict) else message
            stored = chat.messages.get(message_id)
            if stored is None and required:
                msg = f"no message {message_id} in the chat with {self!r}"
                raise AssertionError(msg)
            return stored
        with_keyboard = [m for m in chat.bot_messages() if _inline_buttons(m)]
        if with_keyboard:
            return with_keyboard[-1]
        if required:
            msg = f"the bot has sent {self!r} no message with an inline keyboard"
            raise AssertionError(msg)
        return None

    async def _queue_callback(self, data: str, message_id: int) -> str:
        server = self.server
        query_id = f"{self.id}{next(server._callback_ids):06d}"
        server._callbacks[query_id] = _CallbackQuery(user_id=self.id)
        stored = self._chat.messages.get(message_id)
        message = (
            stored.wire()
            if stored is not None
            else {"chat": self._chat.telegram, "message_id": message_id, "date": 0}
        )
        query = {
            "id": query_id,
            "from": self.telegram,
            "message": message,
            "chat_instance": str(-4_000_000_000 - self.id),
            "data": data,
        }
        self.last_callback_id = query_id
        await server.enqueue_update({"callback_query": query})
        return query_id

    async def _queue_member_update(self, *, old: str, new: str) -> None:
        bot = self.server.bot_user
        update = {
            "chat": self._chat.telegram,
            "from": self.telegram,
            "date": int(time.time()),
            "old_chat_member": {"status": old, "user": bot},
            "new_chat_member": {"status": new, "user": bot}
            | ({"until_date": 0} if new == "kicked" else {}),
        }
        await self.server.enqueue_update({"my_chat_member": update})


class _FakeServerSession(AiohttpSession):
    """AiohttpSession without the 250 ms TLS grace period on close (plain HTTP here)."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
            await asyncio.sleep(0)  # let the transports finish closing


def _inline_buttons(stored: _StoredMessage | None) -> list[JSON]:
    if stored is None:
        return []
    rows = (stored.data.get("reply_markup") or {}).get("inline_keyboard") or []
    return [button for row in rows for button in row]


def _media_ids(stored: StoredFile) -> JSON:
    return {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
    }
