"""`report`: end-survey tables, response rates and before/after, as text and as a workbook."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import main
from bot.core import Core, build_core
from bot.people import anonymous_occasion, respondent_key
from bot.results import (
    Period,
    Report,
    build_report,
    format_report,
    high_label,
    parse_bound,
    percent,
    report_notes,
    write_report_xlsx,
)
from bot.settings import load_settings
from storage import repositories as repo
from storage.models import (
    Answer,
    AnswerStatus,
    AuditEntry,
    Contact,
    ContactState,
    Participant,
    ParticipantStatus,
    RunStatus,
    SurveyRun,
)

T0 = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
SAJO = [("new_job", 14), ("internship", 4), ("education", 5), ("own_business", 0), ("none", 15)]
SAJO_LINES = [
    "What has happened since you got a mentor?",
    "  outcomes, several answers allowed; n = 38",
    "  answer                   count  percent",
    "  A new job                   14     37 %",
    "  An internship                4     11 %",
    "  Started an education         5     13 %",
    "  Started my own business      0      0 %",
    "  None of these               15     39 %",
]


async def programme_id(session: AsyncSession, code: str = "bridge") -> int:
    row = await repo.programme_by_code(session, code)
    assert row is not None
    return row.id


async def add_run(
    session: AsyncSession,
    questionnaire_id: str,
    answers: dict[str, Any],
    *,
    participant: int | None = None,
    key: str | None = None,
    occasion: str | None = None,
    status: RunStatus = RunStatus.COMPLETED,
    started_at: datetime = T0,
) -> SurveyRun:
    """A run stored directly; an answer given as an AnswerStatus is skipped or declined."""
    run = SurveyRun(
        participant_id=participant,
        respondent_key=key,
        programme_id=await programme_id(session),
        language="en",
        questionnaire_id=questionnaire_id,
        questionnaire_version=1,
        occasion=occasion or f"test:{participant}:{key}",
        status=status,
        draft=[],
        started_at=started_at,
        completed_at=started_at if status == RunStatus.COMPLETED else None,
    )
    session.add(run)
    await session.flush()
    for question_id, value in answers.items():
        given = isinstance(value, AnswerStatus)
        session.add(
            Answer(
                run_id=run.id,
                question_id=question_id,
                value=None if given else value,
                status=value if given else AnswerStatus.ANSWERED,
            )
        )
    await session.flush()
    return run


async def add_person(session: AsyncSession, name: str, role: str = "mentee") -> Participant:
    person = Participant(
        channel="test",
        channel_user_id=name,
        programme_id=await programme_id(session),
        role=role,
        language="en",
        status=ParticipantStatus.MATCHED,
    )
    session.add(person)
    await session.flush()
    return person


async def seed_sajo(session: AsyncSession) -> None:
    """38 completed mentee end surveys, each naming one outcome (anonymous: no participant)."""
    number = 0
    for outcome, count in SAJO:
        for _ in range(count):
            number += 1
            await add_run(session, "mentee_end", {"outcomes": [outcome]}, key=f"sajo-{number}")
    await session.commit()


async def report_of(core: Core, period: Period | None = None) -> Report:
    async with core.sessions() as session:
        bridge = core.programmes["bridge"]
        return await build_report(
            session, bridge, core.questionnaires, core.secret, period or Period()
        )


def block(text: str, first_line: str, length: int) -> list[str]:
    lines = text.splitlines()
    start = lines.index(first_line)
    return lines[start : start + length]


async def test_sajo_end_survey_percentages_of_38_respondents(core: Core) -> None:
    async with core.sessions() as session:
        await seed_sajo(session)
    report = await report_of(core)
    text = format_report(report)
    assert block(text, SAJO_LINES[0], len(SAJO_LINES)) == SAJO_LINES
    assert (
        "== mentee_end: Looking back (named or anonymous as each person chose, totals only) =="
        in (text)
    )
    assert "38 responses: 38 completed, 0 partial" in text
    outcomes = report.questionnaires[0].questions[0]
    assert [(o.option_id, o.count, o.percent) for o in outcomes.options] == [
        ("new_job", 14, 37), ("internship", 4, 11), ("education", 5, 13),
        ("own_business", 0, 0), ("none", 15, 39),
    ]  # fmt: skip
    # Anonymous answers are reported as totals only: no respondent key or id in the text.
    assert "sajo-" not in text


def test_percent_is_whole_and_rounded_half_up() -> None:
    assert [percent(1, 8), percent(3, 8), percent(0, 5), percent(2, 3)] == [13, 38, 0, 67]
    assert percent(1, 0) is None


async def test_multi_choice_percent_is_of_the_respondents_to_that_question(core: Core) -> None:
    async with core.sessions() as session:
        await add_run(session, "mentee_end", {"outcomes": ["new_job", "internship"]}, key="a")
        await add_run(session, "mentee_end", {"outcomes": ["new_job"]}, key="b")
        await add_run(session, "mentee_end", {"outcomes": ["internship", "education"]}, key="c")
        await add_run(session, "mentee_end", {"outcomes": ["none"]}, key="d")
        # Not a respondent to `outcomes`: declined it, or stopped before it (partial).
        await add_run(session, "mentee_end", {"outcomes": AnswerStatus.DECLINED}, key="e")
        await add_run(session, "mentee_end", {}, key="f", status=RunStatus.PARTIAL)
        # Still answering: not counted at all.
        await add_run(session, "mentee_end", {"outcomes": ["none"]}, key="g", status="in_progress")
        await session.commit()
    report = await report_of(core)
    end = report.questionnaires[0]
    assert (end.completed, end.partial) == (5, 1)
    outcomes = end.questions[0]
    assert outcomes.respondents == 4 and outcomes.declined == 1
    assert {o.option_id: (o.count, o.percent) for o in outcomes.options} == {
        "new_job": (2, 50), "internship": (2, 50), "education": (1, 25),
        "own_business": (0, 0), "none": (1, 25),
    }  # fmt: skip
    assert sum(o.percent or 0 for o in outcomes.options) == 150
    assert block(format_report(report), "What has happened since you got a mentor?", 9)[1:] == [
        "  outcomes, several answers allowed; n = 4",
        "  answer                   count  percent",
        "  A new job                    2     50 %",
        "  An internship                2     50 %",
        "  Started an education         1     25 %",
        "  Started my own business      0      0 %",
        "  None of these                1     25 %",
        "  Prefer not to say            1",
    ]


async def test_scale_mean_and_counts_leave_out_prefer_not_to_say(core: Core) -> None:
    async with core.sessions() as session:
        for key, value in [("a", 5), ("b", 4), ("c", 4), ("d", 1)]:
            await add_run(session, "mentee_end", {"match_satisfaction": value}, key=key)
        await add_run(session, "mentee_end", {"match_satisfaction": AnswerStatus.DECLINED}, key="e")
        await session.commit()
    report = await report_of(core)
    satisfaction = next(
        q for q in report.questionnaires[0].questions if q.question_id == "match_satisfaction"
    )
    assert satisfaction.respondents == 4
    assert satisfaction.mean == 3.5
    assert [o.count for o in satisfaction.options] == [1, 0, 0, 2, 1]
    assert block(format_report(report), "How happy are you with your mentor?", 10)[1:] == [
        "  match_satisfaction; n = 4",
        "  answer             count  percent",
        "  1 (Not happy)          1     25 %",
        "  2                      0      0 %",
        "  3                      0      0 %",
        "  4                      2     50 %",
        "  5 (Very happy)         1     25 %",
        "  Prefer not to say      1",
        "  mean 3.5 (n = 4)",
    ]


async def seed_contacts(core: Core) -> None:
    """mentee_end contacts in every state; one checkin_mentee answered; one due long before."""
    async with core.sessions() as session:
        people = [await add_person(session, f"p{i}") for i in range(8)]

        def contact(person: Participant, state: ContactState, **fields: Any) -> Contact:
            row = Contact(
                participant_id=person.id,
                rule=fields.pop("rule", "end"),
                questionnaire_id=fields.pop("questionnaire", "mentee_end"),
                due_at=fields.pop("due_at", T0),
                state=state,
                sent_at=fields.pop("sent_at", T0),
                **fields,
            )
            session.add(row)
            return row

        answered = contact(people[0], ContactState.ANSWERED)
        partial = contact(people[1], ContactState.EXPIRED)
        started = contact(people[2], ContactState.EXPIRED)
        contact(people[3], ContactState.EXPIRED)  # no run at all
        contact(people[4], ContactState.SENT)  # still open
        contact(people[5], ContactState.PLANNED, sent_at=None)  # not sent yet
        contact(people[6], ContactState.EXPIRED, sent_at=None)  # missed, never sent
        anonymous = contact(people[7], ContactState.EXPIRED)
        contact(people[0], ContactState.ANSWERED, questionnaire="checkin_mentee", rule="checkin_1")
        contact(people[1], ContactState.EXPIRED, due_at=T0 - timedelta(days=400))
        await session.flush()
        for row, status, answers in [
            (answered, RunStatus.COMPLETED, {"outcomes": ["none"]}),
            (partial, RunStatus.PARTIAL, {"outcomes": ["none"]}),
            (started, RunStatus.IN_PROGRESS, {"outcomes": ["new_job"]}),
        ]:
            run = await add_run(
                session,
                "mentee_end",
                answers,
                participant=row.participant_id,
                occasion=f"contact:{row.id}",
                status=status,
            )
            row.run_id = run.id
        # An anonymous run is not linked from its contact; only the keys find it.
        await add_run(
            session,
            "mentee_end",
            {"outcomes": ["internship"]},
            key=respondent_key(core.secret, people[7].id),
            occasion=anonymous_occasion(core.secret, anonymous.id),
            status=RunStatus.PARTIAL,
        )
        await session.commit()


async def test_response_rates_count_sent_answered_partial_expired(core: Core) -> None:
    await seed_contacts(core)
    report = await report_of(core)
    rates = {rate.questionnaire_id: rate for rate in report.response_rates}
    assert list(rates) == [
        "first_meeting", "checkin_mentee", "mentee_end", "follow_up", "checkin_mentor",
        "mentor_end",
    ]  # fmt: skip
    end = rates["mentee_end"]
    assert (end.sent, end.answered, end.partial, end.expired, end.open, end.cancelled) == (
        7, 1, 3, 2, 1, 0,
    )  # fmt: skip
    assert end.answered_percent == 14
    assert (rates["checkin_mentee"].sent, rates["checkin_mentee"].answered) == (1, 1)
    assert rates["follow_up"].sent == 0 and rates["follow_up"].answered_percent is None
    lines = block(format_report(report), "== Response rates ==", 9)
    assert lines[2:5] == [
        "  questionnaire   sent  answered  partial  expired, no answers  open  cancelled  "
        "answered %",
        "  first_meeting      0         0        0                    0     0          0",
        "  checkin_mentee     1         1        0                    0     0          0  "
        "     100 %",
    ]
    assert lines[5] == (
        "  mentee_end         7         1        3                    2     1          0  "
        "      14 %"
    )

    # --from/--to: contacts by their due date (the one due 400 days before drops out).
    zone = ZoneInfo("Europe/Copenhagen")
    period = Period(parse_bound("2026-01-01", zone), parse_bound("2026-06-01", zone, end=True))
    end = {rate.questionnaire_id: rate for rate in (await report_of(core, period)).response_rates}[
        "mentee_end"
    ]
    assert (end.sent, end.expired) == (6, 1)


async def test_answers_count_per_respondent_however_many_give_the_same(core: Core) -> None:
    """The database counts equal answers together; the figures are still those of counting
    person by person: a choice given twice in one answer counts once, an empty answer nowhere,
    skipped and "Prefer not to say" on lines of their own, options removed since at the end."""
    async with core.sessions() as session:
        for key, outcomes, satisfaction in [
            ("a", ["new_job", "new_job", "internship"], 5),
            ("b", ["new_job"], 5),
            ("c", ["new_job"], 5),
            ("d", ["retired_option"], 2),
            ("e", [], AnswerStatus.SKIPPED),
            ("f", AnswerStatus.SKIPPED, AnswerStatus.DECLINED),
            ("g", AnswerStatus.DECLINED, AnswerStatus.SKIPPED),
        ]:
            answers = {"outcomes": outcomes, "match_satisfaction": satisfaction, "gone": "yes"}
            await add_run(session, "mentee_end", answers, key=key)
        for key, status in [("h", RunStatus.PARTIAL), ("i", RunStatus.IN_PROGRESS)]:
            answers = {"outcomes": ["none"], "match_satisfaction": 1}
            await add_run(session, "mentee_end", answers, key=key, status=status)
        await session.commit()
    end = (await report_of(core)).questionnaires[0]
    assert (end.completed, end.partial) == (7, 1)
    assert "gone" not in [question.question_id for question in end.questions]
    outcomes = end.questions[0]
    assert (outcomes.respondents, outcomes.declined, outcomes.skipped) == (5, 1, 1)
    assert [(o.option_id, o.text, o.count, o.percent) for o in outcomes.options] == [
        ("new_job", "A new job", 3, 60), ("internship", "An internship", 1, 20),
        ("education", "Started an education", 0, 0),
        ("own_business", "Started my own business", 0, 0), ("none", "None of these", 1, 20),
        ("retired_option", "retired_option", 1, 20),
    ]  # fmt: skip
    satisfaction = next(q for q in end.questions if q.question_id == "match_satisfaction")
    assert (satisfaction.respondents, satisfaction.declined, satisfaction.skipped) == (5, 1, 2)
    assert [o.count for o in satisfaction.options] == [1, 1, 0, 0, 3]
    assert satisfaction.mean == 18 / 5


async def test_an_expired_contact_is_partial_if_its_own_run_has_answers_or_is_partial(
    core: Core, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Expired contacts' runs are looked up all at once: named ones by their link, anonymous
    ones by key, questionnaire and occasion together; two per query here, so that lists longer
    than a query takes are tested too."""
    monkeypatch.setattr(repo, "IN_BATCH", 2)
    async with core.sessions() as session:
        people = [await add_person(session, f"x{number}") for number in range(7)]
        contacts = [
            Contact(
                participant_id=person.id, rule="end", questionnaire_id="mentee_end", due_at=T0,
                state=ContactState.EXPIRED, sent_at=T0,
            )
            for person in people
        ]  # fmt: skip
        session.add_all(contacts)
        await session.flush()

        async def named(number: int, answers: dict[str, Any], status: RunStatus) -> None:
            run = await add_run(
                session, "mentee_end", answers, participant=people[number].id,
                occasion=f"contact:{contacts[number].id}", status=status,
            )  # fmt: skip
            contacts[number].run_id = run.id

        async def anonymous(
            person: int, contact_id: int, answers: dict[str, Any], status: RunStatus
        ) -> None:
            await add_run(
                session, "mentee_end", answers, key=respondent_key(core.secret, people[person].id),
                occasion=anonymous_occasion(core.secret, contact_id), status=status,
            )  # fmt: skip

        await named(0, {}, RunStatus.IN_PROGRESS)  # opened, nothing answered: expired
        await named(1, {}, RunStatus.PARTIAL)  # partial
        await anonymous(2, contacts[2].id, {"outcomes": ["none"]}, RunStatus.IN_PROGRESS)  # partial
        await anonymous(3, contacts[3].id, {}, RunStatus.IN_PROGRESS)  # expired
        await anonymous(4, contacts[4].id, {}, RunStatus.PARTIAL)  # partial
        # Answers of person 5, but to another occasion, and under contact 6's occasion: neither
        # contact 5 nor contact 6 (person 6's) has a run of its own, so both are expired.
        await anonymous(5, contacts[5].id + 100, {"outcomes": ["none"]}, RunStatus.PARTIAL)
        await anonymous(5, contacts[6].id, {"outcomes": ["none"]}, RunStatus.PARTIAL)
        await session.commit()
    rates = {rate.questionnaire_id: rate for rate in (await report_of(core)).response_rates}
    end = rates["mentee_end"]
    assert (end.sent, end.answered, end.partial, end.expired, end.open) == (7, 0, 3, 4, 0)


