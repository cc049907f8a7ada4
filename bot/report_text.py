"""A `bot.report.Report` as plain-text tables, for the terminal or an e-mail."""

from __future__ import annotations

from collections.abc import Sequence

from bot.programme import Anonymity
from bot.report import (
    DECLINED_TEXT,
    SKIPPED_TEXT,
    BeforeAfter,
    QuestionnaireResult,
    QuestionResult,
    Report,
    ResponseRate,
)

INDENT = "  "
ANONYMITY_TEXT = {
    Anonymity.NAMED: "named",
    Anonymity.ANONYMOUS: "anonymous, totals only",
    Anonymity.RESPONDENT_CHOOSES: "named or anonymous as each person chose, totals only",
}


def percent_text(value: int | None) -> str:
    return "" if value is None else f"{value} %"


def table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    """Columns padded to their widest cell: the first left-aligned, the others right-aligned."""
    cells = [[str(cell) for cell in row] for row in [header, *rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for row in cells:
        padded = [row[0].ljust(widths[0])] + [
            cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True)
        ]
        lines.append((INDENT + "  ".join(padded)).rstrip())
    return lines


def question_lines(result: QuestionResult) -> list[str]:
    several = ", several answers allowed" if result.several_allowed else ""
    if result.respondents == 0 and not (result.declined or result.skipped):
        return [result.text, f"{INDENT}{result.question_id}{several}; no answers"]
    lines = [result.text, f"{INDENT}{result.question_id}{several}; n = {result.respondents}"]
    rows: list[tuple[object, ...]] = [
        (option.text, option.count, percent_text(option.percent)) for option in result.options
    ]
    if result.declined:
        rows.append((DECLINED_TEXT, result.declined, ""))
    if result.skipped:
        rows.append((SKIPPED_TEXT, result.skipped, ""))
    lines += table(("answer", "count", "percent"), rows)
    if result.mean is not None:
        lines.append(f"{INDENT}mean {result.mean:.1f} (n = {result.respondents})")
    return lines


def questionnaire_lines(result: QuestionnaireResult) -> list[str]:
    lines = [
        f"== {result.questionnaire_id}: {result.title} ({ANONYMITY_TEXT[result.anonymity]}) ==",
        f"{result.responses} responses: {result.completed} completed, {result.partial} partial",
    ]
    if result.responses:
        for question in result.questions:
            lines += ["", *question_lines(question)]
    return lines


def response_rate_lines(rates: Sequence[ResponseRate]) -> list[str]:
    return [
        "== Response rates ==",
        "Contacts sent; partial: expired with some answers; open: sent, not yet expired.",
        *table(
            ("questionnaire", "sent", "answered", "partial", "expired, no answers", "open",
             "cancelled", "answered %"),
            [
                (rate.questionnaire_id, rate.sent, rate.answered, rate.partial, rate.expired,
                 rate.open, rate.cancelled, percent_text(rate.answered_percent))
                for rate in rates
            ],
        ),
    ]  # fmt: skip


def before_after_lines(change: BeforeAfter) -> list[str]:
    lines = [
        f"== Before and after: {change.text} ==",
        f"{change.before_questionnaire} at the start, {change.after_questionnaire} at the end; "
        f"n = {change.pairs} people who answered both",
    ]
    if not change.pairs:
        return [*lines, f"{INDENT}no pairs yet"]
    rows: list[tuple[object, ...]] = [
        (row.text, row.before, percent_text(change.share(row.before)),
         row.after, percent_text(change.share(row.after)))
        for row in change.rows
    ]  # fmt: skip
    rows.append(
        (change.high_text, change.high_before, percent_text(change.share(change.high_before)),
         change.high_after, percent_text(change.share(change.high_after)))
    )  # fmt: skip
    return lines + table(("answer", "before", "%", "after", "%"), rows)


def format_report(report: Report) -> str:
    lines = [
        f"{report.programme_name} ({report.programme_code}): end-survey results",
        f"Period: {report.period.describe(report.timezone)}; "
        "answers by the start of their survey, contacts by their due date",
        'Percent of the people who chose an answer (n); "Prefer not to say" and skipped are '
        "counted apart. Several answers allowed: can add up to more than 100 %.",
    ]
    for result in report.questionnaires:
        lines += ["", *questionnaire_lines(result)]
    lines += ["", *response_rate_lines(report.response_rates)]
    if report.before_after is not None:
        lines += ["", *before_after_lines(report.before_after)]
    if report.notes:
        lines += ["", *(f"Note: {note}" for note in report.notes)]
    return "\n".join(lines) + "\n"
