"""Changing the language at any time, and "Why do we ask?" behind a button (shipped content)."""

from __future__ import annotations

from babel.dates import format_date
from sqlalchemy import select

from bot.core import Core
from bot.language import language_name, texts
from bot.messages import ChooseLanguage, ShowMyData
from bot.programmes import QuestionType, load_questionnaires
from bot.settings import PROJECT_ROOT
from storage.models import Participant
from tests.conversation import EngineChat


async def in_intake(core: Core, language: str = "English") -> EngineChat:
    person = EngineChat(core, "7", hint="da")
    await person.start("bridge")
    await person.tap(language)
    await person.tap(person.prompt.keyboard[0][0].label)  # consent: yes
    return person


def test_every_shipped_question_explains_why_it_is_asked() -> None:
    missing = [
        (questionnaire.id, question.id)
        for questionnaire in load_questionnaires(PROJECT_ROOT / "surveys").values()
        for question in questionnaire.questions
        if question.type is not QuestionType.INFO and not question.why
    ]
    assert missing == []


async def test_why_button_adds_the_explanation_to_the_question(core: Core) -> None:
    person = await in_intake(core)
    assert person.question_text.endswith(
        "What is your name? A nickname is fine.\n\n" + str(texts.TEXT_HINT)
    )
    await person.tap(str(texts.WHY_BUTTON))
    assert person.last.edit is not None
    assert person.last.edit.text.endswith("❓ So we know what to call you.")
    labels = [b.label for row in person.last.edit.keyboard for b in row]
    assert str(texts.WHY_BUTTON) not in labels and str(texts.TALK_BUTTON) in labels
    await person.say("Amina")  # the question is still open and answered as usual
    assert "2 / " in person.question_text


async def test_the_language_menu_offers_each_language_in_its_own_name_likely_first(
    core: Core,
) -> None:
    person = EngineChat(core, "8", hint="da-DK")
    await person.start("bridge")
    labels = [button.label for row in person.prompt.keyboard for button in row]
    offered = core.programmes["bridge"].languages
    assert labels == [language_name(c) for c in sorted(offered, key=lambda c: c != "da")]
    assert labels[0] == "Dansk" and {"English", "العربية", "Українська", "Soomaali"} <= set(labels)
    assert "دری" in labels  # Dari by the name Afghans use, not CLDR's "Persian (Afghanistan)"
    assert all(len(row) <= 2 for row in person.prompt.keyboard)  # long lists: two a row
    lines = person.question_text.splitlines()
    assert lines[0] == core.catalogs.gettext("da", str(texts.CHOOSE_LANGUAGE.message))
    assert len(lines) == len(set(lines)) >= 10  # the request in each language, once


async def test_language_can_change_mid_survey_and_the_question_is_shown_again(
    core: Core,
) -> None:
    person = await in_intake(core)
    await person.say("Amina")
    english = person.question_text
    await person.send(ChooseLanguage())
    assert person.prompt.keyboard[0][0].label == "English"  # the current one first
    await person.tap("Dansk")
    with core.catalogs.use("da"):
        assert person.last.edit.text.endswith("✓ Dansk")
        assert person.question_text != english
        assert person.question_text.startswith("2 / ")
        assert str(texts.TALK_BUTTON) in [b.label for row in person.prompt.keyboard for b in row]
    await person.send(ChooseLanguage())
    await person.tap("English")
    assert person.question_text == english


async def test_language_before_consent_shows_the_consent_again_in_the_new_language(
    core: Core,
) -> None:
    person = EngineChat(core, "9")
    await person.start("bridge")
    await person.tap("English")
    await person.send(ChooseLanguage())
    await person.tap("Dansk")
    with core.catalogs.use("da"):
        assert person.texts[-1] == str(texts.CONSENT)


async def test_dates_are_written_the_way_the_persons_language_writes_them(core: Core) -> None:
    person = await in_intake(core, "Українська")
    reply = await person.send(ShowMyData())
    async with core.sessions() as session:
        agreed = (await session.scalar(select(Participant))).consent_given_at
    ukrainian = format_date(agreed.date(), format="medium", locale="uk")  # e.g. "27 лист. 2026 р."
    assert ukrainian in reply.messages[0].text
    assert format_date(agreed.date(), format="medium", locale="en") not in reply.messages[0].text