def test_a_plain_end_date_includes_that_whole_day() -> None:
    zone = ZoneInfo("Europe/Copenhagen")
    assert parse_bound("2026-06-01", zone, end=True) == datetime(2026, 6, 2, tzinfo=zone)
    assert parse_bound("2026-06-01T09:30", zone, end=True) == datetime(
        2026, 6, 1, 9, 30, tzinfo=zone
    )
    with pytest.raises(ValueError, match="is not a date like 2026-12-01"):
        parse_bound("2026-13-01", zone)


async def test_runs_are_filtered_by_their_start(core: Core) -> None:
    async with core.sessions() as session:
        await add_run(session, "mentee_end", {"outcomes": ["none"]}, key="old",
                      started_at=datetime(2025, 12, 31, 22, 59, tzinfo=UTC))  # fmt: skip
        await add_run(session, "mentee_end", {"outcomes": ["new_job"]}, key="new",
                      started_at=datetime(2025, 12, 31, 23, 0, tzinfo=UTC))  # fmt: skip
        await session.commit()
    zone = ZoneInfo("Europe/Copenhagen")  # 23:00 UTC on 31 December is midnight there
    report = await report_of(core, Period(parse_bound("2026-01-01", zone)))
    outcomes = report.questionnaires[0].questions[0]
    assert outcomes.respondents == 1 and outcomes.options[0].count == 1
    assert "Period: from 2026-01-01 00:00 (Europe/Copenhagen time); answers by" in format_report(
        report
    )


