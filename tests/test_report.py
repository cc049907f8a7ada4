"""`report`: the figures: end-survey percentages, means, response rates, the period and
before/after."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.core import Core
from bot.people import anonymous_occasion, respondent_key
from bot.results import Period, format_report, parse_bound, percent
from storage import repositories as repo
from storage.models import AnswerStatus, Contact, ContactState, RunStatus
from tests.report_data import (
    SAJO_LINES,
    T0,
    add_person,
    add_run,
    block,
    report_of,
    seed_before_after,
    seed_contacts,
    seed_sajo,
)


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
