"""Forged button presses: refused kindly and always answered (the spinner stops); they act only
in the presser's own chat, and on nothing of anyone else's.

Each case goes through the real bot and the fake Bot API server. A forged press is one the
person's app would never send: numbers out of any id's range, a wrong shape, another person's
ids, a message of another chat.
"""

from __future__ import annotations

import itertools
import logging
from typing import Any

import pytest
from sqlalchemy import select

from bot import coordination
from bot.coordination import invite_coordinator
from bot.language import texts
from bot.messages import Action, Press
from handlers.telegram.callbacks import MAX_ID, MAX_INDEX, SurveyTap
from handlers.telegram.errors import SOMETHING_WENT_WRONG
from storage.models import (
    AuditEntry,
    Base,
    Coordinator,
    Flag,
    Participant,
    Programme,
    SurveyRun,
)
from tests.course import programme_elsewhere
from tests.fakes import FakeBotAPI, FakeUser
from tests.telegram import Mentee, RunningBot

AGE = "How old are you?"
HUGE = 10**30  # beyond any integer column: SQLite raised OverflowError on it
BEYOND_32_BITS = 2**31  # the ids are INTEGER columns, 32 bits on PostgreSQL
# Columns a refused press may change: when the person was last seen, and which message now
# carries the live buttons (the question is shown again).
VOLATILE = {"last_active_at", "prompt_message_id"}
# What the bot's own bookkeeping writes for any update, refused or not.
BOOKKEEPING = {"inbox", "programmes"}


async def database(running: RunningBot) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (but the bookkeeping), to compare before and after."""
    async with running.core.sessions() as session:
        rows: dict[str, list[tuple[Any, ...]]] = {}
        for table in Base.metadata.sorted_tables:
            if table.name in BOOKKEEPING:
                continue
            columns = [column for column in table.columns if column.name not in VOLATILE]
            result = await session.execute(select(*columns).order_by(*table.primary_key))
            rows[table.name] = [tuple(row) for row in result]
        return rows


def no_error_logged(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert errors == [], [r.getMessage() for r in errors]


@pytest.mark.parametrize("action", list(Action))
def test_every_button_the_bot_can_draw_reads_back_the_same(action: Action) -> None:
    """The bounds leave room for every real press, within Telegram's 64 bytes."""
    for press in (Press(action), Press(action, run=MAX_ID, question=MAX_INDEX, option=MAX_ID)):
        data = SurveyTap.of(press).pack()
        assert len(data.encode()) <= 64
        assert SurveyTap.unpack(data).press() == press


async def at_age_question(running: RunningBot, server: FakeBotAPI, user_id: int) -> Mentee:
    """Through the name and contact questions: the age question with its buttons is live."""
    mentee = Mentee(server.user(user_id, "Amina"), running)
    await mentee.begin()
    await mentee.type("Amina")
    await mentee.tap(texts.SKIP)  # contact is optional
    assert mentee.user.last_message["text"].endswith(mentee.da(AGE))
    return mentee


def live_button(mentee: Mentee) -> SurveyTap:
    """The data of the first button of the live question (its run and question index)."""
    button = mentee.user.last_message["reply_markup"]["inline_keyboard"][0][0]
    return SurveyTap.unpack(button["callback_data"])


async def refused_with_the_question_again(mentee: Mentee, note: object) -> None:
    """The press was answered (the spinner stops), then a short note and the question again."""
    reply = await mentee.user.wait_for_reply(count=3)  # buttons off the tapped message, 2 new
    assert [m["text"] for m in reply][-2] == mentee.da(note)
    assert str(reply[-1]["text"]).endswith(mentee.da(AGE))
    assert mentee.user.buttons(reply[-1])  # the question again has its buttons
    await mentee.user.wait_for_callback_answer()


