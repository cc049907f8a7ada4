"""The results report over 100,000 answers: `bot.report.build_report` and the dashboard's
results page, timed on a SQLite database built in a temporary folder (deleted afterwards).

Run from the repository root (it uses the test helpers, so the dev extras must be installed):

    .venv/bin/python -m benchmarks.report --label "what changed" [--runs 5] [--no-write]

The data: the 100,000 anonymous mentee_end answers of the streamed-CSV test (`many_answers` in
tests/test_dashboard_results.py), and 1,000 pairs (2,000 participants), each person with an
intake and the programme's schedule of contacts in every state: answered, expired with a
partial run, with a run but no answers or with no run, still open, cancelled, not sent yet.
The end surveys are answered named or anonymously at random, an anonymous run found only
through the keys, as the bot stores it; so the mentees' motivation before and after pairs up.

Figures: build_report's median time over --runs runs after a warm-up; its peak Python memory
(tracemalloc, in a run of its own, since tracing slows the code down); the median time of
GET /results through the ASGI app, spoken to with httpx as the dashboard tests do (the
synchronous TestClient would run the app on another event loop than the database engine's).
They are printed and written to BENCHMARKS.md as a row of the results report's table,
replacing a row with the same label.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, insert, select

from bot.clock import SystemClock
from bot.core import Core, build_core
from bot.people import anonymous_occasion, respondent_key
from bot.programmes import Anonymity, Programme, Question, Questionnaire, QuestionType
from bot.results import CLOSED_TYPES, MOTIVATION, Report, build_report
from bot.settings import PROJECT_ROOT, load_settings
from dashboard.app import create_app
from storage.models import (
    Answer,
    AnswerStatus,
    Contact,
    ContactState,
    Participant,
    ParticipantStatus,
    RunStatus,
    SurveyRun,
)
from tests.dashboard import log_in, seed
from tests.test_dashboard_results import bridge_id, many_answers

PAIRS = 1_000
COURSES_FROM = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
# Above the ids many_answers gives its runs (1 to 10,000) and seed() its participant.
FIRST_PARTICIPANT = 100_001
FIRST_RUN = 100_001
BENCHMARKS_MD = PROJECT_ROOT / "BENCHMARKS.md"
BEGIN = "<!-- benchmarks.report: begin -->"
END = "<!-- benchmarks.report: end -->"
HEADER = (
    "| date | code | machine | build_report | peak memory | /results page |\n"
    "| --- | --- | --- | ---: | ---: | ---: |"
)
INTRO = """# Benchmarks

Timings of the slow paths on data of realistic size, to measure a change before and after.
Each benchmark builds its own SQLite database in a temporary folder and deletes it afterwards;
none runs in the test suite. Run one from the repository root with the dev extras installed
(`.venv/bin/pip install -e '.[dev]'`): it prints its figures and writes them as a row of its
table below (a row with the same label is replaced).

Figures compare only on the same machine. Those below were measured on a machine with
{machine}.
"""
SECTION = """
## Results report

`bot.report.build_report` (the `report` command, the dashboard's results page and its
workbook), and the page itself:

    .venv/bin/python -m benchmarks.report --label "what changed"

Options: `--runs N` (default 5), `--no-write` (only print). The data: the 100,000 answers of
10,000 anonymous end surveys that the streamed-CSV test generates
(`tests/test_dashboard_results.py`), and 1,000 mentoring pairs (2,000 people), each with an intake
and the schedule's contacts in every state (11,000) with the runs and answers behind them:
20,417 runs and 130,898 answers in all. `build_report` and the page are medians of the timed
runs after a warm-up; peak memory is Python's (tracemalloc) during one `build_report`.

