"""What reaches a person's chat on a slow network and under hurried taps: each message once,
and no edit that would change nothing.

The real bot runs against the fake Bot API. A slow network is the fake answering a share of the
calls after the bot's time-out: the call is carried out (the message is in the chat), only its
answer comes too late, so the bot cannot tell it from a call that never arrived.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from bot.core import build_core
from bot.language import texts
from bot.settings import Settings
from handlers.telegram.app import create_bot, create_dispatcher, run_polling
from handlers.telegram.errors import SOMETHING_WENT_WRONG
from handlers.telegram.outbox import TelegramOutbox
from handlers.telegram.retry import RetryMiddleware
from storage.models import Answer, Contact, Participant, Programme, SurveyRun
from tests.course import COURSE, T0, FakeClock
from tests.fakes import FakeBotAPI
from tests.telegram import TOKEN, Mentee, RunningBot, count_handled_updates
from tests.test_telegram_intake import EXPECTED_ANSWERS, INTAKE_SCRIPT

TIMEOUT = 0.2  # the bot's time-out for one Bot API call, in seconds
LATE = 0.3  # how late the fake answers the calls it holds back
AGE = "How old are you?"


@asynccontextmanager
async def bot_on_a_slow_network(
    settings: Settings, server: FakeBotAPI, *, late: float = 0.0, seed: int = 1
) -> AsyncIterator[RunningBot]:
    """The real bot with a short time-out, its retries quick and their jitter seeded; once it
    has started, the fake answers a ``late`` share of the calls after the time-out."""
    settings = settings.model_copy(
        update={
            "telegram_api_base_url": server.base_url,
            "telegram_bot_token": SecretStr(TOKEN),
            "telegram_request_timeout": TIMEOUT,
        }
    )
    core = await build_core(settings, FakeClock(T0))
    session = server.bot_session()
    session.timeout = TIMEOUT
    retry = RetryMiddleware(max_retries=5, base_delay=0.01, max_delay=0.05, rng=random.Random(seed))
    bot = create_bot(core, session=session, per_chat_per_second=math.inf, retry=retry)
    dispatcher = create_dispatcher(core)
    server.busy = count_handled_updates(dispatcher, bot)
    stopping = asyncio.Event()
    task = asyncio.create_task(
        run_polling(core, bot=bot, dispatcher=dispatcher, handle_signals=False, stopping=stopping)
    )
    try:
        await server._wait(  # start-up: getMe and the command menus, then polling
            lambda: bool(server.calls_of("getUpdates")),
            timeout=10,
            quiet=0.0,
            describe=lambda: "the bot did not start polling",
        )
        server.answer_late(late, after=LATE)
        yield RunningBot(core, bot, dispatcher, task, stopping)
    finally:
        stopping.set()
        with suppress(asyncio.CancelledError):
            await task
        await core.close()


async def answers_of(running: RunningBot, user_id: int) -> dict[str, tuple[object, str]]:
    async with running.core.sessions() as session:
        rows = await session.scalars(
            select(Answer)
            .join(SurveyRun, SurveyRun.id == Answer.run_id)
            .join(Participant, Participant.id == SurveyRun.participant_id)
            .where(Participant.channel_user_id == str(user_id))
            .order_by(Answer.id)
        )
        return {row.question_id: (row.value, row.status) for row in rows}


def unchanged_edits_not_after_a_late_answer(server: FakeBotAPI) -> list[Any]:
    """ "Not modified" refusals that are not the repeat of an edit whose answer came late."""
    late = {
        (call.method, call.params["chat_id"], call.params["message_id"])
        for call in server.late_answers
        if call.method.startswith("editMessage")
    }
    return [
        edit
        for edit in server.unchanged_edits
        if (edit.method, edit.params["chat_id"], edit.params["message_id"]) not in late
    ]


async def settled(running: RunningBot, server: FakeBotAPI) -> None:
    """Until every update sent so far is handled and the bot has gone quiet."""
    await server.wait_until_idle(timeout=10)
    await running.dispatcher["unit_of_work"].wait_idle()
    await server.wait_until_idle(timeout=10)


STEPS = 12  # the first twelve questions of the intake, one answer each
ASKED_NEXT = "What do you do now?"  # the thirteenth question


async def intake(mentee: Mentee) -> None:
    await mentee.begin()
    for answer_by, answer in INTAKE_SCRIPT[:STEPS]:
        await answer_by(mentee, answer)


async def test_a_send_whose_answer_times_out_is_not_sent_twice(
    settings: Settings, server: FakeBotAPI
) -> None:
    # Regression: with 30 % of the answers slower than the time-out, a send that had reached
    # Telegram was sent again (88 messages shown twice in a field test).
    async with bot_on_a_slow_network(settings, server, late=0.3) as running:
        names = {601: "Amina", 602: "Leyla", 603: "Nour"}
        mentees = [Mentee(server.user(i, name, "da"), running) for i, name in names.items()]
        await asyncio.gather(*(intake(mentee) for mentee in mentees))
        await server.wait_until_idle(timeout=10, quiet=LATE + 0.1)
        # A tapped answer edits its message into the next question; a typed one sends it.
        late_sends = [
            c for c in server.late_answers if c.method in {"sendMessage", "editMessageText"}
        ]
        assert len(late_sends) >= 8, "the test should time out many sends and edits"

        sends = Counter((c["chat_id"], c["text"]) for c in server.calls_of("sendMessage"))
        assert [key for key, times in sends.items() if times > 1] == []
        for mentee in mentees:
            shown = Counter(message["text"] for message in mentee.user.messages)
            assert [text for text, times in shown.items() if times > 1] == []
            assert mentee.da(SOMETHING_WENT_WRONG) not in shown
            assert mentee.da(ASKED_NEXT) in mentee.user.last_message["text"]
            assert await answers_of(running, mentee.user.id) == dict(
                list(EXPECTED_ANSWERS.items())[:STEPS]
            )
    # An edit repeated after a late answer finds its message already so: that one is expected.
    assert unchanged_edits_not_after_a_late_answer(server) == []
    assert [v for v in server.violations if "message is not modified" not in v] == []


async def test_a_question_whose_send_timed_out_and_was_lost_comes_when_she_writes(
    settings: Settings, server: FakeBotAPI
) -> None:
    # A send that timed out is not repeated blindly; if it really was lost, her next message
    # brings the open question again.
    async with bot_on_a_slow_network(settings, server) as running:
        mentee = Mentee(server.user(611, "Amina", language_code="da"), running)
        await mentee.begin()
        await mentee.type("Amina")
        before = len(mentee.user.messages)
        server.lose_next("sendMessage", after=LATE)  # the next question, lost on the way
        await mentee.user.send_text("amina@example.org")
        await server.wait_until_idle(quiet=LATE + 0.1)
        assert len(mentee.user.messages) == before  # not sent again in the dark
        again = await mentee.type("hallo?")
        assert [message["text"] for message in again][-2] == mentee.da(texts.PRESS_A_BUTTON)
        assert mentee.da(AGE) in str(again[-1]["text"])
        await mentee.tap("25 to 34")
        assert await answers_of(running, 611) == {
            "name": ("Amina", "answered"),
            "contact": ("amina@example.org", "answered"),
            "age_group": ("25_34", "answered"),
        }
        server.assert_no_violations()


async def test_an_edit_that_keeps_failing_does_not_hold_back_the_next_question(
    settings: Settings, server: FakeBotAPI
) -> None:
    async with bot_on_a_slow_network(settings, server) as running:
        mentee = Mentee(server.user(612, "Amina", language_code="da"), running)
        await mentee.begin()
        # Typing the name takes the buttons off its question: that edit fails every time.
        server.fail_next("editMessageReplyMarkup", 502, times=6)  # the try and 5 retries
        reply = await mentee.type("Amina")
        assert "2 / " in str(reply[-1]["text"])  # the contact question came all the same
        assert mentee.da(SOMETHING_WENT_WRONG) not in [m["text"] for m in mentee.user.messages]
        assert await answers_of(running, 612) == {"name": ("Amina", "answered")}


async def test_an_invitation_whose_answer_timed_out_is_not_sent_again_and_its_reminder_comes(
    settings: Settings, server: FakeBotAPI, clock: FakeClock
) -> None:
    core = await build_core(
        settings.model_copy(
            update={
                "programmes_dir": COURSE,
                "default_programme": "fast",
                "telegram_api_base_url": server.base_url,
                "telegram_bot_token": SecretStr(TOKEN),
            }
        ),
        clock,
    )
    amina = server.user(641, "Amina", language_code="en")
    async with core.sessions() as session:
        programme = await session.scalar(select(Programme).where(Programme.code == "fast"))
        person = Participant(
            channel="telegram",
            channel_user_id="641",
            programme_id=programme.id,
            role="mentee",
            language="en",
            consent_version="test",
            consent_given_at=T0,
            status="matched",
        )
        session.add(person)
        await session.flush()
        contact = Contact(
            participant_id=person.id,
            rule="checkin_1",
            questionnaire_id="checkin_mentee",
            due_at=T0 - timedelta(seconds=1),
        )
        session.add(contact)
        await session.commit()
    session_ = server.bot_session()
    session_.timeout = TIMEOUT
    retry = RetryMiddleware(base_delay=0.01, rng=random.Random(1))
    bot = create_bot(core, session=session_, per_chat_per_second=math.inf, retry=retry)
    contacts = core.contact_dispatcher({"telegram": TelegramOutbox(bot)})
    try:
        server.answer_late(1.0, after=LATE, methods=["sendMessage"])
        report = await contacts.tick()
        await server.wait_until_idle(quiet=LATE)
        assert [m["text"] for m in amina.messages] == [
            str(texts.INVITATION).format(title="How things are going")
        ]  # arrived once, although the bot never heard so
        assert report.failed == [contact.id]  # recorded as not confirmed
        server.answer_late(0.0, after=LATE)
        clock.advance(seconds=2)  # the programme's first reminder
        report = await contacts.tick()
        assert report.reminded == [contact.id]
        assert len(amina.messages) == 2 and amina.messages[1]["text"].startswith("A friendly")
    finally:
        await bot.session.close()
        await core.close()
    server.assert_no_violations()


# ------------------------------------------------------------ edits that change nothing


async def test_tapping_a_button_twice_makes_no_edit_that_changes_nothing(
    running: RunningBot, server: FakeBotAPI
) -> None:
    # Regression: the second tap of a hurried double tap edited the first tap's result again,
    # which Telegram refuses as "message is not modified" (327 wasted calls in a fuzz run).
    mentee = Mentee(server.user(621, "Amina", language_code="da"), running)
    await mentee.begin()
    await mentee.type("Amina")
    await mentee.tap(texts.SKIP)  # the contact; now the age question, with a "why" button
    why = mentee.da(texts.WHY_BUTTON)
    await mentee.user.tap(why)
    await mentee.user.tap(why)  # both taps leave before the bot has answered the first
    await settled(running, server)
    answer = mentee.da("25 to 34")
    await mentee.user.tap(answer)
    await mentee.user.tap(answer)
    await settled(running, server)
    assert (await answers_of(running, 621))["age_group"] == ("25_34", "answered")
    assert server.unchanged_edits == []
    server.assert_no_violations()


FUZZ_TEXTS = ["Amina", "35", "   ", "/start", "/language", "amina@example.org", "hej"]


async def random_walk(
    mentee: Mentee, running: RunningBot, server: FakeBotAPI, rng: random.Random, steps: int
) -> None:
    """Taps (single, double, on old buttons), typing and stickers in a random order."""
    seen: dict[tuple[str, int], None] = {}  # (callback data, message id) of each button shown
    for _ in range(steps):
        user = mentee.user
        for message in user.messages:
            for row in message.get("reply_markup", {}).get("inline_keyboard", []):
                seen |= {(b["callback_data"], message["message_id"]): None for b in row}
        roll = rng.random()
        live = user.buttons()
        if live and roll < 0.55:
            label = rng.choice(live)
            await user.tap(label)
            if rng.random() < 0.3:
                await user.tap(label)  # a double tap
        elif seen and roll < 0.7:
            await user.tap_raw(*rng.choice(list(seen)))  # a button of an older message
        elif roll < 0.95:
            await user.send_text(rng.choice(FUZZ_TEXTS))
        else:
            await user.send_sticker()
        await settled(running, server)


@pytest.mark.parametrize("seed", [1, 2])
async def test_a_random_walk_of_taps_and_texts_makes_no_edit_that_changes_nothing(
    running: RunningBot, server: FakeBotAPI, seed: int
) -> None:
    # Two people at once, each tapping, double tapping, pressing old buttons and typing; the
    # walk is seeded (it follows the buttons the bot shows, so it may vary with timing).
    rng = random.Random(seed)
    mentees = [Mentee(server.user(630 + i, f"P{i}", language_code="da"), running) for i in range(2)]
    for mentee in mentees:
        await mentee.begin()
    await asyncio.gather(
        *(random_walk(m, running, server, random.Random(rng.random()), 30) for m in mentees)
    )
    assert server.unchanged_edits == []
    server.assert_no_violations()
