"""One participant's timeline for their coordinator: everything that happened (or is planned),
in date order, in the programme's local time.

Only the coordinator's own programmes are ever read. Anonymous answers never appear: answers
are read only from runs that carry the participant's id, and anonymous runs carry none.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordination import CATEGORY_LABELS, SEVERITY_LABELS, audit
from bot.language import (
    _,
    answer_text,
    kept_day,
    language_name,
    local_day,
    local_moment,
    question_text,
    zone_of,
)
from bot.people.participants import names_of
from bot.people.profile import ROLES, label, own_participant
from bot.programmes import INTAKE, Programme, Questionnaire
from storage import repositories as repo
from storage.database import clock_now
from storage.models import (
    Contact,
    ContactState,
    Coordinator,
    Flag,
    FlagMessage,
    Match,
    Participant,
    ParticipantStatus,
    SurveyRun,
)


def contact_state(contact: Contact) -> str:
    """planned, sent, reminded, answered, expired or cancelled."""
    if contact.state == ContactState.SENT and contact.reminders_sent > 0:
        return "reminded"
    return contact.state


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
    day_only: bool = False  # `at` was kept to the day (an anonymous flag's): `when` is a day


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
    await audit(
        session, coordinator, "view", programme_id=participant.programme_id,
        participant_id=participant.id, detail="timeline",
    )  # fmt: skip
    now = now or clock_now(session)
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


def timeline_entry(
    at: datetime, zone: ZoneInfo, kind: str, *, day_only: bool = False, **more: Any
) -> TimelineEntry:
    """An entry at `at`, written in `zone`; `day_only`: a time kept to the day (of an
    anonymous flag, storage/days.py), shown as that day."""
    when = kept_day(at) if day_only else local_moment(at, zone)
    return TimelineEntry(at=at, when=when, kind=kind, day_only=day_only, **more)


def _joined(participant: Participant, zone: ZoneInfo) -> list[TimelineEntry]:
    entries = [timeline_entry(participant.created_at, zone, "joined")]
    if participant.withdrawn_at is not None:
        entries.append(timeline_entry(participant.withdrawn_at, zone, "withdrew"))
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
            timeline_entry(
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
            timeline_entry(
                match.started_at, zone, "match", subject=role, partner_id=partner.id,
                planned_end=local_day(match.planned_end_at, zone),
            )
        )  # fmt: skip
        if match.ended_at is not None:
            entries.append(
                timeline_entry(
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
            timeline_entry(
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
    anonymous = {flag.id for flag in flags if flag.anonymous}  # the person asked to be contacted
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
            timeline_entry(
                flag.created_at, zone, "flag", day_only=flag.anonymous,
                subject=label(CATEGORY_LABELS, flag.category),
                severity=label(SEVERITY_LABELS, flag.severity),
                state=flag.status, flag_id=flag.id,
            )
        )  # fmt: skip
        if flag.outcome and flag.resolved_at is not None:
            entries.append(
                timeline_entry(
                    flag.resolved_at, zone, "note", text=flag.outcome, flag_id=flag.id,
                    day_only=flag.anonymous,
                    writer=coordinators.get(flag.assigned_to or 0, ""),
                )
            )  # fmt: skip
    for message in messages:
        entries.append(
            timeline_entry(
                message.sent_at, zone, "note" if message.internal else "message",
                day_only=message.internal and message.flag_id in anonymous,
                text=message.text, flag_id=message.flag_id,
                writer=coordinators.get(message.coordinator_id or 0, ""),
                state="coordinator" if message.coordinator_id is not None else "participant",
            )
        )  # fmt: skip
    return entries
