"""A `bot.results.Report` as plain-text tables, for the terminal or an e-mail; and the words
that every presentation of a report shares (this one, the dashboard, the workbook), translated
into the language active when they are shown."""

from __future__ import annotations

from collections.abc import Sequence
from functools import reduce

from bot.language import _, __
from bot.programmes import Anonymity
from bot.results.before_after import BeforeAfter
from bot.results.figures import (
    DECLINED_TEXT,
    SKIPPED_TEXT,
    QuestionnaireResult,
    QuestionResult,
    ResponseRate,
)
from bot.results.report import Report

INDENT = "  "
ANONYMITY_TEXT = {
    Anonymity.NAMED: "named",
    Anonymity.ANONYMOUS: "anonymous, totals only",
    Anonymity.RESPONDENT_CHOOSES: "named or anonymous as each person chose, totals only",
}


# The before/after total row is named by its options: "High or very high".
EITHER = __("{first} or {second}")
PAIRS_IGNORE_PERIOD = __("Before and after counts every pair, whatever the dates.")


def high_label(change: BeforeAfter) -> str:
    """The name of the before/after total row in the active language: the "high" options'
    own texts joined with "or", as one phrase with a capital first letter."""
    texts = [_(text).lower() for text in change.high_texts if text]
    if not texts:
        return ""
    label = reduce(lambda first, second: EITHER.format(first=first, second=second), texts)
    return label[:1].upper() + label[1:]


def report_notes(report: Report) -> list[str]:
    """What the reader must know to read the figures right, in the active language."""
    return [str(PAIRS_IGNORE_PERIOD)] if report.before_after_ignores_period else []


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
        (high_label(change), change.high_before, percent_text(change.share(change.high_before)),
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
    notes = report_notes(report)
    if notes:
        lines += ["", *(f"Note: {note}" for note in notes)]
    return "\n".join(lines) + "\n"
