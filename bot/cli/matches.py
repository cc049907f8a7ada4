"""Mentor matches and their course: create, list, extend and end matches, and see what will be
sent to whom, and when."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli.common import _admin, add_group, local, parse_moment, print_table, run_with_core
from bot.cli.matching import add_suggest
from bot.coordination import audit
from bot.core import Core
from bot.course import create_match, end_match, extend_match
from bot.settings import Settings, SettingsError
from storage import repositories as repo
from storage.models import EndReason, Match

if TYPE_CHECKING:
    from bot.cli.common import Commands


def add_match(commands: Commands) -> None:
    match_commands = add_group(
        commands, "match", "suggest mentors, create, list, extend and end mentor matches"
    )
    create = match_commands.add_parser("create", help="join a mentee and a mentor; plans check-ins")
    create.add_argument("--mentee", type=int, required=True, help="the mentee's participant number")
    create.add_argument("--mentor", type=int, required=True, help="the mentor's participant number")
    create.add_argument("--start", help="start date (local time; default: now)")
    create.add_argument("--end", help="planned end date (default: start + the course length)")
    create.set_defaults(handler=cmd_match)
    add_suggest(match_commands)
    listing = match_commands.add_parser("list", help="all matches")
    listing.add_argument("--programme", help="only this programme's code")
    listing.set_defaults(handler=cmd_match)
    extend = match_commands.add_parser(
        "extend", help="let a match run on past its planned end; the end survey moves with it"
    )
    extend.add_argument("id", type=int, help="the match number")
    extend.add_argument(
        "--until", required=True, metavar="DATE",
        help="the new planned end (local time): after today and after "
        "the current planned end",
    )  # fmt: skip
    extend.set_defaults(handler=cmd_match)
    end = match_commands.add_parser("end", help="end a match; later check-ins are cancelled")
    end.add_argument("id", type=int, help="the match number")
    end.add_argument("--reason", required=True, choices=[reason.value for reason in EndReason])
    end.add_argument("--date", help="end date (local time; default: now)")
    end.set_defaults(handler=cmd_match)


def cmd_match(settings: Settings, args: argparse.Namespace) -> int:
    zone = ZoneInfo(settings.timezone)

    async def work(core: Core) -> int:
        async with core.sessions() as session:
            if args.match_command == "create":
                match = await create_match(
                    session, core.programmes, args.mentee, args.mentor,
                    parse_moment(args.start, zone), parse_moment(args.end, zone),
                )  # fmt: skip
                await audit(
                    session, None, "match", programme_id=match.programme_id,
                    participant_id=match.mentee_id,
                    detail=f"match {match.id}: mentee {match.mentee_id}, mentor "
                    f"{match.mentor_id}, from {local(match.started_at, zone)[:10]}, {_admin()}",
                )  # fmt: skip
                await session.commit()
                print(
                    f"match {match.id}: mentee {match.mentee_id} and mentor {match.mentor_id}, "
                    f"{local(match.started_at, zone)} to {local(match.planned_end_at, zone)}"
                )
            elif args.match_command == "extend":
                until = parse_moment(args.until, zone, option="--until")
                assert until is not None  # a required option
                found = await session.get(Match, args.id)
                before = found.planned_end_at if found else None
                match = await extend_match(
                    session, core.programmes, args.id, until, default_zone=settings.timezone
                )
                await audit(
                    session, None, "extend_match", programme_id=match.programme_id,
                    participant_id=match.mentee_id,
                    detail=f"match {match.id}: until {local(until, zone)[:10]}, "
                    f"from {local(before, zone)[:10]}, {_admin()}",
                )  # fmt: skip
                await session.commit()
                print(f"match {match.id} extended: it ends {local(match.planned_end_at, zone)}")
            elif args.match_command == "end":
                match = await end_match(
                    session,
                    core.programmes,
                    args.id,
                    EndReason(args.reason),
                    parse_moment(args.date, zone),
                )
                await session.commit()
                print(f"match {match.id} ended {local(match.ended_at, zone)}: {match.end_reason}")
            else:
                programme = await _programme_id(session, args.programme)
                rows = [
                    (
                        match.id, match.programme.code, match.mentee_id, match.mentor_id,
                        local(match.started_at, zone), local(match.planned_end_at, zone),
                        local(match.ended_at, zone), match.end_reason or "",
                    )
                    for match in await repo.matches(session, programme)
                ]  # fmt: skip
                print_table(
                    ["match", "programme", "mentee", "mentor", "start", "planned end", "ended",
                     "reason"],
                    rows,
                )  # fmt: skip
        return 0

    return run_with_core(settings, args.clock, work)


def add_schedule(commands: Commands) -> None:
    schedule_commands = add_group(commands, "schedule", "what will be sent to whom, and when")
    upcoming = schedule_commands.add_parser(
        "list", help="planned and open contacts with their local send time"
    )
    upcoming.add_argument("--programme", help="only this programme's code")
    upcoming.add_argument("--participant", type=int, help="only this participant")
    upcoming.set_defaults(handler=cmd_schedule)


def cmd_schedule(settings: Settings, args: argparse.Namespace) -> int:
    async def work(core: Core) -> int:
        async with core.sessions() as session:
            programme_id = await _programme_id(session, args.programme)
            contacts = await repo.upcoming_contacts(session, programme_id, args.participant)
            rows = []
            for contact in contacts:
                participant = contact.participant
                definition = (
                    core.programmes.get(participant.programme.code)
                    if participant.programme
                    else None
                )
                zone = ZoneInfo((definition and definition.timezone) or settings.timezone)
                rows.append(
                    (
                        contact.id, participant.id, participant.role, contact.rule,
                        contact.questionnaire_id, contact.state,
                        local(contact.due_at, zone) + f" {zone.key}",
                        f"{contact.reminders_sent} sent" if contact.sent_at else "",
                    )
                )  # fmt: skip
        if not rows:
            print("nothing planned")
        else:
            print_table(
                ["contact", "participant", "role", "rule", "questionnaire", "state",
                 "sends at (local time)", "reminders"],
                rows,
            )  # fmt: skip
        return 0

    return run_with_core(settings, args.clock, work)


async def _programme_id(session: AsyncSession, code: str | None) -> int | None:
    """The database number of the programme --programme names; None if it names none."""
    if not code:
        return None
    row = await repo.programme_by_code(session, code)
    if row is None:
        raise SettingsError(f"--programme: no programme '{code}'")
    return row.id
