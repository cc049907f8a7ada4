"""`export`: one row per respondent, one column per question, readable multi-choice answers."""

from __future__ import annotations

import asyncio
import csv
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli import main
from bot.core import build_core
from bot.language import texts
from bot.settings import load_settings
from storage.models import AuditEntry, Programme
from tests.conversation import EngineChat
from tests.course import T0, FakeClock

DATA = Path(__file__).parent / "data"


def sample_env(monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SURVEYS_DIR", str(DATA / "surveys"))
    monkeypatch.setenv("PROGRAMMES_DIR", str(DATA / "programmes"))
    monkeypatch.setenv("DEFAULT_PROGRAMME", "sample")


async def two_respondents() -> None:
    core = await build_core(load_settings(), FakeClock(T0))
    try:
        done = EngineChat(core, "a")
        await done.start()
        await done.tap("English")
        await done.tap(str(texts.CONSENT_YES))
        await done.tap("Blue")
        await done.tap("Cat")
        await done.tap("Dog")
        await done.tap(str(texts.DONE))
        await done.say("=HYPERLINK(evil)")
        await done.tap(str(texts.SKIP))
        await done.tap(str(texts.PREFER_NOT))
        await done.tap(str(texts.NEXT))
        partial = EngineChat(core, "b")
        await partial.start()
        await partial.tap("Dansk")
        await partial.tap(partial.prompt.keyboard[0][0].label)  # consent "yes" in Danish
        await partial.tap(partial.prompt.keyboard[0][0].label)  # first colour
    finally:
        await core.close()


@pytest.fixture
def exported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    sample_env(monkeypatch, f"sqlite+aiosqlite:///{tmp_path / 'export.db'}")
    asyncio.run(two_respondents())
    return tmp_path


def test_csv_has_ids_then_english_texts_then_one_row_per_respondent(
    exported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = exported / "out.csv"
    assert (
        main(
            ["export", "--survey", "sample", "--format", "csv", "--output", str(output)],
            FakeClock(T0),
        )
        == 0
    )
    assert "wrote 2 respondents" in capsys.readouterr().out
    with output.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    ids, english, first, second = rows
    assert ids[5:] == ["colour", "pets", "dog_name", "age", "mood"]
    assert english[5:] == [
        "Which colour do you like?",
        "Which pets do you have?",
        "What is your dog called?",
        "How old are you?",
        "How do you feel?",
    ]
    record = dict(zip(ids, first, strict=True))
    assert record["language"] == "en" and record["status"] == "completed"
    assert record["colour"] == "Blue"
    assert record["pets"] == "Cat; Dog"
    assert record["dog_name"] == "'=HYPERLINK(evil)"  # never run as a formula in Excel
    assert record["age"] == ""  # skipped
    assert record["mood"] == "Prefer not to say"
    partial = dict(zip(ids, second, strict=True))
    assert partial["status"] == "in_progress" and partial["language"] == "da"
    assert partial["colour"] == "Red" and partial["pets"] == ""


def test_every_export_is_in_the_audit_log(exported: Path) -> None:
    for kind in ("csv", "xlsx"):
        output = exported / f"out.{kind}"
        assert (
            main(
                ["export", "--survey", "sample", "--format", kind, "--output", str(output)],
                FakeClock(T0),
            )
            == 0
        )
    entries = asyncio.run(audit_entries())
    programmes = asyncio.run(programme_ids())
    # The file holds every programme's answers: each programme's log has the export.
    assert [(e.action, e.coordinator_id) for e in entries] == [("export", None)] * (
        2 * len(programmes)
    )
    assert [e.programme_id for e in entries] == sorted(programmes) * 2
    assert entries[0].detail.startswith(
        f"sample: every programme's answers as csv to {exported / 'out.csv'}, by "
    )
    assert entries[-1].detail.endswith(" at the command line")


async def programme_ids() -> list[int]:
    core = await build_core(load_settings(), FakeClock(T0))
    try:
        async with core.sessions() as session:
            return list(await session.scalars(select(Programme.id)))
    finally:
        await core.close()


async def audit_entries() -> list[AuditEntry]:
    core = await build_core(load_settings(), FakeClock(T0))
    try:
        async with core.sessions() as session:
            return list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    finally:
        await core.close()


def test_xlsx_has_answers_sheet_and_questions_sheet(exported: Path) -> None:
    output = exported / "out.xlsx"
    assert (
        main(
            ["export", "--survey", "sample", "--format", "xlsx", "--output", str(output)],
            FakeClock(T0),
        )
        == 0
    )
    workbook = load_workbook(output, read_only=True)
    answers = [list(row) for row in workbook["answers"].iter_rows(values_only=True)]
    questions = dict(list(workbook["questions"].iter_rows(values_only=True))[1:])
    assert len(answers) == 3
    record = dict(zip(answers[0], answers[1], strict=True))
    assert record["pets"] == "Cat; Dog" and record["colour"] == "Blue"
    assert questions["pets"] == "Which pets do you have?"
    workbook.close()


def test_unknown_survey_is_a_clear_error(
    exported: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["export", "--survey", "nope", "--format", "csv", "--output", "x.csv"], FakeClock(T0)
    )
    assert code == 2
    assert capsys.readouterr().err.strip() == (
        "mentorbot: error: --survey: no questionnaire 'nope' (have sample)"
    )
