"""Answering scheduled contacts through the engine: named, anonymous, chosen; triggers;
the person's own data."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, text, update

from bot.core import Core, build_core
from bot.language import texts
from bot.messages import Action, AskToErase, Press, ShowMyData, Tap
from bot.people import anonymous_occasion
from bot.programmes import ProgrammeError
from bot.results import answer_table, before_after
from bot.settings import Settings
from storage import repositories as repo
from storage.models import Answer, Contact, ContactState, Participant, SurveyRun
from tests.course import (
    COURSE,
    T0,
    FakeClock,
    chat,
    contact,
    course_at,
    dispatcher,
    finish_by_first_choices,
)

pytestmark = pytest.mark.fast_course


async def test_invitation_button_opens_the_questionnaire_and_answers_close_the_contact(
    core: Core,
) -> None:
    outbox, _ = await course_at(core, 1)
    amina = chat(core, "100")
    invitation = outbox.to("100")[0]
    await amina.send(Tap(invitation.keyboard[0][0].press))
    assert "Have you had your first meeting yet?" in amina.question_text
    await amina.tap("Yes")
    await amina.tap("Good")
    assert amina.texts == [str(texts.CONTACT_DONE)]
    first = await contact(core, "100", "first_meeting")
    assert first.state == ContactState.ANSWERED and first.answered_at is not None
    async with core.sessions() as session:
        run = await session.get(SurveyRun, first.run_id)
        assert run.participant_id is not None and run.status == "completed"


async def test_typing_after_an_invitation_starts_it(core: Core) -> None:
    await course_at(core, 1)
    amina = chat(core, "100")
    await amina.say("hello")
    assert "Have you had your first meeting yet?" in amina.question_text


async def test_no_meeting_in_a_checkin_plans_an_extra_checkin(
    core: Core,
) -> None:
    # She answers within the course (the extra check-in must fall before its planned end).
    _, clock = await course_at(core, 2)
    amina = chat(core, "100")
    checkin_contact = await contact(core, "100", "checkin_1")
    await amina.send(Tap(Press(Action.OPEN, option=checkin_contact.id)))
    assert "met" in amina.question_text.lower()
    await amina.tap("No")
    while amina.prompt is not None and amina.asks:
        labels = [b.label for row in amina.prompt.keyboard for b in row]
        if str(texts.DONE) in labels:
            await amina.tap(labels[0])
            await amina.tap(str(texts.DONE))
        else:
            await amina.tap(labels[0])
    assert amina.texts[-1] == str(texts.CONTACT_DONE)
    extra = await contact(core, "100", "no_contact")
    assert extra is not None and extra.questionnaire_id == "checkin_mentee"
    assert extra.state == ContactState.PLANNED and extra.due_at == clock.at + timedelta(seconds=3)


async def test_anonymous_end_survey_stores_no_identity_but_pairs_before_and_after(
    core: Core,
) -> None:
    await course_at(core, 9)
    amina = chat(core, "100")
    end = await contact(core, "100", "end")
    await amina.send(Tap(Press(Action.OPEN, option=end.id)))
    await finish_by_first_choices(amina, motivation="High")
    # She sees her own answers at the end, in her chat, although they are stored without her.
    summary = amina.last.edit
    assert summary is not None and summary.text.startswith(str(texts.YOUR_ANSWERS))
    assert "How motivated are you to reach your goals?\n✓ High" in summary.text
    end = await contact(core, "100", "end")
    assert end.state == ContactState.ANSWERED
    assert end.answered_at is None and end.run_id is None  # only the fact it was answered
    async with core.sessions() as session:
        run = await session.scalar(
            select(SurveyRun).where(SurveyRun.questionnaire_id == "mentee_end")
        )
        assert run.participant_id is None and run.respondent_key
        assert run.completed_at.time().isoformat() == "00:00:00"  # the day only
        # Without the secret, the occasion does not lead back to the contact.
        assert run.occasion == anonymous_occasion(core.secret, end.id)
        assert run.occasion != anonymous_occasion(b"another secret", end.id)
        programme = await repo.programme_by_code(session, "fast")
        pairs = await before_after(
            session, core.secret, programme.id, "motivation", "mentee_intake", "mentee_end"
        )
    assert pairs == [("medium", "high")]


async def test_respondent_chooses_to_answer_without_name(core: Core) -> None:
    await course_at(core, 9)
    lars = chat(core, "200")
    end = await contact(core, "200", "end")
    await lars.send(Tap(Press(Action.OPEN, option=end.id)))
    assert lars.question_text.startswith("Do you want to answer with your name")
    await lars.tap(str(texts.WITHOUT_NAME))
    assert "1 / " in lars.question_text
    async with core.sessions() as session:
        run = await session.scalar(
            select(SurveyRun).where(SurveyRun.questionnaire_id == "mentor_end")
        )
    assert run.participant_id is None


async def test_respondent_chooses_with_name(core: Core) -> None:
    await course_at(core, 9)
    lars = chat(core, "200")
    end = await contact(core, "200", "end")
    await lars.send(Tap(Press(Action.OPEN, option=end.id)))
    await lars.tap(str(texts.WITH_NAME))
    async with core.sessions() as session:
        run = await session.scalar(
            select(SurveyRun).where(SurveyRun.questionnaire_id == "mentor_end")
        )
    assert run.participant_id is not None


async def test_anonymity_cannot_change_once_a_version_has_answers(
    core: Core, settings: Settings
) -> None:
    await test_respondent_chooses_to_answer_without_name(core)
    tmp = Path.cwd() / "programmes"
    shutil.copytree(COURSE, tmp)
    yaml_path = tmp / "fast.yaml"
    yaml_path.write_text(
        yaml_path.read_text().replace("mentor_end: respondent_chooses", "mentor_end: named")
    )
    with pytest.raises(
        ProgrammeError,
        match=r"'anonymity\.mentor_end': version 1 has answers given as 'respondent_chooses'",
    ):
        await build_core(settings.model_copy(update={"programmes_dir": tmp}), FakeClock(T0))


async def test_button_of_an_expired_contact_says_it_is_closed(core: Core) -> None:
    outbox, clock = await course_at(core, 1)
    clock.advance(seconds=10)
    await dispatcher(core, outbox).tick()
    first = await contact(core, "100", "first_meeting")
    assert first.state == ContactState.EXPIRED
    amina = chat(core, "100")
    await amina.send(Tap(Press(Action.OPEN, option=first.id)))
    assert amina.texts == [str(texts.SURVEY_CLOSED)]


async def test_mydata_lists_what_is_stored_and_not_anonymous_answers(core: Core) -> None:
    await test_anonymous_end_survey_stores_no_identity_but_pairs_before_and_after(core)
    reply = await chat(core, "100").send(ShowMyData())
    summary = "\n".join(message.text for message in reply.messages)
    assert summary.startswith(str(texts.MYDATA_INTRO))
    assert "Amina" in summary and str(texts.MYDATA_ANONYMOUS) in summary
    ((name, content),) = reply.documents
    data = json.loads(content)
    assert name == "mydata.json"
    assert data["participant"]["channel_user_id"] == "100"
    assert {s["questionnaire"] for s in data["surveys"]} == {"mentee_intake"}
    assert data["surveys"][0]["answers"]["name"]["value"] == "Amina"


async def test_mydata_of_a_stranger_says_nothing_is_stored(core: Core) -> None:
    reply = await chat(core, "999").send(ShowMyData())
    assert [m.text for m in reply.messages] == [str(texts.MYDATA_NOTHING)]
    async with core.sessions() as session:
        assert (
            await session.scalar(select(Participant).where(Participant.channel_user_id == "999"))
            is None
        )


async def all_text(core: Core) -> str:
    """Every value in every table, as text: to look for a deleted person's traces."""
    values = []
    async with core.sessions() as session:
        for table in ("participants", "survey_runs", "answers", "contacts", "matches",
                      "programmes", "inbox", "anonymity_locks", "flags"):  # fmt: skip
            for row in await session.execute(text(f"SELECT * FROM {table}")):
                values += [str(value) for value in row]
    return "\n".join(values)


