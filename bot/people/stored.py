"""What a person's intake left in the database, counted: the terminal demo tells the person who
tried it what was stored about them before it says goodbye."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.programmes import INTAKE
from storage.models import Answer, AnswerStatus, Flag, Participant, RunStatus, SurveyRun


@dataclass(frozen=True)
class IntakeRecord:
    participant_id: int
    complete: bool  # the intake is finished
    answered: int  # questions answered (typed, chosen, or by voice)
    passed: int  # questions skipped or declined ("Prefer not to say")
    flags: int  # raised for a coordinator by the person's answers or requests


async def intake_record(session: AsyncSession, participant_id: int) -> IntakeRecord | None:
    """The person's intake, counted; None before it began (no consent yet, or no person)."""
    run = await session.scalar(
        select(SurveyRun).where(
            SurveyRun.participant_id == participant_id, SurveyRun.occasion == INTAKE
        )
    )
    if run is None or await session.get(Participant, participant_id) is None:
        return None
    rows = await session.execute(
        select(Answer.status, func.count()).where(Answer.run_id == run.id).group_by(Answer.status)
    )
    statuses: dict[str, int] = {status: count for status, count in rows}
    flags = await session.scalar(
        select(func.count()).select_from(Flag).where(Flag.participant_id == participant_id)
    )
    return IntakeRecord(
        participant_id=participant_id,
        complete=run.status == RunStatus.COMPLETED,
        answered=statuses.get(AnswerStatus.ANSWERED, 0),
        passed=statuses.get(AnswerStatus.SKIPPED, 0) + statuses.get(AnswerStatus.DECLINED, 0),
        flags=flags or 0,
    )
