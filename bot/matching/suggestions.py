"""The mentors to suggest for a mentee, read from the database: the mentee and the mentors of
her programme with their intake answers (named runs only), their running matches and names,
ranked by bot/matching/ranking.py. For a coordinator, only within their own programmes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordination import audit
from bot.course import NO_PROGRAMME_FILE, MatchError, matchable_participant
from bot.matching.ranking import Person, Ranking, rank
from bot.people import names_of, own_participant
from bot.programmes import INTAKE, Programme
from storage.models import (
    Answer,
    AnswerStatus,
    Coordinator,
    Match,
    Participant,
    ParticipantStatus,
    SurveyRun,
)


async def mentor_ranking(
    session: AsyncSession, programmes: Mapping[str, Programme], mentee_id: int
) -> Ranking:
    """The mentors of the mentee's programme, weighed for her. MatchError if she cannot be
    matched now (no such mentee, withdrawn, already in a match)."""
    mentee = await matchable_participant(session, mentee_id, "mentee")
    code = mentee.programme.code if mentee.programme else ""
    programme = programmes.get(code)
    if programme is None:
        raise MatchError(NO_PROGRAMME_FILE, code=code)
    mentors = list(
        await session.scalars(
            select(Participant)
            .where(Participant.programme_id == mentee.programme_id, Participant.role == "mentor")
            .order_by(Participant.id)
        )
    )
    ids = [mentee.id, *(mentor.id for mentor in mentors)]
    answers = await _intake_answers(session, ids)
    running = await _running_matches(session, [mentor.id for mentor in mentors])
    names = await names_of(session, ids)

    def person(row: Participant) -> Person:
        withdrawn = row.status == ParticipantStatus.WITHDRAWN
        return Person(
            id=row.id, role=row.role, programme=code, status=row.status,
            language=None if withdrawn else row.language, answers=answers.get(row.id, {}),
            mentees=running.get(row.id, 0), name=None if withdrawn else names.get(row.id),
        )  # fmt: skip

    return rank(person(mentee), [person(m) for m in mentors], programme.matching,
                programme.languages)  # fmt: skip


async def _intake_answers(session: AsyncSession, ids: list[int]) -> dict[int, dict[str, object]]:
    """Each person's answered intake questions (skipped and "prefer not to say" left out)."""
    rows = await session.execute(
        select(SurveyRun.participant_id, Answer.question_id, Answer.value)
        .join(Answer, Answer.run_id == SurveyRun.id)
        .where(
            SurveyRun.participant_id.in_(ids),
            SurveyRun.occasion == INTAKE,
            Answer.status == AnswerStatus.ANSWERED,
        )
    )
    found: dict[int, dict[str, object]] = defaultdict(dict)
    for participant_id, question_id, value in rows:
        if participant_id is not None:
            found[participant_id][question_id] = value
    return found


async def _running_matches(session: AsyncSession, mentor_ids: list[int]) -> dict[int, int]:
    if not mentor_ids:
        return {}
    rows = await session.execute(
        select(Match.mentor_id, func.count())
        .where(Match.mentor_id.in_(mentor_ids), Match.ended_at.is_(None))
        .group_by(Match.mentor_id)
    )
    return {mentor_id: count for mentor_id, count in rows}


async def suggestions_for(
    session: AsyncSession,
    coordinator: Coordinator,
    programmes: Mapping[str, Programme],
    mentee_id: int,
) -> Ranking:
    """The ranking for a mentee of the coordinator's own programmes (another programme's is
    CoordinationError, "not found"); seeing it is written to the audit log."""
    mentee = await own_participant(session, coordinator, mentee_id)
    ranking = await mentor_ranking(session, programmes, mentee_id)
    await audit(
        session, coordinator, "view", programme_id=mentee.programme_id, participant_id=mentee_id,
        detail=f"web: {len(ranking.suggested)} mentor suggestions",
    )  # fmt: skip
    return ranking
