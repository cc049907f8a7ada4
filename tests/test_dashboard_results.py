"""Results and exports in the dashboard: the report's tables and bar charts, the period, the
downloads (streamed, logged, anonymous rows without identity) and that another programme's
results and answers are "not found"."""

from __future__ import annotations

import csv
import io
import tempfile
import time
from datetime import UTC, datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import event, insert, select

import bot.results.export as export
from bot.core import Core
from bot.results import WIDTH, Group, Value, bar_chart
from storage import repositories as repo
from storage.models import Answer, AnswerStatus, AuditEntry, SurveyRun
from tests.dashboard import EVIL, Client, log_in, seed
from tests.test_report import add_person, add_run, seed_before_after, seed_sajo

SAJO_ROWS = [
    ["A new job", "14", "37 %"],
    ["An internship", "4", "11 %"],
    ["Started an education", "5", "13 %"],
    ["Started my own business", "0", "0 %"],
    ["None of these", "15", "39 %"],
]


class Page(HTMLParser):
    """The tables (by id: rows of cell texts) and the SVG charts (their attributes and the
    number of bars) of a page."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.charts: list[dict[str, Any]] = []
        self._table: str | None = None
        self._cell: list[str] | None = None
        self._svg: dict[str, Any] | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self._table = found.get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self.tables[self._table].append([])
        elif tag in {"th", "td"} and self._table is not None:
            self._cell = []
        elif tag == "svg":
            self._svg = {**found, "bars": 0}
            self.charts.append(self._svg)
        elif tag == "rect" and self._svg is not None:
            self._svg["bars"] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._table = None
        elif tag in {"th", "td"} and self._table is not None and self._cell is not None:
            self.tables[self._table][-1].append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "svg":
            self._svg = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


async def bridge_id(core: Core) -> int:
    async with core.sessions() as session:
        row = await repo.programme_by_code(session, "bridge")
        assert row is not None
        return row.id


async def test_the_sajo_outcomes_show_as_in_the_report_with_a_bar_chart(
    core: Core, client: Client
) -> None:
    await seed(core)
    async with core.sessions() as session:
        await seed_sajo(session)
    await log_in(client)
    response = await client.get("/results")
    assert response.status_code == 200
    page = Page(response.text)
    table = page.tables["q-mentee_end-outcomes"]
    assert table[0] == ["Answer option", "Count", "Percent"]
    assert table[1:] == SAJO_ROWS
    assert "n = 38; several answers allowed" in response.text
    assert "38 responses: 38 completed, 0 partial." in response.text
    outcomes = next(c for c in page.charts if "What has happened" in c["aria-label"])
    assert outcomes["role"] == "img" and outcomes["bars"] == 5
    assert outcomes["aria-label"] == (
        "Bar chart of “What has happened since you got a mentor?”. A new job: 14 (37 %); "
        "An internship: 4 (11 %); Started an education: 5 (13 %); "
        "Started my own business: 0 (0 %); None of these: 15 (39 %)"
    )
    # Only questions with answers get a chart, and every chart has its text alternative.
    assert all(c["role"] == "img" and c["aria-label"] for c in page.charts)
    assert len(page.charts) == 1


async def test_before_and_after_motivation_is_a_table_and_paired_bars(
    core: Core, client: Client
) -> None:
    await seed(core)
    await seed_before_after(core)
    await log_in(client)
    page = Page((await client.get("/results")).text)
    assert page.tables["before-after-table"][1:] == [
        ["Very high", "1", "25 %", "1", "25 %"],
        ["High", "1", "25 %", "2", "50 %"],
        ["Medium", "1", "25 %", "1", "25 %"],
        ["Low", "1", "25 %", "0", "0 %"],
        ["Very low", "0", "0 %", "0", "0 %"],
        ["High or very high", "2", "50 %", "3", "75 %"],
    ]
    paired = next(c for c in page.charts if "chart-paired" in c["class"])
    assert paired["role"] == "img" and paired["bars"] == 12  # before and after for 6 rows
    assert paired["aria-label"].startswith("Paired bar chart, before and after. Very high: ")
    assert "High or very high: Before 2 (50 %) and After 3 (75 %)" in paired["aria-label"]


async def test_an_answer_id_with_markup_shows_as_text(core: Core, client: Client) -> None:
    await seed(core)
    async with core.sessions() as session:  # an option removed since, with a hostile id
        await add_run(session, "mentee_end", {"outcomes": [EVIL]}, key="x")
        await session.commit()
    await log_in(client)
    response = await client.get("/results")
    assert EVIL not in response.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in response.text
    page = Page(response.text)
    assert [EVIL, "1", "100 %"] in page.tables["q-mentee_end-outcomes"]
    assert EVIL + ": 1 (100 %)" in page.charts[0]["aria-label"]


async def test_response_rates_and_scale_means_are_shown(core: Core, client: Client) -> None:
    await seed(core)
    async with core.sessions() as session:
        for key, value in [("a", 5), ("b", 4), ("c", 4), ("d", 1)]:
            await add_run(session, "mentee_end", {"match_satisfaction": value}, key=key)
        await session.commit()
    await log_in(client)
    response = await client.get("/results")
    page = Page(response.text)
    assert page.tables["q-mentee_end-match_satisfaction"][1:] == [
        ["1 (Not happy)", "1", "25 %"], ["2", "0", "0 %"], ["3", "0", "0 %"],
        ["4", "2", "50 %"], ["5 (Very happy)", "1", "25 %"],
    ]  # fmt: skip
    assert "Mean 3.5 (n = 4)" in response.text
    rates = page.tables["response-rates"]
    assert rates[0] == [
        "Questionnaire", "Sent", "Answered", "Partial", "Expired, no answers", "Still open",
        "Cancelled", "Answered %",
    ]  # fmt: skip
    assert len(rates) == 7 and all(row[1:7] == ["0"] * 6 for row in rates[1:])


async def test_the_period_counts_runs_by_their_start(core: Core, client: Client) -> None:
    await seed(core)
    async with core.sessions() as session:
        await add_run(session, "mentee_end", {"outcomes": ["none"]}, key="old",
                      started_at=datetime(2025, 12, 31, 22, 59, tzinfo=UTC))  # fmt: skip
        await add_run(session, "mentee_end", {"outcomes": ["new_job"]}, key="new",
                      started_at=datetime(2025, 12, 31, 23, 0, tzinfo=UTC))  # fmt: skip
        await session.commit()
    await log_in(client)
    response = await client.get("/results", params={"from": "2026-01-01", "to": ""})
    page = Page(response.text)
    assert page.tables["q-mentee_end-outcomes"][1] == ["A new job", "1", "100 %"]
    assert page.tables["q-mentee_end-outcomes"][5] == ["None of these", "0", "0 %"]
    assert 'value="2026-01-01"' in response.text
    assert "/results/report.xlsx?programme=" in response.text
    assert "&amp;from=2026-01-01" in response.text
    wrong = await client.get("/results", params={"from": "2026-13-01"})
    assert wrong.status_code == 400 and "Give dates like 2026-12-01." in wrong.text
    backwards = await client.get("/results", params={"from": "2026-02-01", "to": "2026-01-01"})
    assert backwards.status_code == 400


async def test_another_programmes_results_and_exports_are_not_found(
    core: Core, client: Client
) -> None:
    await seed(core)
    async with core.sessions() as session:
        elsewhere = await repo.programme_by_code(session, "elsewhere")
        assert elsewhere is not None
        theirs = elsewhere.id
    await log_in(client)
    for path in (
        f"/results?programme={theirs}",
        f"/results/report.xlsx?programme={theirs}",
        f"/results/export.csv?survey=mentee_end&programme={theirs}",
        f"/results/export.xlsx?survey=mentee_end&programme={theirs}",
        "/results/export.csv?survey=no_such_survey",
    ):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert "Not found." in response.text
    await log_in(client, "Otto")  # and the other way round
    mine = await bridge_id(core)
    for path in (
        f"/results?programme={mine}",
        f"/results/export.csv?survey=mentee_end&programme={mine}",
    ):
        assert (await client.get(path)).status_code == 404, path


async def test_a_programme_without_questionnaires_says_so(core: Core, client: Client) -> None:
    await seed(core)
    await log_in(client, "Otto")  # "elsewhere" is in the database but has no programme file
    response = await client.get("/results")
    assert response.status_code == 200
    assert "This programme has no questionnaires set up yet." in response.text
    assert (await client.get("/results/report.xlsx")).status_code == 404


async def test_results_and_downloads_need_a_log_in(core: Core, client: Client) -> None:
    await seed(core)
    for path in (
        "/results",
        "/results/report.xlsx",
        "/results/export.csv?survey=mentee_end",
        "/results/export.xlsx?survey=mentee_end",
    ):
        response = await client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")


async def named_and_anonymous(core: Core) -> int:
    """A named mentee_end run of a participant, an anonymous one, and one in "elsewhere"."""
    async with core.sessions() as session:
        person = await add_person(session, "named")
        await add_run(session, "mentee_end", {"outcomes": ["new_job"], "best": "=1+1"},
                      participant=person.id, occasion="end")  # fmt: skip
        await add_run(session, "mentee_end", {"outcomes": ["none"]}, key="secretkey0123456789")
        elsewhere = await repo.programme_by_code(session, "elsewhere")
        assert elsewhere is not None
        session.add(
            SurveyRun(programme_id=elsewhere.id, questionnaire_id="mentee_end",
                      questionnaire_version=1, respondent_key="theirs", status="completed")
        )  # fmt: skip
        await session.commit()
        return person.id


async def test_the_exports_hold_only_my_programmes_answers_and_no_anonymous_identity(
    core: Core, client: Client, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    await seed(core)
    person = await named_and_anonymous(core)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    await log_in(client)
    response = await client.get("/results/export.csv", params={"survey": "mentee_end"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert 'filename="mentee_end-answers.csv"' in response.headers["content-disposition"]
    assert response.content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    ids, texts, named, anonymous = rows  # "elsewhere"'s run is not there
    assert ids == export.header(core.questionnaires["mentee_end"])[0]
    assert texts[0].startswith("Respondent")
    assert dict(zip(ids, named, strict=True))["respondent"] == str(person)
    assert dict(zip(ids, named, strict=True))["best"] == "'=1+1"
    assert dict(zip(ids, anonymous, strict=True))["respondent"] == "anon-secretkey012"
    assert dict(zip(ids, anonymous, strict=True))["outcomes"] == "None of these"

    workbook_response = await client.get(
        "/results/export.xlsx", params={"survey": "mentee_end", "programme": await bridge_id(core)}
    )
    assert workbook_response.status_code == 200
    workbook = load_workbook(io.BytesIO(workbook_response.content), read_only=True)
    sheet = [list(row) for row in workbook["answers"].iter_rows(values_only=True)]
    assert sheet[0] == ids
    assert [row[0] for row in sheet[1:]] == [str(person), "anon-secretkey012"]
    assert dict(zip(ids, sheet[1], strict=True))["outcomes"] == "A new job"
    workbook.close()
    assert list(scratch.iterdir()) == []  # the temporary file is deleted once sent


async def test_the_report_workbook_has_the_sajo_table(core: Core, client: Client) -> None:
    await seed(core)
    async with core.sessions() as session:
        await seed_sajo(session)
    await log_in(client)
    response = await client.get("/results/report.xlsx", params={"from": "2026-01-01"})
    assert response.status_code == 200
    assert 'filename="report-bridge.xlsx"' in response.headers["content-disposition"]
    workbook = load_workbook(io.BytesIO(response.content), read_only=True)
    rows = [list(row) for row in workbook["mentee_end"].iter_rows(values_only=True)]
    outcomes = [(row[2], row[3], row[4]) for row in rows if row[0] == "outcomes"]
    assert outcomes == [
        ("A new job", 14, 37), ("An internship", 4, 11), ("Started an education", 5, 13),
        ("Started my own business", 0, 0), ("None of these", 15, 39),
    ]  # fmt: skip
    workbook.close()


async def test_every_download_is_in_the_audit_log(core: Core, client: Client) -> None:
    ids = await seed(core)
    await log_in(client)
    await client.get("/results")
    for path in (
        "/results/export.csv?survey=mentee_end",
        "/results/export.xlsx?survey=mentee_intake",
        "/results/report.xlsx",
    ):
        assert (await client.get(path)).status_code == 200
    async with core.sessions() as session:
        entries = list(
            await session.scalars(
                select(AuditEntry).where(AuditEntry.action == "export").order_by(AuditEntry.id)
            )
        )
    assert [(e.coordinator_id, e.detail) for e in entries] == [
        (ids["Sara"], "web: mentee_end answers as csv, programme bridge"),
        (ids["Sara"], "web: mentee_intake answers as xlsx, 0 respondents, programme bridge"),
        (ids["Sara"], "web: report bridge as xlsx, all dates"),
    ]


# The 100,000 answers: 10,000 anonymous mentee_end runs with 10 answers each.
RUNS = 10_000
BIG_ANSWERS = {
    "outcomes": ["new_job", "internship"],
    "job_uses_education": "partly",
    "programme_helped_job": 4,
    "more_motivated_work": "yes",
    "closer_to_job": "no",
    "areas": ["cv", "network"],
    "match_satisfaction": 5,
    "motivation": "high",
    "recommend": "yes",
    "best": "the talks",
}


async def many_answers(core: Core, programme_id: int) -> None:
    """Bulk inserts (SQLAlchemy core, many rows per statement): fast enough for every run."""
    started = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    runs = [
        {
            "id": number, "participant_id": None, "respondent_key": f"key{number:09d}",
            "programme_id": programme_id, "language": "en", "questionnaire_id": "mentee_end",
            "questionnaire_version": 1, "occasion": f"end:{number}", "status": "completed",
            "draft": [], "started_at": started, "completed_at": started,
        }
        for number in range(1, RUNS + 1)
    ]  # fmt: skip
    answers = [
        {
            "run_id": number,
            "question_id": question,
            "value": None if declined else value,
            "status": AnswerStatus.DECLINED if declined else AnswerStatus.ANSWERED,
            "answered_at": started,
        }
        for number in range(1, RUNS + 1)
        for question, value in BIG_ANSWERS.items()
        for declined in [question == "motivation" and number % 7 == 0]
    ]
    async with core.database.begin() as connection:
        await connection.execute(insert(SurveyRun), runs)
        await connection.execute(insert(Answer), answers)


async def test_100000_answers_download_as_a_streamed_csv(core: Core, client: Client) -> None:
    await seed(core)
    began = time.monotonic()
    await many_answers(core, await bridge_id(core))
    await log_in(client)
    response = await client.get("/results/export.csv", params={"survey": "mentee_end"})
    assert response.status_code == 200
    assert "content-length" not in response.headers  # streamed, not built before sending
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 2 + RUNS
    ids = rows[0]
    first = dict(zip(ids, rows[2], strict=True))
    assert first["respondent"] == "anon-key000000001"
    assert first["outcomes"] == "A new job; An internship"
    assert first["job_uses_education"] == "Partly"
    assert first["programme_helped_job"] == "4"
    assert first["best"] == "the talks"
    assert first["motivation"] == "High"
    seventh = dict(zip(ids, rows[1 + 7], strict=True))
    assert seventh["respondent"] == "anon-key000000007"
    assert seventh["motivation"] == "Prefer not to say"
    last = dict(zip(ids, rows[-1], strict=True))
    assert (
        last["respondent"] == f"anon-key{RUNS:09d}"[:17]
        and last["areas"] == "CV and job applications; Network and contacts"
    )
    assert sum(1 for row in rows[2:] for cell in row[5:] if cell) == 10 * RUNS
    assert time.monotonic() - began < 30  # generous: about 5 s on SQLite on a laptop


async def test_the_export_reads_one_batch_of_runs_and_answers_at_a_time(core: Core) -> None:
    await seed(core)
    async with core.sessions() as session:
        for number in range(10):
            await add_run(session, "mentee_end", {"outcomes": ["none"], "recommend": "yes"},
                          key=f"k{number}")  # fmt: skip
        await session.commit()
    statements: list[tuple[str, int]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_rest: Any) -> None:
        if "FROM answers" in statement or "FROM survey_runs" in statement:
            statements.append((statement, len(parameters or ())))

    event.listen(core.database.sync_engine, "before_cursor_execute", record)
    try:
        async with core.sessions() as session:
            batches = export.answer_batches(session, core.questionnaires["mentee_end"], None, 3)
            sizes = []
            async for batch in batches:
                sizes.append(len(batch))
                # Nothing is read ahead: two round trips per batch so far (runs, their answers).
                assert len(statements) == 2 * len(sizes)
                answers_query, bound = statements[-1]
                assert "FROM answers" in answers_query and bound == len(batch) <= 3
    finally:
        event.remove(core.database.sync_engine, "before_cursor_execute", record)
    assert sizes == [3, 3, 3, 1]


def test_bars_are_as_long_as_their_percent_and_paired_bars_are_labelled() -> None:
    chart = bar_chart(
        [Group("All", (Value("4 (100 %)", 100),)), Group("Half", (Value("2 (50 %)", 50),)),
         Group("None", (Value("0 (0 %)", 0),)), Group("n/a", (Value("0", None),))]
    )  # fmt: skip
    widths = [bar.width for bar in chart.bars]
    assert widths[0] == 2 * widths[1] and widths[2] == widths[3] == 0
    assert max(bar.x + bar.width for bar in chart.bars) <= WIDTH
    assert chart.summary == "All: 4 (100 %); Half: 2 (50 %); None: 0 (0 %); n/a: 0"
    assert not chart.paired and chart.height > 4 * 32
    paired = bar_chart([Group("High", (Value("1", 25, "Before"), Value("2", 50, "After")))])
    assert paired.paired and [bar.series for bar in paired.bars] == [0, 1]
    assert [t.text for t in paired.texts if t.kind == "series"] == ["Before", "After"]
    assert paired.bars[0].x > 0  # room for the series names left of the bars
