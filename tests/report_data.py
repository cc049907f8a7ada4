"""Survey runs, people and contacts of the example programme (bridge) stored directly, and the
report of them: what the report tests (and the dashboard's results tests) count."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.people import anonymous_occasion, respondent_key
from bot.results import Period, Report, build_report
from storage import repositories as repo
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
