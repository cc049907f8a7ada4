"""A `bot.results.Report` as an Excel workbook: a "summary" sheet (responses, response rates,
before/after), then one sheet per end-survey questionnaire (question, option, count, percent,
n, and the mean of scale questions). Percentages are whole numbers, as in the text report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.results.figures import DECLINED_TEXT, SKIPPED_TEXT, QuestionnaireResult
from bot.results.report import Report
from bot.results.report_text import ANONYMITY_TEXT, high_label, report_notes

SUMMARY = "summary"
QUESTION_HEADER = ("question_id", "question", "option", "count", "percent", "n", "mean")
RATE_HEADER = (
    "questionnaire", "sent", "answered", "partial", "expired, no answers", "open", "cancelled",
    "answered %",
)  # fmt: skip
MEAN = "Mean"


def sheet_name(questionnaire_id: str) -> str:
    """Excel allows 31 characters; questionnaire ids have no characters it forbids."""
    name = questionnaire_id[:31]
    return name if name != SUMMARY else f"{name}_"


def _summary_rows(report: Report) -> list[list[Any]]:
    rows: list[list[Any]] = [
        ["programme", report.programme_code, report.programme_name],
        ["period", report.period.describe(report.timezone)],
        [],
        ["responses"],
        ["questionnaire", "title", "anonymity", "responses", "completed", "partial"],
    ]
    rows += [
        [r.questionnaire_id, r.title, ANONYMITY_TEXT[r.anonymity], r.responses, r.completed,
         r.partial]
        for r in report.questionnaires
    ]  # fmt: skip
    rows += [[], ["response rates"], list(RATE_HEADER)]
    rows += [
        [r.questionnaire_id, r.sent, r.answered, r.partial, r.expired, r.open, r.cancelled,
         r.answered_percent]
        for r in report.response_rates
    ]  # fmt: skip
    change = report.before_after
    if change is not None:
        rows += [
            [],
            ["before and after", change.text],
            ["before", change.before_questionnaire, "after", change.after_questionnaire],
            ["n (answered both)", change.pairs],
            ["answer", "before", "before %", "after", "after %"],
        ]
        rows += [
            [row.text, row.before, change.share(row.before), row.after, change.share(row.after)]
            for row in change.rows
        ]
        rows.append(
            [high_label(change), change.high_before, change.share(change.high_before),
             change.high_after, change.share(change.high_after)]
        )  # fmt: skip
    notes = report_notes(report)
    if notes:
        rows += [[], *(["note", note] for note in notes)]
    return rows


def _questionnaire_rows(result: QuestionnaireResult) -> list[list[Any]]:
    rows: list[list[Any]] = [list(QUESTION_HEADER)]
    for question in result.questions:
        first = [question.question_id, question.text]
        n = question.respondents
        rows += [
            [*first, option.text, option.count, option.percent, n, None]
            for option in question.options
        ]
        if question.declined:
            rows.append([*first, DECLINED_TEXT, question.declined, None, n, None])
        if question.skipped:
            rows.append([*first, SKIPPED_TEXT, question.skipped, None, n, None])
        if question.mean is not None:
            rows.append([*first, MEAN, None, None, n, round(question.mean, 2)])
    return rows


def write_report_xlsx(report: Report, path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    summary = workbook.active
    summary.title = SUMMARY
    for row in _summary_rows(report):
        summary.append(row)
    for result in report.questionnaires:
        sheet = workbook.create_sheet(sheet_name(result.questionnaire_id))
        for row in _questionnaire_rows(result):
            sheet.append(row)
        for cell in sheet["G"][1:]:
            cell.number_format = "0.0"  # shown like the text report; the cell keeps 2 decimals
    workbook.save(path)
