"""Figures across questionnaires, computed without showing who answered."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.anonymity import respondent_key
from bot.questionnaire import AnswerValue
from storage import repositories as repo
from storage.models import AnswerStatus, RunStatus, SurveyRun


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
    starts = list(
        await session.scalars(
            select(SurveyRun).where(
                SurveyRun.programme_id == programme_id,
                SurveyRun.questionnaire_id == before,
                SurveyRun.participant_id.is_not(None),
            )
        )
    )
    ends = list(
        await session.scalars(
            select(SurveyRun).where(
                SurveyRun.programme_id == programme_id,
                SurveyRun.questionnaire_id == after,
                SurveyRun.status.in_([RunStatus.COMPLETED, RunStatus.PARTIAL]),
            )
        )
    )
    by_person = {run.participant_id: run for run in ends if run.participant_id is not None}
    by_key = {run.respondent_key: run for run in ends if run.respondent_key is not None}
    pairs = []
    for start in starts:
        assert start.participant_id is not None
        end = by_person.get(start.participant_id) or by_key.get(
            respondent_key(secret, start.participant_id)
        )
        if end is None:
            continue
        first = (await repo.answers_of(session, start.id)).get(question_id)
        last = (await repo.answers_of(session, end.id)).get(question_id)
        if first and last and AnswerStatus.ANSWERED == first.status == last.status:
            pairs.append((first.value, last.value))
    return pairs
