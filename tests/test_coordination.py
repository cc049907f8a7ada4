"""Coordinators without a channel: the morning digest, messages on a flag both ways, the
participant profile and who may see it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlalchemy import select

from bot import coordination
from bot.coordination import Delivery, message_participant
from bot.core import Core
from bot.language import texts
from bot.messages import Action, AskToErase, Press, ShowMyData, Tap
from bot.people import participant_profile
from storage import repositories as repo
from storage.models import AuditEntry, Coordinator, Flag, FlagMessage, FlagStatus
from tests.course import (
    T0,
    RecordingOutbox,
    chat,
    clock_at,
    course_at,
    enrolled,
    programme_elsewhere,
)

pytestmark = pytest.mark.fast_course

SARA = "900"  # the coordinator's Telegram chat


async def sara(core: Core, code: str = "fast") -> Coordinator:
    async with core.sessions() as session:
        coordinator, _ = await coordination.invite_coordinator(session, code, "Sara")
        coordinator.telegram_user_id = int(SARA)
        await session.commit()
        return coordinator


async def flag(
    core: Core, severity: str, created_at: datetime, participant_id: int | None = None
) -> int:
    async with core.sessions() as session:
        programme = await repo.programme_by_code(session, "fast")
        row = Flag(
            programme_id=programme.id,
            participant_id=participant_id,
            category="talk_to_person",
            severity=severity,
            created_at=created_at,
        )
        session.add(row)
        await session.commit()
        return row.id


async def sara_writes_to_amina(
    core: Core, text: str, language: str = "en"
) -> tuple[Delivery, int, int]:
    """Sara, coordinator; Amina, enrolled, with a flag; Sara's message on it. Returns the
    message for Amina, the flag's id and Amina's participant id."""
    coordinator = await sara(core)
    amina = await enrolled(core, "100", "mentee", language=language)
    flag_id = await flag(core, "soon", T0, participant_id=amina.id)
    async with core.sessions() as session:
        row = await session.get(Flag, flag_id)
        me = await session.get(Coordinator, coordinator.id)
        delivery = await message_participant(session, me, row, text, core.catalogs)
        await session.commit()
    return delivery, flag_id, amina.id


def pushed_texts(outbox: RecordingOutbox) -> list[str]:
    return [message.text for message in outbox.to(SARA)]


async def test_soon_flags_wait_for_the_morning_digest_urgent_go_at_once_info_never(
    core: Core,
) -> None:
    await sara(core)
    # T0 is 11:00 in Copenhagen: today's 08:00 digest has passed.
    soon = await flag(core, "soon", T0)
    urgent = await flag(core, "urgent", T0)
    await flag(core, "info", T0)
    outbox, clock = RecordingOutbox(), clock_at(core, T0 + timedelta(minutes=1))
    contacts = core.contact_dispatcher({"telegram": outbox})

    await contacts.push_flags()
    assert [t.splitlines()[1] for t in pushed_texts(outbox)] == [f"#{urgent} · (anonymous)"]

    clock.at = datetime(2026, 12, 2, 6, 59, tzinfo=UTC)  # 07:59 in Copenhagen
    await contacts.push_flags()
    assert len(pushed_texts(outbox)) == 1

    clock.at = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)  # 08:00
    await contacts.push_flags()
    greeting, digest = pushed_texts(outbox)[1:]
    assert greeting == str(coordination.DIGEST_SOON)
    assert digest.startswith(f"Soon: Wants to talk to a person\n#{soon} ·")

    clock.at += timedelta(days=1)
    await contacts.push_flags()  # each flag once
    assert len(pushed_texts(outbox)) == 3


async def test_a_flag_raised_after_the_digest_waits_for_the_next_morning(core: Core) -> None:
    await sara(core)
    await flag(core, "soon", datetime(2026, 12, 2, 7, 30, tzinfo=UTC))  # 08:30 local
    outbox, clock = RecordingOutbox(), clock_at(core, datetime(2026, 12, 2, 10, 0, tzinfo=UTC))
    contacts = core.contact_dispatcher({"telegram": outbox})
    await contacts.push_flags()
    assert pushed_texts(outbox) == []
    clock.at = datetime(2026, 12, 3, 7, 0, tzinfo=UTC)
    await contacts.push_flags()
    assert len(pushed_texts(outbox)) == 2


async def test_digest_time_is_a_setting(core: Core) -> None:
    core.settings = core.settings.model_copy(update={"flag_digest_time": time(9, 30)})
    await sara(core)
    await flag(core, "soon", datetime(2026, 12, 1, 9, 0, tzinfo=UTC))  # 10:00 local
    outbox = RecordingOutbox()
    contacts = core.contact_dispatcher({"telegram": outbox})
    clock_at(core, datetime(2026, 12, 2, 8, 29, tzinfo=UTC))  # 09:29 local
    await contacts.push_flags()
    assert pushed_texts(outbox) == []
    clock_at(core, datetime(2026, 12, 2, 8, 30, tzinfo=UTC))
    await contacts.push_flags()
    assert len(pushed_texts(outbox)) == 2


async def test_participant_answers_the_coordinator_and_the_answer_reaches_her(
    core: Core,
) -> None:
    delivery, flag_id, amina_id = await sara_writes_to_amina(core, " Can we talk? ")
    assert (delivery.channel, delivery.channel_user_id) == ("test", "100")
    assert delivery.message.text == "A message from your coordinator, Sara:\n\nCan we talk?"

    person = chat(core, "100")
    await person.tap("Answer", delivery.message)
    assert person.texts[-1] == str(texts.ANSWER_ASK)
    await person.say("Yes, on Monday.")
    assert str(texts.ANSWER_SENT) in person.texts

    outbox = RecordingOutbox()
    contacts = core.contact_dispatcher({"telegram": outbox})
    # Before the next morning's digest, which would bring Sara the `soon` flag itself too.
    clock_at(core, T0 + timedelta(minutes=1))
    await contacts.push_flags()
    (pushed,) = outbox.to(SARA)
    assert pushed.text.startswith(f"participant {amina_id} answered you on flag #{flag_id}.")
    assert pushed.text.endswith(
        "Coordinator wrote: Can we talk?\nParticipant wrote: Yes, on Monday."
    )
    await contacts.push_flags()
    assert len(outbox.to(SARA)) == 1  # once


async def test_an_answer_on_a_resolved_flag_opens_it_again(core: Core) -> None:
    delivery, flag_id, _ = await sara_writes_to_amina(core, "All done?")
    async with core.sessions() as session:
        row = await session.get(Flag, flag_id)
        me = await coordination.coordinator_by_telegram(session, int(SARA))
        await coordination.resolve_flag(session, me, row, "Talked.")
        await session.commit()
    person = chat(core, "100")
    await person.tap("Answer", delivery.message)
    await person.say("Not quite, one more thing.")
    async with core.sessions() as session:
        assert (await session.get(Flag, flag_id)).status == FlagStatus.ASSIGNED


async def test_cancel_sends_nothing_and_another_persons_flag_cannot_be_answered(
    core: Core,
) -> None:
    amina = await enrolled(core, "100", "mentee")
    await enrolled(core, "101", "mentee")
    flag_id = await flag(core, "soon", T0, participant_id=amina.id)
    other = chat(core, "101")
    await other.send(Tap(Press(Action.ANSWER_COORDINATOR, option=flag_id)))
    # Refused, and told where they are: here, nothing is open for them.
    assert other.texts[-2:] == [str(texts.NOT_UNDERSTOOD), str(texts.NOTHING_OPEN)]
    await other.say("sneaky")
    person = chat(core, "100")
    await person.send(Tap(Press(Action.ANSWER_COORDINATOR, option=flag_id)))
    await person.tap(str(texts.TALK_CANCEL))
    await person.say("hello")
    async with core.sessions() as session:
        assert await repo.flag_thread(session, flag_id) == []


async def test_messages_show_in_mydata_and_go_with_delete(core: Core) -> None:
    delivery, _, amina_id = await sara_writes_to_amina(core, "How are you?")
    person = chat(core, "100")
    await person.tap("Answer", delivery.message)
    await person.say("Fine, thanks.")

    reply = await person.send(ShowMyData())
    assert "Coordinator: How are you?" in "\n".join(m.text for m in reply.messages)
    document = json.loads(reply.documents[0][1])
    assert [m["text"] for m in document["messages_with_coordinator"]] == [
        "How are you?",
        "Fine, thanks.",
    ]

    await person.send(AskToErase())
    await person.tap(str(texts.DELETE_YES))
    async with core.sessions() as session:
        assert list(await session.scalars(select(FlagMessage))) == []
        withdrew = await session.scalar(select(Flag).where(Flag.category == "withdrew"))
    assert (withdrew.participant_id, withdrew.severity) == (amina_id, "soon")


async def test_profile_shows_status_match_schedule_and_named_answers(core: Core) -> None:
    coordinator = await sara(core)
    await course_at(core, 0)
    async with core.sessions() as session:
        me = await session.get(Coordinator, coordinator.id)
        mentee = await repo.participant_for(session, "test", "100", create=False)
        profile = (await participant_profile(session, me, mentee.id, core.questionnaires)).text
        await session.commit()
        views = list(await session.scalars(select(AuditEntry).where(AuditEntry.action == "view")))
    lines = profile.splitlines()
    assert lines[0] == f"Participant {mentee.id} · mentee · matched"
    assert lines[2].startswith(f"Match: mentor {mentee.id + 1}, from ")
    assert "Check-ins:" in lines
    assert any(line.endswith("· planned") for line in lines)
    assert "- What is your name? A nickname is fine. » Amina" in lines
    assert [(v.coordinator_id, v.participant_id) for v in views] == [(me.id, mentee.id)]


async def test_profile_of_another_programmes_participant_is_refused(core: Core) -> None:
    async with core.sessions() as session:
        await programme_elsewhere(session)
        await session.commit()
    coordinator = await sara(core, code="elsewhere")
    amina = await enrolled(core, "100", "mentee")
    async with core.sessions() as session:
        me = await session.get(Coordinator, coordinator.id)
        for number in (amina.id, 9999):
            with pytest.raises(coordination.CoordinationError) as refused:
                await participant_profile(session, me, number, core.questionnaires)
            assert str(refused.value) == f"There is no participant {number} in your programmes."


async def test_the_coordinators_message_is_in_the_participants_language(core: Core) -> None:
    delivery, _, _ = await sara_writes_to_amina(core, "Hej Amina", language="da")
    with core.catalogs.use("da"):
        heading = texts.FROM_COORDINATOR.format(name="Sara")
        answer = str(texts.ANSWER_COORDINATOR)
    assert heading != "A message from your coordinator, Sara:"
    assert delivery.message.text == f"{heading}\n\nHej Amina"
    assert [b.label for row in delivery.message.keyboard for b in row] == [answer]
