"""End to end: an alarming answer reaches the coordinator in seconds; take and resolve it;
the audit log holds each step; nobody else reaches coordinator commands or data."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import select

from bot import coordination
from bot.coordination import invite_coordinator
from bot.language import texts
from bot.people import ANONYMOUS_FLAG
from handlers.telegram.callbacks import SurveyTap
from storage.models import AuditEntry, Flag, Programme
from storage.repositories import flag_thread
from tests.course import programme_elsewhere
from tests.fakes import FakeBotAPI, FakeUser
from tests.telegram import RunningBot


async def linked_coordinator(
    running: RunningBot, server: FakeBotAPI, user_id: int, code: str = "bridge"
) -> FakeUser:
    async with running.core.sessions() as session:
        _, invite = await invite_coordinator(session, code, f"Sara {user_id}")
        await session.commit()
    sara = server.user(user_id, "Sara", language_code="en")
    await sara.send_command("/coordinator", invite)
    (welcome,) = await sara.wait_for_reply()
    assert welcome["text"].startswith(f"Welcome, Sara {user_id}.")
    return sara


async def alarming_answer(server: FakeBotAPI) -> FakeUser:
    amina = server.user(61, "Amina", language_code="en")
    await amina.send_command("/start", "bridge")
    await amina.wait_for_reply()
    await amina.tap("English")
    await amina.wait_for_reply(count=2)
    await amina.tap(str(texts.CONSENT_YES))
    await amina.wait_for_reply(count=2)
    await amina.send_text("Amina")
    await amina.wait_for_reply()
    # Each tap turns the question's message into the next question: one message changes.
    await amina.tap(str(texts.SKIP))
    await amina.wait_for_reply()
    for label in ("25 to 34", "Woman", "A woman"):
        await amina.tap(label)
        await amina.wait_for_reply()
    await amina.send_text("Syria. My husband hits me")
    await until(
        lambda: any(m["text"].startswith("Thank you for telling us") for m in amina.messages)
    )
    await amina.wait_for_reply(count=0)
    return amina


async def until(condition: Callable[[], bool], within: float = 10) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "the bot did not answer in time"
        await asyncio.sleep(0.02)


async def test_alarming_answer_reaches_the_coordinator_who_takes_replies_and_resolves_it(
    running: RunningBot, server: FakeBotAPI
) -> None:
    sara = await linked_coordinator(running, server, 71)
    amina = await alarming_answer(server)
    (push,) = await sara.wait_for_reply(timeout=5)
    assert push["text"].startswith("URGENT: Danger signs in an answer")
    assert "Which country do you come from?" in push["text"]
    assert "» Syria. My husband hits me" in push["text"]
    assert sara.buttons() == ["Take it", "Resolved", "Open", "Reply"]

    await sara.tap("Take it", message=push)
    (taken,) = await sara.wait_for_reply()
    assert taken["text"] == "Taken by Sara 71."

    await sara.tap("Open", message=push)
    (profile,) = await sara.wait_for_reply()
    assert profile["text"].startswith("Participant 1 · mentee · in intake")
    assert "Language: English" in profile["text"]
    assert "- #1 URGENT: Danger signs in an answer" in profile["text"]
    assert "- Which country do you come from? » Syria. My husband hits me" in profile["text"]

    await sara.tap("Reply", message=push)
    (ask,) = await sara.wait_for_reply()
    assert ask["text"].startswith("Write your message to participant 1")
    await sara.send_text("Are you safe now? I can call you at 14.")
    (sent,) = await sara.wait_for_reply()
    assert sent["text"].startswith("Sent to participant 1.")
    (letter,) = await amina.wait_for_reply()
    assert letter["text"] == (
        "A message from your coordinator, Sara 71:\n\nAre you safe now? I can call you at 14."
    )
    assert amina.buttons(letter) == ["Answer"]

    await amina.tap("Answer", message=letter)
    # The letter's and the current question's buttons go; she is asked for her words.
    changed = await amina.wait_for_reply(count=3)
    assert [m["text"] for m in changed if not m.get("edits")] == [str(texts.ANSWER_ASK)]
    await amina.send_text("Yes, call me at 14.")
    thanks = [m for m in await amina.wait_for_reply(count=3) if not m.get("edits")]
    assert thanks[0]["text"] == str(texts.ANSWER_SENT)
    # ...and she is back at the question she was on.
    assert thanks[1]["text"].endswith("How long have you lived in this country?")
    (answer,) = await sara.wait_for_reply(timeout=5)
    assert answer["text"].startswith("participant 1 answered you on flag #1.")
    assert "Coordinator wrote: Are you safe now? I can call you at 14." in answer["text"]
    assert answer["text"].endswith("Participant wrote: Yes, call me at 14.")

    await sara.tap("Resolved", message=answer)
    (ask,) = await sara.wait_for_reply()
    assert ask["text"] == str(coordination.ASK_OUTCOME)
    await sara.send_text("Called her; referred to the crisis centre.")
    (done,) = await sara.wait_for_reply()
    assert done["text"] == "Resolved by Sara 71: Called her; referred to the crisis centre."

    async with running.core.sessions() as session:
        flag = await session.scalar(select(Flag).where(Flag.category == "danger"))
        steps = [
            (e.action, e.flag_id, e.coordinator_id)
            for e in await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]
        thread = [(m.coordinator_id is None, m.text) for m in await flag_thread(session, flag.id)]
    assert flag.status == "resolved" and flag.outcome.startswith("Called her")
    assert [action for action, *_ in steps] == [
        "invite", "link", "assign", "view", "message", "resolve"
    ]  # fmt: skip
    assert {flag_id for _, flag_id, _ in steps[2:]} == {flag.id}
    assert {who for *_, who in steps[1:]} == {1}
    assert thread == [
        (False, "Are you safe now? I can call you at 14."),
        (True, "Yes, call me at 14."),
    ]
    server.assert_no_violations()


async def test_participant_cannot_reach_coordinator_commands(
    running: RunningBot, server: FakeBotAPI
) -> None:
    await linked_coordinator(running, server, 72)
    amina = await alarming_answer(server)
    for command, args in (("/flags", None), ("/participant", "1")):
        await amina.send_command(command, args)
        reply = await amina.wait_for_reply(count=2)
        seen = "\n".join(m["text"] for m in reply)
        assert "Danger signs" not in seen and "#" not in seen and "Participant 1" not in seen
    async with running.core.sessions() as session:
        flag = await session.scalar(select(Flag))
    for action in "TROM":
        answered = len(amina.callback_answers)
        await amina.tap_raw(
            SurveyTap(a=action, r=0, q=0, o=flag.id).pack(), reply[-1]["message_id"]
        )
        await until(lambda: len(amina.callback_answers) > answered)  # noqa: B023
    await server.wait_until_idle(quiet=0.5)
    await amina.wait_for_reply(count=0)
    seen = "\n".join(m["text"] for m in amina.messages) + str(amina.callback_answers)
    assert "Participant 1" not in seen and "Danger signs" not in seen
    async with running.core.sessions() as session:
        untouched = await session.get(Flag, flag.id)
        actions = [e.action for e in await session.scalars(select(AuditEntry))]
    assert (untouched.assigned_to, untouched.status) == (None, "open")
    assert actions == ["invite", "link"]
    await amina.send_command("/coordinator", "guess")
    (refused,) = await amina.wait_for_reply()
    assert refused["text"] == str(coordination.BAD_INVITE)


async def test_coordinator_of_another_programme_sees_nothing(
    running: RunningBot, server: FakeBotAPI
) -> None:
    async with running.core.sessions() as session:
        await programme_elsewhere(session, "Another programme")
        await session.commit()
    other = await linked_coordinator(running, server, 73, code="elsewhere")
    await alarming_answer(server)
    await other.send_command("/flags")
    (listing,) = await other.wait_for_reply()
    assert listing["text"] == str(coordination.NO_OPEN_FLAGS)
    async with running.core.sessions() as session:
        flag = await session.scalar(select(Flag))
    await other.tap_raw(SurveyTap(a="T", r=0, q=0, o=flag.id).pack(), listing["message_id"])
    answer = await other.wait_for_callback_answer()
    assert answer.get("text") == str(coordination.NOT_YOURS)
    async with running.core.sessions() as session:
        assert (await session.get(Flag, flag.id)).assigned_to is None


async def test_participant_command_shows_a_profile_of_the_own_programme_only(
    running: RunningBot, server: FakeBotAPI
) -> None:
    sara = await linked_coordinator(running, server, 74)
    await alarming_answer(server)
    await sara.wait_for_reply(timeout=5)  # the urgent push
    await sara.send_command("/participant", "1")
    (profile,) = await sara.wait_for_reply()
    assert profile["text"].startswith("Participant 1 · mentee · in intake")
    await sara.send_command("/participant")
    (usage,) = await sara.wait_for_reply()
    assert usage["text"] == str(coordination.PARTICIPANT_USAGE)
    await sara.send_command("/participant", "2")
    (missing,) = await sara.wait_for_reply()
    assert missing["text"] == "There is no participant 2 in your programmes."

    async with running.core.sessions() as session:
        await programme_elsewhere(session, "Another programme")
        await session.commit()
    other = await linked_coordinator(running, server, 75, code="elsewhere")
    await other.send_command("/participant", "1")
    (refused,) = await other.wait_for_reply()
    assert refused["text"] == "There is no participant 1 in your programmes."


async def test_an_anonymous_flag_opens_without_identity_and_cannot_be_replied_to(
    running: RunningBot, server: FakeBotAPI
) -> None:
    sara = await linked_coordinator(running, server, 76)
    async with running.core.sessions() as session:
        programme = await session.scalar(select(Programme).where(Programme.code == "bridge"))
        flag = Flag(
            programme_id=programme.id, category="unhappy_with_match", severity="info", answer=1
        )
        session.add(flag)
        await session.commit()
    await sara.send_command("/flags")
    (listing,) = await sara.wait_for_reply()
    assert "(anonymous)" in listing["text"]
    assert sara.buttons(listing) == ["Take it", "Resolved", "Open"]
    await sara.tap("Open", message=listing)
    (opened,) = await sara.wait_for_reply()
    assert opened["text"] == str(ANONYMOUS_FLAG)
    await sara.tap_raw(SurveyTap(a="M", r=0, q=0, o=flag.id).pack(), listing["message_id"])
    answer = await sara.wait_for_callback_answer()
    assert answer.get("text") == str(coordination.CANNOT_REPLY)


async def test_a_message_to_someone_who_blocked_the_bot_is_kept_and_the_coordinator_told(
    running: RunningBot, server: FakeBotAPI
) -> None:
    sara = await linked_coordinator(running, server, 77)
    amina = await alarming_answer(server)
    (push,) = await sara.wait_for_reply(timeout=5)
    await amina.block()
    await sara.tap("Reply", message=push)
    await sara.wait_for_reply()
    await sara.send_text("Are you there?")
    (told,) = await sara.wait_for_reply()
    assert told["text"] == str(coordination.MESSAGE_UNDELIVERABLE)
    async with running.core.sessions() as session:
        (kept,) = await flag_thread(session, 1)
    assert kept.text == "Are you there?"
