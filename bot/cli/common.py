"""What the command groups share: a core for the length of a command, the audit entry of an
export, the programme's local time on the command line, and plain tables."""

from __future__ import annotations

import asyncio
import getpass
import os
from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import Clock
from bot.coordination import audit_each
from bot.core import Core, build_core
from bot.results import parse_bound
from bot.settings import Settings, SettingsError

if TYPE_CHECKING:
    import argparse

    # What `add_subparsers` returns: each command group adds its commands to it.
    Commands: TypeAlias = argparse._SubParsersAction[argparse.ArgumentParser]


def add_group(commands: Commands, name: str, help: str) -> Commands:
    """A command that has commands of its own (`match create`): the one chosen is in
    `args.<name>_command`."""
    group = commands.add_parser(name, help=help)
    return group.add_subparsers(dest=f"{name}_command", required=True, metavar="COMMAND")


def run_with_core(settings: Settings, clock: Clock, work: Callable[[Core], Awaitable[int]]) -> int:
    """`work` done with a core built from the settings on `clock` (`main`'s), and closed after
    it; its exit code."""

    async def with_core() -> int:
        core = await build_core(settings, clock)
        try:
            return await work(core)
        finally:
            await core.close()

    return asyncio.run(with_core())


def dashboard_address(settings: Settings) -> str:
    """The dashboard's address on this machine (one that listens everywhere is reached here
    through 127.0.0.1), without a trailing slash."""
    host = settings.host
    if host in {"0.0.0.0", "::", ""}:
        host = "127.0.0.1"
    elif ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{settings.port}"


def _admin() -> str:
    """Who ran a command, for the audit log: the operating-system account."""
    try:
        return f"by {getpass.getuser()} at the command line"
    except (KeyError, OSError):  # no name for this uid (e.g. in a container)
        return f"by uid {os.getuid()} at the command line"


async def audit_export(session: AsyncSession, detail: str, programme_ids: Iterable[int]) -> None:
    """Logs that answers left the database through the command line, and who took them: in
    the log of each programme whose answers went out."""
    said = f"{detail}, {_admin()}"
    await audit_each(session, None, "export", dict.fromkeys(programme_ids, said))


def output_file(text: str, option: str) -> Path:
    """The file an option names to write to; its folder must exist."""
    output = Path(text)
    if not output.parent.exists():
        raise SettingsError(f"{option}: the folder {output.parent} does not exist")
    return output


def parse_moment(
    text: str | None, zone: ZoneInfo, *, end: bool = False, option: str | None = None
) -> datetime | None:
    """A date or date-time on the command line, in the programme's local time; a plain date as
    the `end` of a period includes that whole day. An error names the `option`, if given."""
    if text is None:
        return None
    try:
        return parse_bound(text, zone, end=end)
    except ValueError as error:
        raise SettingsError(f"{option}: {error}" if option else str(error)) from None


def local(moment: datetime | None, zone: ZoneInfo) -> str:
    return "" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def print_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(cell) for cell in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
