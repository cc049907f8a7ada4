"""Results and exports: the `report` command's figures as tables and bar charts, the report
workbook, and one questionnaire's answers as CSV or Excel, streamed from the database.

Thin: the figures come from `bot.report.build_report` and the rows from `bot.export`; this
module only picks the coordinator's programme, lays out charts and sends files. Another
programme's results or answers are "not found". Every download is in the audit log.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, Response, StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.background import BackgroundTask

from bot import coordination, results
from bot.core import Core
from bot.language import _, __
from bot.programmes import Programme, Questionnaire
from bot.results import (
    BarChart,
    BeforeAfter,
    BeforeAfterRow,
    Group,
    OptionCount,
    Period,
    QuestionResult,
    Report,
    Value,
    bar_chart,
    build_report,
    high_label,
    parse_bound,
    percent_text,
    report_notes,
    scheduled_ids,
    write_report_xlsx,
)
from dashboard.app import NOT_FOUND, AppCore, Database, Signed, refused, render
from storage.models import Coordinator
from storage.models import Programme as ProgrammeRow

router = APIRouter()

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BAD_DATE = __("Give dates like 2026-12-01.")
START_AFTER_END = __("The start must be before the end.")

ProgrammeId = Annotated[int | None, Query()]
From = Annotated[str | None, Query(alias="from")]
To = Annotated[str | None, Query(alias="to")]


@dataclass(frozen=True)
class Asked:
    """The programme and period a results address asks for."""

    programme: int | None
    start: str | None
    end: str | None


def asked(programme: ProgrammeId = None, start: From = None, end: To = None) -> Asked:
    return Asked(programme, start, end)


ReportAsked = Annotated[Asked, Depends(asked)]


@router.get("/results", response_class=HTMLResponse)
async def results_page(
    request: Request,
    session: Database,
    signed: Signed,
    core_: AppCore,
    query: ReportAsked,
) -> Response:
    me = signed.coordinator
    mine = await coordination.programmes_of(session, me)
    row = _chosen(mine, query.programme)
    config = core_.programmes.get(row.code)
    report = None
    if config is not None:
        report, _, _ = await _report(session, core_, config, query)
    await coordination.audit(session, me, "view", detail=f"web: results of {row.code}")
    await session.commit()
    with core_.catalogs.use(me.language):
        charts = _charts(report) if report else {}
        change = report.before_after if report else None
        paired = _paired(change) if change else None
        high = high_label(change) if change else ""
        notes = report_notes(report) if report else []
    return render(
        request,
        "results.html",
        me,
        csrf=signed.csrf_token,
        programmes=mine,
        programme=row,
        report=report,
        charts=charts,
        paired=paired,
        high=high,
        notes=notes,
        start=query.start or "",
        end=query.end or "",
        downloads=_downloads(core_, config) if config else [],
        percent_text=percent_text,
        option_text=_option,
    )


@router.get("/results/report.xlsx")
async def report_workbook(
    request: Request,
    session: Database,
    signed: Signed,
    core_: AppCore,
    query: ReportAsked,
) -> Response:
    me = signed.coordinator
    row = _chosen(await coordination.programmes_of(session, me), query.programme)
    config = core_.programmes.get(row.code)
    if config is None:
        raise refused(404, NOT_FOUND)
    report, period, zone = await _report(session, core_, config, query)
    with _workbook() as path:
        write_report_xlsx(report, path)
    await coordination.audit(
        session, me, "export",
        detail=f"web: report {row.code} as xlsx, {period.describe(zone)}",
    )  # fmt: skip
    await session.commit()
    return _file(path, f"report-{row.code}.xlsx")


@router.get("/results/export.csv")
async def export_csv(
    request: Request,
    session: Database,
    signed: Signed,
    core_: AppCore,
    survey: Annotated[str, Query()],
    programme: ProgrammeId = None,
) -> Response:
    me = signed.coordinator
    questionnaire, rows = await _export_scope(core_, session, me, survey, programme)
    await coordination.audit(
        session, me, "export", detail=f"web: {questionnaire.id} answers as csv, {_codes(rows)}"
    )
    await session.commit()
    ids = [row.id for row in rows]

    async def body() -> AsyncIterator[bytes]:
        # A session of its own, open while the file streams out (the request's may close).
        async with core_.sessions() as reading:
            batches = results.answer_batches(reading, questionnaire, ids)
            async for chunk in results.csv_chunks(questionnaire, batches):
                yield chunk

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": _attachment(f"{questionnaire.id}-answers.csv")},
    )


@router.get("/results/export.xlsx")
async def export_xlsx(
    request: Request,
    session: Database,
    signed: Signed,
    core_: AppCore,
    survey: Annotated[str, Query()],
    programme: ProgrammeId = None,
) -> Response:
    me = signed.coordinator
    questionnaire, rows = await _export_scope(core_, session, me, survey, programme)
    with _workbook() as path:
        batches = results.answer_batches(session, questionnaire, [row.id for row in rows])
        count = await results.write_xlsx_batches(questionnaire, batches, path)
    await coordination.audit(
        session, me, "export",
        detail=f"web: {questionnaire.id} answers as xlsx, {count} respondents, {_codes(rows)}",
    )  # fmt: skip
    await session.commit()
    return _file(path, f"{questionnaire.id}-answers.xlsx")


async def _report(
    session: AsyncSession, core_: Core, config: Programme, query: Asked
) -> tuple[Report, Period, ZoneInfo]:
    """The `report` command's figures for the period asked (the page and its workbook)."""
    period = _period(config, core_, query.start, query.end)
    zone = _zone(config, core_)
    report = await build_report(session, config, core_.questionnaires, core_.secret, period, zone)
    return report, period, zone


