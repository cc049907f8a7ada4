"""Answers of one questionnaire as a table: one row per respondent, one column per question.

The rows come from `answer_batches`, an async generator that reads the database one batch of
runs at a time (keyset pages: the runs after the last one seen, then the answers of just those
runs), so a table of any size is written or streamed without holding more than one batch of
answers in memory. Pages rather than a server-side cursor: no cursor stays open while a slow
client downloads, and the answer query between pages works the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, literal, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from bot.language import voice_of
from bot.programmes import Question, Questionnaire, QuestionType
from storage.days import day_of
from storage.models import Answer, AnswerStatus, SurveyRun

FIXED_COLUMNS = (
    ("respondent", "Respondent: participant number, or a pseudonym for anonymous answers"),
    ("language", "Language"),
    ("status", "Status: completed, in_progress or partial (stopped before the end)"),
    ("started_at", "Started (UTC; for anonymous answers the day only)"),
    ("completed_at", "Completed (UTC; for anonymous answers the day only)"),
)
DECLINED = "Prefer not to say"
BATCH_SIZE = 500  # runs per database round trip; answers are fetched for one batch at a time
BOM = "\ufeff"


@dataclass
class AnswerTable:
    ids: list[str]
    texts: list[str]
    rows: list[list[str]]


def _cell(text: str) -> str:
    """Typed text that starts like a formula is kept as text in Excel (no formula injection)."""
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def _readable(question: Question, status: str | None, value: Any) -> str:
    """One answer as text; `status` None: the question was not answered (or not shown)."""
    if status is None or status == AnswerStatus.SKIPPED:
        return ""
    if status == AnswerStatus.DECLINED:
        return DECLINED
    if question.type is QuestionType.MULTI and isinstance(value, list):
        return "; ".join(question.option_text(choice) for choice in value)
    if question.type is QuestionType.SINGLE and isinstance(value, str):
        return question.option_text(value)
    voice = voice_of(value)
    if voice is not None:
        return f"[voice message, {voice['duration']} s: {voice['file']}]"
    return "" if value is None else _cell(str(value))


def _respondent(participant_id: int | None, respondent_key: str | None) -> str:
    # Anonymous runs carry no identity; the pseudonym still pairs a person's anonymous runs.
    if participant_id is None:
        return f"anon-{(respondent_key or '')[:12]}"
    return str(participant_id)


def _questions(questionnaire: Questionnaire) -> list[Question]:
    return [q for q in questionnaire.questions if q.type is not QuestionType.INFO]


def header(questionnaire: Questionnaire) -> tuple[list[str], list[str]]:
    """The column ids (row 1) and the English column texts (row 2)."""
    questions = _questions(questionnaire)
    return (
        [column for column, _ in FIXED_COLUMNS] + [question.id for question in questions],
        [text for _, text in FIXED_COLUMNS] + [question.text for question in questions],
    )


async def answer_batches(
    session: AsyncSession,
    questionnaire: Questionnaire,
    programme_ids: Collection[int] | None = None,
    batch_size: int = BATCH_SIZE,
) -> AsyncIterator[list[list[str]]]:
    """The table's rows, `batch_size` runs (and their answers) per batch, by when they began:
    an anonymous run by its day (all it keeps), then its pseudonym, never by the order in which
    anonymous runs began, which would tell more than the day.

    `programme_ids`: only runs of these programmes (None: every programme, as at the command
    line). Each batch is two queries: the next runs, then the answers of those runs only.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    questions = _questions(questionnaire)
    pseudonym = func.coalesce(SurveyRun.respondent_key, "")  # "" for a named run
    order = (SurveyRun.started_at, pseudonym, SurveyRun.id)
    runs_query = (
        select(
            SurveyRun.id,
            SurveyRun.participant_id,
            SurveyRun.respondent_key,
            SurveyRun.language,
            SurveyRun.status,
            SurveyRun.started_at,
            SurveyRun.completed_at,
        )
        .where(SurveyRun.questionnaire_id == questionnaire.id)
        .order_by(*order)
        .limit(batch_size)
    )
    if programme_ids is not None:
        runs_query = runs_query.where(SurveyRun.programme_id.in_(sorted(programme_ids)))
    last = None
    while True:
        page = runs_query if last is None else runs_query.where(tuple_(*order) > last)
        runs = (await session.execute(page)).all()
        if not runs:
            return
        yield await _rows(session, questions, runs)
        if len(runs) < batch_size:
            return
        final = runs[-1]
        # Keyset: the runs after the last one seen, its values bound as their columns' types.
        last = tuple_(
            literal(final.started_at, SurveyRun.started_at.type),
            literal(final.respondent_key or "", SurveyRun.respondent_key.type),
            literal(final.id, SurveyRun.id.type),
        )


