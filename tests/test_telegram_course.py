"""End to end: a whole course in seconds through the fake Bot API, from intake to follow-up."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.course import ContactDispatcher, create_match
from bot.language import texts
from bot.programmes import Offset
from bot.results import before_after
from bot.settings import Settings
from storage import repositories as repo
from storage.models import Contact, ContactState, Participant, SurveyRun
from tests.course import COURSE, FakeClock
from tests.fakes import FakeBotAPI, FakeUser
from tests.telegram import RunningBot, running_bot

Message = dict[str, Any]


@pytest.fixture
async def course_bot(
    settings: Settings, server: FakeBotAPI, clock: FakeClock
) -> AsyncIterator[RunningBot]:
    """The bot on the test's clock: the course's time moves only when `next_invitation` moves
    it, however long the machine takes to answer."""
    fast = settings.model_copy(
        update={"programmes_dir": COURSE, "default_programme": "fast", "dispatch_interval": 0.2}
    )
    async with running_bot(fast, server, clock=clock) as bot:
        # The test takes one invitation at a time while the course's time moves on: the ones
        # it has not taken yet must not expire (the unit tests' 5 s) nor their people be
        # erased (retention) before it does.
        programmes = bot.core.programmes
        programmes["fast"] = programmes["fast"].model_copy(
            update={
                "schedule": programmes["fast"].schedule.model_copy(
                    update={"expire_after": Offset.parse("60s"), "retention": None}
                )
            }
        )
        yield bot


def buttons(message: Message) -> list[str]:
    markup = message.get("reply_markup") or {}
    return [button["text"] for row in markup.get("inline_keyboard", []) for button in row]


def is_scheduled(message: Message) -> bool:
    return bool(set(buttons(message)) & {str(texts.START_SURVEY), str(texts.CONTINUE_SURVEY)})


async def until(condition: Callable[[], bool], within: float = 10) -> None:
    """Wait until the chat shows what the test expects (polling: replies may come in pieces)."""
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the bot did not answer in time")
        await asyncio.sleep(0.02)


async def answer_everything(
    user: FakeUser, choose: dict[str, str] | None = None, *, contact_me: bool = False
) -> list[str]:
    """Answer the questions shown, one by one, until the bot says thank you; returns the
    question texts seen. `choose` picks a label for questions containing a given text. An
    anonymous survey's "may your coordinator contact you?" is answered no, unless
    `contact_me` leaves it to the test."""
    seen = []
    first_new = len(user.messages)
    for _ in range(80):
        await user.wait_for_reply(count=0)  # the whole reply (the summary, then the thanks)
        # Reminders of other contacts may arrive meanwhile: the question is the latest
        # message that is not a scheduled one.
        last = next(m for m in reversed(user.messages) if not is_scheduled(m))
        done = {str(texts.CONTACT_DONE), str(texts.INTAKE_DONE)}
        if any(m["text"] in done for m in user.messages[first_new:]):
            if last["text"] == str(texts.ANONYMOUS_FLAG_ASK):  # a flag from anonymous answers
                if contact_me:
                    return seen
                await user.tap(str(texts.CONTACT_ME_NO), message=last)
                await until(lambda: user.messages[-1]["text"] == str(texts.CONTACT_ME_NOT))
            await user.wait_for_reply(count=0)
            return seen
        seen.append(last["text"])
        extras = {str(texts.TALK_BUTTON), str(texts.WHY_BUTTON)}
        labels = [label for label in buttons(last) if label not in extras]
        wanted = next((label for key, label in (choose or {}).items() if key in last["text"]), None)
        shown_before = answers_shown(user)
        if wanted:
            await user.tap(wanted, message=last)
        elif str(texts.DONE) in labels:
            await user.tap(labels[0], message=last)
            question_id = last["message_id"]
            await until(lambda: buttons(message_by_id(user, question_id))[0].startswith("✓"))  # noqa: B023
            await user.tap(str(texts.DONE), message=last)
        elif str(texts.SKIP) in labels:
            await user.tap(str(texts.SKIP), message=last)
        elif labels and labels[0] not in {str(texts.BACK)}:
            await user.tap(labels[0], message=last)
        else:
            await user.send_text("Lars" if "name" in last["text"] else "42")
        # The next question (in the same message after a tap, a new one after typing) or the
        # thank-you; a reminder arriving meanwhile does not count.
        await until(lambda: answers_shown(user) != shown_before)  # noqa: B023
    raise AssertionError(f"no end in sight; last message: {user.last_message['text']!r}")


def answers_shown(user: FakeUser) -> list[str]:
    """The texts of the bot's messages but the scheduled ones: what answering changes."""
    return [str(message["text"]) for message in user.messages if not is_scheduled(message)]


def message_by_id(user: FakeUser, message_id: int) -> Message:
    return next(m for m in user.messages if m["message_id"] == message_id)


