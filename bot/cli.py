"""The command line: `python -m bot` (also installed as `mentorbot`)."""

from __future__ import annotations

import argparse
import asyncio
import importlib
import logging
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from bot.core import Core, build_core, load_content
from bot.export import WRITERS, answer_table
from bot.programme import ProgrammeError
from bot.questionnaire import QuestionnaireError
from bot.settings import Settings, SettingsError, load_settings
from storage.database import create_engine, upgrade_database

# Channels are reached by module name, so the core never imports a channel framework.
TELEGRAM_APP = "handlers.telegram.app"
CONSOLE = "handlers.console"


async def _with_core(settings: Settings, work: Callable[[Core], Awaitable[int]]) -> int:
    core = await build_core(settings)
    try:
        return await work(core)
    finally:
        await core.close()


def cmd_run(settings: Settings, _args: argparse.Namespace) -> int:
    settings.require_token()
    app = importlib.import_module(TELEGRAM_APP)

    async def work(core: Core) -> int:
        await app.run_polling(core)
        return 0

    return asyncio.run(_with_core(settings, work))


def cmd_demo(settings: Settings, args: argparse.Namespace) -> int:
    console = importlib.import_module(CONSOLE)
    # The terminal is the conversation here: only problems are logged into it.
    logging.getLogger().setLevel(max(logging.WARNING, logging.getLogger().level))

    async def work(core: Core) -> int:
        await console.run_console(core, user_id=args.user)
        return 0

    return asyncio.run(_with_core(settings, work))


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    output = Path(args.output)
    if output.parent and not output.parent.exists():
        raise SettingsError(f"--output: the folder {output.parent} does not exist")

    async def work(core: Core) -> int:
        questionnaire = core.questionnaires.get(args.survey)
        if questionnaire is None:
            raise SettingsError(
                f"--survey: no questionnaire '{args.survey}' "
                f"(have {', '.join(sorted(core.questionnaires))})"
            )
        async with core.sessions() as session:
            table = await answer_table(session, questionnaire)
        WRITERS[args.format](table, output)
        print(f"wrote {len(table.rows)} respondents of '{questionnaire.id}' to {output}")
        return 0

    return asyncio.run(_with_core(settings, work))


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


def cmd_check(settings: Settings, _args: argparse.Namespace) -> int:
    catalogs, questionnaires, programmes = load_content(settings)
    print(
        f"ok: {len(questionnaires)} questionnaires, {len(programmes)} programmes, "
        f"languages {', '.join(catalogs.languages)}"
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mentorbot",
        description="A multilingual chat bot for volunteer mentoring programmes. "
        "Settings come from the environment or .env (see .env.example).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run", help="run the Telegram bot (long polling); migrates the database first"
    )
    run.set_defaults(handler=cmd_run)

    demo = commands.add_parser(
        "demo", help="try the intake in this terminal, without Telegram or a token"
    )
    demo.add_argument(
        "--user",
        default=None,
        help="continue as this demo person (default: a new person each time)",
    )
    demo.set_defaults(handler=cmd_demo)

    export = commands.add_parser(
        "export", help="write one questionnaire's answers to a CSV or Excel file"
    )
    export.add_argument("--survey", required=True, help="questionnaire id, e.g. mentee_intake")
    export.add_argument("--format", required=True, choices=sorted(WRITERS), help="file format")
    export.add_argument("--output", required=True, help="file to write")
    export.set_defaults(handler=cmd_export)

    db = commands.add_parser("db", help="database maintenance")
    db_commands = db.add_subparsers(dest="db_command", required=True, metavar="COMMAND")
    upgrade = db_commands.add_parser("upgrade", help="create or migrate the schema to the newest")
    upgrade.set_defaults(handler=cmd_db_upgrade)

    check = commands.add_parser(
        "check", help="validate settings, questionnaires, programmes and catalogs, then exit"
    )
    check.set_defaults(handler=cmd_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        logging.basicConfig(
            level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        handler: Callable[[Settings, argparse.Namespace], int] = args.handler
        return handler(settings, args)
    except (SettingsError, QuestionnaireError, ProgrammeError) as error:
        print(f"mentorbot: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
