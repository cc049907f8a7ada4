"""Mentor pairs at a glance for their coordinator: each pair's check-ins (met or not, how it is
going) so that a pair in trouble stands out; and making and ending a match from a screen, only
within the coordinator's own programmes, written to the audit log.

The rules of a match itself (who may be matched, what its schedule plans, what ending it
cancels) live in bot/course/matches.py; this module only checks ownership and reads.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordination import CoordinationError, audit, programme_ids
from bot.course.matches import MatchError, create_match, end_match
from bot.language import (
    __,
    local_day,
    local_moment,
    moment_of_day,
    question_of,
    value_text,
    zone_of,
)
from bot.people import NOT_FOUND, names_of, own_participant
from bot.programmes import Programme, Questionnaire
from storage.database import clock_now
from storage.models import (
    Answer,
    AnswerStatus,
    Contact,
    ContactState,
    Coordinator,
    EndReason,
    Match,
    Participant,
    SurveyRun,
)

# The check-in questionnaires and their two questions that tell how a pair is doing
# (surveys/checkin_mentee.yaml and checkin_mentor.yaml share these ids).
CHECK_INS = ("checkin_mentee", "checkin_mentor")
MET, GOING = "met", "going"
NOT_MET, NOT_GOING_WELL = "no", "not_good"

# Why a pair needs attention, as codes for the page to put into words.
NO_ANSWER, SAYS_NOT_MET, SAYS_NOT_GOING_WELL = "no_answer", "not_met", "not_going_well"

NO_PROGRAMME_FILE = __("The programme {code} has no programme file.")


@dataclass(frozen=True)
class CheckIn:
    """One check-in of one side of a pair."""

    at: datetime
    when: str
    role: str
    answered: bool
    met: str = ""  # the chosen option, in the reader's language
    going: str = ""
    not_met: bool = False
    not_going_well: bool = False

    @property
    def worrying(self) -> bool:
        return not self.answered or self.not_met or self.not_going_well


@dataclass(frozen=True)
class Pair:
    id: int
    programme: str
    mentee_id: int
    mentor_id: int
    mentee_name: str | None
    mentor_name: str | None
    started: str
    planned_end: str
    ended: str  # empty while the match runs
    end_reason: str  # an EndReason value, or empty
    check_ins: list[CheckIn] = field(default_factory=list)
    # Why the pair needs attention: (role, NO_ANSWER | SAYS_NOT_MET | SAYS_NOT_GOING_WELL).
    concerns: list[tuple[str, str]] = field(default_factory=list)
    programme_id: int | None = None  # for the audit log: each programme's pairs in its own

    @property
    def active(self) -> bool:
        return not self.ended

    @property
    def needs_attention(self) -> bool:
        return self.active and bool(self.concerns)


def _concerns(check_ins: list[CheckIn]) -> list[tuple[str, str]]:
    """What the latest check-in of each side says that a coordinator must look at."""
    found = []
    for role in ("mentee", "mentor"):
        own = [c for c in check_ins if c.role == role]
        if not own:
            continue
        last = own[-1]
        if not last.answered:
            found.append((role, NO_ANSWER))
        if last.not_met:
            found.append((role, SAYS_NOT_MET))
        if last.not_going_well:
            found.append((role, SAYS_NOT_GOING_WELL))
    return found


async def pairs(
    session: AsyncSession,
    coordinator: Coordinator,
    questionnaires: Mapping[str, Questionnaire],
    programmes: Mapping[str, Programme],
    default_zone: str,
) -> list[Pair]:
    """The matches of the coordinator's programmes: running pairs that need attention first,
    then the other running pairs, then ended ones; newest first within each."""
    mine = await programme_ids(session, coordinator)
    matches = list(
        await session.scalars(
            select(Match).where(Match.programme_id.in_(mine)).order_by(Match.started_at.desc())
        )
    )
    check_ins = await _check_ins(session, [m.id for m in matches], questionnaires, programmes,
                                 default_zone)  # fmt: skip
    people = {pid for m in matches for pid in (m.mentee_id, m.mentor_id)}
    names = await names_of(session, people)
    found = []
    for match in matches:
        zone = zone_of(programmes, match.programme.code, default_zone)
        own = check_ins.get(match.id, [])
        found.append(
            Pair(
                id=match.id,
                programme=match.programme.name,
                mentee_id=match.mentee_id,
                mentor_id=match.mentor_id,
                mentee_name=names.get(match.mentee_id),
                mentor_name=names.get(match.mentor_id),
                started=local_day(match.started_at, zone),
                planned_end=local_day(match.planned_end_at, zone),
                ended=local_day(match.ended_at, zone),
                end_reason=match.end_reason or "",
                programme_id=match.programme_id,
                check_ins=own,
                concerns=_concerns(own),
            )
        )
    found.sort(key=lambda p: (not p.active, not p.needs_attention))
    return found


async def _check_ins(
    session: AsyncSession,
    match_ids: list[int],
    questionnaires: Mapping[str, Questionnaire],
    programmes: Mapping[str, Programme],
    default_zone: str,
) -> dict[int, list[CheckIn]]:
    """The finished check-ins of each pair, in the order they were sent: the answers of named
    runs (an anonymous check-in is never linked to its contact), or "no answer" once expired
    (with what was answered before it expired)."""
    if not match_ids:
        return {}
    contacts = list(
        await session.scalars(
            select(Contact)
            .where(
                Contact.match_id.in_(match_ids),
                Contact.questionnaire_id.in_(CHECK_INS),
                Contact.state.in_([ContactState.ANSWERED, ContactState.EXPIRED]),
            )
            .order_by(Contact.due_at, Contact.id)
        )
    )
    run_ids = [c.run_id for c in contacts if c.run_id is not None]
    values: dict[int, dict[str, object]] = {}
    if run_ids:
        rows = await session.execute(
            select(Answer.run_id, Answer.question_id, Answer.value)
            .join(SurveyRun, SurveyRun.id == Answer.run_id)
            .where(
                Answer.run_id.in_(run_ids),
                SurveyRun.participant_id.is_not(None),  # named runs only
                Answer.question_id.in_([MET, GOING]),
                Answer.status == AnswerStatus.ANSWERED,
            )
        )
        for run_id, question_id, value in rows:
            values.setdefault(run_id, {})[question_id] = value
    found: dict[int, list[CheckIn]] = {}
    for contact in contacts:
        assert contact.match_id is not None
        zone = zone_of(
            programmes,
            contact.participant.programme.code if contact.participant.programme else None,
            default_zone,
        )
        given = values.get(contact.run_id or 0, {})
        questionnaire = questionnaires.get(contact.questionnaire_id)
        met, going = given.get(MET), given.get(GOING)
        found.setdefault(contact.match_id, []).append(
            CheckIn(
                at=contact.sent_at or contact.due_at,
                when=local_moment(contact.sent_at or contact.due_at, zone),
                role=contact.participant.role,
                answered=bool(given) or contact.state == ContactState.ANSWERED,
                met=value_text(question_of(questionnaire, MET), met) if met else "",
                going=value_text(question_of(questionnaire, GOING), going) if going else "",
                not_met=met == NOT_MET,
                not_going_well=going == NOT_GOING_WELL,
            )
        )
    return found


async def _own(session: AsyncSession, coordinator: Coordinator, participant_id: int) -> Participant:
    """The coordinator's participant; a refused match says which number was not found."""
    try:
        return await own_participant(session, coordinator, participant_id)
    except CoordinationError:
        raise MatchError(NOT_FOUND, number=str(participant_id)) from None


