"""`report` as its readers show it: words from the catalogs, the workbook, and the command."""

from __future__ import annotations

import asyncio
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli import main
from bot.core import Core, build_core
from bot.results import (
    Period,
    format_report,
    high_label,
    parse_bound,
    report_notes,
    write_report_xlsx,
)
from bot.settings import load_settings
from storage.models import AuditEntry
from tests.course import T0, FakeClock
from tests.report_data import (
    SAJO_LINES,
    add_run,
    block,
    report_of,
    seed_before_after,
    seed_contacts,
    seed_sajo,
)


async def test_the_report_gives_data_and_its_readers_put_it_into_their_words(
    core: Core,
) -> None:
    """Which answers count as high, and that a period leaves before/after whole, are data;
    the words ("or", the note) come from the catalog of the language that shows them."""
    await seed_before_after(core)
    whole = await report_of(core)
    zone = ZoneInfo("Europe/Copenhagen")
    since = await report_of(core, Period(parse_bound("2026-01-01", zone)))
    assert whole.before_after is not None and since.before_after is not None
    assert whole.before_after.high == ("high", "very_high")
    assert (whole.before_after_ignores_period, since.before_after_ignores_period) == (False, True)
    assert report_notes(whole) == []
    assert report_notes(since) == ["Before and after counts every pair, whatever the dates."]
    assert "Note: Before and after counts every pair, whatever the dates." in format_report(since)
    with core.catalogs.use("da"):
        assert high_label(since.before_after) == "Høj eller meget høj"
        assert report_notes(since) == ["Før og efter tæller alle par, uanset datoerne."]
    with core.catalogs.use("fi"):
        assert high_label(since.before_after) == "Paljon tai erittäin paljon"


async def test_the_workbook_has_a_summary_and_a_sheet_per_end_survey(
    core: Core, tmp_path: Path
) -> None:
    async with core.sessions() as session:
        await seed_sajo(session)
    await seed_contacts(core)
    await seed_before_after(core)
    report = await report_of(core)
    path = tmp_path / "report.xlsx"
    write_report_xlsx(report, path)

    workbook = load_workbook(path, read_only=True)
    assert workbook.sheetnames == ["summary", "mentee_end", "mentor_end", "follow_up"]
    rows = list(workbook["mentee_end"].iter_rows(values_only=True))
    assert rows[0] == ("question_id", "question", "option", "count", "percent", "n", "mean")
    outcomes = [row[2:6] for row in rows if row[0] == "outcomes"]
    text = format_report(report)
    assert outcomes == [
        ("A new job", 14, 34, 41), ("An internship", 5, 12, 41),
        ("Started an education", 5, 12, 41), ("Started my own business", 0, 0, 41),
        ("None of these", 17, 41, 41),
    ]  # fmt: skip
    for option, count, share, _ in outcomes:
        assert any(
            line.split() == [*option.split(), str(count), str(share), "%"]
            for line in text.splitlines()
        )

    summary = list(workbook["summary"].iter_rows(values_only=True))
    by_first = {row[0]: row for row in summary if row and row[0] is not None}
    assert by_first["mentee_end"][:8] == ("mentee_end", 7, 1, 3, 2, 1, 0, 14)
    assert by_first["n (answered both)"][:2] == ("n (answered both)", 4)
    assert by_first["High or very high"][:5] == ("High or very high", 2, 50, 3, 75)
    responses = [row for row in summary if row[0] == "mentee_end" and row[1] == "Looking back"]
    assert responses[0][3:6] == (45, 43, 2)
    workbook.close()


async def test_mean_in_the_workbook(core: Core, tmp_path: Path) -> None:
    async with core.sessions() as session:
        for key, value in [("a", 5), ("b", 4), ("c", 4)]:
            await add_run(session, "mentee_end", {"match_satisfaction": value}, key=key)
        await session.commit()
    path = tmp_path / "report.xlsx"
    write_report_xlsx(await report_of(core), path)
    workbook = load_workbook(path, read_only=True)
    rows = [r for r in workbook["mentee_end"].iter_rows(values_only=True)]
    mean = [r for r in rows if r[0] == "match_satisfaction" and r[2] == "Mean"]
    assert mean == [("match_satisfaction", "How happy are you with your mentor?", "Mean", None,
                     None, 3, 4.33)]  # fmt: skip
    workbook.close()


@pytest.fixture
def cli_database(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'report.db'}")
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args), FakeClock(T0))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_command_prints_the_sajo_table_and_writes_the_workbook(
    cli_database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def seed() -> None:
        core = await build_core(load_settings(), FakeClock(T0))
        try:
            async with core.sessions() as session:
                await seed_sajo(session)
        finally:
            await core.close()

    asyncio.run(seed())
    output = cli_database / "out.xlsx"
    code, out, err = run(capsys, "report", "--programme", "BRIDGE", "--xlsx", str(output))
    assert (code, err) == (0, "")
    assert block(out, SAJO_LINES[0], len(SAJO_LINES)) == SAJO_LINES
    assert out.splitlines()[:2] == [
        "Career Bridge (example programme) (bridge): end-survey results",
        "Period: all dates; answers by the start of their survey, contacts by their due date",
    ]
    assert out.splitlines()[-1] == f"wrote the report to {output}"
    assert output.exists()

    async def audit_log() -> list[tuple[str, str]]:
        core = await build_core(load_settings(), FakeClock(T0))
        try:
            async with core.sessions() as session:
                return [(e.action, e.detail) for e in await session.scalars(select(AuditEntry))]
        finally:
            await core.close()

    ((action, detail),) = asyncio.run(audit_log())
    assert action == "export" and detail.startswith(f"report bridge: xlsx to {output}, by ")


def test_the_command_names_a_bad_argument_in_one_line(
    cli_database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "report", "--programme", "nope") == (
        2, "", "mentorbot: error: --programme: no programme 'nope' (have bridge)\n",
    )  # fmt: skip
    assert run(capsys, "report", "--programme", "bridge", "--from", "2026-13-01") == (
        2, "", "mentorbot: error: --from: '2026-13-01' is not a date like 2026-12-01 or "
        "2026-12-01T09:30\n",
    )  # fmt: skip
    assert run(
        capsys, "report", "--programme", "bridge", "--from", "2026-06-01", "--to", "2026-05-31"
    ) == (2, "", "mentorbot: error: --from must be before --to\n")
    code, _, err = run(
        capsys, "report", "--programme", "bridge", "--xlsx", str(cli_database / "no" / "x.xlsx")
    )
    assert code == 2 and err.startswith("mentorbot: error: --xlsx: the folder")
