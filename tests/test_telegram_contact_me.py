""" "Contact me" from an anonymous survey, end to end against the fake Bot API: before anything
is sent the bot says, in plain words, that the coordinator will then see who she is; only
"yes, send it with my name" links the request to her, and "no" stores nothing that ties her to
her anonymous answers."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select, update

from bot.course import create_match
from bot.language import texts
from storage.models import Base, Contact, ContactState, Flag, Participant, SurveyRun
from tests.fakes import FakeBotAPI, FakeUser
from tests.telegram import RunningBot
from tests.test_telegram_course import answer_everything, buttons, intake, next_invitation, until

pytestmark = pytest.mark.fast_course


async def at_the_end_of_her_anonymous_survey(
    running: RunningBot, server: FakeBotAPI
) -> tuple[FakeUser, int]:
    """Amina (participant 1) has answered her anonymous end survey: very unhappy with the
    match, and "yes" to "do you want your coordinator to get in touch?". The bot asks whether
    the coordinator may contact her. Returns her chat and the run's id."""
    core = running.core
    amina = server.user(301, "Amina", language_code="en")
    lars = server.user(302, "Lars", language_code="en")
    await intake(amina, "fast")
    await intake(lars, "fast-mentor")
    async with core.sessions() as session:
        mentee, mentor = list(await session.scalars(select(Participant).order_by(Participant.id)))
        await create_match(session, core.programmes, mentee.id, mentor.id)
        # Only her end survey: the check-ins before it are tested elsewhere.
        await session.execute(
            update(Contact)
            .where(Contact.rule != "end")
            .values(state=ContactState.CANCELLED)
            .execution_options(synchronize_session=False)
        )
        await session.commit()
    end = await next_invitation(running, amina)
    assert "Looking back" in end["text"]
    await amina.tap(buttons(end)[0], message=end)
    await amina.wait_for_reply(count=1)
    await answer_everything(amina, contact_me=True)
    assert amina.last_message["text"] == str(texts.ANONYMOUS_FLAG_ASK)
    async with core.sessions() as session:
        run = await session.scalar(select(SurveyRun).where(SurveyRun.participant_id.is_(None)))
    assert run is not None and run.status == "completed"
    return amina, run.id


async def anonymous_flags(running: RunningBot) -> list[Flag]:
    async with running.core.sessions() as session:
        return list(await session.scalars(select(Flag).where(Flag.anonymous.is_(True))))


async def asked_to_give_up_anonymity(amina: FakeUser, running: RunningBot) -> dict[str, Any]:
    await amina.tap(str(texts.CONTACT_ME_YES), message=amina.last_message)
    await until(lambda: amina.last_message["text"] == str(texts.CONTACT_ME_CONSENT))
    consent = amina.last_message
    assert buttons(consent) == [str(texts.CONTACT_ME_SEND), str(texts.CONTACT_ME_DONT_SEND)]
    # Nothing is sent before she answers: the flags still name nobody.
    assert all(flag.participant_id is None for flag in await anonymous_flags(running))
    return consent


async def test_yes_sends_the_request_with_her_name_and_her_answers_stay_anonymous(
    running: RunningBot, server: FakeBotAPI
) -> None:
    amina, run_id = await at_the_end_of_her_anonymous_survey(running, server)
    consent = await asked_to_give_up_anonymity(amina, running)
    assert "your coordinator must know who you are" in consent["text"]
    await amina.tap(str(texts.CONTACT_ME_SEND), message=consent)
    await until(lambda: amina.last_message["text"] == str(texts.CONTACT_ME_DONE))
    linked = await anonymous_flags(running)
    assert {flag.category for flag in linked} >= {"unhappy_with_match", "asks_for_coordinator"}
    assert {(flag.participant_id, flag.run_id) for flag in linked} == {(1, None)}
    async with running.core.sessions() as session:
        run = await session.get(SurveyRun, run_id)
    assert run is not None and run.participant_id is None  # the survey stays anonymous


async def test_no_sends_nothing_and_stores_nothing_that_ties_her_to_the_run(
    running: RunningBot, server: FakeBotAPI
) -> None:
    amina, run_id = await at_the_end_of_her_anonymous_survey(running, server)
    consent = await asked_to_give_up_anonymity(amina, running)
    await amina.tap(str(texts.CONTACT_ME_DONT_SEND), message=consent)
    await until(lambda: amina.last_message["text"] == str(texts.CONTACT_ME_NOT_SENT))
    await amina.wait_for_reply(count=0)
    assert all(flag.participant_id is None for flag in await anonymous_flags(running))

    # Every row of every table, as text: none that names her (her participant number in a
    # person column, or her Telegram id anywhere) also names the run, and no row anywhere
    # keeps a button of the run (its callback data carries the run's id: `s:<action>:<run>:…`).
    her_button = re.compile(rf"\bs:\w:{run_id}:\d+:\d+\b")
    her_telegram_id = re.compile(rf"\b{amina.id}\b")
    async with running.core.sessions() as session:
        for table in Base.metadata.sorted_tables:
            for row in (await session.execute(select(table))).mappings():
                text = " ".join(str(value) for value in row.values())
                assert not her_button.search(text), (table.name, text)
                names_her = bool(her_telegram_id.search(text)) or any(
                    row.get(column) == 1 for column in ("participant_id", "mentee_id")
                )
                if names_her:
                    assert row.get("run_id") != run_id, (table.name, text)
                    assert table.name != "survey_runs" or row["id"] != run_id, text
