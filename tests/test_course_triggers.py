"""Answer triggers: an extra check-in fires once per match (or up to `repeat` times), and
nothing is planned after the match's planned end but the end survey and the follow-up."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from bot.core import Core
from bot.course import apply_triggers
from bot.language import texts
from bot.messages import Action, Press, Tap
from bot.programmes.schedule import AnswerTrigger
from storage.models import Contact, ContactState, Match, Participant
from tests.conversation import EngineChat
from tests.course import T0, FakeClock, RecordingOutbox, chat, dispatcher, matched

pytestmark = pytest.mark.fast_course

END_RULES = {"end", "follow_up"}  # anchored at the end in tests/data/course/fast.yaml


async def answer_not_met(person: EngineChat, contact_id: int) -> None:
    """Open the check-in and say "No, we have not met", then the first choice of the rest."""
    await person.send(Tap(Press(Action.OPEN, option=contact_id)))
    await person.tap("No")
    for _ in range(20):
        if str(texts.CONTACT_DONE) in person.texts:
            return
        assert person.prompt is not None
        labels = [
            b.label
            for row in person.prompt.keyboard
            for b in row
            if b.press.action not in {Action.TALK, Action.WHY}
        ]
        await person.tap(labels[0])
        if str(texts.DONE) in labels:
            await person.tap(str(texts.DONE))
    raise AssertionError("the check-in did not end")


async def test_a_mentee_who_never_met_gets_the_planned_checkins_and_one_more_never_after_the_end(
    core: Core, clock: FakeClock
) -> None:
    """Regression: "not met" to every check-in brought 8 invitations where the course plans
    2, one of them after the course had ended."""
    match = await matched(core)
    outbox = RecordingOutbox()
    contacts = dispatcher(core, outbox)
    amina = chat(core, "100")
    answered: set[int] = set()
    for tenth in range(0, 300, 5):  # half a second at a time, for 30 seconds
        clock.at = T0 + timedelta(seconds=tenth / 10)
        await contacts.tick()
        for message in outbox.to("100"):
            contact_id = message.keyboard[0][0].press.option
            async with core.sessions() as session:
                sent = await session.get(Contact, contact_id)
            if sent.questionnaire_id == "checkin_mentee" and contact_id not in answered:
                answered.add(contact_id)
                await answer_not_met(amina, contact_id)
    async with core.sessions() as session:
        rows = list(await session.scalars(select(Contact).where(Contact.match_id == match.id)))
        ended = await session.get(Match, match.id)
    checkins = sorted(c.rule for c in rows if c.questionnaire_id == "checkin_mentee")
    assert checkins == ["checkin_1", "checkin_2", "no_contact"]
    assert all(c.state == ContactState.ANSWERED for c in rows if c.id in answered)
    assert len(answered) == 3
    end = match.planned_end_at
    assert [c.rule for c in rows if c.due_at > end and c.rule not in END_RULES] == []
    assert [c.rule for c in rows if c.sent_at and c.sent_at > end and c.rule not in END_RULES] == []
    assert ended.ended_at == end


async def _apply_no_meeting(core: Core, at_seconds: float) -> list[Contact]:
    async with core.sessions() as session:
        mentee = await session.scalar(select(Participant).where(Participant.role == "mentee"))
        planned = await apply_triggers(
            session,
            core.programmes["fast"],
            mentee,
            "checkin_mentee",
            {"met": "no"},
            now=T0 + timedelta(seconds=at_seconds),
        )
        await session.commit()
    return planned


async def test_a_trigger_fires_once_per_match(core: Core) -> None:
    await matched(core)
    assert len(await _apply_no_meeting(core, 1)) == 1
    assert await _apply_no_meeting(core, 2) == []


async def test_a_trigger_with_repeat_fires_at_most_that_many_times_per_match(core: Core) -> None:
    fast = core.programmes["fast"]
    repeated = fast.schedule.triggers[0].model_copy(update={"repeat": 2})
    core.programmes["fast"] = fast.model_copy(
        update={"schedule": fast.schedule.model_copy(update={"triggers": (repeated,)})}
    )
    await matched(core)
    assert [len(await _apply_no_meeting(core, s)) for s in (1, 2, 3)] == [1, 1, 0]


async def test_a_trigger_due_after_the_planned_end_is_not_planned(core: Core) -> None:
    await matched(core)  # ends at 8 s; the trigger's check-in comes 3 s after the answer
    assert await _apply_no_meeting(core, 5.5) == []
    assert len(await _apply_no_meeting(core, 5)) == 1  # due at the end itself: still within


@pytest.mark.parametrize("repeat", [0, -1, 13, "often"])
def test_repeat_must_be_a_small_positive_whole_number(repeat: object) -> None:
    trigger = {
        "id": "no_contact", "role": "mentee", "watch": "checkin_mentee",
        "when": {"met": ["no"]}, "send": "checkin_mentee", "after": "30d",
    }  # fmt: skip
    assert AnswerTrigger.model_validate(trigger).repeat == 1
    with pytest.raises(ValidationError, match="repeat"):
        AnswerTrigger.model_validate({**trigger, "repeat": repeat})