async def test_delete_erases_identity_and_named_answers_and_cancels_contacts(core: Core) -> None:
    await test_anonymous_end_survey_stores_no_identity_but_pairs_before_and_after(core)
    assert "Amina" in await all_text(core)
    amina = chat(core, "100")
    await amina.send(AskToErase())
    assert amina.texts[0] == str(texts.DELETE_CONFIRM)
    reply = await amina.tap(str(texts.DELETE_YES))
    assert reply.messages[-1].text == str(texts.DELETE_DONE)
    stored = await all_text(core)
    assert "Amina" not in stored
    assert "\n100\n" not in f"\n{stored}\n"  # her Telegram id is gone from every column
    async with core.sessions() as session:
        person = await session.get(Participant, 1)
        assert person.status == "withdrawn" and person.channel_user_id == "erased-1"
        left = list(await session.scalars(select(Contact).where(Contact.participant_id == 1)))
        assert {c.state for c in left if c.rule in {"follow_up"}} == {ContactState.CANCELLED}
        anonymous = await session.scalar(
            select(SurveyRun).where(SurveyRun.participant_id.is_(None))
        )
        kept = list(await session.scalars(select(Answer).where(Answer.run_id == anonymous.id)))
    assert kept  # anonymous answers stay: nothing links them to her