{begin}
{header}
{end}
"""


def machine() -> str:
    model = ""
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip() + " "
                break
    return (
        f"{os.cpu_count()} cores ({model}{platform.machine()}), Python "
        f"{platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    )


def _value(question: Question, rng: random.Random) -> Any:
    if question.type is QuestionType.SCALE:
        return rng.randint(question.min, question.max)
    choice = rng.choice(question.choice_ids)
    return [choice] if question.type is QuestionType.MULTI else choice


def _closed(questionnaire: Questionnaire) -> list[Question]:
    return [q for q in questionnaire.questions if q.type in CLOSED_TYPES]


def _answered(questionnaire: Questionnaire, count: int) -> list[Question]:
    """The first `count` closed questions, and the motivation asked before and after."""
    closed = _closed(questionnaire)
    return closed[:count] + [q for q in closed[count:] if q.id == MOTIVATION]


def _answers(
    questions: list[Question], run_id: int, at: datetime, rng: random.Random
) -> list[dict[str, Any]]:
    rows = []
    for question in questions:
        declined = rng.random() < 0.05
        rows.append(
            {
                "run_id": run_id,
                "question_id": question.id,
                "value": None if declined else _value(question, rng),
                "status": AnswerStatus.DECLINED if declined else AnswerStatus.ANSWERED,
                "answered_at": at,
            }
        )
    return rows


def _state(rng: random.Random, rule_id: str) -> ContactState:
    if rule_id == "follow_up" and rng.random() < 0.6:
        return ContactState.PLANNED  # six months after the end: mostly still to come
    roll = rng.random()
    if roll < 0.70:
        return ContactState.ANSWERED
    if roll < 0.85:
        return ContactState.EXPIRED
    if roll < 0.92:
        return ContactState.SENT
    if roll < 0.95:
        return ContactState.CANCELLED
    return ContactState.PLANNED


def course_rows(
    core: Core, programme: Programme, programme_id: int
) -> dict[str, list[dict[str, Any]]]:
    """Participants, their intakes, their contacts and the runs and answers behind those."""
    rng = random.Random(2026)
    rows: dict[str, list[dict[str, Any]]] = {
        "participants": [], "runs": [], "answers": [], "contacts": [],
    }  # fmt: skip
    person = FIRST_PARTICIPANT
    run_id = FIRST_RUN
    contact_id = 1
    for pair in range(PAIRS):
        start = COURSES_FROM + timedelta(days=pair % 365)
        end = programme.schedule.course_length.after(start)
        for role in ("mentee", "mentor"):
            rows["participants"].append(
                {
                    "id": person, "channel": "benchmark", "channel_user_id": str(person),
                    "programme_id": programme_id, "role": role,
                    "status": ParticipantStatus.MATCHED, "language": "en",
                }
            )  # fmt: skip
            intake = core.questionnaires[programme.intake[role]]
            enrolled = start - timedelta(days=30)
            rows["runs"].append(
                {
                    "id": run_id, "participant_id": person, "programme_id": programme_id,
                    "language": "en", "questionnaire_id": intake.id,
                    "questionnaire_version": intake.version, "occasion": "intake",
                    "status": RunStatus.COMPLETED, "draft": [], "started_at": enrolled,
                    "completed_at": enrolled,
                }
            )  # fmt: skip
            rows["answers"] += _answers(_answered(intake, 3), run_id, enrolled, rng)
            run_id += 1
            for rule in programme.schedule.rules[role]:
                questionnaire = core.questionnaires[rule.questionnaire]
                due = rule.due(start, end)
                state = _state(rng, rule.id)
                mode = programme.anonymity_of(questionnaire.id)
                anonymous = mode is Anonymity.ANONYMOUS or (
                    mode is Anonymity.RESPONDENT_CHOOSES and rng.random() < 0.5
                )
                status, answered = None, []
                if state == ContactState.ANSWERED:
                    status, answered = RunStatus.COMPLETED, _answered(questionnaire, 3)
                elif state == ContactState.EXPIRED:
                    roll = rng.random()
                    if roll < 0.4:
                        status = RunStatus.PARTIAL
                        answered = _closed(questionnaire)[: rng.randint(1, 2)]
                    elif roll < 0.6:
                        status = RunStatus.IN_PROGRESS  # opened, nothing answered
                elif state == ContactState.SENT and rng.random() < 0.3:
                    status, answered = RunStatus.IN_PROGRESS, _closed(questionnaire)[:1]
                linked = None
                if status is not None:
                    began = due + timedelta(hours=2)
                    rows["runs"].append(
                        {
                            "id": run_id,
                            "participant_id": None if anonymous else person,
                            "respondent_key": (
                                respondent_key(core.secret, person) if anonymous else None
                            ),
                            "programme_id": programme_id,
                            "language": "en",
                            "questionnaire_id": questionnaire.id,
                            "questionnaire_version": questionnaire.version,
                            "occasion": (
                                anonymous_occasion(core.secret, contact_id)
                                if anonymous
                                else f"contact:{contact_id}"
                            ),
                            "status": status,
                            "draft": [],
                            "started_at": began,
                            "completed_at": began if status == RunStatus.COMPLETED else None,
                        }
                    )
                    rows["answers"] += _answers(answered, run_id, began, rng)
                    linked = None if anonymous else run_id
                    run_id += 1
                rows["contacts"].append(
                    {
                        "id": contact_id, "participant_id": person, "rule": rule.id,
                        "questionnaire_id": questionnaire.id, "due_at": due, "state": state,
                        "sent_at": None if state == ContactState.PLANNED else due,
                        "run_id": linked,
                    }
                )  # fmt: skip
                contact_id += 1
            person += 1
    return rows


async def build_data(core: Core) -> dict[str, int]:
    """The whole data set; returns the number of rows per table."""
    await seed(core)
    programme_id = await bridge_id(core)
    await many_answers(core, programme_id)
    rows = course_rows(core, core.programmes["bridge"], programme_id)
    async with core.database.begin() as connection:
        await connection.execute(insert(Participant), rows["participants"])
        await connection.execute(insert(SurveyRun), rows["runs"])
        await connection.execute(insert(Answer), rows["answers"])
        await connection.execute(insert(Contact), rows["contacts"])
    counts = {}
    async with core.sessions() as session:
        for name, model in [
            ("participants", Participant), ("runs", SurveyRun), ("answers", Answer),
            ("contacts", Contact),
        ]:  # fmt: skip
            counts[name] = int(await session.scalar(select(func.count()).select_from(model)) or 0)
    return counts


async def timed(action: Callable[[], Awaitable[object]], runs: int) -> float:
    """The median time of `runs` calls, after one call that warms the caches."""
    await action()
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        await action()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


async def measure(core: Core, runs: int) -> dict[str, float]:
    programme = core.programmes["bridge"]

    async def report() -> Report:
        async with core.sessions() as session:
            return await build_report(session, programme, core.questionnaires, core.secret)

    figures = {"report": await timed(report, runs)}
    tracemalloc.start()
    try:
        await report()
        figures["peak"] = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    transport = httpx.ASGITransport(app=create_app(core))
    async with httpx.AsyncClient(transport=transport, base_url="http://dashboard") as client:
        await log_in(client)

        async def page() -> None:
            response = await client.get("/results")
            if response.status_code != 200 or "n = " not in response.text:
                raise RuntimeError(f"GET /results answered {response.status_code}")

        figures["page"] = await timed(page, runs)
    return figures


def table_row(label: str, figures: dict[str, float]) -> str:
    return (
        f"| {date.today().isoformat()} | {label} | {os.cpu_count()} cores "
        f"| {figures['report']:.2f} s | {figures['peak'] / 2**20:.1f} MiB "
        f"| {figures['page']:.2f} s |"
    )


def write_row(path: Path, label: str, row: str) -> None:
    """Put the row into the results report's table, replacing the row with the same label."""
    text = path.read_text(encoding="utf-8") if path.exists() else INTRO.format(machine=machine())
    if BEGIN not in text:
        text = text.rstrip("\n") + "\n" + SECTION.format(begin=BEGIN, header=HEADER, end=END)
    before, rest = text.split(BEGIN, 1)
    table, after = rest.split(END, 1)
    lines = [line for line in table.strip().splitlines() if line.startswith("|")]
    head, rows = lines[:2], lines[2:]
    labels = [line.split("|")[2].strip() for line in rows]
    if label in labels:
        rows[labels.index(label)] = row
    else:
        rows.append(row)
    path.write_text(
        before + BEGIN + "\n" + "\n".join(head + rows) + "\n" + END + after, encoding="utf-8"
    )


