"""Participants as their coordinator finds them: a list with search and filters, names as given
in the intake, and the rule that a coordinator finds only their own programmes' people. One
person's timeline: `bot/people/timeline.py`.

Only the coordinator's own programmes are ever read. Anonymous answers never appear: names are
read only from intake runs that carry the participant's id, and anonymous runs carry none.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordination import programme_ids
from bot.language import local_date
from bot.programmes import INTAKE
from storage.database import clock_now
from storage.models import (
    Answer,
    AnswerStatus,
    Coordinator,
    Match,
    Participant,
    ParticipantStatus,
    SurveyRun,
)

NAME_QUESTION = "name"  # the intake's "What is your name?" (mentee_intake, mentor_intake)


# --- names -------------------------------------------------------------------------------------


async def names_of(session: AsyncSession, participant_ids: Collection[int]) -> dict[int, str]:
    """The names people gave in their intake (typed text only; withdrawn people have none)."""
    if not participant_ids:
        return {}
    return await _intake_names(session, SurveyRun.participant_id.in_(list(participant_ids)))


async def _names_in(session: AsyncSession, programmes: Collection[int]) -> dict[int, str]:
    return await _intake_names(session, Participant.programme_id.in_(list(programmes)))


async def _intake_names(session: AsyncSession, whose: ColumnElement[bool]) -> dict[int, str]:
    rows = await session.execute(
        select(SurveyRun.participant_id, Answer.value)
        .join(Answer, Answer.run_id == SurveyRun.id)
        .join(Participant, Participant.id == SurveyRun.participant_id)
        .where(
            whose,
            SurveyRun.occasion == INTAKE,
            Answer.question_id == NAME_QUESTION,
            Answer.status == AnswerStatus.ANSWERED,
        )
    )
    return {pid: value for pid, value in rows if pid is not None and isinstance(value, str)}


# --- the list ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ParticipantFilter:
    """Narrow the list. `search`: a participant number or part of a name. `waiting_weeks`:
    only people waiting for a match for more than that many weeks."""

    search: str = ""
    programme_id: int | None = None
    role: str | None = None
    status: str | None = None
    language: str | None = None
    waiting_weeks: int | None = None


@dataclass(frozen=True)
class ParticipantRow:
    id: int
    name: str | None
    role: str
    status: str
    language: str | None
    programme: str
    waiting_since: datetime | None  # for people waiting for a match
    waiting_since_text: str = ""  # that date, the reader's way
    waiting_weeks: int | None = None  # whole weeks waited so far
    programme_id: int | None = None  # for the audit log: each programme's rows in its own

    @property
    def withdrawn(self) -> bool:
        return self.status == ParticipantStatus.WITHDRAWN


async def _waiting_since(session: AsyncSession, programmes: Collection[int]) -> dict[int, datetime]:
    """When each person began to wait for a match: the end of their intake, or the end of
    their last match if that came later (a mentee whose mentor stopped waits again)."""
    since: dict[int, datetime] = {}
    intakes = await session.execute(
        select(SurveyRun.participant_id, SurveyRun.completed_at)
        .join(Participant, Participant.id == SurveyRun.participant_id)
        .where(
            Participant.programme_id.in_(list(programmes)),
            SurveyRun.occasion == INTAKE,
            SurveyRun.completed_at.is_not(None),
        )
    )
    for pid, completed in intakes:
        if pid is not None and completed is not None:
            since[pid] = completed
    for column in (Match.mentee_id, Match.mentor_id):
        ends = await session.execute(
            select(column, func.max(Match.ended_at))
            .where(Match.programme_id.in_(list(programmes)), Match.ended_at.is_not(None))
            .group_by(column)
        )
        for pid, ended in ends:
            if ended is not None and (pid not in since or since[pid] < ended):
                since[pid] = ended
    return since


def _found(row: ParticipantRow, search: str) -> bool:
    wanted = search.strip().lstrip("#").strip()
    if not wanted:
        return True
    if wanted.isdigit() and int(wanted) == row.id:
        return True
    return row.name is not None and wanted.casefold() in row.name.casefold()


async def list_participants(
    session: AsyncSession,
    coordinator: Coordinator,
    only: ParticipantFilter = ParticipantFilter(),
    now: datetime | None = None,
) -> list[ParticipantRow]:
    """The participants of the coordinator's programmes that pass the filter, by number."""
    mine = await programme_ids(session, coordinator)
    if only.programme_id is not None:
        mine &= {only.programme_id}
    if not mine:
        return []
    query = select(Participant).where(Participant.programme_id.in_(mine)).order_by(Participant.id)
    if only.role:
        query = query.where(Participant.role == only.role)
    if only.waiting_weeks is not None:
        query = query.where(Participant.status == ParticipantStatus.WAITING)
    elif only.status:
        query = query.where(Participant.status == only.status)
    if only.language:
        query = query.where(Participant.language == only.language)
    people = list(await session.scalars(query))
    names = await _names_in(session, mine)
    waiting = await _waiting_since(session, mine)
    now = now or clock_now(session)
    rows = []
    for person in people:
        withdrawn = person.status == ParticipantStatus.WITHDRAWN
        since = waiting.get(person.id) if person.status == ParticipantStatus.WAITING else None
        rows.append(
            ParticipantRow(
                id=person.id,
                name=None if withdrawn else names.get(person.id),
                role=person.role,
                status=person.status,
                language=None if withdrawn else person.language,
                programme=person.programme.name if person.programme else "",
                waiting_since=since,
                waiting_since_text=local_date(since) if since else "",
                waiting_weeks=(now - since) // timedelta(weeks=1) if since else None,
                programme_id=person.programme_id,
            )
        )
    rows = [row for row in rows if _found(row, only.search)]
    if only.waiting_weeks is not None:
        before = now - timedelta(weeks=only.waiting_weeks)
        rows = [r for r in rows if r.waiting_since is not None and r.waiting_since <= before]
    return rows


async def languages_in_use(session: AsyncSession, coordinator: Coordinator) -> list[str]:
    """The languages the coordinator's participants chose, for the language filter."""
    mine = await programme_ids(session, coordinator)
    rows = await session.scalars(
        select(Participant.language)
        .where(Participant.programme_id.in_(mine), Participant.language.is_not(None))
        .distinct()
    )
    return sorted(code for code in rows if code)


# --- whose they are -----------------------------------------------------------------------------


PARTICIPANT_COLUMNS = ("number", "name", "role", "status", "language", "programme", "waiting_since")


def participant_table(rows: Sequence[ParticipantRow]) -> list[list[str]]:
    """The list as an export: one row per person; a withdrawn person has no name or language."""
    return [
        [
            str(row.id),
            "" if row.withdrawn else row.name or "",
            row.role,
            row.status,
            "" if row.withdrawn else row.language or "",
            row.programme,
            row.waiting_since.date().isoformat() if row.waiting_since else "",
        ]
        for row in rows
    ]
