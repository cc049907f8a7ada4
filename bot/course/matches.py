"""A mentorship's course: matches, and the contacts their schedule plans.

Used by the command line today and by the coordinator screens later; every rule about a match
lives here, none in a channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession

from bot.language import LazyText, __, local_day
from bot.programmes import AnswerValue, Programme
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

# Why a match cannot be made or ended. Coordinators read them on the dashboard, in their
# language; the command line shows them in English.
NO_PARTICIPANT = __("There is no participant {number}.")
# By the role the match needs (a programme has only mentees and mentors).
WRONG_ROLE = {
    "mentee": __("Participant {number} is a mentor, not a mentee."),
    "mentor": __("Participant {number} is a mentee, not a mentor."),
}
WITHDRAWN = __("Participant {number} has withdrawn.")
ALREADY_MATCHED = __("Participant {number} is already in a match.")
NOT_SAME_PROGRAMME = __("A mentee and a mentor must be in the same programme.")
END_NOT_AFTER_START = __("The end must be after the start.")
NO_MATCH = __("There is no match {number}.")
ENDED_ALREADY = __("Match {number} ended already on {date}.")
END_BEFORE_START = __("The end must not be before the start.")


class MatchError(Exception):
    """A match cannot be made or ended as asked. `str()` says why in one line, in the language
    active when it is shown: it may be raised in one language and read in another."""

    def __init__(self, reason: LazyText, **values: object) -> None:
        super().__init__(reason.message)
        self.reason = reason
        self.values = values

    def __str__(self) -> str:
        return self.reason.format(**self.values)


@dataclass(frozen=True)
class LocalDay:
    """A day in an error, written when the error is shown, as the reader's language writes it."""

    moment: datetime
    zone: ZoneInfo

    def __str__(self) -> str:
        return local_day(self.moment, self.zone)


async def _participant(session: AsyncSession, participant_id: int, role: str) -> Participant:
    # Ids are passed as text: a number would be grouped ("1.234") like an amount.
    number = str(participant_id)
    participant = await session.get(Participant, participant_id)
    if participant is None:
        raise MatchError(NO_PARTICIPANT, number=number)
    if participant.role != role:
        raise MatchError(WRONG_ROLE[role], number=number)
    if participant.status == ParticipantStatus.WITHDRAWN:
        raise MatchError(WITHDRAWN, number=number)
    if await repo.active_match_of(session, participant_id) is not None:
        raise MatchError(ALREADY_MATCHED, number=number)
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
        raise MatchError(NOT_SAME_PROGRAMME)
    programme = programmes[mentee.programme.code]
    start = start or utcnow()
    planned_end = planned_end or programme.schedule.course_length.after(start)
    if planned_end <= start:
        raise MatchError(END_NOT_AFTER_START)
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
        raise MatchError(NO_MATCH, number=str(match_id))
    if match.ended_at is not None:
        known = programmes.get(match.programme.code)
        zone = ZoneInfo((known and known.timezone) or "UTC")
        day = LocalDay(match.ended_at, zone)
        raise MatchError(ENDED_ALREADY, number=str(match_id), date=day)
    ended_at = ended_at or utcnow()
    if ended_at < match.started_at:
        raise MatchError(END_BEFORE_START)
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
