"""Participants as their coordinator finds them: a list with search and filters, names as given
in the intake, and one person's timeline of everything that happened, in date order.

Only the coordinator's own programmes are ever read. Anonymous answers never appear: answers
are read only from runs that carry the participant's id, and anonymous runs carry none.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordination import (
    CATEGORY_LABELS,
    SEVERITY_LABELS,
    CoordinationError,
    audit,
    programme_ids,
)
from bot.language import (
    _,
    answer_text,
    language_name,
    local_date,
    local_day,
    local_moment,
    question_text,
    zone_of,
)
from bot.people.profile import NOT_FOUND, ROLES
from bot.programmes import INTAKE, Programme, Questionnaire
from storage import repositories as repo
from storage.models import (
    Answer,
    AnswerStatus,
    Contact,
    ContactState,
    Coordinator,
    Flag,
    FlagMessage,
    Match,
    Participant,
    ParticipantStatus,
    SurveyRun,
    utcnow,
)

NAME_QUESTION = "name"  # the intake's "What is your name?" (mentee_intake, mentor_intake)


def label(labels: Mapping[str, object], key: str | None) -> str:
    if key is None:
        return ""
    return str(labels.get(key, key))


def contact_state(contact: Contact) -> str:
    """planned, sent, reminded, answered, expired or cancelled."""
    if contact.state == ContactState.SENT and contact.reminders_sent > 0:
        return "reminded"
    return contact.state


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
    now = now or utcnow()
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


# --- the timeline ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    """One thing that happened (or is planned). Codes, for the page to put into words; texts
    that already exist for the bot (titles, questions, answers, flag labels) come translated
    into the active language."""

    at: datetime
    when: str  # date and time in the programme's zone, the reader's way
    # joined, withdrew, intake, answers, match, match_end, contact, flag, note, message
    kind: str
    subject: str = ""  # a questionnaire's title, a flag's category, the partner's role
    state: str = ""  # a contact's, run's or flag's state, or a match's end reason (codes)
    severity: str = ""  # a flag's, translated
    sent: bool = False  # a contact: the message went out
    planned_end: str = ""  # a match: its planned end
    reminders: int = 0
    writer: str = ""  # the coordinator who wrote a message or a note
    text: str = ""  # words someone wrote (a message, a note), shown as given
    answers: tuple[tuple[str, str], ...] = ()  # (question, answer)
    flag_id: int | None = None
    partner_id: int | None = None
    planned: bool = False  # still in the future


@dataclass(frozen=True)
class Timeline:
    participant: Participant
    name: str | None
    programme: str
    language: str  # the language's own name
    entries: list[TimelineEntry] = field(default_factory=list)

    @property
    def withdrawn(self) -> bool:
        return self.participant.status == ParticipantStatus.WITHDRAWN


async def own_participant(
    session: AsyncSession, coordinator: Coordinator, participant_id: int
) -> Participant:
    """Another programme's participant is "not found", as if there were none."""
    participant = await session.get(Participant, participant_id)
    if participant is None or participant.programme_id not in await programme_ids(
        session, coordinator
    ):
        raise CoordinationError(NOT_FOUND.format(number=str(participant_id)))
    return participant


def _title(questionnaires: Mapping[str, Questionnaire], questionnaire_id: str) -> str:
    questionnaire = questionnaires.get(questionnaire_id)
    return _(questionnaire.title) if questionnaire else questionnaire_id


# At the same moment: the order in which things happen within one step of the course.
_KIND_ORDER = {
    "joined": 0,
    "intake": 1,
    "match": 2,
    "contact": 3,
    "answers": 4,
    "flag": 5,
    "message": 6,
    "note": 7,
    "match_end": 8,
    "withdrew": 9,
}


async def participant_timeline(
    session: AsyncSession,
    coordinator: Coordinator,
    participant_id: int,
    questionnaires: Mapping[str, Questionnaire],
    programmes: Mapping[str, Programme],
    default_zone: str,
    now: datetime | None = None,
) -> Timeline:
    """Everything about one participant in date order, in the active language; the view is
    written to the audit log."""
    participant = await own_participant(session, coordinator, participant_id)
    await audit(session, coordinator, "view", participant_id=participant.id, detail="timeline")
    now = now or utcnow()
    code = participant.programme.code if participant.programme else None
    zone = zone_of(programmes, code, default_zone)
    entries = [
        *_joined(participant, zone),
        *await _runs(session, participant, questionnaires, zone),
        *await _matches(session, participant, zone),
        *await _contacts(session, participant, questionnaires, zone, now),
        *await _flags(session, participant, zone),
    ]
    entries.sort(key=lambda e: (e.at, _KIND_ORDER.get(e.kind, 99)))
    withdrawn = participant.status == ParticipantStatus.WITHDRAWN
    names = {} if withdrawn else await names_of(session, [participant.id])
    return Timeline(
        participant=participant,
        name=names.get(participant.id),
        programme=participant.programme.name if participant.programme else "",
        language=language_name(participant.language) if participant.language else "",
        entries=entries,
    )


