"""An invitation that falls due while the person is inside another survey waits until that
survey is finished or paused (no tap for `reminder_pause`, 1 s in the fast course)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.core import Core
from bot.language import texts
from bot.messages import Action, Press, Tap
from bot.programmes import QuietHours
from storage.models import Contact, ContactState, SurveyRun
from tests.conversation import EngineChat
from tests.course import (
    T0,
    FakeClock,
    RecordingOutbox,
    chat,
    contact,
    dispatcher,
    matched,
)

pytestmark = pytest.mark.fast_course


def invited_to(outbox: RecordingOutbox, user: str) -> list[int]:
    """The contacts of the invitations (not reminders) sent to `user`, in order."""
    return [
        message.keyboard[0][0].press.option
        for message in outbox.to(user)
        if message.keyboard[0][0].label == str(texts.START_SURVEY)
    ]


async def one_answer(person: EngineChat) -> bool:
    """Answer the question shown with its first choice; True once the survey is done."""
    assert person.prompt is not None
    labels = [
        b.label
        for row in person.prompt.keyboard
        for b in row
        if b.press.action not in {Action.TALK, Action.WHY}
    ]
    if str(texts.DONE) in labels:
        await person.tap(labels[0])
        await person.tap(str(texts.DONE))
    elif str(texts.SKIP) in labels:
        await person.tap(str(texts.SKIP))
    else:
        await person.tap(labels[0])
    return any(str(texts.CONTACT_DONE) in message.text for message in person.last.messages)


async def test_a_checkin_due_while_the_mentee_answers_another_survey_comes_after_it(
    core: Core, clock: FakeClock
) -> None:
    await matched(core)
    outbox = RecordingOutbox()
    contacts = dispatcher(core, outbox)
    clock.at = T0 + timedelta(seconds=1)
    await contacts.tick()
    first, checkin = (
        await contact(core, "100", "first_meeting"),
        await contact(core, "100", "checkin_1"),
    )
    amina = chat(core, "100")
    clock.at = T0 + timedelta(seconds=1.5)
    await amina.send(Tap(Press(Action.OPEN, option=first.id)))
    clock.at = T0 + timedelta(seconds=1.8)
    await amina.tap("Yes")
    clock.at = T0 + timedelta(seconds=2)  # check-in 1 falls due while she answers
    report = await contacts.tick()
    assert invited_to(outbox, "100") == [first.id]
    assert report.waiting == [checkin.id]
    assert len(invited_to(outbox, "200")) == 1  # her mentor is not answering anything
    clock.at = T0 + timedelta(seconds=2.3)
    await amina.tap("Good")
    assert amina.texts == [str(texts.CONTACT_DONE)]
    await contacts.tick()
    assert invited_to(outbox, "100") == [first.id, checkin.id]


async def test_an_invitation_due_during_the_anonymous_end_survey_waits_until_it_is_finished(
    core: Core, clock: FakeClock
) -> None:
    """Regression: a contact that fell due while a mentee answered her anonymous end survey
    took over the conversation, and the end survey stayed unfinished."""
    await matched(core)
    outbox = RecordingOutbox()
    contacts = dispatcher(core, outbox)
    clock.at = T0 + timedelta(seconds=8)  # the end survey (anonymous in the fast course)
    await contacts.tick()
    end, follow_up = await contact(core, "100", "end"), await contact(core, "100", "follow_up")
    amina = chat(core, "100")
    clock.advance(seconds=0.25)
    await amina.send(Tap(Press(Action.OPEN, option=end.id)))
    for _ in range(60):  # a quarter of a second per answer; the follow-up is due at 10 s
        clock.advance(seconds=0.25)
        done = await one_answer(amina)
        report = await contacts.tick()
        if done:
            break
        assert follow_up.id not in invited_to(outbox, "100")
        if clock.at >= follow_up.due_at:
            assert report.waiting == [follow_up.id]
    else:
        raise AssertionError("the end survey did not end")
    assert clock.at > follow_up.due_at  # it did fall due during the end survey
    assert invited_to(outbox, "100")[-1] == follow_up.id
    async with core.sessions() as session:
        run = await session.scalar(
            select(SurveyRun).where(SurveyRun.questionnaire_id == "mentee_end")
        )
    assert run.participant_id is None and run.status == "completed"
    assert (await contact(core, "100", "end")).state == ContactState.ANSWERED


async def test_an_invitation_comes_once_the_other_survey_is_paused(
    core: Core, clock: FakeClock
) -> None:
    await matched(core)
    outbox = RecordingOutbox()
    contacts = dispatcher(core, outbox)
    clock.at = T0 + timedelta(seconds=1)
    await contacts.tick()
    first = await contact(core, "100", "first_meeting")
    amina = chat(core, "100")
    await amina.send(Tap(Press(Action.OPEN, option=first.id)))
    clock.at = T0 + timedelta(seconds=1.5)
    await amina.tap("Yes")  # then she puts the phone away
    clock.at = T0 + timedelta(seconds=2)
    assert len((await contacts.tick()).waiting) == 1
    clock.at = T0 + timedelta(seconds=2.6)  # more than a second without a tap: paused
    report = await contacts.tick()
    checkin = await contact(core, "100", "checkin_1")
    assert report.waiting == [] and checkin.id in report.sent
    async with core.sessions() as session:
        assert (await session.get(Contact, checkin.id)).state == ContactState.SENT


async def test_an_invitation_that_waited_still_keeps_the_quiet_hours(
    core: Core, clock: FakeClock
) -> None:
    fast = core.programmes["fast"]
    night = QuietHours.model_validate({"start": "10:00:03", "end": "08:00"})  # T0 is 10:00
    core.programmes["fast"] = fast.model_copy(
        update={
            "schedule": fast.schedule.model_copy(update={"quiet_hours": night}),
            "timezone": "UTC",
        }
    )
    await matched(core)
    outbox = RecordingOutbox()
    contacts = dispatcher(core, outbox)
    clock.at = T0 + timedelta(seconds=1)
    await contacts.tick()
    first, checkin = (
        await contact(core, "100", "first_meeting"),
        await contact(core, "100", "checkin_1"),
    )
    amina = chat(core, "100")
    await amina.send(Tap(Press(Action.OPEN, option=first.id)))
    clock.at = T0 + timedelta(seconds=1.5)
    await amina.tap("Yes")
    clock.at = T0 + timedelta(seconds=2)
    assert (await contacts.tick()).waiting == [checkin.id]
    clock.at = T0 + timedelta(seconds=2.5)
    await amina.tap("Good")  # finished, but by now it is night
    clock.at = T0 + timedelta(seconds=3)
    report = await contacts.tick()
    assert checkin.id in report.held and report.sent == []
    clock.at = T0.replace(hour=8, minute=0, second=1) + timedelta(days=1)
    assert checkin.id in (await contacts.tick()).sent
    assert invited_to(outbox, "100")[:2] == [first.id, checkin.id]