async def main(label: str, runs: int, write: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="mentorbot-benchmark-") as folder:
        settings = load_settings(
            _env_file=None,
            database_url=f"sqlite+aiosqlite:///{Path(folder) / 'benchmark.db'}",
            default_language="en",
            respondent_key_secret="benchmark-secret-not-for-real-use",
            voice_storage_dir=Path(folder) / "voice",
        )
        core = await build_core(settings, SystemClock())
        try:
            began = time.perf_counter()
            counts = await build_data(core)
            print(
                f"data: {', '.join(f'{n:,} {name}' for name, n in counts.items())} "
                f"(built in {time.perf_counter() - began:.0f} s)"
            )
            figures = await measure(core, runs)
        finally:
            await core.close()
    print(
        f"build_report: {figures['report']:.3f} s (median of {runs}); peak memory "
        f"{figures['peak'] / 2**20:.1f} MiB; GET /results: {figures['page']:.3f} s "
        f"(median of {runs})"
    )
    if write:
        write_row(BENCHMARKS_MD, label, table_row(label, figures))
        print(f"wrote the figures to {BENCHMARKS_MD}")


def arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report", description=__doc__)
    parser.add_argument("--label", default="current code", help="names the row in the table")
    parser.add_argument("--runs", type=int, default=5, help="timed runs of each (default 5)")
    parser.add_argument("--no-write", action="store_true", help="only print the figures")
    parsed = parser.parse_args(argv)
    if parsed.runs < 1:
        parser.error("--runs must be at least 1")
    if "|" in parsed.label:
        parser.error("--label cannot contain '|' (it is a table cell)")
    return parsed


if __name__ == "__main__":
    options = arguments(sys.argv[1:])
    asyncio.run(main(options.label, options.runs, not options.no_write))
