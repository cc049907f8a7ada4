"""The people: participants and their status, and the coordinators of programmes with their
Telegram link and dashboard log-in."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.cli.common import add_group, local, print_table, run_with_core
from bot.coordination import INVITE_DAYS, AccountError, invite_coordinator, set_login
from bot.core import Core
from bot.settings import Settings, SettingsError
from storage import repositories as repo
from storage.models import Coordinator, ParticipantStatus

if TYPE_CHECKING:
    from bot.cli.common import Commands


def add_participants(commands: Commands) -> None:
    people = commands.add_parser("participants", help="list participants and their status")
    people.add_argument("--programme", help="only this programme's code")
    people.add_argument("--status", choices=[status.value for status in ParticipantStatus])
    people.set_defaults(handler=cmd_participants)


def cmd_participants(settings: Settings, args: argparse.Namespace) -> int:
    zone = ZoneInfo(settings.timezone)

    async def work(core: Core) -> int:
        async with core.sessions() as session:
            people = await repo.participants(session, args.programme, args.status)
            print_table(
                ["participant", "programme", "role", "status", "language", "joined"],
                [
                    (p.id, p.programme.code if p.programme else "", p.role, p.status,
                     p.language or "", local(p.created_at, zone))
                    for p in people
                ],
            )  # fmt: skip
        return 0

    return run_with_core(settings, args.clock, work)


def add_coordinator(commands: Commands) -> None:
    coordinator_commands = add_group(commands, "coordinator", "coordinators of programmes")
    invite = coordinator_commands.add_parser(
        "add", help="add a coordinator; prints a one-time code to link their Telegram account"
    )
    invite.add_argument("--programme", required=True, help="the programme's code")
    invite.add_argument("--name", required=True, help="their name, as colleagues know it")
    invite.add_argument("--role", choices=["coordinator", "admin"], default="coordinator")
    invite.add_argument("--language", default="en", help="language of their messages (en, da)")
    invite.set_defaults(handler=cmd_coordinator_add)
    login = coordinator_commands.add_parser(
        "login", help="give a coordinator a dashboard log-in (the password is asked for)"
    )
    login.add_argument("--id", type=int, required=True, help="the coordinator's number")
    login.add_argument("--email", required=True, help="their e-mail address")
    login.set_defaults(handler=cmd_coordinator_login)


def cmd_coordinator_add(settings: Settings, args: argparse.Namespace) -> int:
    async def work(core: Core) -> int:
        async with core.sessions() as session:
            coordinator, code = await invite_coordinator(
                session, args.programme, args.name, args.role, args.language
            )
            await session.commit()
        print(
            f"coordinator {coordinator.id}: {coordinator.name} ({args.role}, {args.programme}).\n"
            f"One-time code, valid {INVITE_DAYS} days: they send  /coordinator {code}  to the bot."
        )
        return 0

    return run_with_core(settings, args.clock, work)


def cmd_coordinator_login(settings: Settings, args: argparse.Namespace) -> int:
    password = _read_password()

    async def work(core: Core) -> int:
        async with core.sessions() as session:
            coordinator = await session.get(Coordinator, args.id)
            if coordinator is None:
                raise SettingsError(f"--id: there is no coordinator {args.id}")
            try:
                await set_login(session, coordinator, args.email, password)
            except AccountError as error:
                raise SettingsError(str(error)) from None
            await session.commit()
        print(f"coordinator {coordinator.id} ({coordinator.name}) logs in as {coordinator.email}")
        return 0

    return run_with_core(settings, args.clock, work)


def _read_password() -> str:
    """Asked twice at a terminal; one line from standard input otherwise (scripts)."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass("password: ")
    if getpass.getpass("again: ") != password:
        raise SettingsError("the two passwords differ")
    return password
