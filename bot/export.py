"""Answers of one questionnaire as a table: one row per respondent, one column per question."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from bot.questionnaire import Question, Questionnaire, QuestionType
from bot.voice import voice_of
from storage import repositories as repo
from storage.models import Answer, AnswerStatus, SurveyRun

FIXED_COLUMNS = (
    ("respondent", "Respondent: participant number, or a pseudonym for anonymous answers"),
    ("language", "Language"),
    ("status", "Status: completed, in_progress or partial (stopped before the end)"),
    ("started_at", "Started (UTC)"),
    ("completed_at", "Completed (UTC)"),
)
DECLINED = "Prefer not to say"


@dataclass
class AnswerTable:
    ids: list[str]
    texts: list[str]
    rows: list[list[str]]


def _cell(text: str) -> str:
    """Typed text that starts like a formula is kept as text in Excel (no formula injection)."""
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def _readable(question: Question, answer: Answer | None) -> str:
    if answer is None or answer.status == AnswerStatus.SKIPPED:
        return ""
    if answer.status == AnswerStatus.DECLINED:
        return DECLINED
    value = answer.value
    if question.type is QuestionType.MULTI and isinstance(value, list):
        return "; ".join(question.option_text(choice) for choice in value)
    if question.type is QuestionType.SINGLE and isinstance(value, str):
        return question.option_text(value)
    voice = voice_of(value)
    if voice is not None:
        return f"[voice message, {voice['duration']} s: {voice['file']}]"
    return "" if value is None else _cell(str(value))


def _respondent(run: SurveyRun) -> str:
    # Anonymous runs carry no identity; the pseudonym still pairs a person's anonymous runs.
    if run.participant_id is None:
        return f"anon-{(run.respondent_key or '')[:12]}"
    return str(run.participant_id)


async def answer_table(session: AsyncSession, questionnaire: Questionnaire) -> AnswerTable:
    questions = [q for q in questionnaire.questions if q.type is not QuestionType.INFO]
    runs = await repo.runs_of_questionnaire(session, questionnaire.id)
    answers = await repo.answers_by_run(session, [run.id for run in runs])
    rows = []
    for run in runs:
        by_question = {answer.question_id: answer for answer in answers[run.id]}
        rows.append(
            [
                _respondent(run),
                run.language or "",
                run.status,
                run.started_at.isoformat(timespec="seconds"),
                run.completed_at.isoformat(timespec="seconds") if run.completed_at else "",
                *(_readable(question, by_question.get(question.id)) for question in questions),
            ]
        )
    return AnswerTable(
        ids=[column for column, _ in FIXED_COLUMNS] + [question.id for question in questions],
        texts=[text for _, text in FIXED_COLUMNS] + [question.text for question in questions],
        rows=rows,
    )


def write_csv(table: AnswerTable, path: Path) -> None:
    """Row 1: question ids; row 2: the English question texts; then one row per respondent."""
    with path.open("w", newline="", encoding="utf-8-sig") as output:
        writer = csv.writer(output)
        writer.writerow(table.ids)
        writer.writerow(table.texts)
        writer.writerows(table.rows)


def write_xlsx(table: AnswerTable, path: Path) -> None:
    """Sheet "answers": ids then one row per respondent; sheet "questions": id and English text."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    answers = workbook.create_sheet("answers")
    answers.append(table.ids)
    for row in table.rows:
        answers.append(row)
    questions = workbook.create_sheet("questions")
    questions.append(["id", "text"])
    for column, text in zip(table.ids, table.texts, strict=True):
        questions.append([column, text])
    workbook.save(path)


WRITERS = {"csv": write_csv, "xlsx": write_xlsx}


def formats() -> Sequence[str]:
    return sorted(WRITERS)