async def seed_before_after(core: Core) -> None:
    """Five mentees' intake motivation; four answered it again at the end, one anonymously."""
    async with core.sessions() as session:
        for name, before, after, anonymous in [
            ("ba1", "medium", "high", False),
            ("ba2", "high", "very_high", True),
            ("ba3", "very_high", "medium", False),
            ("ba4", "low", "high", False),
            ("ba5", "high", None, False),
        ]:
            person = await add_person(session, name)
            await add_run(
                session, "mentee_intake", {"motivation": before}, participant=person.id,
                occasion="intake",
            )  # fmt: skip
            if after is None:
                continue
            await add_run(
                session,
                "mentee_end",
                {"motivation": after},
                participant=None if anonymous else person.id,
                key=respondent_key(core.secret, person.id) if anonymous else None,
                occasion="end",
            )
        await session.commit()


async def test_before_and_after_motivation_of_people_who_answered_both(core: Core) -> None:
    await seed_before_after(core)
    report = await report_of(core)
    change = report.before_after
    assert change is not None
    assert (change.before_questionnaire, change.after_questionnaire) == (
        "mentee_intake", "mentee_end",
    )  # fmt: skip
    assert change.pairs == 4
    assert {row.option_id: (row.before, row.after) for row in change.rows} == {
        "very_high": (1, 1), "high": (1, 2), "medium": (1, 1), "low": (1, 0), "very_low": (0, 0),
    }  # fmt: skip
    assert (change.high_before, change.high_after) == (2, 3)
    lines = block(format_report(report), "== Before and after: How motivated are you to reach "
                  "your goals? ==", 9)  # fmt: skip
    assert lines[1:] == [
        "mentee_intake at the start, mentee_end at the end; n = 4 people who answered both",
        "  answer             before     %  after     %",
        "  Very high               1  25 %      1  25 %",
        "  High                    1  25 %      2  50 %",
        "  Medium                  1  25 %      1  25 %",
        "  Low                     1  25 %      0   0 %",
        "  Very low                0   0 %      0   0 %",
        "  High or very high       2  50 %      3  75 %",
    ]


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
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_command_prints_the_sajo_table_and_writes_the_workbook(
    cli_database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    async def seed() -> None:
        core = await build_core(load_settings())
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
        core = await build_core(load_settings())
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
