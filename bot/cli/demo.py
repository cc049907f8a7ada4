"""Trying the bot out: the intake in this terminal, and the web dashboard filled with made-up
data; both in the demo's own database (DEMO_DATABASE_URL), never in the real one."""

from __future__ import annotations

import argparse
import importlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import make_url

from bot.cli.common import dashboard_address, run_with_core
from bot.cli.demo_data import (
    DEMO_EMAIL,
    DEMO_PASSWORD,
    DemoError,
    DemoSummary,
    open_demo,
    seed_demo,
)
from bot.cli.logs import log_at_least
from bot.cli.service import serve_dashboard
from bot.core import Core
from bot.people import load_secret
from bot.settings import Settings, SettingsError

if TYPE_CHECKING:
    from bot.cli.common import Commands

# Channels are reached by module name, so the core never imports a channel framework.
CONSOLE = "handlers.console"
CONSOLE_CHANNEL = "console"  # the terminal demo's people: the dashboard demo fills in beside them
DEMO_SECRET_FILE = Path("mentorbot-demo.secret")  # beside a demo database that is no file


def add_demo(commands: Commands) -> None:
    demo = commands.add_parser(
        "demo",
        help="try the intake in this terminal, without Telegram or a token "
        "(in the demo's own database, DEMO_DATABASE_URL)",
    )
    demo.add_argument(
        "--user",
        default=None,
        help="continue as this demo person (default: a new person each time)",
    )
    demo.add_argument(
        "--with-dashboard",
        action="store_true",
        help="instead: the web dashboard on the demo's database, filled with made-up data "
        "(the first time); prints where and how to log in",
    )
    demo.set_defaults(handler=cmd_demo)


def demo_settings(settings: Settings) -> Settings:
    """The settings with the demo's own database and secret in place of the real ones."""
    demo_url = make_url(settings.demo_database_url)
    if _same_database(settings.demo_database_url, settings.database_url):
        raise SettingsError(
            "DEMO_DATABASE_URL is the database of DATABASE_URL: the demo would put made-up "
            "people among the real ones; give the demo a database of its own"
        )
    if demo_url.get_backend_name() == "sqlite" and demo_url.database:
        secret_file = Path(demo_url.database).with_suffix(".secret")
    else:
        secret_file = DEMO_SECRET_FILE
    return settings.model_copy(
        update={
            "database_url": settings.demo_database_url,
            "respondent_key_secret": None,
            "secret_file": secret_file,
        }
    )


def _same_database(first: str, second: str) -> bool:
    one, other = make_url(first), make_url(second)
    if one.get_backend_name() != other.get_backend_name():
        return False
    if one.get_backend_name() == "sqlite":
        files = [url.database for url in (one, other)]
        if any(not name or name == ":memory:" for name in files):
            return False
        return Path(str(files[0])).resolve() == Path(str(files[1])).resolve()
    return (one.host, one.port, one.database) == (other.host, other.port, other.database)


def where_demo_keeps(settings: Settings) -> str:
    """The demo's database as a person finds it: a file's full path, or the URL without its
    password."""
    url = make_url(settings.demo_database_url)
    if url.get_backend_name() == "sqlite" and url.database:
        return str(Path(url.database).resolve())
    return url.render_as_string(hide_password=True)


def _quiet_demo_secret() -> None:
    # The demo's secret keys only made-up or trial answers: that it was created is no news for
    # someone trying the demo (for the real database it is, and is logged as a warning).
    logging.getLogger(load_secret.__module__).setLevel(logging.ERROR)


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    demo = demo_settings(settings)
    _quiet_demo_secret()
    if args.with_dashboard:
        return _demo_dashboard(demo, args)
    console = importlib.import_module(CONSOLE)
    # The terminal is the conversation here: only problems are logged into it.
    log_at_least(logging.WARNING)

    async def work(core: Core) -> int:
        await console.run_console(core, user_id=args.user, database=where_demo_keeps(settings))
        return 0

    return run_with_core(demo, args.clock, work)


def _demo_dashboard(demo: Settings, args: argparse.Namespace) -> int:
    async def work(core: Core) -> int:
        async with core.sessions() as session:
            summary = await open_demo(
                session, core.programmes, core.questionnaires, beside=[CONSOLE_CHANNEL]
            )
            await session.commit()
        if summary is not None:
            _print_filled(summary)
        print(
            f"The demo's dashboard: {dashboard_address(demo)}/\n"
            f"Log in as {DEMO_EMAIL} with the password {DEMO_PASSWORD}\n"
            f"Its database: {where_demo_keeps(demo)} (kept between runs; delete it to start "
            "afresh). The real database is not touched.\n"
            "Stop it with Ctrl+C."
        )
        return await serve_dashboard(core, demo)

    return run_with_core(demo, args.clock, work)


def add_seed_demo(commands: Commands) -> None:
    seed = commands.add_parser(
        "seed-demo",
        help="fill an empty database (DATABASE_URL) with a demo programme's made-up data",
    )
    seed.set_defaults(handler=cmd_seed_demo)


def cmd_seed_demo(settings: Settings, args: argparse.Namespace) -> int:
    async def work(core: Core) -> int:
        async with core.sessions() as session:
            try:
                summary = await seed_demo(session, core.programmes, core.questionnaires)
            except DemoError as error:
                raise SettingsError(str(error)) from None
            await session.commit()
        _print_filled(summary)
        print(f"dashboard log-in: {DEMO_EMAIL} / {DEMO_PASSWORD}")
        return 0

    return run_with_core(settings, args.clock, work)


def _print_filled(summary: DemoSummary) -> None:
    print(
        f"demo data: {summary.mentees} mentees, {summary.mentors} mentors, "
        f"{summary.matches} matches, {summary.flags} flags"
    )