# Forged data for someone at the age question: `run` and `q` are that question's.
FORGED = {
    "a huge run id": "s:o:{huge}:{q}:0",
    "a huge question index": "s:o:{run}:{huge}:0",
    "a huge option": "s:o:{run}:{q}:{huge}",
    "a huge contact id to open": "s:r:0:0:{huge}",
    "a huge run id to be contacted about": "s:k:{huge}:0:1",
    "a huge flag id to answer": "s:w:0:0:{huge}",
    "a flag id beyond 32 bits": "s:w:0:0:{beyond}",
    "a coordinator's button with a huge flag id": "s:T:0:0:{huge}",
    "a run id beyond 32 bits": "s:k:{beyond}:0:1",
    "a negative run id": "s:o:-1:{q}:0",
    "a negative option": "s:o:{run}:{q}:-1",
    "a signed run id": "s:o:+{run}:{q}:0",
    "a run id with spaces": "s:o: {run} :{q}:0",
    "a number with a decimal point": "s:o:{run}.0:{q}:0",
    "not a number": "s:o:abc:{q}:0",
    "an unknown action": "s:x:{run}:{q}:0",
    "an action in the wrong case": "s:O:{run}:{q}:0",
    "too many fields": "s:o:{run}:{q}:0:0",
    "too few fields": "s:o:{run}:{q}",
    "empty fields": "s::::",
    "another prefix": "x:o:{run}:{q}:0",
    "empty": "",
    "garbage": "garbage",
    "not ascii": "ä" * 30,
}


@pytest.mark.parametrize("template", FORGED.values(), ids=FORGED.keys())
async def test_forged_button_data_is_refused_kindly(
    running: RunningBot,
    server: FakeBotAPI,
    caplog: pytest.LogCaptureFixture,
    template: str,
) -> None:
    mentee = await at_age_question(running, server, 7)
    live = live_button(mentee)
    before = await database(running)
    data = template.format(run=live.r, q=live.q, huge=HUGE, beyond=BEYOND_32_BITS)
    with caplog.at_level(logging.INFO):
        await mentee.user.tap_raw(data, mentee.user.last_message["message_id"])
        await refused_with_the_question_again(mentee, texts.NOT_UNDERSTOOD)
    no_error_logged(caplog)
    assert await database(running) == before
    server.assert_no_violations()


@pytest.mark.parametrize("field", ["run", "question", "option"])
async def test_a_forged_huge_number_in_a_button_is_refused_kindly(
    running: RunningBot, server: FakeBotAPI, caplog: pytest.LogCaptureFixture, field: str
) -> None:
    """Seen: OverflowError, a traceback, and a spinner that never stopped."""
    mentee = await at_age_question(running, server, 7)
    live = live_button(mentee)
    before = await database(running)
    forged = SurveyTap.model_construct(
        a=Action.CHOOSE,
        r=HUGE if field == "run" else live.r,
        q=HUGE if field == "question" else live.q,
        o=HUGE if field == "option" else 0,
    )
    await mentee.user.tap_raw(forged.pack(), mentee.user.last_message["message_id"])
    await refused_with_the_question_again(mentee, texts.NOT_UNDERSTOOD)
    no_error_logged(caplog)
    assert await database(running) == before


