"""Running the service: the Telegram bot, the coordinators' dashboard, both in one process
(`serve`), and the database schema (`check` is in `check.py`)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
from typing import TYPE_CHECKING

from bot.cli.common import add_group, run_with_core
from bot.core import Core
from bot.health import Readiness
from bot.settings import Settings
from bot.workers import sole_worker
from storage.database import create_engine, upgrade_database

if TYPE_CHECKING:
    from bot.cli.common import Commands

# Channels are reached by module name, so the core never imports a channel framework.
TELEGRAM_APP = "handlers.telegram.app"
TELEGRAM_SERVE = "handlers.telegram.serve"
WEB_SERVER = "handlers.web"
DASHBOARD_APP = "dashboard.app"


def add_run(commands: Commands) -> None:
    run = commands.add_parser(
        "run", help="run the Telegram bot (long polling); migrates the database first"
    )
    run.set_defaults(handler=cmd_run)


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    settings.require_token()
    app = importlib.import_module(TELEGRAM_APP)

    async def work(core: Core) -> int:
        await app.run_polling(core)
        return 0

    with sole_worker(settings.database_url):  # on SQLite, before the database is touched
        return run_with_core(settings, args.clock, work)


def add_serve(commands: Commands) -> None:
    serve = commands.add_parser(
        "serve",
        help="run it all in one process on HOST:PORT: the Telegram webhook "
        "(TELEGRAM_WEBHOOK_URL; long polling without it), the dashboard, the dispatcher and "
        "/healthz, /readyz; migrates the database first",
    )
    serve.set_defaults(handler=cmd_serve)


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    settings.require_token()
    telegram = importlib.import_module(TELEGRAM_SERVE)
    web = importlib.import_module(DASHBOARD_APP)
    # Bound first: a port in use stops the start before anything else is done.
    listening = importlib.import_module(WEB_SERVER).listen(settings.host, settings.port)

    async def work(core: Core) -> int:
        readiness = Readiness(core.database, settings.dispatch_interval)
        app = web.create_app(core, readiness)
        await telegram.serve(core, app, readiness, listening=listening)
        return 0

    with listening, sole_worker(settings.database_url):
        return run_with_core(settings, args.clock, work)


def add_db(commands: Commands) -> None:
    db_commands = add_group(commands, "db", "database maintenance")
    upgrade = db_commands.add_parser("upgrade", help="create or migrate the schema to the newest")
    upgrade.set_defaults(handler=cmd_db_upgrade)


def cmd_db_upgrade(settings: Settings, _args: argparse.Namespace) -> int:
    async def upgrade() -> int:
        engine = create_engine(settings.database_url)
        try:
            await upgrade_database(engine)
        finally:
            await engine.dispose()
        print("database schema is up to date")
        return 0

    return asyncio.run(upgrade())


def add_dashboard(commands: Commands) -> None:
    dashboard = commands.add_parser(
        "dashboard", help="the coordinators' web dashboard alone, on HOST:PORT"
    )
    dashboard.set_defaults(handler=cmd_dashboard)


def cmd_dashboard(settings: Settings, args: argparse.Namespace) -> int:
    async def serve(core: Core) -> int:
        return await serve_dashboard(core, settings)

    return run_with_core(settings, args.clock, serve)


async def serve_dashboard(core: Core, settings: Settings) -> int:
    # Imported here: the core never loads the web framework unless the dashboard is asked for.
    server = importlib.import_module(WEB_SERVER)
    web = importlib.import_module(DASHBOARD_APP)
    with server.listen(settings.host, settings.port) as listening:
        print(f"dashboard on http://{settings.host}:{settings.port}/")
        await server.web_server(web.create_app(core), settings).serve(sockets=[listening])
    return 0
