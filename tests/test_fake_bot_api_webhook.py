"""The fake Bot API in webhook mode (tests/fakes/bot_api/webhook.py), as Telegram has it: after
setWebhook it POSTs each update with the secret, one chat's updates in order, and sends an
update again until a POST of it gets a 2xx; getUpdates answers 409 meanwhile."""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest, TelegramConflictError
from aiohttp import web

from tests.fakes import FakeBotAPI
from tests.fakes.bot_api import SECRET_HEADER, WEBHOOK_ACTIVE

TOKEN = "123456:TEST"
URL = "https://bot.example.org/hook/path"


class Receiver:
    """A bot's webhook: records what came, answers what `answer` says for each update."""

    def __init__(self, answer: Callable[[dict[str, object]], int] = lambda update: 200) -> None:
        self.answer = answer
        self.received: list[tuple[str, str | None, dict[str, object]]] = []
        self.hold: dict[int, asyncio.Event] = {}  # update id → released when set
        self.seen: defaultdict[int, asyncio.Event] = defaultdict(asyncio.Event)

    async def handle(self, request: web.Request) -> web.Response:
        update = await request.json()
        self.received.append((request.path, request.headers.get(SECRET_HEADER), update))
        self.seen[update["update_id"]].set()
        held = self.hold.get(update["update_id"])
        if held is not None:
            await held.wait()
        return web.Response(status=self.answer(update))

    @property
    def ids(self) -> list[object]:
        return [update["update_id"] for _, _, update in self.received]


@asynccontextmanager
async def listening(receiver: Receiver) -> AsyncIterator[str]:
    app = web.Application()
    app.router.add_post("/{tail:.*}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


@pytest.fixture
async def bot(server: FakeBotAPI) -> AsyncIterator[Bot]:
    bot = Bot(TOKEN, session=server.bot_session())
    yield bot
    await bot.session.close()


async def test_updates_are_posted_with_the_secret_and_confirmed_by_a_2xx(
    server: FakeBotAPI, bot: Bot
) -> None:
    receiver = Receiver()
    async with listening(receiver) as address:
        server.forward_webhooks(address)
        assert await bot.set_webhook(URL, secret_token="s3cret_-X", allowed_updates=["message"])
        await server.user(1).send_text("hello")
        await server.wait_until_idle(timeout=5)
    ((path, secret, update),) = receiver.received
    assert (path, secret) == ("/hook/path", "s3cret_-X")
    assert update["message"]["text"] == "hello"  # type: ignore[index]
    assert server.pending_updates == []
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count, info.allowed_updates) == (URL, 0, ["message"])
    server.assert_no_violations()


async def test_an_update_is_sent_again_until_a_post_of_it_gets_a_2xx(
    server: FakeBotAPI, bot: Bot
) -> None:
    """Refused connections (nobody listening yet), 5xx and 4xx answers: sent again each time."""
    server.webhook_retry_delay = 0.01
    answers = iter([503, 500, 403, 200])
    receiver = Receiver(lambda update: next(answers))
    await bot.set_webhook(URL, secret_token="s")
    server.forward_webhooks("http://127.0.0.1:9")  # nobody there
    await server.user(1).send_text("hello")
    await asyncio.sleep(0.1)
    refused = [d for d in server.webhook_deliveries if d.status is None]
    assert refused and server.pending_updates  # still waiting at Telegram
    async with listening(receiver) as address:
        server.forward_webhooks(address)
        await server.wait_until_idle(timeout=5)
    assert receiver.ids == [1, 1, 1, 1]
    assert [d.status for d in server.webhook_deliveries if d.status is not None] == [
        503,
        500,
        403,
        200,
    ]


async def test_one_chat_in_order_chats_side_by_side(server: FakeBotAPI, bot: Bot) -> None:
    receiver = Receiver()
    receiver.hold[1] = asyncio.Event()  # Amina's first update is slow to be taken
    async with listening(receiver) as address:
        server.forward_webhooks(address)
        await bot.set_webhook(URL, secret_token="s")
        amina, omar = server.user(1), server.user(2)
        await amina.send_text("one")  # update 1
        await amina.send_text("two")  # update 2
        await omar.send_text("hi")  # update 3
        async with asyncio.timeout(5):
            await receiver.seen[3].wait()
        assert receiver.ids == [1, 3]  # Omar's went by; Amina's second waits for her first
        receiver.hold[1].set()
        await server.wait_until_idle(timeout=5)
    assert receiver.ids == [1, 3, 2]


async def test_get_updates_is_refused_while_a_webhook_is_set(server: FakeBotAPI, bot: Bot) -> None:
    await bot.set_webhook(URL, secret_token="s")
    await server.user(1).send_text("hello")  # not deliverable: not forwarded anywhere
    with pytest.raises(TelegramConflictError):
        await bot.get_updates(timeout=0)
    assert server.violations == [f"getUpdates: {WEBHOOK_ACTIVE}"]
    assert await bot.delete_webhook(drop_pending_updates=False)
    (update,) = await bot.get_updates(timeout=0)  # kept, now delivered by polling
    assert update.message is not None and update.message.text == "hello"


async def test_a_waiting_long_poll_ends_with_409_when_a_webhook_is_set(
    server: FakeBotAPI, bot: Bot
) -> None:
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await server._wait(
        lambda: bool(server.calls_of("getUpdates")),
        timeout=5,
        quiet=0.0,
        describe=lambda: "no long poll came",
    )
    await bot.set_webhook(URL, secret_token="s")
    with pytest.raises(TelegramConflictError):
        await poll


@pytest.mark.parametrize(
    ("url", "secret", "error"),
    [
        ("http://bot.example.org/hook", "s", "An HTTPS URL must be provided"),
        ("https://bot.example.org:8080/hook", "s", "only on ports 80, 88, 443 or 8443"),
        (URL, "not/allowed", "secret token contains unallowed characters"),
    ],
)
async def test_set_webhook_refuses_what_telegram_refuses(
    server: FakeBotAPI, bot: Bot, url: str, secret: str, error: str
) -> None:
    with pytest.raises(TelegramBadRequest, match=error):
        await bot.set_webhook(url, secret_token=secret)
    assert server.webhook is None
    assert len(server.violations) == 1


async def test_the_body_is_the_update_as_json(server: FakeBotAPI, bot: Bot) -> None:
    receiver = Receiver()
    async with listening(receiver) as address:
        server.forward_webhooks(address)
        await bot.set_webhook(URL, secret_token="s", drop_pending_updates=True)
        await server.user(1).send_text("hello")
        await server.wait_until_idle(timeout=5)
    (_, _, update) = receiver.received[0]
    assert json.loads(json.dumps(update))["update_id"] == 1
    assert set(update) == {"update_id", "message"}
