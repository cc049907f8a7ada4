"""Figures across questionnaires, computed without showing who answered."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.people import respondent_key
from bot.programmes import AnswerValue
from storage.models import Answer, AnswerStatus, RunStatus, SurveyRun


async def before_after(
    session: AsyncSession,
    secret: bytes,
    programme_id: int,
    question_id: str,
    before: str,
    after: str,
) -> list[tuple[AnswerValue, AnswerValue]]:
    """(before, after) answer pairs of one question, one pair per person who answered both.

    The `after` questionnaire may be anonymous: its runs are found through the respondent key,
    which only the holder of the secret can compute, and the pairs carry no identity.
    """
    start_runs = select(SurveyRun.id, SurveyRun.participant_id).where(
        SurveyRun.programme_id == programme_id,
        SurveyRun.questionnaire_id == before,
        SurveyRun.participant_id.is_not(None),
    )
    end_runs = select(SurveyRun.id, SurveyRun.participant_id, SurveyRun.respondent_key).where(
        SurveyRun.programme_id == programme_id,
        SurveyRun.questionnaire_id == after,
        SurveyRun.status.in_([RunStatus.COMPLETED, RunStatus.PARTIAL]),
    )
    starts = (await session.execute(start_runs)).all()
    ends = (await session.execute(end_runs)).all()
    by_person = {run.participant_id: run.id for run in ends if run.participant_id is not None}
    by_key = {run.respondent_key: run.id for run in ends if run.respondent_key is not None}
    # The question's answers in all those runs at once, rather than two queries per person.
    answered = {
        run_id: value
        for run_id, value in await session.execute(
            select(Answer.run_id, Answer.value).where(
                Answer.question_id == question_id,
                Answer.status == AnswerStatus.ANSWERED,
                Answer.run_id.in_(
                    select(start_runs.subquery().c.id).union(select(end_runs.subquery().c.id))
                ),
            )
        )
    }
    pairs = []
    for start_id, participant_id in starts:
        assert participant_id is not None
        end_id = by_person.get(participant_id) or by_key.get(respondent_key(secret, participant_id))
        if end_id is not None and start_id in answered and end_id in answered:
            pairs.append((answered[start_id], answered[end_id]))
    return pairs
