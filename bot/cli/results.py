"""Answers out of the database: one questionnaire's answers as a file, and a programme's report
of its end surveys."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.cli.common import audit_export, output_file, parse_moment, run_with_core
from bot.core import Core
from bot.results import (
    WRITERS,
    Period,
    answer_table,
    build_report,
    format_report,
    write_report_xlsx,
)
from bot.settings import Settings, SettingsError
from storage import repositories as repo

if TYPE_CHECKING:
    from bot.cli.common import Commands


def add_export(commands: Commands) -> None:
    export = commands.add_parser(
        "export", help="write one questionnaire's answers to a CSV or Excel file"
    )
    export.add_argument("--survey", required=True, help="questionnaire id, e.g. mentee_intake")
    export.add_argument("--format", required=True, choices=sorted(WRITERS), help="file format")
    export.add_argument("--output", required=True, help="file to write")
    export.set_defaults(handler=cmd_export)


def cmd_export(settings: Settings, args: argparse.Namespace) -> int:
    output = output_file(args.output, "--output")

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
            # The file holds every programme's answers: each programme's log says so, and
            # not how many were another programme's.
            await audit_export(
                session,
                f"{questionnaire.id}: every programme's answers as {args.format} to {output}",
                [row.id for row in await repo.programmes(session)],
            )
            await session.commit()
        print(f"wrote {len(table.rows)} respondents of '{questionnaire.id}' to {output}")
        return 0

    return run_with_core(settings, args.clock, work)


def add_report(commands: Commands) -> None:
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


def cmd_report(settings: Settings, args: argparse.Namespace) -> int:
    output = output_file(args.xlsx, "--xlsx") if args.xlsx else None

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
        period = Period(
            parse_moment(args.start, zone, option="--from"),
            parse_moment(args.end, zone, end=True, option="--to"),
        )
        if period.start and period.end and period.start >= period.end:
            raise SettingsError("--from must be before --to")
        async with core.sessions() as session:
            report = await build_report(
                session, programme, core.questionnaires, core.secret, period, zone
            )
            if output is not None:
                write_report_xlsx(report, output)
            where = f"xlsx to {output}" if output else "printed"
            row = await repo.programme_by_code(session, programme.code)
            assert row is not None  # every programme is in the database from the start
            await audit_export(session, f"report {programme.code}: {where}", [row.id])
            await session.commit()
        print(format_report(report), end="")
        if output is not None:
            print(f"wrote the report to {output}")
        return 0

    return run_with_core(settings, args.clock, work)
