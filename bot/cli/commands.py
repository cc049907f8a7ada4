"""The command line: `python -m bot` (also installed as `mentorbot`)."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import importlib
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from bot.coordination import (
    INVITE_DAYS,
    CoordinationError,
    DangerListError,
    audit,
    invite_coordinator,
)
from bot.core import Core, build_core, load_content
from bot.course import MatchError, create_match, end_match
from bot.programmes import ProgrammeError, QuestionnaireError
from bot.results import WRITERS, answer_table
from bot.settings import Settings, SettingsError, load_settings
from storage import repositories as repo
from storage.database import create_engine, upgrade_database
from storage.models import EndReason, ParticipantStatus

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
    if args.with_dashboard:
        return _demo_dashboard(settings)
    console = importlib.import_module(CONSOLE)
    # The terminal is the conversation here: only problems are logged into it.
    logging.getLogger().setLevel(max(logging.WARNING, logging.getLogger().level))

    async def work(core: Core) -> int:
        await console.run_console(core, user_id=args.user)
        return 0

    return asyncio.run(_with_core(settings, work))


def _admin() -> str:
    """Who ran a command, for the audit log: the operating-system account."""
    try:
        return f"by {getpass.getuser()} at the command line"
    except (KeyError, OSError):  # no name for this uid (e.g. in a container)
        return f"by uid {os.getuid()} at the command line"


async def _seed_demo(core: Core) -> bool:
    """Fill an empty database with the demo programme's data; False if it had people."""
    from bot.cli.demo_data import DemoError, seed_demo

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
    from bot.cli.demo_data import DEMO_EMAIL, DEMO_PASSWORD

    print(f"dashboard log-in: {DEMO_EMAIL} / {DEMO_PASSWORD}")


def cmd_seed_demo(settings: Settings, _args: argparse.Namespace) -> int:
    async def work(core: Core) -> int:
        if not await _seed_demo(core):
            raise SettingsError("the database already has participants; use an empty one")
        _print_demo_login()
        return 0

    return asyncio.run(_with_core(settings, work))


def _demo_dashboard(settings: Settings) -> int:
    async def work(core: Core) -> int:
        await _seed_demo(core)  # the first time only
        _print_demo_login()
        return await _serve_dashboard(core, settings)

    return asyncio.run(_with_core(settings, work))


async def _serve_dashboard(core: Core, settings: Settings) -> int:
    # Imported here: the core never loads the web framework unless the dashboard is asked for.
    uvicorn = importlib.import_module("uvicorn")
    web = importlib.import_module("dashboard.app")
    config = uvicorn.Config(
        web.create_app(core),
        host=settings.dashboard_host,
        port=settings.dashboard_port,
        log_level=settings.log_level.lower(),
    )
    print(f"dashboard on http://{settings.dashboard_host}:{settings.dashboard_port}/")
    await uvicorn.Server(config).serve()
    return 0


def cmd_dashboard(settings: Settings, _args: argparse.Namespace) -> int:
    async def serve(core: Core) -> int:
        return await _serve_dashboard(core, settings)

    return asyncio.run(_with_core(settings, serve))


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
            await audit(
                session,
                None,
                "export",
                detail=f"{questionnaire.id}: {len(table.rows)} respondents as {args.format} "
                f"to {output}, {_admin()}",
            )
            await session.commit()
        print(f"wrote {len(table.rows)} respondents of '{questionnaire.id}' to {output}")
        return 0

    return asyncio.run(_with_core(settings, work))


