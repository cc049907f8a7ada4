"""Flags: rules beside the questions, raised by answers and by silence."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core import Core
from bot.language import texts
from bot.messages import Action, Press, Tap
from bot.programmes import QuestionnaireError, load_questionnaire, load_questionnaires
from bot.settings import PROJECT_ROOT
from storage.models import Contact, Flag, SurveyRun
from tests.conversation import EngineChat
from tests.course import (
    T0,
    RecordingOutbox,
    chat,
    clock_at,
    contact,
    course_at,
    dispatcher,
    finish_by_first_choices,
)

pytestmark = pytest.mark.fast_course


async def flags(core: Core) -> list[Flag]:
    async with core.sessions() as session:
        return list(await session.scalars(select(Flag).order_by(Flag.id)))


async def opened(core: Core, seconds: float, rule: str) -> tuple[EngineChat, Contact]:
    """Participant 100, ``seconds`` into the fast course, has opened her ``rule`` contact."""
    await course_at(core, seconds)
    amina = chat(core, "100")
    sent = await contact(core, "100", rule)
    await amina.send(Tap(Press(Action.OPEN, option=sent.id)))
    return amina, sent


async def at_how_it_is_going(core: Core) -> tuple[EngineChat, Contact]:
    """The first check-in, opened and answered "Yes, once": how it is going comes next."""
    amina, checkin = await opened(core, 2, "checkin_1")
    await amina.tap("Yes, once")
    return amina, checkin


async def unhappy_anonymous_end(core: Core) -> EngineChat:
    amina, _ = await opened(core, 9, "end")
    await finish_by_first_choices(amina)  # first choices: scale 1 = very unhappy
    return amina


def test_shipped_rules_cover_the_domain_brief() -> None:
    categories = {
        rule.category
        for questionnaire in load_questionnaires(PROJECT_ROOT / "surveys").values()
        for question in questionnaire.questions
        for rule in question.flags
    }
    assert {
        "wants_to_stop", "not_going_well", "unhappy_with_match", "not_met",
        "asks_for_coordinator", "life_event",
    } <= categories  # fmt: skip


async def test_wanting_to_stop_raises_an_urgent_flag_with_the_answer(core: Core) -> None:
    amina, checkin = await at_how_it_is_going(core)
    await amina.tap("Not good")
    raised = await flags(core)
    assert [(f.category, f.severity, f.answer, f.question_id) for f in raised] == [
        ("not_going_well", "soon", "not_good", "going")
    ]
    assert raised[0].participant_id == checkin.participant_id
    await amina.tap(str(texts.BACK))
    await amina.tap("Not good")  # the same answer again: still one flag
    assert len(await flags(core)) == 1


async def test_no_flag_for_an_ordinary_answer(core: Core) -> None:
    amina, _ = await at_how_it_is_going(core)
    await amina.tap("Good")
    assert await flags(core) == []


async def test_anonymous_answer_raises_a_flag_without_a_person(core: Core) -> None:
    await unhappy_anonymous_end(core)
    unhappy = [f for f in await flags(core) if f.category == "unhappy_with_match"]
    assert len(unhappy) == 1
    assert unhappy[0].participant_id is None and unhappy[0].answer == 1


async def test_silence_after_all_reminders_raises_unreachable(core: Core) -> None:
    outbox, clock = await course_at(core, 1)
    first = await contact(core, "100", "first_meeting")
    clock.at = first.sent_at + timedelta(seconds=6)
    await dispatcher(core, outbox).tick()
    unreachable = [f for f in await flags(core) if f.category == "unreachable"]
    assert [(f.participant_id, f.severity) for f in unreachable] == [(first.participant_id, "soon")]


async def test_blocked_bot_raises_unreachable_once(core: Core) -> None:
    await course_at(core, 0)
    outbox = RecordingOutbox(unreachable={"100"})
    clock_at(core, T0 + timedelta(seconds=3))
    await dispatcher(core, outbox).tick()
    unreachable = [f for f in await flags(core) if f.category == "unreachable"]
    assert len(unreachable) == 1


def test_flag_rule_with_an_unknown_answer_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "id: bad\nversion: 1\ntitle: T\nquestions:\n  - id: q1\n    type: single\n    text: Hi\n"
        "    options: [{id: a, text: A}, {id: b, text: B}]\n"
        "    flags: [{answers: [c], category: x, severity: urgent}]\n"
    )
    with pytest.raises(
        QuestionnaireError, match=r"question 'q1', field '\(question\)': field 'flags'"
    ):
        load_questionnaire(path)


async def test_anonymous_flag_is_linked_only_after_a_yes(core: Core) -> None:
    amina = await unhappy_anonymous_end(core)
    assert amina.texts[-1] == str(texts.ANONYMOUS_FLAG_ASK)
    await amina.tap(str(texts.CONTACT_ME_YES))
    # First she is told, in plain words, what the request gives up; nothing is linked yet.
    assert amina.texts == [str(texts.CONTACT_ME_CONSENT)]
    assert all(f.participant_id is None for f in await flags(core) if f.run_id is not None)
    await amina.tap(str(texts.CONTACT_ME_SEND))
    assert amina.last.edit is not None and amina.last.edit.text.endswith(
        f"✓ {texts.CONTACT_ME_SEND}"
    )
    assert amina.texts == [str(texts.CONTACT_ME_DONE)]
    linked = [f for f in await flags(core) if f.category == "unhappy_with_match"]
    assert [(f.participant_id, f.run_id, f.answer) for f in linked] == [(1, None, 1)]
    async with core.sessions() as session:
        run = await session.scalar(
            select(SurveyRun).where(SurveyRun.questionnaire_id == "mentee_end")
        )
    assert run.participant_id is None  # the rest of the answers stay anonymous


async def test_anonymous_flag_stays_without_a_person_after_a_no(core: Core) -> None:
    amina = await unhappy_anonymous_end(core)
    await amina.tap(str(texts.CONTACT_ME_NO))
    assert amina.texts == [str(texts.CONTACT_ME_NOT)]
    assert all(f.participant_id is None for f in await flags(core) if f.run_id is not None)


async def test_a_no_to_giving_up_anonymity_sends_nothing(core: Core) -> None:
    amina = await unhappy_anonymous_end(core)
    await amina.tap(str(texts.CONTACT_ME_YES))
    await amina.tap(str(texts.CONTACT_ME_DONT_SEND))
    assert amina.texts == [str(texts.CONTACT_ME_NOT_SENT)]
    assert all(f.participant_id is None for f in await flags(core) if f.run_id is not None)
    assert all(f.participant_id is None for f in await flags(core) if f.anonymous)


async def test_nobody_else_can_link_an_anonymous_flag(core: Core) -> None:
    amina = await unhappy_anonymous_end(core)
    await amina.tap(str(texts.CONTACT_ME_YES))
    yes = amina.button(str(texts.CONTACT_ME_SEND)).press
    lars = chat(core, "200")
    await lars.send(Tap(yes))
    # Refused, and his own open question comes again (his check-in, not Amina's survey).
    assert lars.texts[0] == str(texts.NOT_UNDERSTOOD)
    assert lars.texts[1].endswith("Have you met your mentee since we last asked you?")
    assert len(lars.texts) == 2
    assert all(f.participant_id is None for f in await flags(core) if f.category != "unreachable")
