"""`mentorbot` (`python -m bot`): its parser, built from the command groups, and `main`, which
runs the command asked for."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from bot.cli.backup import add_backup, add_restore
from bot.cli.check import add_check
from bot.cli.demo import add_demo, add_seed_demo
from bot.cli.logs import configure_logging
from bot.cli.matches import add_match, add_schedule
from bot.cli.people import add_coordinator, add_participants
from bot.cli.programmes import add_audio, add_programmes, add_readability
from bot.cli.results import add_export, add_report
from bot.cli.service import add_dashboard, add_db, add_run, add_serve
from bot.clock import Clock, SystemClock
from bot.coordination import CoordinationError, DangerListError
from bot.course import MatchError
from bot.messages import ChannelError
from bot.programmes import ProgrammeError, QuestionnaireError
from bot.settings import Settings, SettingsError, load_settings
from bot.workers import WorkerError
from storage.backup import BackupError
from storage.database import DatabaseUnavailable

# Each command group's module adds its commands; here in the order `mentorbot --help` lists them.
COMMANDS = (
    add_run,
    add_serve,
    add_demo,
    add_seed_demo,
    add_export,
    add_db,
    add_backup,
    add_restore,
    add_match,
    add_schedule,
    add_coordinator,
    add_programmes,
    add_participants,
    add_report,
    add_check,
    add_dashboard,
    add_audio,
    add_readability,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mentorbot",
        description="A multilingual chat bot for volunteer mentoring programmes. "
        "Settings come from the environment or .env (see .env.example).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(commands)
    return parser


def main(argv: Sequence[str] | None = None, clock: Clock | None = None) -> int:
    """Run the command in `argv`; the time comes from `clock` (the wall clock unless a test
    gives its own), built here once, where the program starts."""
    args = build_parser().parse_args(argv)
    args.clock = clock or SystemClock()
    try:
        settings = load_settings()
        configure_logging(settings.log_level, settings.log_format)
        handler: Callable[[Settings, argparse.Namespace], int] = args.handler
        return handler(settings, args)
    except (
        SettingsError,
        QuestionnaireError,
        ProgrammeError,
        MatchError,
        DangerListError,
        CoordinationError,
        WorkerError,
    ) as error:
        print(f"mentorbot: error: {error}", file=sys.stderr)
        for more in error.more if isinstance(error, SettingsError) else []:
            print(f"mentorbot: error: {more}", file=sys.stderr)
        return 2
    except (ChannelError, DatabaseUnavailable, BackupError) as error:
        # Start-up failures: one line on what to do. 1 when starting again later may work by
        # itself (a network or server away), 2 when a setting must change first.
        print(f"mentorbot: error: {error}", file=sys.stderr)
        return 1 if error.transient else 2
    except KeyboardInterrupt:
        return 130
