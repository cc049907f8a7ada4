"""A mentorship's course: matches, and the contacts their schedule plans.

Used by the command line today and by the coordinator screens later; every rule about a match
lives here, none in a channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordination import raise_flag
from bot.language import LazyText, __, local_day, zone_of
from bot.programmes import AnswerValue, Programme, ScheduleRule, Severity
from storage import repositories as repo
from storage.database import clock_now
from storage.models import (
    Contact,
    ContactState,
    EndReason,
    Match,
    Participant,
    ParticipantStatus,
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
EXTEND_NOT_LATER = __("The new end must be after today and after the planned end, {date}.")

# The flag that tells coordinators a match is about to end (its label: bot/coordination/wording.py).
MATCH_ENDING = "match_ending"


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


async def matchable_participant(
    session: AsyncSession, participant_id: int, role: str, capacity: int = 1
) -> Participant:
    """The participant, if they can be matched in this role now: a mentee outside a match, a
    mentor with fewer than `capacity` running matches (the programme's `matching.capacity`)."""
    # Ids are passed as text: a number would be grouped ("1.234") like an amount.
    number = str(participant_id)
    participant = await session.get(Participant, participant_id)
    if participant is None:
        raise MatchError(NO_PARTICIPANT, number=number)
    if participant.role != role:
        raise MatchError(WRONG_ROLE[role], number=number)
    if participant.status == ParticipantStatus.WITHDRAWN:
        raise MatchError(WITHDRAWN, number=number)
    if await _running_matches(session, participant_id) >= capacity:
        raise MatchError(ALREADY_MATCHED, number=number)
    return participant


async def _running_matches(
    session: AsyncSession, participant_id: int, besides: int | None = None
) -> int:
    """How many matches the person is in now (but for match `besides`)."""
    query = select(func.count()).where(
        Match.ended_at.is_(None),
        (Match.mentee_id == participant_id) | (Match.mentor_id == participant_id),
    )
    if besides is not None:
        query = query.where(Match.id != besides)
    return await session.scalar(query) or 0


async def create_match(
    session: AsyncSession,
    programmes: dict[str, Programme],
    mentee_id: int,
    mentor_id: int,
    start: datetime | None = None,
    planned_end: datetime | None = None,
) -> Match:
    """Join a mentee and a mentor, and plan every contact of their course."""
    mentee = await matchable_participant(session, mentee_id, "mentee")
    known = programmes.get(mentee.programme.code) if mentee.programme else None
    capacity = known.matching.capacity if known else 1
    mentor = await matchable_participant(session, mentor_id, "mentor", capacity)
    if mentee.programme is None or mentee.programme_id != mentor.programme_id:
        raise MatchError(NOT_SAME_PROGRAMME)
    programme = programmes[mentee.programme.code]
    start = start or clock_now(session)
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
        _plan(session, programme, match, person, planned=set())
    await session.flush()
    return match


def _plan(
    session: AsyncSession,
    programme: Programme,
    match: Match,
    person: Participant,
    planned: set[tuple[int, str]],
) -> None:
    """Plan the person's contacts of the match's course that are not `planned` yet (by person
    and rule): the rules that fall within the course, from its start to its planned end."""
    start, end = match.started_at, match.planned_end_at
    for rule in programme.schedule.rules.get(person.role, ()):
        if (person.id, rule.id) in planned or not rule.within(start, end):
            continue
        session.add(
            Contact(
                participant_id=person.id,
                match_id=match.id,
                rule=rule.id,
                questionnaire_id=rule.questionnaire,
                due_at=rule.due(start, end),
                state=ContactState.PLANNED,
            )
        )


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
    match = await _running(session, programmes, match_id)
    ended_at = ended_at or clock_now(session)
    if ended_at < match.started_at:
        raise MatchError(END_BEFORE_START)
    match.ended_at, match.end_reason = ended_at, reason
    await _close_course(session, programmes[match.programme.code], match, clock_now(session))
    return match


async def _running(session: AsyncSession, programmes: dict[str, Programme], match_id: int) -> Match:
    """The match, if it has not ended yet."""
    match = await session.get(Match, match_id)
    if match is None:
        raise MatchError(NO_MATCH, number=str(match_id))
    if match.ended_at is not None:
        known = programmes.get(match.programme.code)
        zone = ZoneInfo((known and known.timezone) or "UTC")
        day = LocalDay(match.ended_at, zone)
        raise MatchError(ENDED_ALREADY, number=str(match_id), date=day)
    return match


async def _close_course(
    session: AsyncSession, programme: Programme, match: Match, now: datetime
) -> None:
    """What follows a match's end (`match.ended_at`, `end_reason` set): the pair's statuses,
    contacts after the end cancelled, the end-of-course ones moved to the end."""
    assert match.ended_at is not None and match.end_reason is not None
    ended_at = match.ended_at
    statuses = _STATUS_AFTER[EndReason(match.end_reason)]
    for person, status in zip((match.mentee, match.mentor), statuses, strict=True):
        if person.status == ParticipantStatus.WITHDRAWN:
            continue
        # A mentor with room for several mentees stays matched while another pair runs.
        if await _running_matches(session, person.id, besides=match.id):
            continue
        person.status = status
    rules = _rules(programme)
    for contact in await repo.contacts_of_match(session, match.id):
        if contact.state != ContactState.PLANNED:
            continue
        rule = rules.get((contact.participant.role, contact.rule))
        if rule is not None and rule.anchor == "end":
            contact.due_at = rule.due(match.started_at, ended_at)
        elif contact.due_at > ended_at:
            contact.state = ContactState.CANCELLED
            contact.closed_at = now
    await session.flush()


def _rules(programme: Programme) -> dict[tuple[str, str], ScheduleRule]:
    """The programme's schedule rules by role and rule id."""
    return {
        (role, rule.id): rule for role, roles in programme.schedule.rules.items() for rule in roles
    }


async def extend_match(
    session: AsyncSession,
    programmes: dict[str, Programme],
    match_id: int,
    until: datetime,
    now: datetime | None = None,
    default_zone: str = "UTC",
) -> Match:
    """A coordinator lets a match run on to `until`, a day after today and after its planned
    end (today in the programme's time zone, or `default_zone`): it does not end by itself
    before, the end-of-course contacts move to the new end, the schedule's rules that now fall
    within the course are planned, and coordinators are told again before the new end."""
    now = now or clock_now(session)
    match = await _running(session, programmes, match_id)
    programme = programmes[match.programme.code]
    zone = zone_of(programmes, programme.code, default_zone)
    planned_end = match.planned_end_at
    if until <= planned_end or until.astimezone(zone).date() <= now.astimezone(zone).date():
        raise MatchError(EXTEND_NOT_LATER, date=LocalDay(planned_end, zone))
    # Conditional, as the dispatcher may be ending the match at this very moment.
    if not await repo.claim_match(
        session,
        match.id,
        [Match.ended_at.is_(None), Match.planned_end_at == planned_end],
        {"planned_end_at": until, "end_notice_at": None},
    ):
        await session.refresh(match)
        await _running(session, programmes, match_id)  # ended meanwhile: says so
        raise MatchError(EXTEND_NOT_LATER, date=LocalDay(match.planned_end_at, zone))
    await session.refresh(match)
    rules = _rules(programme)
    contacts = await repo.contacts_of_match(session, match.id)
    for contact in contacts:
        rule = rules.get((contact.participant.role, contact.rule))
        if contact.state == ContactState.PLANNED and rule is not None and rule.anchor == "end":
            contact.due_at = rule.due(match.started_at, until)
    planned = {(contact.participant_id, contact.rule) for contact in contacts}
    for person in (match.mentee, match.mentor):
        _plan(session, programme, match, person, planned)
    await session.flush()
    return match


async def end_due_matches(
    session: AsyncSession, programmes: dict[str, Programme], now: datetime
) -> list[int]:
    """End the running matches whose planned end has come (as completed, at their planned
    end); the ids of those this process ended. Each is claimed by a conditional update, so of
    several dispatchers exactly one ends it."""
    ended = []
    for match in await repo.matches_due_to_end(session, now):
        programme = programmes.get(match.programme.code)
        if programme is None:
            continue  # another organisation's programme: not this bot's to end
        claimed = await repo.claim_match(
            session,
            match.id,
            [Match.ended_at.is_(None), Match.planned_end_at <= now],
            {"ended_at": match.planned_end_at, "end_reason": EndReason.COMPLETED},
        )
        if claimed:
            await session.refresh(match)
            await _close_course(session, programme, match, now)
            ended.append(match.id)
    return ended


async def tell_ending_matches(
    session: AsyncSession, programmes: dict[str, Programme], now: datetime
) -> list[int]:
    """Raise a `match_ending` flag (severity soon: the morning digest brings it) for each
    running match whose planned end is less than the programme's `end_notice` away; once per
    planned end, claimed like the end itself. The ids of the matches told about."""
    told: list[int] = []
    notices = [p.schedule.end_notice for p in programmes.values() if p.schedule.end_notice]
    if not notices:
        return told
    # Months differ in length: a few days more than the longest notice finds them all.
    horizon = max(notice.after(now) for notice in notices) + timedelta(days=4)
    for match in await repo.matches_not_yet_told(session, now, horizon):
        programme = programmes.get(match.programme.code)
        notice = programme.schedule.end_notice if programme else None
        if notice is None or notice.before(match.planned_end_at) > now:
            continue
        if await repo.claim_match(
            session,
            match.id,
            [Match.end_notice_at.is_(None), Match.ended_at.is_(None)],
            {"end_notice_at": now},
        ):
            await raise_flag(
                session,
                programme_id=match.programme_id,
                participant_id=match.mentee_id,
                category=MATCH_ENDING,
                severity=Severity.SOON,
            )
            told.append(match.id)
    return told


async def apply_triggers(
    session: AsyncSession,
    programme: Programme,
    participant: Participant,
    questionnaire_id: str,
    answers: dict[str, AnswerValue],
    now: datetime | None = None,
) -> list[Contact]:
    """Plan the extra contacts that these finished answers call for (e.g. "we have not met"):
    each trigger fires once in a match (or up to its `repeat`), never for a contact after the
    match's planned end."""
    match = await repo.active_match_of(session, participant.id)
    now = now or clock_now(session)
    planned = []
    for trigger in programme.schedule.triggers:
        if trigger.role != participant.role or trigger.watch != questionnaire_id:
            continue
        if match is None or not trigger.fires(answers):
            continue
        due = trigger.after.after(now)
        if due > match.planned_end_at:
            continue
        fired = [
            c
            for c in await repo.contacts_of_match(session, match.id)
            if c.participant_id == participant.id and c.rule == trigger.id
        ]
        if len(fired) >= trigger.repeat:
            continue
        contact = Contact(
            participant_id=participant.id,
            match_id=match.id,
            rule=trigger.id,
            questionnaire_id=trigger.send,
            due_at=due,
            state=ContactState.PLANNED,
        )
        session.add(contact)
        planned.append(contact)
    await session.flush()
    return planned
