"""The end of a course: a match ends by itself at its planned end (end survey as planned), unless
a coordinator extended it; coordinators are told a while before (`end_notice`)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.coordination import CATEGORY_LABELS
from bot.core import Core
from bot.course import MATCH_ENDING, MatchError, create_match, end_match, extend_match
from storage.models import Contact, ContactState, EndReason, Flag, Match, Participant
from tests.course import T0, RecordingOutbox, clock_at, dispatcher, enrolled, matched

pytestmark = pytest.mark.fast_course

s = lambda n: timedelta(seconds=n)  # noqa: E731


async def state(
    core: Core, match_id: int
) -> tuple[Match, dict[str, str], dict[tuple[str, str], Contact]]:
    async with core.sessions() as session:
        match = await session.get(Match, match_id)
        statuses = {p.role: p.status for p in await session.scalars(select(Participant))}
        contacts = {
            (c.participant.role, c.rule): c
            for c in await session.scalars(select(Contact).where(Contact.match_id == match_id))
        }
    return match, statuses, contacts


async def match_ending_flags(core: Core) -> list[Flag]:
    async with core.sessions() as session:
        return list(await session.scalars(select(Flag).where(Flag.category == MATCH_ENDING)))


async def test_a_match_ends_by_itself_at_its_planned_end(core: Core) -> None:
    """Regression: the match stayed "matched" past its planned end."""
    match = await matched(core)
    outbox, clock = RecordingOutbox(), clock_at(core, T0 + s(7.9))
    report = await dispatcher(core, outbox).tick()
    assert report.ended == []
    assert (await state(core, match.id))[0].ended_at is None
    clock.at = T0 + s(8)
    report = await dispatcher(core, outbox).tick()
    assert report.ended == [match.id]
    ended, statuses, contacts = await state(core, match.id)
    assert (ended.ended_at, ended.end_reason) == (T0 + s(8), EndReason.COMPLETED)
    assert statuses == {"mentee": "ended", "mentor": "ended"}
    # The end surveys go out as planned, in the same round; the follow-up stays planned.
    assert {contacts[("mentee", "end")].id, contacts[("mentor", "end")].id} <= set(report.sent)
    assert contacts[("mentee", "follow_up")].state == ContactState.PLANNED
    assert contacts[("mentee", "follow_up")].due_at == T0 + s(10)
    clock.at = T0 + s(9)
    assert (await dispatcher(core, outbox).tick()).ended == []


async def test_a_match_ended_while_the_bot_was_down_ends_at_its_planned_end(core: Core) -> None:
    match = await matched(core)
    clock_at(core, T0 + s(20))
    await dispatcher(core, RecordingOutbox()).tick()
    ended, _, _ = await state(core, match.id)
    assert ended.ended_at == T0 + s(8)


async def test_several_dispatchers_end_a_match_once(core: Core) -> None:
    match = await matched(core)
    clock_at(core, T0 + s(8))
    outbox = RecordingOutbox()
    reports = await asyncio.gather(*(dispatcher(core, outbox).tick() for _ in range(3)))
    assert sorted(m for report in reports for m in report.ended) == [match.id]


async def test_a_match_ended_by_hand_is_not_ended_again(core: Core) -> None:
    match = await matched(core)
    async with core.sessions() as session:
        await end_match(session, core.programmes, match.id, EndReason.ENDED_BY_MENTOR, T0 + s(3))
        await session.commit()
    clock_at(core, T0 + s(9))
    report = await dispatcher(core, RecordingOutbox()).tick()
    assert report.ended == []
    ended, statuses, _ = await state(core, match.id)
    assert ended.end_reason == EndReason.ENDED_BY_MENTOR and statuses["mentee"] == "waiting"


async def test_an_extended_match_does_not_end_at_its_old_end_and_its_end_contacts_move(
    core: Core,
) -> None:
    match = await matched(core)
    later = T0 + timedelta(days=1)  # an extension ends on a later day than today
    async with core.sessions() as session:
        await extend_match(session, core.programmes, match.id, later, now=T0 + s(3))
        await session.commit()
    extended, _, contacts = await state(core, match.id)
    assert extended.planned_end_at == later
    assert contacts[("mentee", "end")].due_at == contacts[("mentor", "end")].due_at == later
    assert contacts[("mentee", "follow_up")].due_at == later + s(2)
    outbox, clock = RecordingOutbox(), clock_at(core, T0 + s(9))
    report = await dispatcher(core, outbox).tick()
    assert report.ended == []
    assert contacts[("mentee", "end")].id not in report.sent
    running, statuses, _ = await state(core, match.id)
    assert running.ended_at is None and statuses == {"mentee": "matched", "mentor": "matched"}
    clock.at = later
    report = await dispatcher(core, outbox).tick()
    assert report.ended == [match.id] and contacts[("mentee", "end")].id in report.sent


async def test_an_extension_plans_the_checkins_that_now_fall_within_the_course(
    core: Core,
) -> None:
    mentee = await enrolled(core, "100", "mentee")
    mentor = await enrolled(core, "200", "mentor")
    async with core.sessions() as session:  # a short match: check-in 2 (6 s) falls after it
        match = await create_match(session, core.programmes, mentee.id, mentor.id, T0, T0 + s(5))
        await session.commit()
    _, _, contacts = await state(core, match.id)
    assert ("mentee", "checkin_2") not in contacts  # nothing planned after the planned end
    async with core.sessions() as session:
        await extend_match(session, core.programmes, match.id, T0 + timedelta(days=1), now=T0)
        await session.commit()
    _, _, contacts = await state(core, match.id)
    assert contacts[("mentee", "checkin_2")].due_at == T0 + s(6)
    assert contacts[("mentee", "end")].due_at == T0 + timedelta(days=1)


@pytest.mark.parametrize(
    ("until", "now", "message"),
    [
        (s(7), s(1), "after today and after the planned end"),  # before the planned end
        (s(8), s(1), "after today and after the planned end"),  # the planned end itself
        (timedelta(hours=10), s(1), "after today"),  # later, but today
    ],
)
async def test_an_extension_must_end_after_today_and_after_the_planned_end(
    core: Core, until: timedelta, now: timedelta, message: str
) -> None:
    match = await matched(core)
    async with core.sessions() as session:
        with pytest.raises(MatchError, match=message):
            await extend_match(session, core.programmes, match.id, T0 + until, now=T0 + now)


async def test_an_ended_match_cannot_be_extended(core: Core) -> None:
    match = await matched(core)
    clock_at(core, T0 + s(8))
    await dispatcher(core, RecordingOutbox()).tick()
    async with core.sessions() as session:
        with pytest.raises(MatchError, match="ended already"):
            await extend_match(
                session, core.programmes, match.id, T0 + timedelta(days=3), now=T0 + s(9)
            )
        with pytest.raises(MatchError, match="no match 9"):
            await extend_match(session, core.programmes, 9, T0 + timedelta(days=3), now=T0)


async def test_coordinators_are_told_before_a_match_ends_once(core: Core) -> None:
    match = await matched(core)  # the fast course tells them 3 s before its end at 8 s
    outbox, clock = RecordingOutbox(), clock_at(core, T0 + s(4.9))
    assert (await dispatcher(core, outbox).tick()).ending == []
    assert await match_ending_flags(core) == []
    clock.at = T0 + s(5)
    reports = await asyncio.gather(*(dispatcher(core, outbox).tick() for _ in range(3)))
    assert sorted(m for report in reports for m in report.ending) == [match.id]
    (flag,) = await match_ending_flags(core)
    assert (flag.participant_id, flag.severity) == (match.mentee_id, "soon")
    assert flag.programme_id == match.programme_id
    clock.at = T0 + s(6)
    assert (await dispatcher(core, outbox).tick()).ending == []
    assert "match_ending" in CATEGORY_LABELS


async def test_an_extended_match_is_told_again_before_its_new_end(core: Core) -> None:
    match = await matched(core)
    outbox, clock = RecordingOutbox(), clock_at(core, T0 + s(5))
    await dispatcher(core, outbox).tick()
    async with core.sessions() as session:
        await extend_match(session, core.programmes, match.id, T0 + timedelta(days=2), now=clock.at)
        await session.commit()
    clock.at = T0 + timedelta(days=2) - s(3.5)
    assert (await dispatcher(core, outbox).tick()).ending == []
    clock.at = T0 + timedelta(days=2) - s(3)
    assert (await dispatcher(core, outbox).tick()).ending == [match.id]


async def test_a_match_whose_end_passed_is_ended_not_announced(core: Core) -> None:
    match = await matched(core)
    clock_at(core, T0 + s(9))
    report = await dispatcher(core, RecordingOutbox()).tick()
    assert report.ending == [] and report.ended == [match.id]