def _chosen(mine: list[ProgrammeRow], programme_id: int | None) -> ProgrammeRow:
    """The asked programme if it is one of the coordinator's, else "not found"; by default the
    first of theirs."""
    for row in mine:
        if programme_id is None or row.id == programme_id:
            return row
    raise refused(404, NOT_FOUND)


def _zone(config: Programme, core_: Core) -> ZoneInfo:
    return ZoneInfo(config.timezone or core_.settings.timezone)


def _period(config: Programme, core_: Core, start: str | None, end: str | None) -> Period:
    zone = _zone(config, core_)
    try:
        period = Period(
            parse_bound(start, zone) if start else None,
            parse_bound(end, zone, end=True) if end else None,
        )
    except ValueError:
        raise refused(400, BAD_DATE) from None
    if period.start and period.end and period.start >= period.end:
        raise refused(400, START_AFTER_END)
    return period


async def _export_scope(
    core_: Core, session: Database, me: Coordinator, survey: str, programme_id: int | None
) -> tuple[Questionnaire, list[ProgrammeRow]]:
    """The questionnaire and the programmes whose answers go out: the asked one, or all the
    coordinator's. Anything else is "not found"."""
    questionnaire = core_.questionnaires.get(survey)
    mine = await coordination.programmes_of(session, me)
    if questionnaire is None or not mine:
        raise refused(404, NOT_FOUND)
    rows = mine if programme_id is None else [_chosen(mine, programme_id)]
    return questionnaire, rows


def _codes(rows: list[ProgrammeRow]) -> str:
    return "programme " + ", ".join(row.code for row in rows)


@contextmanager
def _workbook() -> Iterator[Path]:
    """A temporary .xlsx path for a download (`_file` deletes it once sent); deleted at once
    if writing it fails."""
    handle, name = tempfile.mkstemp(prefix="mentorbot-", suffix=".xlsx")
    os.close(handle)
    path = Path(name)
    try:
        yield path
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def _attachment(filename: str) -> str:
    return f'attachment; filename="{filename}"'


def _file(path: Path, filename: str) -> FileResponse:
    """Streams the file, then deletes it."""
    return FileResponse(
        path,
        media_type=XLSX,
        headers={"Content-Disposition": _attachment(filename)},
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


def _text(message: str) -> str:
    """A questionnaire's text in the coordinator's language (gettext("") is the header)."""
    return _(message) if message else message


def _option(item: OptionCount | BeforeAfterRow) -> str:
    """An answer in the coordinator's language; a scale's end keeps its number: "1 (Ikke glad)"."""
    if item.end_label:
        return f"{item.option_id} ({_(item.end_label)})"
    return _text(item.text)


def _count(count: int, share: int | None) -> str:
    """ "14 (37 %)", the percentage as the report prints it."""
    shown = percent_text(share)
    return f"{count} ({shown})" if shown else str(count)


def _question_chart(question: QuestionResult) -> BarChart:
    return bar_chart(
        [
            Group(_option(option), (Value(_count(option.count, option.percent), option.percent),))
            for option in question.options
        ]
    )


def _charts(report: Report) -> dict[tuple[str, str], BarChart]:
    """A bar chart per question with answers, by (questionnaire id, question id)."""
    return {
        (result.questionnaire_id, question.question_id): _question_chart(question)
        for result in report.questionnaires
        for question in result.questions
        if question.respondents
    }


def _paired(change: BeforeAfter) -> BarChart | None:
    """Before and after side by side, per answer and for the "high" total."""
    if not change.pairs:
        return None
    rows = [(_option(row), row.before, row.after) for row in change.rows]
    rows.append((high_label(change), change.high_before, change.high_after))
    return bar_chart(
        [
            Group(
                label,
                (
                    Value(_count(before, change.share(before)), change.share(before), _("Before")),
                    Value(_count(after, change.share(after)), change.share(after), _("After")),
                ),
            )
            for label, before, after in rows
        ]
    )


def _downloads(core_: Core, config: Programme) -> list[Questionnaire]:
    """The programme's questionnaires, intakes first, then in the order they are sent."""
    order = [*config.intake.values(), *scheduled_ids(config), *sorted(config.questionnaire_ids())]
    return [
        core_.questionnaires[qid] for qid in dict.fromkeys(order) if qid in core_.questionnaires
    ]
