"""Trying the bot out: the intake in this terminal, and a database of made-up demo data for the
dashboard."""

from __future__ import annotations

import argparse
import importlib
import logging
from typing import TYPE_CHECKING

from bot.cli.common import run_with_core
from bot.cli.demo_data import DEMO_EMAIL, DEMO_PASSWORD, DemoError, seed_demo
from bot.cli.service import serve_dashboard
from bot.core import Core
from bot.settings import Settings, SettingsError

if TYPE_CHECKING:
    from bot.cli.common import Commands

# Channels are reached by module name, so the core never imports a channel framework.
CONSOLE = "handlers.console"


def add_demo(commands: Commands) -> None:
    demo = commands.add_parser(
        "demo", help="try the intake in this terminal, without Telegram or a token"
    )
    demo.add_argument(
        "--user",
        default=None,
        help="continue as this demo person (default: a new person each time)",
    )
    demo.add_argument(
        "--with-dashboard",
        action="store_true",
        help="instead: fill the database with demo data (once) and open the web dashboard",
    )
    demo.set_defaults(handler=cmd_demo)


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    if args.with_dashboard:
        return _demo_dashboard(settings, args)
    console = importlib.import_module(CONSOLE)
    # The terminal is the conversation here: only problems are logged into it.
    logging.getLogger().setLevel(max(logging.WARNING, logging.getLogger().level))

    async def work(core: Core) -> int:
        await console.run_console(core, user_id=args.user)
        return 0

    return run_with_core(settings, args.clock, work)


def _demo_dashboard(settings: Settings, args: argparse.Namespace) -> int:
    async def work(core: Core) -> int:
        await _seed_demo(core)  # the first time only
        _print_demo_login()
        return await serve_dashboard(core, settings)

    return run_with_core(settings, args.clock, work)


def add_seed_demo(commands: Commands) -> None:
    seed = commands.add_parser(
        "seed-demo", help="fill an empty database with a demo programme's made-up data"
    )
    seed.set_defaults(handler=cmd_seed_demo)


def cmd_seed_demo(settings: Settings, args: argparse.Namespace) -> int:
    async def work(core: Core) -> int:
        if not await _seed_demo(core):
            raise SettingsError("the database already has participants; use an empty one")
        _print_demo_login()
        return 0

    return run_with_core(settings, args.clock, work)


async def _seed_demo(core: Core) -> bool:
    """Fill an empty database with the demo programme's data; False if it had people."""
    async with core.sessions() as session:
        try:
            summary = await seed_demo(session, core.programmes, core.questionnaires)
        except DemoError:
            return False
        await session.commit()
    print(
        f"demo data: {summary.mentees} mentees, {summary.mentors} mentors, "
        f"{summary.matches} matches, {summary.flags} flags"
    )
    return True


def _print_demo_login() -> None:
    print(f"dashboard log-in: {DEMO_EMAIL} / {DEMO_PASSWORD}")