async def intake(user: FakeUser, code: str) -> None:
    await user.send_command("/start", code)
    await user.wait_for_reply()
    await user.tap("English")
    await user.wait_for_reply(count=2)
    await user.tap(str(texts.CONSENT_YES))
    await user.wait_for_reply(count=2)
    await answer_everything(user, {"How motivated": "Medium"})


async def next_invitation(bot: RunningBot, user: FakeUser) -> Message:
    """The oldest scheduled message (invitation or reminder) the test has not taken yet; it
    may have arrived while the person was busy answering something else. Until one has, the
    course's time moves on a quarter of a second, and the dispatcher runs, at a time."""
    taken: set[int] = user.__dict__.setdefault("taken_invitations", set())
    clock = bot.core.clock
    assert isinstance(clock, FakeClock)
    contacts: ContactDispatcher = bot.dispatcher["contacts"]

    def waiting() -> list[Message]:
        return [m for m in user.messages if is_scheduled(m) and m["message_id"] not in taken]

    for _ in range(240):  # a minute of the course's time
        if waiting():
            break
        clock.advance(seconds=0.25)
        await contacts.tick()  # what is due is sent before it returns
    else:
        raise AssertionError("no invitation came within a minute of the course's time")
    message = waiting()[0]
    taken.add(message["message_id"])
    await user.wait_for_reply(count=0)
    return message


async def open_and_answer(user: FakeUser, message: Message, **choose: str) -> list[str]:
    await user.tap(buttons(message)[0], message=message)
    await user.wait_for_reply(count=1)
    return await answer_everything(user, choose)


async def test_a_whole_course_from_intake_to_follow_up(
    course_bot: RunningBot, server: FakeBotAPI
) -> None:
    core = course_bot.core
    amina = server.user(301, "Amina", language_code="en")
    lars = server.user(302, "Lars", language_code="en")
    await intake(amina, "fast")
    await intake(lars, "fast-mentor")
    async with core.sessions() as session:
        mentee, mentor = list(await session.scalars(select(Participant).order_by(Participant.id)))
        assert (mentee.role, mentor.role) == ("mentee", "mentor")
        assert mentee.status == mentor.status == "waiting"
        await create_match(session, core.programmes, mentee.id, mentor.id)
        await session.commit()

    first = await next_invitation(course_bot, amina)
    assert first["text"] == str(texts.INVITATION).format(title="Your first meeting")
    await open_and_answer(amina, first)

    checkin = await next_invitation(course_bot, amina)
    reminder = await next_invitation(course_bot, amina)  # she stays silent: a reminder comes
    assert reminder["text"].startswith("A friendly reminder")
    assert buttons(reminder) == [str(texts.CONTINUE_SURVEY)]
    asked = await open_and_answer(amina, reminder)
    assert "Have you met your mentor since we last asked you?" in asked[0]
    assert checkin["message_id"] < reminder["message_id"]

    mentor_checkin = await next_invitation(course_bot, lars)
    await open_and_answer(lars, mentor_checkin)

    end = None
    while end is None:  # check-in 2 comes before the end survey
        invitation = await next_invitation(course_bot, amina)
        if "Looking back" in invitation["text"]:
            end = invitation
        else:
            await open_and_answer(amina, invitation)
    await open_and_answer(amina, end, **{"How motivated": "High"})

    follow_up = await next_invitation(course_bot, amina)
    await open_and_answer(amina, follow_up)

    titles = [
        title
        for message in amina.messages
        for title in ("Your first meeting", "How things are going", "Looking back", "Six months")
        if message["text"].startswith("Hello!") and title in message["text"]
    ]
    assert titles == [
        "Your first meeting", "How things are going", "How things are going",
        "Looking back", "Six months",
    ]  # fmt: skip

    async with core.sessions() as session:
        states = {
            c.rule: c.state
            for c in await session.scalars(
                select(Contact).where(Contact.participant_id == mentee.id)
            )
        }
        anonymous = await session.scalar(
            select(SurveyRun).where(SurveyRun.questionnaire_id == "mentee_end")
        )
        programme = await repo.programme_by_code(session, "fast")
        pairs = await before_after(
            session, core.secret, programme.id, "motivation", "mentee_intake", "mentee_end"
        )
    assert states["first_meeting"] == states["checkin_1"] == ContactState.ANSWERED
    assert states["end"] == states["follow_up"] == ContactState.ANSWERED
    assert anonymous.participant_id is None and anonymous.status == "completed"
    assert pairs == [("medium", "high")]
    # Known and harmless (handlers/telegram/delivery.py ignores it): under real-time scheduling
    # a button's message sometimes loses its keyboard twice. Every other violation fails.
    # Left to investigate: which interleaving leaves a stale prompt id behind.
    assert [v for v in server.violations if "message is not modified" not in v] == []
