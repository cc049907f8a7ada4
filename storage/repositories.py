"""Queries and writes. Repositories add and flush; the caller's unit of work commits."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Update, case, cast, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from sqlalchemy.sql import ColumnElement

from storage.database import clock_now
from storage.models import (
    AnonymityLock,
    Answer,
    AnswerStatus,
    Contact,
    ContactState,
    Flag,
    FlagMessage,
    Match,
    Participant,
    Programme,
    RunStatus,
    SurveyRun,
)


async def programme_by_code(session: AsyncSession, code: str) -> Programme | None:
    return await session.scalar(select(Programme).where(func.lower(Programme.code) == code.lower()))


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
    whose = SurveyRun.participant_id == participant_id
    return await _run_of(session, whose, questionnaire_id, occasion)


async def _run_of(
    session: AsyncSession, whose: ColumnElement[bool], questionnaire_id: str, occasion: str
) -> SurveyRun | None:
    """The run of one person (by id, or anonymous by key) for a questionnaire and occasion."""
    return await session.scalar(
        select(SurveyRun).where(
            whose, SurveyRun.questionnaire_id == questionnaire_id, SurveyRun.occasion == occasion
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
    at: datetime | None = None,
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
    answer.answered_at = at or clock_now(session)
    await session.flush()
    return answer


async def drop_answers(session: AsyncSession, run_id: int, question_ids: Sequence[str]) -> None:
    if question_ids:
        await session.execute(
            delete(Answer).where(Answer.run_id == run_id, Answer.question_id.in_(question_ids))
        )


async def answers_by_run(session: AsyncSession, run_ids: Sequence[int]) -> dict[int, list[Answer]]:
    grouped: dict[int, list[Answer]] = {run_id: [] for run_id in run_ids}
    if run_ids:
        rows = await session.scalars(select(Answer).where(Answer.run_id.in_(run_ids)))
        for answer in rows:
            grouped[answer.run_id].append(answer)
    return grouped


async def find_anonymous_run(
    session: AsyncSession, respondent_key: str, questionnaire_id: str, occasion: str
) -> SurveyRun | None:
    whose = SurveyRun.respondent_key == respondent_key
    return await _run_of(session, whose, questionnaire_id, occasion)


# Values per IN list: far below the bound parameters a statement may have (32,766 in SQLite,
# 32,767 in PostgreSQL through asyncpg), so a list of any length goes in a few statements.
IN_BATCH = 1000


class AnswerTally(NamedTuple):
    question_id: str
    status: str
    value: Any
    answers: int  # how many have this status and value


def _groupable_value(session: AsyncSession) -> InstrumentedAttribute[Any] | ColumnElement[Any]:
    """The answer's value as something the database can group by. PostgreSQL has no equality
    for json, but has for jsonb (read back as the same Python values); SQLite compares what it
    stored."""
    if session.get_bind().dialect.name == "postgresql":
        return cast(Answer.value, JSONB)
    return Answer.value


async def answer_tallies(
    session: AsyncSession, runs: Sequence[ColumnElement[bool]], question_ids: Collection[str]
) -> list[AnswerTally]:
    """The answers to these questions in the runs that meet the conditions `runs` (on
    SurveyRun), counted by question, status and value in the database, so that a report over
    any number of answers reads a few rows."""
    if not question_ids:
        return []
    value = _groupable_value(session)
    rows = await session.execute(
        select(Answer.question_id, Answer.status, value, func.count())
        .join(SurveyRun, Answer.run_id == SurveyRun.id)
        .where(*runs, Answer.question_id.in_(sorted(question_ids)))
        .group_by(Answer.question_id, Answer.status, value)
    )
    return [AnswerTally(*row) for row in rows]


class RunProgress(NamedTuple):
    status: str
    has_answers: bool


def _has_answers() -> ColumnElement[bool]:
    return select(Answer.id).where(Answer.run_id == SurveyRun.id).exists()


async def run_progress(session: AsyncSession, run_ids: Collection[int]) -> dict[int, RunProgress]:
    """By run id: the status of these runs and whether they have any answer (a run that is not
    there is left out)."""
    ids = sorted(set(run_ids))
    found: dict[int, RunProgress] = {}
    for start in range(0, len(ids), IN_BATCH):
        rows = await session.execute(
            select(SurveyRun.id, SurveyRun.status, _has_answers()).where(
                SurveyRun.id.in_(ids[start : start + IN_BATCH])
            )
        )
        for run_id, status, answered in rows:
            found[run_id] = RunProgress(status, bool(answered))
    return found


async def anonymous_run_progress(
    session: AsyncSession, runs: Collection[tuple[str, str, str]]
) -> dict[tuple[str, str, str], RunProgress]:
    """`run_progress` of anonymous runs, each named as `find_anonymous_run` finds it:
    (respondent key, questionnaire id, occasion)."""
    wanted = set(runs)
    keys = sorted({key for key, _, _ in wanted})
    questionnaire_ids = sorted({questionnaire_id for _, questionnaire_id, _ in wanted})
    found: dict[tuple[str, str, str], RunProgress] = {}
    for start in range(0, len(keys), IN_BATCH):
        rows = await session.execute(
            select(
                SurveyRun.respondent_key,
                SurveyRun.questionnaire_id,
                SurveyRun.occasion,
                SurveyRun.status,
                _has_answers(),
            ).where(
                SurveyRun.respondent_key.in_(keys[start : start + IN_BATCH]),
                SurveyRun.questionnaire_id.in_(questionnaire_ids),
            )
        )
        for key, questionnaire_id, occasion, status, answered in rows:
            name = (key or "", questionnaire_id, occasion)
            if name in wanted:
                found[name] = RunProgress(status, bool(answered))
    return found


async def add_run(session: AsyncSession, run: SurveyRun) -> SurveyRun:
    session.add(run)
    await session.flush()
    return run


async def active_match_of(session: AsyncSession, participant_id: int) -> Match | None:
    return await session.scalar(
        select(Match).where(
            Match.ended_at.is_(None),
            (Match.mentee_id == participant_id) | (Match.mentor_id == participant_id),
        )
    )


async def matches(session: AsyncSession, programme_id: int | None = None) -> list[Match]:
    query = select(Match).order_by(Match.id)
    if programme_id is not None:
        query = query.where(Match.programme_id == programme_id)
    return list(await session.scalars(query))


async def matches_due_to_end(session: AsyncSession, now: datetime) -> list[Match]:
    """Running matches whose planned end has come."""
    rows = await session.scalars(
        select(Match)
        .where(Match.ended_at.is_(None), Match.planned_end_at <= now)
        .order_by(Match.planned_end_at, Match.id)
    )
    return list(rows)


async def matches_not_yet_told(
    session: AsyncSession, now: datetime, until: datetime
) -> list[Match]:
    """Running matches planned to end after `now` and by `until`, whose coordinators were not
    yet told of their end."""
    rows = await session.scalars(
        select(Match)
        .where(
            Match.ended_at.is_(None),
            Match.end_notice_at.is_(None),
            Match.planned_end_at > now,
            Match.planned_end_at <= until,
        )
        .order_by(Match.planned_end_at, Match.id)
    )
    return list(rows)


async def claim_match(
    session: AsyncSession,
    match_id: int,
    conditions: Sequence[ColumnElement[bool]],
    changes: dict[str, object],
) -> bool:
    """Change a match only while the conditions hold (see `claim`): of several processes
    ending it, or telling of its end, exactly one does."""
    return await _changed_one(
        session, update(Match).where(Match.id == match_id, *conditions).values(**changes)
    )


async def contacts_of_match(session: AsyncSession, match_id: int) -> list[Contact]:
    rows = await session.scalars(
        select(Contact).where(Contact.match_id == match_id).order_by(Contact.due_at, Contact.id)
    )
    return list(rows)


async def contacts_of(session: AsyncSession, participant_id: int) -> list[Contact]:
    rows = await session.scalars(
        select(Contact).where(Contact.participant_id == participant_id).order_by(Contact.due_at)
    )
    return list(rows)


async def upcoming_contacts(
    session: AsyncSession, programme_id: int | None = None, participant_id: int | None = None
) -> list[Contact]:
    query = (
        select(Contact)
        .join(Participant, Contact.participant_id == Participant.id)
        .where(Contact.state.in_([ContactState.PLANNED, ContactState.SENT]))
        .order_by(Contact.due_at, Contact.id)
    )
    if programme_id is not None:
        query = query.where(Participant.programme_id == programme_id)
    if participant_id is not None:
        query = query.where(Contact.participant_id == participant_id)
    return list(await session.scalars(query))


async def claim(
    session: AsyncSession, contact_id: int, expected: dict[str, object], changes: dict[str, object]
) -> bool:
    """Change a contact only if it is still as expected; False if someone else got there first.

    This conditional update is what makes sending at most once, across restarts and across
    several dispatchers: only one of them can move a contact out of the expected state.
    """
    conditions = [getattr(Contact, name) == value for name, value in expected.items()]
    return await _changed_one(
        session, update(Contact).where(Contact.id == contact_id, *conditions).values(**changes)
    )


async def _changed_one(session: AsyncSession, statement: Update) -> bool:
    """Run a conditional update; True if it changed the one row, so that of several callers
    at once exactly one gets True."""
    result = await session.execute(statement.execution_options(synchronize_session=False))
    return bool(getattr(result, "rowcount", 0) == 1)


async def _claim_push(session: AsyncSession, model: type[FlagMessage], row_id: int) -> bool:
    """Mark a message on a flag pushed, unless it is already: it is pushed once."""
    return await _changed_one(
        session,
        update(model)
        .where(model.id == row_id, model.pushed_at.is_(None))
        .values(pushed_at=clock_now(session)),
    )


async def due_contacts(session: AsyncSession, now: datetime) -> list[Contact]:
    rows = await session.scalars(
        select(Contact)
        .where(Contact.state == ContactState.PLANNED, Contact.due_at <= now)
        .order_by(Contact.due_at, Contact.id)
    )
    return list(rows)


async def open_contacts(session: AsyncSession) -> list[Contact]:
    """Sent and not yet answered: candidates for a reminder or for expiry."""
    rows = await session.scalars(
        select(Contact).where(Contact.state == ContactState.SENT).order_by(Contact.sent_at)
    )
    return list(rows)


async def lock_anonymity(
    session: AsyncSession, programme_code: str, questionnaire_id: str, version: int, mode: str
) -> None:
    existing = await session.get(AnonymityLock, (programme_code, questionnaire_id, version))
    if existing is None:
        try:
            async with session.begin_nested():
                session.add(
                    AnonymityLock(
                        programme_code=programme_code,
                        questionnaire_id=questionnaire_id,
                        version=version,
                        mode=mode,
                    )
                )
        except IntegrityError:  # recorded meanwhile by a concurrent first answer
            pass


async def anonymity_locks(session: AsyncSession) -> list[AnonymityLock]:
    return list(await session.scalars(select(AnonymityLock)))


async def participants(
    session: AsyncSession, programme_code: str | None = None, status: str | None = None
) -> list[Participant]:
    query = select(Participant).order_by(Participant.id)
    if programme_code is not None:
        query = query.join(Programme, Participant.programme_id == Programme.id).where(
            func.lower(Programme.code) == programme_code.lower()
        )
    if status is not None:
        query = query.where(Participant.status == status)
    return list(await session.scalars(query))


async def delete_answers_of_runs(session: AsyncSession, run_ids: Sequence[int]) -> None:
    if run_ids:
        await session.execute(delete(Answer).where(Answer.run_id.in_(run_ids)))


async def offer_contact(session: AsyncSession, participant_id: int, contact_id: int) -> None:
    """Make the contact the one the person is answering, unless they are answering another.

    A conditional update, not a read-modify-write: the person's own update may change the
    active contact at the same moment, and must not be overwritten.
    """
    await session.execute(
        update(Participant)
        .where(Participant.id == participant_id, Participant.active_contact_id.is_(None))
        .values(active_contact_id=contact_id)
        .execution_options(synchronize_session=False)
    )


async def oldest_open_contact(session: AsyncSession, participant_id: int) -> Contact | None:
    return await session.scalar(
        select(Contact)
        .where(Contact.participant_id == participant_id, Contact.state == ContactState.SENT)
        .order_by(Contact.sent_at, Contact.id)
        .limit(1)
    )


async def unlinked_flags(session: AsyncSession, run_id: int) -> list[Flag]:
    """Flags raised by an anonymous run and not (yet) linked to anybody."""
    rows = await session.scalars(
        select(Flag).where(Flag.run_id == run_id, Flag.participant_id.is_(None))
    )
    return list(rows)


async def claim_flag_push(session: AsyncSession, flag_id: int) -> bool:
    """Mark the flag pushed, unless it is already. An anonymous flag's mark is its own day:
    the moment of an urgent push is the moment the answer came."""
    now = literal(clock_now(session), Flag.pushed_at.type)
    pushed = case((Flag.anonymous, Flag.created_at), else_=now)
    return await _changed_one(
        session,
        update(Flag).where(Flag.id == flag_id, Flag.pushed_at.is_(None)).values(pushed_at=pushed),
    )


async def flag_thread(session: AsyncSession, flag_id: int) -> list[FlagMessage]:
    rows = await session.scalars(
        select(FlagMessage).where(FlagMessage.flag_id == flag_id).order_by(FlagMessage.id)
    )
    return list(rows)


async def claim_flag_message_push(session: AsyncSession, message_id: int) -> bool:
    return await _claim_push(session, FlagMessage, message_id)


async def programmes(session: AsyncSession) -> list[Programme]:
    return list(await session.scalars(select(Programme).order_by(Programme.name)))


async def count_flags(session: AsyncSession, programme_id: int) -> int:
    count = await session.scalar(
        select(func.count()).select_from(Flag).where(Flag.programme_id == programme_id)
    )
    return int(count or 0)
