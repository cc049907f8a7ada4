"""Raising flags: what a coordinator must see, from answers (rules in the questionnaires'
YAML) and from silence (a contact that expired, a person who blocked the bot)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.programmes import AnswerValue, Question, Severity
from storage.database import clock_now
from storage.days import day_of, today_only
from storage.models import Flag, FlagStatus, SurveyRun

UNREACHABLE = "unreachable"
TALK_TO_PERSON = "talk_to_person"
DANGER = "danger"  # words in a free-text answer that suggest danger
VOICE_ANSWER = "voice_answer"  # word lists cannot screen a voice answer: a coordinator listens
WITHDREW = "withdrew"  # deleted their data: the coordinator learns only that they left


async def raise_flag(
    session: AsyncSession,
    *,
    programme_id: int | None,
    participant_id: int | None,
    category: str,
    severity: Severity,
    run_id: int | None = None,
    questionnaire_id: str | None = None,
    question_id: str | None = None,
    answer: AnswerValue = None,
) -> Flag:
    """Raise a flag, or refresh the open one of the same kind (answering again after Back, or
    a second silence, must not raise it twice). A flag of a run without a person is raised by
    an anonymous answer: it keeps only the day it came (storage/days.py)."""
    same = select(Flag).where(
        Flag.category == category,
        Flag.status != FlagStatus.RESOLVED,
        Flag.participant_id.is_(None)
        if participant_id is None
        else Flag.participant_id == participant_id,
        Flag.run_id.is_(None) if run_id is None else Flag.run_id == run_id,
        Flag.question_id.is_(None) if question_id is None else Flag.question_id == question_id,
    )
    flag = await session.scalar(same)
    if flag is None:
        flag = Flag(
            programme_id=programme_id,
            participant_id=participant_id,
            category=category,
            run_id=run_id,
            questionnaire_id=questionnaire_id,
            question_id=question_id,
            status=FlagStatus.OPEN,
        )
        if participant_id is None and run_id is not None:
            flag.anonymous = True
            flag.created_at = await today_only(session, programme_id)
        session.add(flag)
    flag.severity = severity
    flag.answer = answer
    await session.flush()
    return flag


async def moment_on(session: AsyncSession, flag: Flag) -> datetime:
    """The time to write on the flag now (a note, its resolution): the day only if the flag
    is anonymous, so that nothing written on it later dates the answer more closely."""
    return await today_only(session, flag.programme_id) if flag.anonymous else clock_now(session)


async def flag_answer(
    session: AsyncSession, run: SurveyRun, question: Question, value: AnswerValue
) -> list[Flag]:
    """The flags this answer raises under its question's rules. An anonymous run's flags carry
    the answer but no person."""
    return [
        await raise_flag(
            session,
            programme_id=run.programme_id,
            participant_id=run.participant_id,
            category=rule.category,
            severity=rule.severity,
            run_id=run.id,
            questionnaire_id=run.questionnaire_id,
            question_id=question.id,
            answer=value,
        )
        for rule in question.raised_flags(value)
    ]


def raised_on(flag: Flag, zone: ZoneInfo) -> date:
    """The day the flag came, in its programme's zone `zone` (all an anonymous flag keeps)."""
    return day_of(flag.created_at) if flag.anonymous else flag.created_at.astimezone(zone).date()


def reply_due(
    raised: datetime | date, severity: str, reply_days: int, zone: ZoneInfo
) -> date | None:
    """The day by which a coordinator should answer a flag raised at `raised` (a moment, or
    the day in the programme's zone: `raised_on`; an anonymous flag's day, never a time that
    would give its moment away): an urgent flag the same day; a `soon` one within the
    programme's `coordinator_reply_days` working days, as the bot promised the person
    (TALK_PROMISE); an `info` flag has no such day."""
    day = raised.astimezone(zone).date() if isinstance(raised, datetime) else raised
    if severity == Severity.URGENT:
        return day
    if severity != Severity.SOON:
        return None
    left = reply_days
    while left > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:  # Monday to Friday
            left -= 1
    return day