def _moment(text: str | None, zone: ZoneInfo) -> datetime | None:
    """A date or date-time on the command line, in the programme's local time."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise SettingsError(f"'{text}' is not a date like 2026-12-01 or 2026-12-01T09:30") from None
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return "" if moment is None else moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")


def _print_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    cells = [[str(cell) for cell in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    for row in cells:
        print(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )


def cmd_match(settings: Settings, args: argparse.Namespace) -> int:
    zone = ZoneInfo(settings.timezone)

    async def work(core: Core) -> int:
        async with core.sessions() as session:
            if args.match_command == "create":
                match = await create_match(
                    session, core.programmes, args.mentee, args.mentor,
                    _moment(args.start, zone), _moment(args.end, zone),
                )  # fmt: skip
                await session.commit()
                print(
                    f"match {match.id}: mentee {match.mentee_id} and mentor {match.mentor_id}, "
                    f"{_local(match.started_at, zone)} to {_local(match.planned_end_at, zone)}"
                )
            elif args.match_command == "end":
                match = await end_match(
                    session,
                    core.programmes,
                    args.id,
                    EndReason(args.reason),
                    _moment(args.date, zone),
                )
                await session.commit()
                print(f"match {match.id} ended {_local(match.ended_at, zone)}: {match.end_reason}")
            else:
                programme = None
                if args.programme:
                    row = await repo.programme_by_code(session, args.programme)
                    if row is None:
                        raise SettingsError(f"--programme: no programme '{args.programme}'")
                    programme = row.id
                rows = [
                    (
                        match.id, match.programme.code, match.mentee_id, match.mentor_id,
                        _local(match.started_at, zone), _local(match.planned_end_at, zone),
                        _local(match.ended_at, zone), match.end_reason or "",
                    )
                    for match in await repo.matches(session, programme)
                ]  # fmt: skip
                _print_table(
                    ["match", "programme", "mentee", "mentor", "start", "planned end", "ended",
                     "reason"],
                    rows,
                )  # fmt: skip
        return 0

    return asyncio.run(_with_core(settings, work))


def cmd_schedule(settings: Settings, args: argparse.Namespace) -> int:
    async def work(core: Core) -> int:
        async with core.sessions() as session:
            programme_id = None
            if args.programme:
                row = await repo.programme_by_code(session, args.programme)
                if row is None:
                    raise SettingsError(f"--programme: no programme '{args.programme}'")
                programme_id = row.id
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
                        _local(contact.due_at, zone) + f" {zone.key}",
                        f"{contact.reminders_sent} sent" if contact.sent_at else "",
                    )
                )  # fmt: skip
        if not rows:
            print("nothing planned")
        else:
            _print_table(
                ["contact", "participant", "role", "rule", "questionnaire", "state",
                 "sends at (local time)", "reminders"],
                rows,
            )  # fmt: skip
        return 0

    return asyncio.run(_with_core(settings, work))


def cmd_participants(settings: Settings, args: argparse.Namespace) -> int:
    zone = ZoneInfo(settings.timezone)

    async def work(core: Core) -> int:
        async with core.sessions() as session:
            people = await repo.participants(session, args.programme, args.status)
            _print_table(
                ["participant", "programme", "role", "status", "language", "joined"],
                [
                    (p.id, p.programme.code if p.programme else "", p.role, p.status,
                     p.language or "", _local(p.created_at, zone))
                    for p in people
                ],
            )  # fmt: skip
        return 0

    return asyncio.run(_with_core(settings, work))


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    from bot.results import Period, build_report, format_report, parse_bound, write_report_xlsx

    output = Path(args.xlsx) if args.xlsx else None
    if output is not None and not output.parent.exists():
        raise SettingsError(f"--xlsx: the folder {output.parent} does not exist")

    async def work(core: Core) -> int:
        programme = next(
            (p for p in core.programmes.values() if p.code.lower() == args.programme.lower()),
            None,
        )
        if programme is None:
            raise SettingsError(
                f"--programme: no programme '{args.programme}' (have {', '.join(core.programmes)})"
            )
        zone = ZoneInfo(programme.timezone or settings.timezone)
        bounds = []
        for option, text, end in (("--from", args.start, False), ("--to", args.end, True)):
            try:
                bounds.append(None if text is None else parse_bound(text, zone, end=end))
            except ValueError as error:
                raise SettingsError(f"{option}: {error}") from None
        period = Period(*bounds)
        if period.start and period.end and period.start >= period.end:
            raise SettingsError("--from must be before --to")
        async with core.sessions() as session:
            report = await build_report(
                session, programme, core.questionnaires, core.secret, period, zone
            )
            if output is not None:
                write_report_xlsx(report, output)
            where = f"xlsx to {output}" if output else "printed"
            await audit(
                session, None, "export", detail=f"report {programme.code}: {where}, {_admin()}"
            )
            await session.commit()
        print(format_report(report), end="")
        if output is not None:
            print(f"wrote the report to {output}")
        return 0

    return asyncio.run(_with_core(settings, work))


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

    return asyncio.run(_with_core(settings, work))


def _read_password() -> str:
    """Asked twice at a terminal; one line from standard input otherwise (scripts)."""
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\n")
    password = getpass.getpass("password: ")
    if getpass.getpass("again: ") != password:
        raise SettingsError("the two passwords differ")
    return password


def cmd_coordinator_login(settings: Settings, args: argparse.Namespace) -> int:
    from bot.coordination import AccountError, set_login
    from storage.models import Coordinator

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

    return asyncio.run(_with_core(settings, work))


def cmd_programmes(settings: Settings, args: argparse.Namespace) -> int:
    """The programmes as the database holds them (a dashboard change included)."""
    from bot.programmes import programme_definition, programme_edits

    async def work(core: Core) -> int:
        async with core.sessions() as session:
            if args.programmes_command == "list":
                edited = await programme_edits(session)
                _print_table(
                    ["code", "mentor code", "name", "languages", "changed in the dashboard"],
                    [
                        (p.code, p.mentor_code or "", p.name, " ".join(p.languages),
                         _local(edited.get(p.code), ZoneInfo(settings.timezone)))
                        for p in core.programmes.values()
                    ],
                )  # fmt: skip
                return 0
            definition = await programme_definition(session, args.code)
        if definition is None:
            raise SettingsError(f"no programme '{args.code}' (see `python -m bot programmes list`)")
        text = yaml.safe_dump(definition, allow_unicode=True, sort_keys=False)
        if args.to is None:
            print(text, end="")
        else:
            args.to.write_text(text, encoding="utf-8")
            print(f"programme '{args.code}' written to {args.to}")
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


def cmd_audio_missing(settings: Settings, args: argparse.Namespace) -> int:
    from bot.language import QuestionAudio

    _, questionnaires, programmes = load_content(settings)
    chosen = [p for p in programmes.values() if args.programme in (None, p.code)]
    if not chosen:
        raise SettingsError(f"--programme: no programme '{args.programme}'")
    audio = QuestionAudio.scan(programmes)
    for programme in chosen:
        if programme.audio is None:
            print(f"{programme.code}: no audio folder (set 'audio:' in its YAML); text only")
            continue
        print(f"{programme.code}: recordings in {programme.audio}")
        for language, missing in audio.missing(programme, questionnaires).items():
            total = sum(len(questionnaires[q].questions) for q in programme.questionnaire_ids())
            print(f"{language}: {len(missing)} of {total} questions have no recording")
            for item in missing:
                print(f"  {item}")
    return 0


def cmd_readability(settings: Settings, _args: argparse.Namespace) -> int:
    from bot.language import distribution, participant_texts

    catalogs, questionnaires, programmes = load_content(settings)
    sources = participant_texts(questionnaires, programmes)
    rows = {language: distribution(catalogs, sources, language) for language in catalogs.languages}
    columns = list(next(iter(rows.values())))
    print("| language | " + " | ".join(columns) + " |")
    print("| --- " * (len(columns) + 1) + "|")
    for language, row in rows.items():
        print(f"| {language} | " + " | ".join(row[column] for column in columns) + " |")
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
    demo.add_argument(
        "--with-dashboard",
        action="store_true",
        help="instead: fill the database with demo data (once) and open the web dashboard",
    )
    demo.set_defaults(handler=cmd_demo)

    seed = commands.add_parser(
        "seed-demo", help="fill an empty database with a demo programme's made-up data"
    )
    seed.set_defaults(handler=cmd_seed_demo)

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

    match = commands.add_parser("match", help="create, list and end mentor matches")
    match_commands = match.add_subparsers(dest="match_command", required=True, metavar="COMMAND")
    create = match_commands.add_parser("create", help="join a mentee and a mentor; plans check-ins")
    create.add_argument("--mentee", type=int, required=True, help="the mentee's participant number")
    create.add_argument("--mentor", type=int, required=True, help="the mentor's participant number")
    create.add_argument("--start", help="start date (local time; default: now)")
    create.add_argument("--end", help="planned end date (default: start + the course length)")
    create.set_defaults(handler=cmd_match)
    listing = match_commands.add_parser("list", help="all matches")
    listing.add_argument("--programme", help="only this programme's code")
    listing.set_defaults(handler=cmd_match)
    end = match_commands.add_parser("end", help="end a match; later check-ins are cancelled")
    end.add_argument("id", type=int, help="the match number")
    end.add_argument("--reason", required=True, choices=[reason.value for reason in EndReason])
    end.add_argument("--date", help="end date (local time; default: now)")
    end.set_defaults(handler=cmd_match)

    schedule = commands.add_parser("schedule", help="what will be sent to whom, and when")
    schedule_commands = schedule.add_subparsers(
        dest="schedule_command", required=True, metavar="COMMAND"
    )
    upcoming = schedule_commands.add_parser(
        "list", help="planned and open contacts with their local send time"
    )
    upcoming.add_argument("--programme", help="only this programme's code")
    upcoming.add_argument("--participant", type=int, help="only this participant")
    upcoming.set_defaults(handler=cmd_schedule)

    coordinator = commands.add_parser("coordinator", help="coordinators of programmes")
    coordinator_commands = coordinator.add_subparsers(
        dest="coordinator_command", required=True, metavar="COMMAND"
    )
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

    programmes = commands.add_parser(
        "programmes", help="programmes as the database holds them (dashboard changes included)"
    )
    programme_commands = programmes.add_subparsers(
        dest="programmes_command", required=True, metavar="COMMAND"
    )
    programme_list = programme_commands.add_parser("list", help="every programme and its codes")
    programme_list.set_defaults(handler=cmd_programmes)
    programme_export = programme_commands.add_parser(
        "export", help="a programme as YAML, in the shape of a programme file"
    )
    programme_export.add_argument("code", help="the programme's code")
    programme_export.add_argument("--to", type=Path, help="write to this file, not the screen")
    programme_export.set_defaults(handler=cmd_programmes)

    people = commands.add_parser("participants", help="list participants and their status")
    people.add_argument("--programme", help="only this programme's code")
    people.add_argument("--status", choices=[status.value for status in ParticipantStatus])
    people.set_defaults(handler=cmd_participants)

    report = commands.add_parser(
        "report", help="end-survey results, response rates and before/after of a programme"
    )
    report.add_argument("--programme", required=True, metavar="CODE", help="e.g. bridge")
    report.add_argument(
        "--from", dest="start", metavar="DATE", help="surveys started / contacts due from DATE"
    )
    report.add_argument("--to", dest="end", metavar="DATE", help="up to DATE, that day included")
    report.add_argument("--xlsx", metavar="PATH", help="also write the tables to this Excel file")
    report.set_defaults(handler=cmd_report)

    check = commands.add_parser(
        "check", help="validate settings, questionnaires, programmes and catalogs, then exit"
    )
    check.set_defaults(handler=cmd_check)

    dashboard = commands.add_parser(
        "dashboard", help="the coordinators' web dashboard (DASHBOARD_HOST, DASHBOARD_PORT)"
    )
    dashboard.set_defaults(handler=cmd_dashboard)

    audio = commands.add_parser("audio", help="recorded questions (voice notes)")
    audio_commands = audio.add_subparsers(dest="audio_command", required=True, metavar="COMMAND")
    missing = audio_commands.add_parser(
        "missing", help="per language, the questions that have no recording yet"
    )
    missing.add_argument("--programme", help="programme code (default: all)")
    missing.set_defaults(handler=cmd_audio_missing)

    readability = commands.add_parser(
        "readability",
        help="how easy the participants' texts are to read, per language (a Markdown table)",
    )
    readability.set_defaults(handler=cmd_readability)
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
    except (
        SettingsError,
        QuestionnaireError,
        ProgrammeError,
        MatchError,
        DangerListError,
        CoordinationError,
    ) as error:
        print(f"mentorbot: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