async def _rows(
    session: AsyncSession, questions: Sequence[Question], runs: Sequence[Any]
) -> list[list[str]]:
    given: dict[tuple[int, str], tuple[str, Any]] = {}
    answers = await session.execute(
        select(Answer.run_id, Answer.question_id, Answer.status, Answer.value).where(
            Answer.run_id.in_([run.id for run in runs])
        )
    )
    for run_id, question_id, status, value in answers:
        given[(run_id, question_id)] = (status, value)
    batch = []
    for run in runs:
        cells = [given.get((run.id, question.id), (None, None)) for question in questions]
        day_only = run.participant_id is None  # an anonymous run keeps the day (storage/days.py)
        batch.append(
            [
                _respondent(run.participant_id, run.respondent_key),
                run.language or "",
                run.status,
                _time(run.started_at, day_only),
                _time(run.completed_at, day_only),
                *(
                    _readable(question, status, value)
                    for question, (status, value) in zip(questions, cells, strict=True)
                ),
            ]
        )
    return batch


def _time(moment: datetime | None, day_only: bool) -> str:
    if moment is None:
        return ""
    return day_of(moment).isoformat() if day_only else moment.isoformat(timespec="seconds")


async def answer_table(
    session: AsyncSession,
    questionnaire: Questionnaire,
    programme_ids: Collection[int] | None = None,
) -> AnswerTable:
    """The whole table in memory (the command line's files); large downloads use the batches."""
    ids, texts = header(questionnaire)
    rows = [
        row
        async for batch in answer_batches(session, questionnaire, programme_ids)
        for row in batch
    ]
    return AnswerTable(ids=ids, texts=texts, rows=rows)


def _csv_text(rows: Sequence[Sequence[str]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue()


async def csv_chunks(
    questionnaire: Questionnaire, batches: AsyncIterator[list[list[str]]]
) -> AsyncIterator[bytes]:
    """The CSV file (UTF-8 with a BOM, as `write_csv` writes it) one batch at a time."""
    ids, texts = header(questionnaire)
    yield (BOM + _csv_text([ids, texts])).encode("utf-8")
    async for batch in batches:
        yield _csv_text(batch).encode("utf-8")


def write_csv(table: AnswerTable, path: Path) -> None:
    """Row 1: question ids; row 2: the English question texts; then one row per respondent."""
    with path.open("w", newline="", encoding="utf-8-sig") as output:
        writer = csv.writer(output)
        writer.writerow(table.ids)
        writer.writerow(table.texts)
        writer.writerows(table.rows)


def _question_sheet(workbook: Any, ids: Sequence[str], texts: Sequence[str]) -> None:
    questions = workbook.create_sheet("questions")
    questions.append(["id", "text"])
    for column, text in zip(ids, texts, strict=True):
        questions.append([column, text])


def write_xlsx(table: AnswerTable, path: Path) -> None:
    """Sheet "answers": ids then one row per respondent; sheet "questions": id and English text."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    answers = workbook.create_sheet("answers")
    answers.append(table.ids)
    for row in table.rows:
        answers.append(row)
    _question_sheet(workbook, table.ids, table.texts)
    workbook.save(path)


async def write_xlsx_batches(
    questionnaire: Questionnaire, batches: AsyncIterator[list[list[str]]], path: Path
) -> int:
    """The same workbook as `write_xlsx`, written row by row from the batches (openpyxl's
    write-only mode keeps rows on disk, not in memory). Returns the number of respondents."""
    from openpyxl import Workbook

    ids, texts = header(questionnaire)
    workbook = Workbook(write_only=True)
    answers = workbook.create_sheet("answers")
    answers.append(ids)
    count = 0
    async for batch in batches:
        for row in batch:
            answers.append(row)
        count += len(batch)
    _question_sheet(workbook, ids, texts)
    await asyncio.to_thread(workbook.save, path)
    return count


WRITERS = {"csv": write_csv, "xlsx": write_xlsx}


def formats() -> Sequence[str]:
    return sorted(WRITERS)


def plain_table_csv(header_row: Sequence[str], rows: Sequence[Sequence[str]]) -> bytes:
    """A small table (one header row) as CSV: UTF-8 with a BOM, cells safe in a spreadsheet."""
    cleaned = [[_cell(str(cell)) for cell in row] for row in rows]
    return (BOM + _csv_text([list(header_row), *cleaned])).encode("utf-8")


def plain_table_xlsx(header_row: Sequence[str], rows: Sequence[Sequence[str]], path: Path) -> None:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("participants")
    sheet.append(list(header_row))
    for row in rows:
        sheet.append([_cell(str(cell)) for cell in row])
    workbook.save(path)
