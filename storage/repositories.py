"""Queries and writes. Repositories add and flush; the caller's unit of work commits."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import (
    Answer,
    AnswerStatus,
    Participant,
    ProcessedUpdate,
    Programme,
    RunStatus,
    SurveyRun,
    utcnow,
)


async def sync_programme(session: AsyncSession, code: str, name: str) -> Programme:
    """Create the programme's row, or update its name, from its YAML definition."""
    programme = await session.scalar(select(Programme).where(Programme.code == code))
    if programme is None:
        programme = Programme(code=code, name=name)
        session.add(programme)
    else:
        programme.name = name
    await session.flush()
    return programme


async def programme_by_code(session: AsyncSession, code: str) -> Programme | None:
    return await session.scalar(select(Programme).where(func.lower(Programme.code) == code.lower()))


async def claim_update(session: AsyncSession, channel: str, update_id: int) -> bool:
    """Record an update as processed; False if it was processed before.

    The record commits together with what the update changed, so a crash before the commit
    lets the redelivered update run again, and a crash after it skips the repeat.
    """
    try:
        async with session.begin_nested():
            session.add(ProcessedUpdate(channel=channel, update_id=update_id))
    except IntegrityError:
        return False
    return True


async def participant_for(
    session: AsyncSession, channel: str, channel_user_id: str, *, create: bool = True
) -> Participant | None:
    """The participant behind a channel's user id, locked for this unit of work."""
    query = (
        select(Participant)
        .where(Participant.channel == channel, Participant.channel_user_id == channel_user_id)
        .with_for_update(of=Participant)
    )
    participant = await session.scalar(query)
    if participant is None and create:
        try:
            async with session.begin_nested():
                participant = Participant(channel=channel, channel_user_id=channel_user_id)
                session.add(participant)
        except IntegrityError:  # created meanwhile by a concurrent update of the same person
            participant = await session.scalar(query)
    return participant


async def find_run(
    session: AsyncSession, participant_id: int, questionnaire_id: str, occasion: str
) -> SurveyRun | None:
    return await session.scalar(
        select(SurveyRun).where(
            SurveyRun.participant_id == participant_id,
            SurveyRun.questionnaire_id == questionnaire_id,
            SurveyRun.occasion == occasion,
        )
    )


async def start_run(
    session: AsyncSession,
    participant_id: int,
    questionnaire_id: str,
    questionnaire_version: int,
    occasion: str,
    first_question_id: str,
) -> SurveyRun:
    run = SurveyRun(
        participant_id=participant_id,
        questionnaire_id=questionnaire_id,
        questionnaire_version=questionnaire_version,
        occasion=occasion,
        status=RunStatus.IN_PROGRESS,
        current_question_id=first_question_id,
        draft=[],
    )
    session.add(run)
    await session.flush()
    return run


async def answers_of(session: AsyncSession, run_id: int) -> dict[str, Answer]:
    rows = await session.scalars(select(Answer).where(Answer.run_id == run_id))
    return {answer.question_id: answer for answer in rows}


async def record_answer(
    session: AsyncSession,
    run_id: int,
    question_id: str,
    value: object,
    status: AnswerStatus = AnswerStatus.ANSWERED,
) -> Answer:
    """Store an answer; answering the same question again (after Back) replaces it."""
    answer = await session.scalar(
        select(Answer).where(Answer.run_id == run_id, Answer.question_id == question_id)
    )
    if answer is None:
        answer = Answer(run_id=run_id, question_id=question_id)
        session.add(answer)
    answer.value = value
    answer.status = status
    answer.answered_at = utcnow()
    await session.flush()
    return answer


async def drop_answers(session: AsyncSession, run_id: int, question_ids: Sequence[str]) -> None:
    if question_ids:
        await session.execute(
            delete(Answer).where(Answer.run_id == run_id, Answer.question_id.in_(question_ids))
        )


async def runs_of_questionnaire(session: AsyncSession, questionnaire_id: str) -> list[SurveyRun]:
    rows = await session.scalars(
        select(SurveyRun)
        .where(SurveyRun.questionnaire_id == questionnaire_id)
        .order_by(SurveyRun.id)
    )
    return list(rows)


async def answers_by_run(session: AsyncSession, run_ids: Sequence[int]) -> dict[int, list[Answer]]:
    grouped: dict[int, list[Answer]] = {run_id: [] for run_id in run_ids}
    if run_ids:
        rows = await session.scalars(select(Answer).where(Answer.run_id.in_(run_ids)))
        for answer in rows:
            grouped[answer.run_id].append(answer)
    return grouped
