"""The whole intake in Arabic, Ukrainian and Somali through the fake Bot API, and a change of
language in the middle of it: every question arrives in the chosen language."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.language import LRI, PDI, language_name, texts
from bot.programmes import Questionnaire
from storage.models import Answer, Participant, SurveyRun
from tests.fakes import FakeBotAPI, FakeUser
from tests.telegram import RunningBot
from tests.test_telegram_course import buttons, until

Message = dict[str, object]
NAME = "What is your name? A nickname is fine."


def text_of(message: Message) -> str:
    return str(message["text"])


class Speaker:
    """A mentee who reads one language: every label she taps is looked up in its catalog."""

    def __init__(self, running: RunningBot, user: FakeUser, language: str) -> None:
        self.user, self.language = user, language
        self.catalogs = running.core.catalogs
        self.intake: Questionnaire = running.core.questionnaires["mentee_intake"]
        self.last_question = ""

    def t(self, english: object) -> str:
        return self.catalogs.gettext(self.language, getattr(english, "message", str(english)))

    def question_texts(self) -> dict[str, str]:
        return {self.t(q.text): q.id for q in self.intake.questions}

    async def choose_language(self) -> None:
        await self.user.send_command("/start", "bridge")
        (menu,) = await self.user.wait_for_reply()
        await self.user.tap(language_name(self.language), message=menu)
        await until(lambda: text_of(self.user.messages[-1]) == self.t(texts.CONSENT))
        count = len(self.user.messages)
        await self.user.tap(self.t(texts.CONSENT_YES))
        await until(lambda: len(self.user.messages) > count)  # the first question came

    async def answer_until_done(self, stop_at: str | None = None) -> list[str]:
        """Answer each question with its first choice (free text: a few words); returns the
        question ids seen. Stops before `stop_at` if given."""
        seen: list[str] = []
        extras = {self.t(texts.TALK_BUTTON), self.t(texts.WHY_BUTTON), self.t(texts.BACK)}
        for _ in range(40):
            await self.user.wait_for_reply(count=0)  # the whole reply (the summary, then more)
            last = self.user.messages[-1]
            if text_of(last) == self.t(texts.INTAKE_DONE):
                return seen
            question_id = self._question_of(last)
            seen.append(question_id)
            self.last_question = text_of(last)
            if question_id == stop_at:
                return seen
            labels = [label for label in buttons(last) if label not in extras]
            # A tap turns the question into the next one; a typed answer brings a new message.
            before = [text_of(m) for m in self.user.messages]
            if self.t(texts.DONE) in labels:
                await self.user.tap(labels[0], message=last)
                await until(lambda: buttons(self._current(last))[0].startswith("✓"))  # noqa: B023
                await self.user.tap(self.t(texts.DONE), message=last)
            elif self.t(texts.SKIP) in labels:
                await self.user.tap(self.t(texts.SKIP), message=last)
            elif labels:
                await self.user.tap(labels[0], message=last)
            else:
                await self.user.send_text("Amina" if question_id == "name" else "Aleppo")
            await until(lambda: [text_of(m) for m in self.user.messages] != before)  # noqa: B023
        raise AssertionError("the intake did not end")

    def _current(self, message: Message) -> Message:
        return next(m for m in self.user.messages if m["message_id"] == message["message_id"])

    def _question_of(self, message: Message) -> str:
        """The question a message shows, found by its translated text: proof that the
        question came in this language."""
        body = text_of(message).split("\n\n")[1]
        known = self.question_texts()
        assert body in known, f"not a {self.language} question: {text_of(message)!r}"
        return known[body]


async def stored(running: RunningBot) -> tuple[Participant, dict[str, object]]:
    async with running.core.sessions() as session:
        person = await session.scalar(select(Participant))
        rows = await session.scalars(
            select(Answer).join(SurveyRun, SurveyRun.id == Answer.run_id).order_by(Answer.id)
        )
        return person, {row.question_id: row.value for row in rows}


@pytest.mark.parametrize("language", ["ar", "uk", "so"])
async def test_the_whole_intake_in_the_mentees_own_language(
    running: RunningBot, server: FakeBotAPI, language: str
) -> None:
    mentee = Speaker(running, server.user(300, "Amina", language_code=language), language)
    await mentee.choose_language()
    seen = await mentee.answer_until_done()
    assert len(seen) >= 15 and seen[0] == "name"
    person, answers = await stored(running)
    assert person.language == language and answers["name"] == "Amina"
    assert set(seen) <= set(answers)
    # The last question's message sums up her answers now, in her language.
    summary = text_of(mentee.user.messages[-2])
    assert summary.startswith(mentee.t(texts.YOUR_ANSWERS) + "\n\n" + mentee.t(NAME))
    progress = mentee.last_question.split("\n\n")[0]
    if language == "ar":  # the progress stays "n / total" inside right-to-left text
        assert progress.startswith(LRI) and progress.endswith(PDI)
    else:
        assert " / " in progress and LRI not in progress
    server.assert_no_violations()


async def test_switching_language_mid_survey_shows_the_question_again_in_the_new_one(
    running: RunningBot, server: FakeBotAPI
) -> None:
    amina = Speaker(running, server.user(301, "Amina", language_code="uk"), "uk")
    await amina.choose_language()
    seen = await amina.answer_until_done(stop_at="gender")
    assert seen == ["name", "contact", "age_group", "gender"]
    ukrainian = amina.user.messages[-1]

    await amina.user.send_command("/language")
    menu = next(m for m in await amina.user.wait_for_reply() if not m.get("edits"))
    assert "reply_markup" not in amina._current(ukrainian)  # the question waits meanwhile
    assert buttons(menu)[0] == "Українська"  # the current language first
    await amina.user.tap("العربية", message=menu)
    await until(lambda: amina.user.messages[-1]["message_id"] != menu["message_id"])
    await amina.user.wait_for_reply(count=0)

    arabic = Speaker(running, amina.user, "ar")
    assert arabic._question_of(amina.user.messages[-1]) == "gender"  # again, now in Arabic
    rest = await arabic.answer_until_done()
    assert rest[0] == "gender"
    person, answers = await stored(running)
    assert person.language == "ar" and answers["name"] == "Amina"
    server.assert_no_violations()
