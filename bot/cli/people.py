"""The people: participants and their status, and the coordinators of programmes with their
Telegram link and dashboard log-in."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import add_group, dashboard_address, local, print_table, run_with_core
from bot.coordination import (
    CODE_VALID,
    INVITE_DAYS,
    AccountError,
    FirstAdmin,
    audit_account,
    create_first_admin,
    invite_coordinator,
    issue_login_code,
)
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
        "login",
        help="give a coordinator a dashboard log-in: their e-mail, and a one-time code with "
        "which they choose their own password",
    )
    login.add_argument("--id", type=int, required=True, help="the coordinator's number")
    login.add_argument("--email", required=True, help="their e-mail address")
    login.set_defaults(handler=cmd_coordinator_login)
    owner = coordinator_commands.add_parser(
        "owner", help="make a coordinator a site owner (an admin of every programme), or not"
    )
    owner.add_argument("--id", type=int, required=True, help="the coordinator's number")
    owner.add_argument("--off", action="store_true", help="no longer a site owner")
    owner.set_defaults(handler=cmd_coordinator_owner)
    init = coordinator_commands.add_parser(
        "init",
        help="the first dashboard admin of a fresh install (a site owner); prints how to log in",
    )
    init.add_argument("--name", required=True, help="their name, as colleagues know it")
    init.add_argument("--email", required=True, help="their e-mail address, to log in with")
    init.add_argument("--language", default="en", help="language of their messages (en, da)")
    init.set_defaults(handler=cmd_coordinator_init)


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
    """Like an admin's reset in the dashboard: the operator never chooses a password for
    someone else either (one that passed through a terminal, a script or a chat is known to
    more than its owner)."""

    async def work(core: Core) -> int:
        async with core.sessions() as session:
            coordinator = await _coordinator(session, args.id)
            try:
                code = await issue_login_code(session, coordinator, args.email, issued_by=None)
            except AccountError as error:
                raise SettingsError(str(error)) from None
            await session.commit()
        hours = int(CODE_VALID.total_seconds() // 3600)
        print(
            f"coordinator {coordinator.id} ({coordinator.name}): "
            f"dashboard e-mail {coordinator.email}\n"
            f"One-time code, valid {hours} hours: {code}\n"
            "Give it to them yourself; they choose their password at /login/set-password."
        )
        return 0

    return run_with_core(settings, args.clock, work)


def cmd_coordinator_owner(settings: Settings, args: argparse.Namespace) -> int:
    async def work(core: Core) -> int:
        async with core.sessions() as session:
            coordinator = await _coordinator(session, args.id)
            coordinator.site_owner = not args.off
            action = "remove_site_owner" if args.off else "make_site_owner"
            await audit_account(session, None, action, coordinator, detail=coordinator.name)
            await session.commit()
        state = "no longer a site owner" if args.off else "a site owner"
        print(f"coordinator {coordinator.id} ({coordinator.name}) is {state}")
        return 0

    return run_with_core(settings, args.clock, work)


def cmd_coordinator_init(settings: Settings, args: argparse.Namespace) -> int:
    async def work(core: Core) -> int:
        async with core.sessions() as session:
            try:
                first = await create_first_admin(session, args.name, args.email, args.language)
            except AccountError as error:
                raise SettingsError(f"--email: {error}") from None
            await session.commit()
        _print_first_admin(first, dashboard_address(settings))
        return 0

    return run_with_core(settings, args.clock, work)


def _print_first_admin(first: FirstAdmin, address: str) -> None:
    admin = first.coordinator
    hours = int(CODE_VALID.total_seconds() // 3600)
    print(
        f"First admin: coordinator {admin.id}, {admin.name} <{admin.email}>, a site owner "
        f"(an admin of every programme: {', '.join(first.programmes)}).\n"
        "\n"
        "To log in to the dashboard:\n"
        "  1. Start it: python -m bot dashboard\n"
        f"  2. Open {address}/login/set-password (behind a proxy: your dashboard's address)\n"
        f"  3. Enter {admin.email}, this one-time code and a password of your own:\n"
        f"       {first.login_code}\n"
        f"     It is valid {hours} hours, once, and is shown only now.\n"
        f"  4. Then log in at {address}/login with the e-mail and that password.\n"
        f"A new code, if this one is lost: "
        f"python -m bot coordinator login --id {admin.id} --email {admin.email}\n"
        "\n"
        f"To get flags in Telegram too, send  /coordinator {first.invite_code}  to the bot "
        f"(valid {INVITE_DAYS} days)."
    )


async def _coordinator(session: AsyncSession, coordinator_id: int) -> Coordinator:
    coordinator = await session.get(Coordinator, coordinator_id)
    if coordinator is None:
        raise SettingsError(f"--id: there is no coordinator {coordinator_id}")
    return coordinator
