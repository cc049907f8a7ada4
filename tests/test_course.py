"""Matches, the schedule of contacts, the dispatcher, reminders and expiry (no channel)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.core import Core
from bot.course import MatchError, create_match, end_match
from bot.language import texts
from bot.messages import Action
from storage.models import Contact, ContactState, EndReason, Match, Participant
from tests.course import T0, RecordingOutbox, clock_at, dispatcher, enrolled

pytestmark = pytest.mark.fast_course


async def matched(core: Core, start=T0) -> tuple[Participant, Participant, Match]:  # type: ignore[no-untyped-def]
    mentee = await enrolled(core, "100", "mentee")
    mentor = await enrolled(core, "200", "mentor")
    async with core.sessions() as session:
        match = await create_match(session, core.programmes, mentee.id, mentor.id, start)
        await session.commit()
    return mentee, mentor, match


async def contacts(core: Core) -> list[Contact]:
    async with core.sessions() as session:
        return list(await session.scalars(select(Contact).order_by(Contact.due_at, Contact.id)))


async def test_match_plans_every_contact_of_the_course(core: Core) -> None:
    mentee, mentor, match = await matched(core)
    assert match.planned_end_at == T0 + timedelta(seconds=8)
    planned = [
        (c.participant_id, c.rule, c.questionnaire_id, c.due_at - T0) for c in await contacts(core)
    ]
    s = lambda n: timedelta(seconds=n)  # noqa: E731
    assert sorted(planned, key=lambda row: (row[3], row[0])) == [
        (mentee.id, "first_meeting", "first_meeting", s(1)),
        (mentee.id, "checkin_1", "checkin_mentee", s(2)),
        (mentor.id, "checkin_1", "checkin_mentor", s(2)),
        (mentee.id, "checkin_2", "checkin_mentee", s(6)),
        (mentee.id, "end", "mentee_end", s(8)),
        (mentor.id, "end", "mentor_end", s(8)),
        (mentee.id, "follow_up", "follow_up", s(10)),
    ]
    async with core.sessions() as session:
        statuses = {p.role: p.status for p in await session.scalars(select(Participant))}
    assert statuses == {"mentee": "matched", "mentor": "matched"}


async def test_default_schedule_is_domain_brief_course() -> None:
    from bot.programmes.schedule import ProgrammeSchedule

    schedule = ProgrammeSchedule()
    start, end = T0, T0 + timedelta(days=182)
    mentee = {rule.id: rule.due(start, end) for rule in schedule.rules["mentee"]}
    assert mentee["first_meeting"] == T0 + timedelta(days=14)
    assert mentee["checkin_1"] == T0 + timedelta(days=45)
    assert mentee["checkin_2"].month == 3 and mentee["checkin_3"].month == 5
    assert mentee["end"] == end and mentee["follow_up"] == end.replace(month=12)
    assert [str(r) for r in schedule.reminders] == ["2d", "5d"]


@pytest.mark.parametrize(
    ("mentee_role", "mentor_role", "message"),
    [
        ("mentor", "mentor", "is a mentor, not a mentee"),
        ("mentee", "mentee", "is a mentee, not a mentor"),
    ],
)
async def test_match_needs_a_mentee_and_a_mentor(
    core: Core, mentee_role: str, mentor_role: str, message: str
) -> None:
    first = await enrolled(core, "1", mentee_role)
    second = await enrolled(core, "2", mentor_role)
    async with core.sessions() as session:
        with pytest.raises(MatchError, match=message):
            await create_match(session, core.programmes, first.id, second.id, T0)


async def test_nobody_is_in_two_matches_at_once(core: Core) -> None:
    mentee, _, _ = await matched(core)
    other_mentor = await enrolled(core, "300", "mentor")
    async with core.sessions() as session:
        with pytest.raises(MatchError, match="already in a match"):
            await create_match(session, core.programmes, mentee.id, other_mentor.id, T0)


async def test_a_match_error_is_worded_in_the_language_active_when_it_is_shown(
    core: Core,
) -> None:
    """Raised with no language active (as the dashboard's core calls run), read by a Danish
    coordinator; the command line, with no language active, reads it in English."""
    mentee, _, match = await matched(core)
    other_mentor = await enrolled(core, "300", "mentor")
    async with core.sessions() as session:
        with pytest.raises(MatchError) as in_a_match:
            await create_match(session, core.programmes, mentee.id, other_mentor.id, T0)
        await end_match(session, core.programmes, match.id, EndReason.COMPLETED, T0)
        with pytest.raises(MatchError) as ended:
            await end_match(session, core.programmes, match.id, EndReason.COMPLETED, T0)
    assert str(in_a_match.value) == f"Participant {mentee.id} is already in a match."
    assert str(ended.value) == f"Match {match.id} ended already on 1 Dec 2026."
    with core.catalogs.use("da"):
        assert str(in_a_match.value) == f"Deltager {mentee.id} er allerede i et match."
        assert str(ended.value) == f"Match {match.id} sluttede allerede den 1. dec. 2026."


async def test_ending_early_cancels_later_checkins_and_brings_the_end_survey_forward(
    core: Core,
) -> None:
    mentee, mentor, match = await matched(core)
    async with core.sessions() as session:
        await end_match(
            session, core.programmes, match.id, EndReason.ENDED_BY_MENTEE, T0 + timedelta(seconds=3)
        )
        await session.commit()
    by_rule = {(c.participant_id, c.rule): c for c in await contacts(core)}
    assert by_rule[(mentee.id, "checkin_2")].state == ContactState.CANCELLED
    assert by_rule[(mentee.id, "checkin_1")].state == ContactState.PLANNED  # due before the end
    assert by_rule[(mentee.id, "end")].due_at == T0 + timedelta(seconds=3)
    assert by_rule[(mentor.id, "end")].due_at == T0 + timedelta(seconds=3)
    assert by_rule[(mentee.id, "follow_up")].due_at == T0 + timedelta(seconds=5)
    async with core.sessions() as session:
        statuses = {p.role: p.status for p in await session.scalars(select(Participant))}
    assert statuses == {"mentee": "dropped_out", "mentor": "ended"}


async def test_due_contacts_are_sent_once_with_a_start_button(core: Core) -> None:
    await matched(core)
    clock_at(core, T0 + timedelta(seconds=2))
    outbox = RecordingOutbox()
    report = await dispatcher(core, outbox).tick()
    assert len(report.sent) == 3  # first meeting, and both first check-ins
    again = await dispatcher(core, outbox).tick()
    assert again.sent == [] and len(outbox.sent) == 3
    invitation = outbox.to("100")[0]
    assert invitation.keyboard[0][0].label == str(texts.START_SURVEY)
    assert invitation.keyboard[0][0].press.action is Action.OPEN


async def test_two_dispatchers_at_once_send_each_contact_once(core: Core) -> None:
    await matched(core)
    clock_at(core, T0 + timedelta(seconds=9))
    outbox = RecordingOutbox()
    await asyncio.gather(*(dispatcher(core, outbox).tick() for _ in range(3)))
    ids = [message.keyboard[0][0].press.option for _, message in outbox.sent]
    assert len(ids) == len(set(ids)) == 6


async def test_crash_between_claim_and_send_sends_nothing_twice(core: Core) -> None:
    await matched(core)
    clock = clock_at(core, T0 + timedelta(seconds=1))
    sending, stuck = asyncio.Event(), asyncio.Event()

    class HangingOutbox(RecordingOutbox):
        async def send(self, channel_user_id: str, message: object) -> None:
            sending.set()
            await stuck.wait()  # the process dies here, after the claim was committed

    crashed = asyncio.create_task(dispatcher(core, HangingOutbox()).tick())
    await asyncio.wait_for(sending.wait(), timeout=10)
    crashed.cancel()
    with pytest.raises(asyncio.CancelledError):
        await crashed
    outbox = RecordingOutbox()
    report = await dispatcher(core, outbox).tick()  # the restarted process
    assert report.sent == [] and outbox.sent == []
    first = next(c for c in await contacts(core) if c.rule == "first_meeting")
    assert first.state == ContactState.SENT and first.delivered_at is None
    # Not lost either: its reminder still reaches the person.
    clock.advance(seconds=2)
    report = await dispatcher(core, outbox).tick()
    assert first.id in report.reminded


async def test_contact_due_while_the_bot_was_down_is_sent_within_the_grace_period(
    core: Core,
) -> None:
    await matched(core)
    outbox = RecordingOutbox()
    clock_at(core, T0 + timedelta(hours=20))
    report = await dispatcher(core, outbox).tick()
    assert len(report.sent) == 7 and report.missed == []


async def test_contact_due_longer_ago_than_the_grace_period_expires_and_is_reported(
    core: Core, caplog: pytest.LogCaptureFixture
) -> None:
    await matched(core)
    outbox = RecordingOutbox()
    clock_at(core, T0 + timedelta(days=3))
    report = await dispatcher(core, outbox).tick()
    assert report.sent == [] and len(report.missed) == 7 and outbox.sent == []
    assert all(c.state == ContactState.EXPIRED for c in await contacts(core))
    assert "was due too long ago to send; expired" in caplog.text


async def test_quiet_hours_hold_contacts_until_morning(core: Core) -> None:
    quiet = core.programmes["fast"].model_copy(
        update={
            "schedule": core.programmes["fast"].schedule.model_copy(
                update={
                    "quiet_hours": QuietHours.model_validate({"start": "21:00", "end": "08:00"})
                }
            ),
            "timezone": "Europe/Copenhagen",
        }
    )
    core.programmes["fast"] = quiet
    night = T0.replace(hour=22)  # 23:00 in Copenhagen
    await matched(core, start=night)
    outbox, clock = RecordingOutbox(), clock_at(core, night + timedelta(seconds=3))
    report = await dispatcher(core, outbox).tick()
    assert report.sent == [] and len(report.held) == 3
    clock.at = T0.replace(hour=7, minute=1) + timedelta(days=1)  # 08:01 in Copenhagen
    report = await dispatcher(core, outbox).tick()
    assert len(report.sent) == 7  # within the grace period, everything that fell due


async def test_reminders_then_expiry_keep_partial_answers(core: Core) -> None:
    await matched(core)
    outbox, clock = RecordingOutbox(), clock_at(core, T0 + timedelta(seconds=1))
    contacts_dispatcher = dispatcher(core, outbox)
    await contacts_dispatcher.tick()
    first = next(c for c in await contacts(core) if c.rule == "first_meeting")
    clock.at = first.sent_at + timedelta(seconds=2)
    report = await contacts_dispatcher.tick()
    assert first.id in report.reminded
    reminder = outbox.to("100")[-1]
    assert reminder.text.startswith("A friendly reminder")
    assert reminder.keyboard[0][0].label == str(texts.CONTINUE_SURVEY)
    assert reminder.keyboard[0][0].press.option == first.id
    clock.at = first.sent_at + timedelta(seconds=3)
    assert first.id in (await contacts_dispatcher.tick()).reminded
    clock.at = first.sent_at + timedelta(seconds=4)
    assert first.id not in (await contacts_dispatcher.tick()).reminded  # two reminders only
    clock.at = first.sent_at + timedelta(seconds=5)
    assert first.id in (await contacts_dispatcher.tick()).expired


async def test_unreachable_person_is_recorded(core: Core) -> None:
    await matched(core)
    outbox = RecordingOutbox(unreachable={"100"})
    clock_at(core, T0 + timedelta(seconds=1))
    report = await dispatcher(core, outbox).tick()
    assert len(report.failed) == 1
    first = next(c for c in await contacts(core) if c.rule == "first_meeting")
    assert first.last_error.startswith("undeliverable: Forbidden")


from bot.programmes import QuietHours  # noqa: E402


async def test_no_reminder_while_the_person_is_answering(core: Core) -> None:
    await matched(core)
    outbox, clock = RecordingOutbox(), clock_at(core, T0 + timedelta(seconds=1))
    await dispatcher(core, outbox).tick()
    first = next(c for c in await contacts(core) if c.rule == "first_meeting")
    clock.at = first.sent_at + timedelta(seconds=2)
    async with core.sessions() as session:
        person = await session.get(Participant, first.participant_id)
        person.last_active_at = clock.at - timedelta(seconds=0.5)  # tapped half a second ago
        await session.commit()
    assert first.id not in (await dispatcher(core, outbox).tick()).reminded
    clock.advance(seconds=1)  # the fast programme's reminder_pause is 1 s
    assert first.id in (await dispatcher(core, outbox).tick()).reminded
