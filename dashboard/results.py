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
from dashboard.deps import (
    NOT_FOUND,
    XLSX,
    AppCore,
    Database,
    Signed,
    attachment,
    logged,
    logged_each,
    refused,
    signed_page,
)
from storage.models import Programme as ProgrammeRow

router = APIRouter()

BAD_DATE = __("Give dates like 2026-12-01.")
START_AFTER_END = __("The start must be before the end.")

ProgrammeId = Annotated[int | None, Query()]
From = Annotated[str | None, Query(alias="from")]
To = Annotated[str | None, Query(alias="to")]


@dataclass(frozen=True)
class Asked:
    """The programme and period a results address asks for."""

    mine: list[ProgrammeRow]  # the coordinator's programmes, to choose from
    programme: ProgrammeRow
    config: Programme | None  # None: a programme without a configuration has no report
    start: str | None
    end: str | None


async def asked(
    session: Database,
    signed: Signed,
    core_: AppCore,
    programme: ProgrammeId = None,
    start: From = None,
    end: To = None,
) -> Asked:
    """The results page's and its workbook's query, with the programme looked up (`_chosen`)."""
    mine = await coordination.programmes_of(session, signed.coordinator)
    row = _chosen(mine, programme)
    return Asked(mine, row, core_.programmes.get(row.code), start, end)


ReportAsked = Annotated[Asked, Depends(asked)]


@dataclass(frozen=True)
class Answers:
    """One questionnaire's answers asked for, from these programmes of the coordinator's."""

    questionnaire: Questionnaire
    programmes: list[ProgrammeRow]

    @property
    def programme_ids(self) -> list[int]:
        return [row.id for row in self.programmes]

    def described(self, how: str) -> dict[int, str]:
        """What went out, for the audit log of each programme whose answers did: "web:
        mentee_end answers as csv, programme bridge" (never another programme's name)."""
        return {
            row.id: f"web: {self.questionnaire.id} answers as {how}, programme {row.code}"
            for row in self.programmes
        }


async def answers_asked(
    session: Database,
    signed: Signed,
    core_: AppCore,
    survey: Annotated[str, Query()],
    programme: ProgrammeId = None,
) -> Answers:
    """The questionnaire and the programmes whose answers go out: the asked one, or all the
    coordinator's. Anything else is "not found"."""
    questionnaire = core_.questionnaires.get(survey)
    mine = await coordination.programmes_of(session, signed.coordinator)
    if questionnaire is None or not mine:
        raise refused(404, NOT_FOUND)
    return Answers(questionnaire, mine if programme is None else [_chosen(mine, programme)])


AnswersAsked = Annotated[Answers, Depends(answers_asked)]


@router.get("/results", response_class=HTMLResponse)
async def results_page(
    request: Request,
    session: Database,
    signed: Signed,
    core_: AppCore,
    query: ReportAsked,
) -> Response:
    me, row, config = signed.coordinator, query.programme, query.config
    report = None
    if config is not None:
        report, _, _ = await _report(session, core_, config, query)
    await logged(session, me, "view", programme_id=row.id, detail=f"web: results of {row.code}")
    with core_.catalogs.use(me.language):
        charts = _charts(report) if report else {}
        change = report.before_after if report else None
        paired = _paired(change) if change else None
        high = high_label(change) if change else ""
        notes = report_notes(report) if report else []
    return signed_page(
        request,
        signed,
        "results.html",
        programmes=query.mine,
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
    session: Database,
    signed: Signed,
    core_: AppCore,
    query: ReportAsked,
) -> Response:
    row, config = query.programme, query.config
    if config is None:
        raise refused(404, NOT_FOUND)
    report, period, zone = await _report(session, core_, config, query)
    with _workbook() as path:
        write_report_xlsx(report, path)
    detail = f"web: report {row.code} as xlsx, {period.describe(zone)}"
    await logged(session, signed.coordinator, "export", programme_id=row.id, detail=detail)
    return _file(path, f"report-{row.code}.xlsx")


@router.get("/results/export.csv")
async def export_csv(
    session: Database, signed: Signed, core_: AppCore, answers: AnswersAsked
) -> Response:
    questionnaire, ids = answers.questionnaire, answers.programme_ids
    await logged_each(session, signed.coordinator, "export", answers.described("csv"))

    async def body() -> AsyncIterator[bytes]:
        # A session of its own, open while the file streams out (the request's may close).
        async with core_.sessions() as reading:
            batches = results.answer_batches(reading, questionnaire, ids)
            async for chunk in results.csv_chunks(questionnaire, batches):
                yield chunk

    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers=attachment(f"{questionnaire.id}-answers.csv"),
    )


@router.get("/results/export.xlsx")
async def export_xlsx(session: Database, signed: Signed, answers: AnswersAsked) -> Response:
    questionnaire = answers.questionnaire
    with _workbook() as path:
        batches = results.answer_batches(session, questionnaire, answers.programme_ids)
        count = await results.write_xlsx_batches(questionnaire, batches, path)
    # A count of respondents only when it is one programme's: never another's in this log.
    how = f"xlsx, {count} respondents" if len(answers.programmes) == 1 else "xlsx"
    await logged_each(session, signed.coordinator, "export", answers.described(how))
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


def _file(path: Path, filename: str) -> FileResponse:
    """Streams the file, then deletes it."""
    return FileResponse(
        path,
        media_type=XLSX,
        headers=attachment(filename),
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
