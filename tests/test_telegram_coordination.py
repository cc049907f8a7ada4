"""End to end: an alarming answer reaches the coordinator in seconds; take and resolve it;
the audit log holds each step; nobody else reaches coordinator commands or data."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy import select

from bot import coordination, texts
from bot.coordination import invite_coordinator
from handlers.telegram.callbacks import SurveyTap
from storage.models import AuditEntry, Flag
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
    await amina.tap(str(texts.SKIP))
    await amina.wait_for_reply(count=2)
    for label in ("25 to 34", "Woman", "A woman"):
        await amina.tap(label)
        await amina.wait_for_reply(count=2)
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


async def test_alarming_answer_reaches_the_coordinator_who_takes_and_resolves_it(
    running: RunningBot, server: FakeBotAPI
) -> None:
    sara = await linked_coordinator(running, server, 71)
    await alarming_answer(server)
    (push,) = await sara.wait_for_reply(timeout=5)
    assert push["text"].startswith("URGENT: Danger signs in an answer")
    assert "Which country do you come from?" in push["text"]
    assert "» Syria. My husband hits me" in push["text"]
    assert sara.buttons() == ["Take it", "Resolved"]

    await sara.tap("Take it", message=push)
    (taken,) = await sara.wait_for_reply()
    assert taken["text"] == "Taken by Sara 71."
    await sara.tap("Resolved", message=push)
    (ask,) = await sara.wait_for_reply()
    assert ask["text"] == str(coordination.ASK_OUTCOME)
    await sara.send_text("Called her; referred to the crisis centre.")
    (done,) = await sara.wait_for_reply()
    assert done["text"] == "Resolved by Sara 71: Called her; referred to the crisis centre."

    async with running.core.sessions() as session:
        flag = await session.scalar(select(Flag).where(Flag.category == "danger"))
        steps = [(e.action, e.flag_id) for e in await session.scalars(select(AuditEntry))]
    assert flag.status == "resolved" and flag.outcome.startswith("Called her")
    assert [action for action, _ in steps] == ["invite", "link", "assign", "resolve"]
    assert steps[2][1] == steps[3][1] == flag.id
    server.assert_no_violations()


async def test_participant_cannot_reach_coordinator_commands(
    running: RunningBot, server: FakeBotAPI
) -> None:
    await linked_coordinator(running, server, 72)
    amina = await alarming_answer(server)
    await amina.send_command("/flags")
    reply = await amina.wait_for_reply(count=2)
    assert all("Danger signs" not in m["text"] and "#" not in m["text"] for m in reply)
    async with running.core.sessions() as session:
        flag = await session.scalar(select(Flag))
    await amina.tap_raw(SurveyTap(a="T", r=0, q=0, o=flag.id).pack(), reply[-1]["message_id"])
    await amina.wait_for_reply(count=1)
    async with running.core.sessions() as session:
        assert (await session.get(Flag, flag.id)).assigned_to is None
    await amina.send_command("/coordinator", "guess")
    (refused,) = await amina.wait_for_reply()
    assert refused["text"] == str(coordination.BAD_INVITE)


async def test_coordinator_of_another_programme_sees_nothing(
    running: RunningBot, server: FakeBotAPI
) -> None:
    async with running.core.sessions() as session:
        from storage.repositories import sync_programme

        await sync_programme(session, "elsewhere", "Another programme")
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