async def make_match(
    session: AsyncSession,
    coordinator: Coordinator,
    programmes: Mapping[str, Programme],
    default_zone: str,
    mentee_id: int,
    mentor_id: int,
    start_day: date | None = None,
    now: datetime | None = None,
) -> Match:
    """A coordinator matches two of their participants from the given day (today: now)."""
    mentee = await _own(session, coordinator, mentee_id)
    await _own(session, coordinator, mentor_id)
    code = mentee.programme.code if mentee.programme else None
    if code not in programmes:
        raise MatchError(NO_PROGRAMME_FILE, code=str(code))
    zone = zone_of(programmes, code, default_zone)
    start = moment_of_day(start_day, zone, now or clock_now(session))
    match = await create_match(session, dict(programmes), mentee_id, mentor_id, start)
    await audit(
        session, coordinator, "match", programme_id=match.programme_id, participant_id=mentee_id,
        detail=f"match {match.id}: mentee {mentee_id}, mentor {mentor_id}, "
        f"from {match.started_at:%Y-%m-%d}",
    )  # fmt: skip
    return match


async def finish_match(
    session: AsyncSession,
    coordinator: Coordinator,
    programmes: Mapping[str, Programme],
    default_zone: str,
    match_id: int,
    reason: EndReason,
    end_day: date | None = None,
    now: datetime | None = None,
) -> Match:
    """A coordinator ends one of their programmes' matches on the given day (today: now)."""
    match = await own_match(session, coordinator, match_id)
    if match.programme.code not in programmes:
        raise MatchError(NO_PROGRAMME_FILE, code=match.programme.code)
    zone = zone_of(programmes, match.programme.code, default_zone)
    ended = moment_of_day(end_day, zone, now or clock_now(session))
    await end_match(session, dict(programmes), match.id, reason, ended)
    await audit(
        session, coordinator, "end_match", programme_id=match.programme_id,
        participant_id=match.mentee_id,
        detail=f"match {match.id}: mentee {match.mentee_id}, mentor {match.mentor_id}, "
        f"{reason.value}",
    )  # fmt: skip
    return match


async def own_match(session: AsyncSession, coordinator: Coordinator, match_id: int) -> Match:
    """Another programme's match is "not found", as if there were none."""
    match = await session.get(Match, match_id)
    if match is None or match.programme_id not in await programme_ids(session, coordinator):
        raise CoordinationError(f"there is no match {match_id} in your programmes")
    return match