async def test_a_button_naming_another_persons_run_changes_nothing_of_theirs(
    running: RunningBot, server: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    amina = await at_age_question(running, server, 7)
    omar = await at_age_question(running, server, 8)
    aminas = live_button(amina)
    assert aminas.r != live_button(omar).r
    before = await database(running)
    for option in range(2):  # "under 18" and "18 to 24" on Amina's run, from Omar's question
        forged = SurveyTap(a=Action.CHOOSE, r=aminas.r, q=aminas.q, o=option).pack()
        await omar.user.tap_raw(forged, omar.user.last_message["message_id"])
        await refused_with_the_question_again(omar, texts.OLD_BUTTON)
    no_error_logged(caplog)
    assert await database(running) == before
    assert await amina.user.wait_for_reply(count=0) == []  # nothing reached Amina's chat


async def test_a_button_asking_to_be_contacted_about_another_persons_run_links_nothing(
    running: RunningBot, server: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    amina = await at_age_question(running, server, 7)
    omar = await at_age_question(running, server, 8)
    async with running.core.sessions() as session:
        run = await session.get(SurveyRun, live_button(amina).r)
        assert run is not None
        # As if Amina's run were anonymous and had raised a flag that names nobody yet.
        session.add(
            Flag(programme_id=run.programme_id, run_id=run.id, category="danger", severity="soon")
        )
        await session.commit()
    before = await database(running)
    forged = SurveyTap(a=Action.CONTACT_ME, r=run.id, q=0, o=1).pack()
    await omar.user.tap_raw(forged, omar.user.last_message["message_id"])
    reply = await omar.user.wait_for_reply(count=2)
    assert omar.da(texts.NOT_UNDERSTOOD) in [m["text"] for m in reply]
    await omar.user.wait_for_callback_answer()
    no_error_logged(caplog)
    assert await database(running) == before


async def test_a_button_answering_another_persons_flag_takes_no_words_for_it(
    running: RunningBot, server: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    amina = await at_age_question(running, server, 7)
    omar = await at_age_question(running, server, 8)
    async with running.core.sessions() as session:
        aminas = await session.scalar(
            select(Participant).where(Participant.channel_user_id == str(amina.user.id))
        )
        assert aminas is not None
        flag = Flag(
            programme_id=aminas.programme_id,
            participant_id=aminas.id,
            category="talk_request",
            severity="soon",
        )
        session.add(flag)
        await session.commit()
    before = await database(running)
    forged = SurveyTap(a=Action.ANSWER_COORDINATOR, r=0, q=0, o=flag.id).pack()
    await omar.user.tap_raw(forged, omar.user.last_message["message_id"])
    reply = await omar.user.wait_for_reply(count=2)
    assert omar.da(texts.NOT_UNDERSTOOD) in [m["text"] for m in reply]
    await omar.user.wait_for_callback_answer()
    no_error_logged(caplog)
    assert await database(running) == before  # Omar is not waiting to write on Amina's flag


_elsewhere = itertools.count(1)


async def tap_elsewhere(
    server: FakeBotAPI, presser: FakeUser, message: dict[str, Any], data: str, **chat: Any
) -> str:
    """A press on `message` as it reached another chat, or by someone not of that chat: the
    fake user taps only in their own chat, so this one is queued by hand. Telegram would not
    know this query: the bot's answer to it is refused (and recorded as a violation)."""
    query_id = f"elsewhere-{next(_elsewhere)}"
    wire = {key: value for key, value in message.items() if key != "edits"}
    if chat:
        wire["chat"] = chat
    query = {"id": query_id, "from": presser.telegram, "message": wire, "chat_instance": "1"}
    await server.enqueue_update({"callback_query": {**query, "data": data}})
    return query_id


async def marker(mentee: Mentee) -> None:
    """A typed answer where a button is expected, after the forged press: the person's updates
    are handled one after another, so once this is answered the forged press was handled."""
    reply = await mentee.type("35")
    assert [m["text"] for m in reply][-2] == mentee.da(texts.PRESS_A_BUTTON)


def answered(server: FakeBotAPI, query_id: str) -> bool:
    return query_id in [
        call["callback_query_id"] for call in server.calls_of("answerCallbackQuery")
    ]


def violations_but_unknown_queries(server: FakeBotAPI) -> list[str]:
    return [v for v in server.violations if "elsewhere-" not in v]


async def test_a_tap_on_a_message_of_another_chat_acts_on_neither_chat(
    running: RunningBot, server: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Omar's press reaches the bot on Amina's message, with Amina's own (valid) data."""
    amina = await at_age_question(running, server, 7)
    omar = await at_age_question(running, server, 8)
    aminas_question = amina.user.last_message
    aminas_data = aminas_question["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    chat_before, before = amina.user.messages, await database(running)
    query_id = await tap_elsewhere(server, omar.user, aminas_question, aminas_data)
    await marker(omar)
    assert answered(server, query_id)
    assert amina.user.messages == chat_before  # not edited, nothing sent to her
    assert await amina.user.wait_for_reply(count=0) == []
    no_error_logged(caplog)
    assert await database(running) == before
    assert violations_but_unknown_queries(server) == []


async def test_a_button_in_a_group_chat_answers_nothing_for_the_person(
    running: RunningBot, server: FakeBotAPI, caplog: pytest.LogCaptureFixture
) -> None:
    """Amina's own question, as if it were in a group: the bot talks in private chats only."""
    amina = await at_age_question(running, server, 7)
    question = amina.user.last_message
    data = question["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    before = await database(running)
    group = {"id": -100777, "type": "group", "title": "Mentoring club"}
    query_id = await tap_elsewhere(server, amina.user, question, data, **group)
    await marker(amina)
    assert answered(server, query_id)
    assert [call for call in server.calls if call.params.get("chat_id") == group["id"]] == []
    no_error_logged(caplog)
    assert await database(running) == before
    assert violations_but_unknown_queries(server) == []


async def test_a_failing_tap_still_stops_the_spinner(
    running: RunningBot,
    server: FakeBotAPI,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    mentee = await at_age_question(running, server, 7)
    real_handle = running.core.engine.handle

    async def handle_with_a_bug(session, channel, user_id, incoming, hint=None):  # type: ignore[no-untyped-def]
        if getattr(incoming, "press", None) is not None:
            raise RuntimeError("an unplanned bug")
        return await real_handle(session, channel, user_id, incoming, hint)

    monkeypatch.setattr(running.core.engine, "handle", handle_with_a_bug)
    with caplog.at_level(logging.ERROR):
        await mentee.user.tap(mentee.da("25 to 34"))
        (sorry,) = await mentee.user.wait_for_reply()
    assert sorry["text"] == mentee.da(SOMETHING_WENT_WRONG)
    assert await mentee.user.wait_for_callback_answer() is not None
    assert len([r for r in caplog.records if "parked after" in r.getMessage()]) == 1
    server.assert_no_violations()


# ---------------------------------------------------------------- coordinators


async def linked_coordinator(running: RunningBot, server: FakeBotAPI, user_id: int) -> FakeUser:
    async with running.core.sessions() as session:
        _, invite = await invite_coordinator(session, "bridge", "Sara")
        await session.commit()
    sara = server.user(user_id, "Sara", language_code="en")
    await sara.send_command("/coordinator", invite)
    (welcome,) = await sara.wait_for_reply()
    assert welcome["text"].startswith("Welcome, Sara.")
    return sara


async def flags_here_and_elsewhere(running: RunningBot) -> tuple[int, int]:
    """An open flag of the coordinator's programme, and one of a programme not theirs."""
    async with running.core.sessions() as session:
        bridge = await session.scalar(select(Programme).where(Programme.code == "bridge"))
        elsewhere = await programme_elsewhere(session)
        assert bridge is not None
        flags = [
            Flag(programme_id=programme.id, category="unhappy_with_match", severity="soon")
            for programme in (bridge, elsewhere)
        ]
        session.add_all(flags)
        await session.commit()
        return flags[0].id, flags[1].id


FORGED_FOR_COORDINATORS = {
    "a huge flag id to take": "s:T:0:0:{huge}",
    "a huge flag id to resolve": "s:R:0:0:{huge}",
    "a huge flag id to open": "s:O:0:0:{huge}",
    "a huge flag id to reply to": "s:M:0:0:{huge}",
    "a flag id beyond 32 bits": "s:T:0:0:{beyond}",
    "a negative flag id": "s:T:0:0:-{own}",
    "not a number": "s:O:0:0:abc",
    "too many fields": "s:T:0:0:{own}:1",
    "too few fields": "s:R:{own}",
    "another programme's flag to take": "s:T:0:0:{other}",
    "another programme's flag to open": "s:O:0:0:{other}",
    "another programme's flag to reply to": "s:M:0:0:{other}",
    "another programme's flag to resolve": "s:R:0:0:{other}",
}


@pytest.mark.parametrize(
    "template", FORGED_FOR_COORDINATORS.values(), ids=FORGED_FOR_COORDINATORS.keys()
)
async def test_a_forged_flag_button_is_refused_kindly(
    running: RunningBot,
    server: FakeBotAPI,
    caplog: pytest.LogCaptureFixture,
    template: str,
) -> None:
    sara = await linked_coordinator(running, server, 71)
    own, other = await flags_here_and_elsewhere(running)
    before = await database(running)
    data = template.format(own=own, other=other, huge=HUGE, beyond=BEYOND_32_BITS)
    await sara.tap_raw(data, sara.last_message["message_id"])
    answer = await sara.wait_for_callback_answer()
    assert answer.get("text") == str(coordination.NOT_YOURS)
    assert answer.get("show_alert") is True
    await server.wait_until_idle()
    assert await sara.wait_for_reply(count=0) == []  # nothing else is said, nothing opened
    no_error_logged(caplog)
    after = await database(running)
    assert after == before  # no flag taken, no one awaited, no audit entry, no participant
    async with running.core.sessions() as session:
        coordinator = await session.scalar(select(Coordinator))
        assert coordinator is not None and coordinator.awaiting_flag_id is None
        assert [e.action for e in await session.scalars(select(AuditEntry))] == ["invite", "link"]
    server.assert_no_violations()
