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

``FakeBotAPI`` is the server and its routing; what it answers is spread over its parts by
concern: ``updates`` (queue and long polling), ``webhook`` (setWebhook, then the updates
POSTed to the bot), ``messages`` (chats, messages, files, taps),
``profile`` (getMe, commands) and ``faults`` (injected failures, delays, flood limits).
Requests are read and checked in ``wire``; ``FakeUser`` (``user``) plays the person.
"""

# The waits take `timeout=` on purpose: it is the test-facing deadline named in the brief,
# and each wait turns it into an AssertionError with diagnostics, not a bare cancellation.
# ruff: noqa: ASYNC109

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiohttp import web

from ..bot_api_checks import BotAPIError, bad_request
from ..bot_api_spec import BotAPISpec, load_spec
from .faults import FaultInjection
from .messages import Messaging
from .profile import BotProfile
from .records import JSON, ApiCall
from .updates import UpdateQueue
from .user import FakeUser
from .webhook import WebhookMode
from .wire import decode_params, read_request, validate_params

_Handler = Callable[[JSON], Awaitable[Any]]


class FakeBotAPI(UpdateQueue, WebhookMode, Messaging, BotProfile, FaultInjection):
    """An aiohttp server that speaks the Telegram Bot API well enough for end-to-end tests.

    State a test can read: ``calls`` (every request, decoded), ``violations`` (every request
    the real Telegram would refuse, as "method: description"), ``unchanged_edits`` (edits
    refused as "message is not modified", violations too), ``flood_rejections`` (calls
    refused by ``enforce_flood_limits``), ``late_answers`` (calls answered late by
    ``answer_late``), ``files`` (by file id), ``commands`` (per scope and language),
    ``token`` (last token seen). A token in ``refused_tokens`` is answered 401 Unauthorized.
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
        self.token: str | None = None
        # Tokens answered 401 Unauthorized, as Telegram answers a wrong or revoked token.
        self.refused_tokens: set[str] = set()
        self._users: dict[int, FakeUser] = {}
        self._init_profile(bot_first_name, bot_username)
        self._init_updates()
        self._init_webhook()
        self._init_messages()
        self._init_faults()
        self._in_flight = 0
        self._last_activity = 0.0
        # Set by the harness that runs the bot: whether it is still handling an update. Without
        # it, "quiet" could only mean "no call for a moment", and a slow machine pausing
        # between two calls of one answer would look like the end of the answer.
        self.busy: Callable[[], bool] = lambda: False
        self._changed = asyncio.Condition()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._handlers: dict[str, _Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
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
        await self._stop_webhook()
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

    def calls_of(self, method: str) -> list[JSON]:
        """Parameters of every call of ``method``, in order."""
        return [call.params for call in self.calls if call.method == method]

    def assert_no_violations(self) -> None:
        """Fail with the full list if the bot made any call Telegram would refuse."""
        if self.violations:
            listing = "\n  ".join(self.violations)
            msg = f"{len(self.violations)} Bot API violation(s):\n  {listing}"
            raise AssertionError(msg)

    # ------------------------------------------------------------ HTTP plumbing

    async def _handle_method(self, request: web.Request) -> web.Response:
        self.token = request.match_info["token"]
        name = request.match_info["method"]
        if self.token in self.refused_tokens:
            unauthorized = {"ok": False, "error_code": 401, "description": "Unauthorized"}
            return web.json_response(unauthorized, status=401)
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
        strings, typed, uploads = await read_request(request)
        spec = self.spec.method(name)
        if spec is None:
            self.calls.append(ApiCall(name, {**strings, **typed, **uploads}))
            raise BotAPIError(404, "Not Found: method not found", detail="not in the Bot API spec")
        params = decode_params(self.spec, spec, strings, typed, uploads)
        self.calls.append(ApiCall(spec.name, params))
        await self._hold_if_delayed(spec.name)
        await self._lose_if_due(spec.name)
        validate_params(self.spec, spec, params)
        self._raise_if_failing(spec.name)
        self._check_flood(spec.name, params, arrived)
        handler = self._handlers.get(spec.name)
        if handler is None:
            raise bad_request(f"fake server does not implement {spec.name}")
        result = await handler(params)
        await self._answer_late_if_due(spec.name, params)
        return result

    async def _return_true(self, params: JSON) -> bool:
        return True

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
                    busy = self._in_flight or self.busy()
                    idle = 0.0 if busy else now - self._last_activity
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


class _FakeServerSession(AiohttpSession):
    """AiohttpSession without the 250 ms TLS grace period on close (plain HTTP here)."""

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
            await asyncio.sleep(0)  # let the transports finish closing