def _entry(at: datetime, zone: ZoneInfo, kind: str, **more: Any) -> TimelineEntry:
    return TimelineEntry(at=at, when=local_moment(at, zone), kind=kind, **more)


def _joined(participant: Participant, zone: ZoneInfo) -> list[TimelineEntry]:
    entries = [_entry(participant.created_at, zone, "joined")]
    if participant.withdrawn_at is not None:
        entries.append(_entry(participant.withdrawn_at, zone, "withdrew"))
    return entries


async def _runs(
    session: AsyncSession,
    participant: Participant,
    questionnaires: Mapping[str, Questionnaire],
    zone: ZoneInfo,
) -> list[TimelineEntry]:
    """The answers of the person's named runs (anonymous runs carry no participant id)."""
    runs = list(
        await session.scalars(select(SurveyRun).where(SurveyRun.participant_id == participant.id))
    )
    answers = await repo.answers_by_run(session, [run.id for run in runs])
    entries = []
    for run in runs:
        if run.participant_id != participant.id:  # never anything but the person's own
            continue
        questionnaire = questionnaires.get(run.questionnaire_id)
        given = sorted(answers[run.id], key=lambda a: a.id)
        entries.append(
            _entry(
                run.completed_at or run.started_at, zone,
                "intake" if run.occasion == INTAKE else "answers",
                subject=_title(questionnaires, run.questionnaire_id),
                state=run.status,
                answers=tuple(
                    (question_text(questionnaire, a.question_id), answer_text(questionnaire, a))
                    for a in given
                ),
            )
        )  # fmt: skip
    return entries


async def _matches(
    session: AsyncSession, participant: Participant, zone: ZoneInfo
) -> list[TimelineEntry]:
    matches = await session.scalars(
        select(Match).where(
            (Match.mentee_id == participant.id) | (Match.mentor_id == participant.id)
        )
    )
    entries = []
    for match in matches:
        partner = match.mentor if match.mentee_id == participant.id else match.mentee
        role = label(ROLES, partner.role)
        entries.append(
            _entry(
                match.started_at, zone, "match", subject=role, partner_id=partner.id,
                planned_end=local_day(match.planned_end_at, zone),
            )
        )  # fmt: skip
        if match.ended_at is not None:
            entries.append(
                _entry(
                    match.ended_at, zone, "match_end", subject=role, partner_id=partner.id,
                    state=match.end_reason or "",
                )
            )  # fmt: skip
    return entries


async def _contacts(
    session: AsyncSession,
    participant: Participant,
    questionnaires: Mapping[str, Questionnaire],
    zone: ZoneInfo,
    now: datetime,
) -> list[TimelineEntry]:
    entries = []
    for contact in await repo.contacts_of(session, participant.id):
        at = contact.sent_at or contact.due_at
        entries.append(
            _entry(
                at, zone, "contact",
                subject=_title(questionnaires, contact.questionnaire_id),
                state=contact_state(contact),
                sent=contact.sent_at is not None,
                reminders=contact.reminders_sent,
                planned=contact.state == ContactState.PLANNED and at > now,
            )
        )  # fmt: skip
    return entries


async def _flags(
    session: AsyncSession, participant: Participant, zone: ZoneInfo
) -> list[TimelineEntry]:
    """Flags (never their answer: a named one is among the answers already), the messages on
    them and the coordinators' outcome notes."""
    flags = list(await session.scalars(select(Flag).where(Flag.participant_id == participant.id)))
    messages = (
        list(
            await session.scalars(
                select(FlagMessage)
                .where(FlagMessage.flag_id.in_([f.id for f in flags]))
                .order_by(FlagMessage.id)
            )
        )
        if flags
        else []
    )
    writers = {f.assigned_to for f in flags} | {m.coordinator_id for m in messages}
    coordinators = {
        c.id: c.name
        for c in await session.scalars(
            select(Coordinator).where(Coordinator.id.in_([i for i in writers if i is not None]))
        )
    }
    entries = []
    for flag in flags:
        entries.append(
            _entry(
                flag.created_at, zone, "flag",
                subject=label(CATEGORY_LABELS, flag.category),
                severity=label(SEVERITY_LABELS, flag.severity),
                state=flag.status, flag_id=flag.id,
            )
        )  # fmt: skip
        if flag.outcome and flag.resolved_at is not None:
            entries.append(
                _entry(
                    flag.resolved_at, zone, "note", text=flag.outcome, flag_id=flag.id,
                    writer=coordinators.get(flag.assigned_to or 0, ""),
                )
            )  # fmt: skip
    for message in messages:
        entries.append(
            _entry(
                message.sent_at, zone, "note" if message.internal else "message",
                text=message.text, flag_id=message.flag_id,
                writer=coordinators.get(message.coordinator_id or 0, ""),
                state="coordinator" if message.coordinator_id is not None else "participant",
            )
        )  # fmt: skip
    return entries


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
