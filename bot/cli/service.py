"""Running the service: the Telegram bot, the coordinators' dashboard and the database schema
(`check` is in `check.py`)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
from typing import TYPE_CHECKING

from bot.cli.common import add_group, run_with_core
from bot.core import Core
from bot.settings import Settings
from storage.database import create_engine, upgrade_database

if TYPE_CHECKING:
    from bot.cli.common import Commands

# Channels are reached by module name, so the core never imports a channel framework.
TELEGRAM_APP = "handlers.telegram.app"


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
        "dashboard", help="the coordinators' web dashboard (DASHBOARD_HOST, DASHBOARD_PORT)"
    )
    dashboard.set_defaults(handler=cmd_dashboard)


def cmd_dashboard(settings: Settings, args: argparse.Namespace) -> int:
    async def serve(core: Core) -> int:
        return await serve_dashboard(core, settings)

    return run_with_core(settings, args.clock, serve)


async def serve_dashboard(core: Core, settings: Settings) -> int:
    # Imported here: the core never loads the web framework unless the dashboard is asked for.
    uvicorn = importlib.import_module("uvicorn")
    web = importlib.import_module("dashboard.app")
    config = uvicorn.Config(
        web.create_app(core),
        host=settings.dashboard_host,
        port=settings.dashboard_port,
        log_level=settings.log_level.lower(),
        # The app itself believes X-Forwarded-For and -Proto from DASHBOARD_TRUSTED_PROXIES only;
        # uvicorn on its own would believe them from 127.0.0.1.
        proxy_headers=False,
        # uvicorn's access log would write every client's address (personal data) with the path.
        access_log=False,
    )
    print(f"dashboard on http://{settings.dashboard_host}:{settings.dashboard_port}/")
    await uvicorn.Server(config).serve()
    return 0
