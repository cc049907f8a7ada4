"""`serve`: the webhook, the dashboard and the health endpoints on one port, the bot beside them
(handlers/telegram/serve.py). Telegram (the fake Bot API in webhook mode) POSTs the updates;
without TELEGRAM_WEBHOOK_URL the same process long-polls."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from aiogram import Bot
from sqlalchemy import func, select
from starlette.applications import Starlette

import storage.inbox
from bot.settings import PROJECT_ROOT, Settings
from handlers.telegram.webhook import webhook_route
from storage.models import InboxUpdate
from tests.fakes import FakeBotAPI
from tests.fakes.bot_api import SECRET_HEADER
from tests.serving import WEBHOOK_PATH, WEBHOOK_SECRET, WEBHOOK_URL, ServingBot, serving_bot
from tests.telegram import TOKEN, Mentee, stored_answers


async def inbox_rows(running: ServingBot) -> int:
    async with running.core.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(InboxUpdate)) or 0)


async def test_serve_sets_the_webhook_and_an_intake_runs_over_it(
    settings: Settings, server: FakeBotAPI
) -> None:
    async with serving_bot(settings, server) as running:
        amina = Mentee(server.user(1001), running)  # type: ignore[arg-type]
        await amina.begin()
        await amina.type("Amina")
        assert (await stored_answers(running))["name"] == ("Amina", "answered")  # type: ignore[arg-type]
        (set_webhook,) = server.calls_of("setWebhook")
        used = running.dispatcher.resolve_used_update_types()
    assert set_webhook == {
        "url": WEBHOOK_URL,
        "secret_token": WEBHOOK_SECRET,
        "allowed_updates": used,
        "drop_pending_updates": False,
    }
    assert server.calls_of("getUpdates") == []  # no long polling beside the webhook
    assert server.webhook_deliveries and all(d.accepted for d in server.webhook_deliveries)
    assert server.pending_updates == []
    server.assert_no_violations()


@pytest.mark.parametrize(
    "headers",
    [{}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: WEBHOOK_SECRET[:-1]}, {SECRET_HEADER: ""}],
    ids=["missing", "wrong", "almost", "empty"],
)
async def test_a_post_without_the_right_secret_is_refused_and_nothing_is_stored(
    settings: Settings, server: FakeBotAPI, headers: dict[str, str]
) -> None:
    update = {"update_id": 77, "message": {"message_id": 1, "date": 0, "text": "/start",
              "chat": {"id": 5, "type": "private"}, "from": {"id": 5, "is_bot": False,
              "first_name": "Mallory"}}}  # fmt: skip
    right = {SECRET_HEADER: WEBHOOK_SECRET}
    async with serving_bot(settings, server) as running, httpx.AsyncClient() as web:
        refused = await web.post(running.base_url + WEBHOOK_PATH, json=update, headers=headers)
        assert refused.status_code == 403
        assert await inbox_rows(running) == 0
        # The same update with the secret is taken: it was the secret, nothing else.
        taken = await web.post(running.base_url + WEBHOOK_PATH, json=update, headers=right)
        assert taken.status_code == 200
        assert await inbox_rows(running) == 1


async def test_an_update_is_answered_2xx_only_once_stored_and_telegram_sends_it_again(
    settings: Settings, server: FakeBotAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database refuses the first update: the webhook answers 503, nothing was stored, and
    Telegram's second delivery of it is taken and answered."""
    store = storage.inbox.store
    refusals = [ConnectionError("the database is away")]

    async def flaky_store(*args: object, **kwargs: object) -> int:
        if refusals:
            raise refusals.pop()
        return await store(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(storage.inbox, "store", flaky_store)
    async with serving_bot(settings, server) as running:
        amina = server.user(1001, language_code="en")
        await amina.send_command("/start", "bridge")
        replies = await amina.wait_for_reply(timeout=15)
        assert await inbox_rows(running) == 1
    first, *rest = server.webhook_deliveries
    assert first.status == 503 and not first.accepted
    assert rest[0].update_id == first.update_id and rest[0].accepted  # sent again, taken
    assert "English" in amina.buttons(replies[-1])  # and handled: the language question
    assert server.pending_updates == []


async def test_without_a_webhook_url_serve_polls_in_the_same_process(
    settings: Settings, server: FakeBotAPI
) -> None:
    """A webhook left set by an earlier `serve` is removed first (its updates kept), so that
    getUpdates works; the dashboard and the health endpoints answer on the same port."""
    server.forward_webhooks("http://127.0.0.1:9")  # nobody there: updates stay at Telegram
    earlier = Bot(TOKEN, session=server.bot_session())
    await earlier.set_webhook(WEBHOOK_URL, secret_token=WEBHOOK_SECRET)
    await earlier.session.close()
    amina = server.user(1001, language_code="en")
    await amina.send_command("/start", "bridge")  # waits at Telegram, undelivered
    async with serving_bot(settings, server, webhook=False) as running:
        replies = await amina.wait_for_reply(timeout=15)
        async with httpx.AsyncClient(base_url=running.base_url) as web:
            assert (await web.get("/healthz")).json() == {"status": "alive"}
            assert (await web.get("/login")).status_code == 200
            assert (await web.post(WEBHOOK_PATH, json={"update_id": 1})).status_code != 200
    assert "English" in amina.buttons(replies[-1])
    methods = [call.method for call in server.calls if call.method in
               {"deleteWebhook", "getUpdates", "setWebhook"}]  # fmt: skip
    assert methods[:3] == ["setWebhook", "deleteWebhook", "getUpdates"]
    assert server.calls_of("deleteWebhook") == [{"drop_pending_updates": False}]
    assert server.webhook is None
    server.assert_no_violations()


async def test_stopping_serve_lets_telegram_keep_the_webhook(
    settings: Settings, server: FakeBotAPI
) -> None:
    """A stop (a restart, a deploy) leaves the webhook set: Telegram keeps the updates that
    come meanwhile and delivers them when the service is back."""
    async with serving_bot(settings, server) as running:
        await running.stop()
    assert server.webhook is not None and server.webhook.url == WEBHOOK_URL
    assert server.calls_of("deleteWebhook") == []
    amina = server.user(1001, language_code="en")
    await amina.send_command("/start", "bridge")
    async with serving_bot(settings, server):
        replies = await amina.wait_for_reply(timeout=15)
    assert "English" in amina.buttons(replies[-1])


class HeldInbox:
    """An inbox whose commit takes as long as the test wants, or fails."""

    def __init__(self, error: Exception | None = None) -> None:
        self.commit = asyncio.Event()
        self.error = error
        self.committed: list[dict[str, object]] = []

    async def receive(self, payloads: list[dict[str, object]]) -> int:
        await self.commit.wait()
        if self.error is not None:
            raise self.error
        self.committed += payloads
        return len(payloads)


@pytest.mark.parametrize("error", [None, OSError("disk full")], ids=["committed", "failed"])
async def test_the_webhook_answers_only_when_the_inbox_has_committed(
    error: Exception | None,
) -> None:
    inbox = HeldInbox(error)
    app = Starlette(routes=[webhook_route("/hook", "s3cret", inbox)])  # type: ignore[arg-type]
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as web:
        post = asyncio.create_task(
            web.post("/hook", json={"update_id": 5}, headers={SECRET_HEADER: "s3cret"})
        )
        await asyncio.sleep(0.2)
        assert not post.done()  # no answer while the commit is under way
        inbox.commit.set()
        answer = await post
        assert answer.status_code == (200 if error is None else 503)
        assert inbox.committed == ([] if error else [{"update_id": 5}])
        malformed = await web.post("/hook", content=b"[1]", headers={SECRET_HEADER: "s3cret"})
        assert malformed.status_code == 400


def test_a_port_in_use_stops_serve_with_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "bot", "serve"],
            cwd=tmp_path,
            env={
                "PATH": "/usr/bin:/bin",
                "PYTHONPATH": str(PROJECT_ROOT),
                "PORT": str(port),
                "TELEGRAM_BOT_TOKEN": TOKEN,
            },
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 2
    assert result.stderr == (
        f"mentorbot: error: cannot listen on 127.0.0.1:{port}: Address already in use; "
        "is another service using it? Set HOST and PORT\n"
    )
    assert not (tmp_path / "mentorbot.db").exists()  # stopped before anything was done