async def test_delete_can_be_cancelled(core: Core) -> None:
    await course_at(core, 1)
    amina = chat(core, "100")
    await amina.send(AskToErase())
    await amina.tap(str(texts.DELETE_NO))
    assert amina.texts == [str(texts.DELETE_CANCELLED)]
    assert "Amina" in await all_text(core)


async def test_retention_erases_personal_data_after_the_course(core: Core) -> None:
    outbox, clock = await course_at(core, 1)
    async with core.sessions() as session:
        from bot.course.matches import end_match

        await end_match(
            session,
            core.programmes,
            1,
            __import__("storage.models").models.EndReason.COMPLETED,
            T0 + timedelta(seconds=8),
        )
        await session.commit()
    clock.at = T0 + timedelta(seconds=8 + 29)
    assert (await dispatcher(core, outbox).tick()).erased == []
    clock.at = T0 + timedelta(seconds=8 + 31)
    assert sorted((await dispatcher(core, outbox).tick()).erased) == [1, 2]
    assert "Amina" not in await all_text(core)


async def test_expired_contact_keeps_what_was_answered_as_partial(core: Core) -> None:
    outbox, clock = await course_at(core, 1)
    amina = chat(core, "100")
    first = await contact(core, "100", "first_meeting")
    await amina.send(Tap(Press(Action.OPEN, option=first.id)))
    await amina.tap("Not yet")  # then she stops answering
    clock.at = first.sent_at + timedelta(seconds=6)
    assert first.id in (await dispatcher(core, outbox).tick()).expired
    first = await contact(core, "100", "first_meeting")
    async with core.sessions() as session:
        run = await session.get(SurveyRun, first.run_id)
        table = await answer_table(session, core.questionnaires["first_meeting"])
    assert run.status == "partial"
    row = dict(zip(table.ids, table.rows[0], strict=True))
    assert row["status"] == "partial" and row["met"] == "Not yet"


async def test_anonymous_export_holds_no_identity(core: Core) -> None:
    await test_anonymous_end_survey_stores_no_identity_but_pairs_before_and_after(core)
    async with core.sessions() as session:
        table = await answer_table(session, core.questionnaires["mentee_end"])
        person = await session.scalar(
            select(Participant).where(Participant.channel_user_id == "100")
        )
    (row,) = table.rows
    record = dict(zip(table.ids, row, strict=True))
    assert record["respondent"].startswith("anon-")
    assert record["motivation"] == "High"
    assert record["respondent"] != str(person.id)
    assert not set(row) & {"100", "Amina", "test"}  # channel id, name, channel


async def test_dispatcher_does_not_overwrite_the_contact_a_person_is_answering(
    core: Core,
) -> None:
    await course_at(core, 2)  # first meeting and check-in 1 sent; the first is active
    first = await contact(core, "100", "first_meeting")
    checkin = await contact(core, "100", "checkin_1")
    async with core.sessions() as dispatcher_session:
        # The dispatcher read the person before she tapped...
        person = await dispatcher_session.get(Participant, first.participant_id)
        await dispatcher_session.execute(
            update(Participant).where(Participant.id == person.id).values(active_contact_id=None)
        )
        await dispatcher_session.commit()
        await dispatcher_session.get(Participant, person.id)
        # ...she opens the check-in meanwhile...
        await chat(core, "100").send(Tap(Press(Action.OPEN, option=checkin.id)))
        # ...and the dispatcher offers the other contact afterwards.
        await repo.offer_contact(dispatcher_session, person.id, first.id)
        await dispatcher_session.commit()
    async with core.sessions() as session:
        assert (await session.get(Participant, person.id)).active_contact_id == checkin.id


async def test_a_survey_that_expired_can_still_be_finished(core: Core) -> None:
    outbox, clock = await course_at(core, 1)
    amina = chat(core, "100")
    first = await contact(core, "100", "first_meeting")
    await amina.send(Tap(Press(Action.OPEN, option=first.id)))
    await amina.tap("Not yet")
    clock.at = first.sent_at + timedelta(seconds=6)
    assert first.id in (await dispatcher(core, outbox).tick()).expired
    await amina.tap("Yes")  # she comes back and answers the last question
    assert amina.texts == [str(texts.CONTACT_DONE)]
    first = await contact(core, "100", "first_meeting")
    async with core.sessions() as session:
        run = await session.get(SurveyRun, first.run_id)
    assert first.state == ContactState.ANSWERED and run.status == "completed"
