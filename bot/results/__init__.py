"""What the answers add up to: reports (text and workbook), exports and charts."""

from __future__ import annotations

from bot.results.before_after import MOTIVATION, BeforeAfter, BeforeAfterRow, before_after
from bot.results.charts import WIDTH, BarChart, Group, Value, bar_chart
from bot.results.export import (
    WRITERS,
    answer_batches,
    answer_table,
    csv_chunks,
    plain_table_csv,
    plain_table_xlsx,
    write_xlsx_batches,
)
from bot.results.figures import CLOSED_TYPES, OptionCount, QuestionResult, percent
from bot.results.period import Period, parse_bound
from bot.results.report import Report, build_report, scheduled_ids
from bot.results.report_text import format_report, high_label, percent_text, report_notes
from bot.results.report_xlsx import write_report_xlsx

__all__ = [
    "CLOSED_TYPES",
    "MOTIVATION",
    "WIDTH",
    "WRITERS",
    "BarChart",
    "BeforeAfter",
    "BeforeAfterRow",
    "Group",
    "OptionCount",
    "Period",
    "QuestionResult",
    "Report",
    "Value",
    "answer_batches",
    "answer_table",
    "bar_chart",
    "before_after",
    "build_report",
    "csv_chunks",
    "format_report",
    "high_label",
    "parse_bound",
    "percent",
    "percent_text",
    "plain_table_csv",
    "plain_table_xlsx",
    "report_notes",
    "scheduled_ids",
    "write_report_xlsx",
    "write_xlsx_batches",
]
