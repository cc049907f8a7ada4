"""`python -m bot serve`: one process with the web server (the dashboard, the health endpoints
and, with TELEGRAM_WEBHOOK_URL, the webhook) and the bot (inbox worker, dispatcher). Without
the URL the bot long-polls in the same process.

The web server listens before the bot starts: the health endpoints answer (not ready yet)
while it does, and a webhook set by an earlier run can deliver at once (the inbox stores what
comes; the worker takes it up when it starts). Stopping (SIGTERM, SIGINT) goes the other way:
the web server stops taking requests and lets those in hand finish, then the bot stops.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
from urllib.parse import urlsplit

import uvicorn
from aiogram import Bot, Dispatcher
from starlette.applications import Starlette

from bot.core import Core
from bot.health import Readiness
from handlers.telegram.app import TelegramService, create_bot, create_dispatcher
from handlers.telegram.startup import explained_failures
from handlers.telegram.webhook import set_webhook, webhook_route
from handlers.web import web_server

log = logging.getLogger(__name__)

SIGNALS = (signal.SIGINT, signal.SIGTERM)


async def serve(
    core: Core,
    app: Starlette,
    readiness: Readiness,
    *,
    listening: socket.socket,
    bot: Bot | None = None,
    dispatcher: Dispatcher | None = None,
    stopping: asyncio.Event | None = None,
    handle_signals: bool = True,
) -> None:
    """Serve `app` on the `listening` socket and run the bot until stopped (a signal, or
    `stopping` set). `app` is the dashboard with the health endpoints; the webhook joins it."""
    settings = core.settings
    bot = bot or create_bot(core)
    dispatcher = dispatcher or create_dispatcher(core)
    stopping = stopping or asyncio.Event()
    service = TelegramService(core, bot, dispatcher, readiness)
    url = settings.telegram_webhook_url
    secret = settings.telegram_webhook_secret
    if url is not None and secret is not None:
        # First, so that no page of the dashboard can shadow it.
        route = webhook_route(settings.webhook_path(), secret.get_secret_value(), service.inbox)
        app.router.routes.insert(0, route)
    server = web_server(app, settings)
    loop = asyncio.get_running_loop()
    if handle_signals:
        # uvicorn takes SIGINT and SIGTERM while it serves and raises them again once it has
        # stopped; then these handlers stop the rest.
        for signum in SIGNALS:
            loop.add_signal_handler(signum, stopping.set)
    web = asyncio.create_task(server.serve(sockets=[listening]), name="web server")
    work: asyncio.Task[None] | None = None
    try:
        await _until_listening(server, web)
        log.info("listening on %s:%s", *listening.getsockname()[:2])
        await service.start("webhook" if url else "long polling, no TELEGRAM_WEBHOOK_URL")
        if url is not None and secret is not None:
            with explained_failures(core.settings):
                await set_webhook(bot, url, secret.get_secret_value(), service.allowed_updates)
            log.info("Telegram sends the updates to %s", urlsplit(url).hostname)
            work = asyncio.create_task(_until(stopping), name="until stopped")
        else:
            work = asyncio.create_task(service.poll(stopping), name="long polling")
        await asyncio.wait({web, work}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.set()
        server.should_exit = True  # no new requests; those in hand finish
        await asyncio.wait({task for task in (web, work) if task is not None})
        await service.stop()
        if handle_signals:
            for signum in SIGNALS:
                loop.remove_signal_handler(signum)
        await bot.session.close()
    for task in (web, work):
        if task is not None and task.done() and not task.cancelled():
            task.result()  # polling that failed (a wrong token) ends the service with its error


async def _until(stopping: asyncio.Event) -> None:
    await stopping.wait()


async def _until_listening(server: uvicorn.Server, web: asyncio.Task[None]) -> None:
    while not server.started:
        if web.done():
            web.result()  # it failed to start: its error
            return
        await asyncio.sleep(0.01)
