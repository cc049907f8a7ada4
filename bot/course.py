"""A mentorship's course: matches, and the contacts their schedule plans.

Used by the command line today and by the coordinator screens later; every rule about a match
lives here, none in a channel.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.programme import Programme
from bot.questionnaire import AnswerValue
from storage import repositories as repo
from storage.models import (
    Contact,
    ContactState,
    EndReason,
    Match,
    Participant,
    ParticipantStatus,
    utcnow,
)


class MatchError(Exception):
    """A match cannot be made or ended as asked; the message says why in one line."""


async def _participant(session: AsyncSession, participant_id: int, role: str) -> Participant:
    participant = await session.get(Participant, participant_id)
    if participant is None:
        raise MatchError(f"there is no participant {participant_id}")
    if participant.role != role:
        raise MatchError(f"participant {participant_id} is a {participant.role}, not a {role}")
    if participant.status == ParticipantStatus.WITHDRAWN:
        raise MatchError(f"participant {participant_id} has withdrawn")
    if await repo.active_match_of(session, participant_id) is not None:
        raise MatchError(f"participant {participant_id} is already in a match")
    return participant


async def create_match(
    session: AsyncSession,
    programmes: dict[str, Programme],
    mentee_id: int,
    mentor_id: int,
    start: datetime | None = None,
    planned_end: datetime | None = None,
) -> Match:
    """Join a mentee and a mentor, and plan every contact of their course."""
    mentee = await _participant(session, mentee_id, "mentee")
    mentor = await _participant(session, mentor_id, "mentor")
    if mentee.programme is None or mentee.programme_id != mentor.programme_id:
        raise MatchError("a mentee and a mentor must be in the same programme")
    programme = programmes[mentee.programme.code]
    start = start or utcnow()
    planned_end = planned_end or programme.schedule.course_length.after(start)
    if planned_end <= start:
        raise MatchError("the end must be after the start")
    match = Match(
        programme_id=mentee.programme_id,
        mentee_id=mentee.id,
        mentor_id=mentor.id,
        started_at=start,
        planned_end_at=planned_end,
    )
    session.add(match)
    await session.flush()
    for person in (mentee, mentor):
        person.status = ParticipantStatus.MATCHED
        for rule in programme.schedule.rules.get(person.role, ()):
            session.add(
                Contact(
                    participant_id=person.id,
                    match_id=match.id,
                    rule=rule.id,
                    questionnaire_id=rule.questionnaire,
                    due_at=rule.due(start, planned_end),
                    state=ContactState.PLANNED,
                )
            )
    await session.flush()
    return match


_STATUS_AFTER = {
    # reason: (mentee's status, mentor's status)
    EndReason.COMPLETED: (ParticipantStatus.ENDED, ParticipantStatus.ENDED),
    EndReason.GOAL_REACHED_EARLY: (ParticipantStatus.ENDED, ParticipantStatus.ENDED),
    EndReason.ENDED_BY_MENTEE: (ParticipantStatus.DROPPED_OUT, ParticipantStatus.ENDED),
    EndReason.NOT_REACHABLE: (ParticipantStatus.DROPPED_OUT, ParticipantStatus.ENDED),
    # The mentee did nothing wrong and may get a new mentor.
    EndReason.ENDED_BY_MENTOR: (ParticipantStatus.WAITING, ParticipantStatus.ENDED),
    EndReason.OTHER: (ParticipantStatus.ENDED, ParticipantStatus.ENDED),
}


async def end_match(
    session: AsyncSession,
    programmes: dict[str, Programme],
    match_id: int,
    reason: EndReason,
    ended_at: datetime | None = None,
) -> Match:
    """End a match: later check-ins are cancelled, end-of-course contacts move to the end."""
    match = await session.get(Match, match_id)
    if match is None:
        raise MatchError(f"there is no match {match_id}")
    if match.ended_at is not None:
        raise MatchError(f"match {match_id} ended already on {match.ended_at:%Y-%m-%d}")
    ended_at = ended_at or utcnow()
    if ended_at < match.started_at:
        raise MatchError("the end must not be before the start")
    programme = programmes[match.programme.code]
    match.ended_at, match.end_reason = ended_at, reason
    for person, status in zip((match.mentee, match.mentor), _STATUS_AFTER[reason], strict=True):
        if person.status != ParticipantStatus.WITHDRAWN:
            person.status = status
    rules = {
        (role, rule.id): rule for role, roles in programme.schedule.rules.items() for rule in roles
    }
    for contact in await repo.contacts_of_match(session, match.id):
        if contact.state != ContactState.PLANNED:
            continue
        rule = rules.get((contact.participant.role, contact.rule))
        if rule is not None and rule.anchor == "end":
            contact.due_at = rule.due(match.started_at, ended_at)
        elif contact.due_at > ended_at:
            contact.state = ContactState.CANCELLED
            contact.closed_at = utcnow()
    await session.flush()
    return match


async def apply_triggers(
    session: AsyncSession,
    programme: Programme,
    participant: Participant,
    questionnaire_id: str,
    answers: dict[str, AnswerValue],
) -> list[Contact]:
    """Plan the extra contacts that these finished answers call for (e.g. "we have not met")."""
    match = await repo.active_match_of(session, participant.id)
    planned = []
    for trigger in programme.schedule.triggers:
        if trigger.role != participant.role or trigger.watch != questionnaire_id:
            continue
        if match is None or not trigger.fires(answers):
            continue
        contact = Contact(
            participant_id=participant.id,
            match_id=match.id,
            rule=trigger.id,
            questionnaire_id=trigger.send,
            due_at=trigger.after.after(utcnow()),
            state=ContactState.PLANNED,
        )
        session.add(contact)
        planned.append(contact)
    await session.flush()
    return planned
