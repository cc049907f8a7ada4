"""A fast test programme, people who finished their intake, and a recording outbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.core import Core
from bot.course import ContactDispatcher, Undeliverable, create_match
from bot.language import texts
from bot.messages import Action, OutgoingMessage
from storage import repositories as repo
from storage.models import (
    Contact,
    Match,
    Participant,
    ParticipantStatus,
    Programme,
    RunStatus,
    SurveyRun,
)
from tests.conversation import EngineChat

COURSE = Path(__file__).parent / "data" / "course"
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 11:00 in Copenhagen: not quiet hours


@dataclass
class FakeClock:
    """The tests' clock (a `bot.clock.Clock`): it stands at `at` until a test sets or advances
    it, so that nothing depends on the day or the speed of the machine."""

    at: datetime = T0

    def now(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> datetime:
        self.at += timedelta(**delta)
        return self.at


def clock_at(core: Core, moment: datetime) -> FakeClock:
    """The core's clock (the tests build every core with a `FakeClock`), set to `moment`."""
    assert isinstance(core.clock, FakeClock)
    core.clock.at = moment
    return core.clock


@dataclass
class RecordingOutbox:
    sent: list[tuple[str, OutgoingMessage]] = field(default_factory=list)
    unreachable: set[str] = field(default_factory=set)

    async def send(self, channel_user_id: str, message: OutgoingMessage) -> None:
        if channel_user_id in self.unreachable:
            raise Undeliverable("Forbidden: bot was blocked by the user")
        self.sent.append((channel_user_id, message))

    def to(self, channel_user_id: str) -> list[OutgoingMessage]:
        return [message for user, message in self.sent if user == channel_user_id]


def dispatcher(core: Core, outbox: object) -> ContactDispatcher:
    """The core's dispatcher, on the core's clock, sending to `outbox`."""
    return core.contact_dispatcher({"test": outbox})  # type: ignore[dict-item]


async def enrolled(
    core: Core, user_id: str, role: str, language: str = "en", code: str = "fast"
) -> Participant:
    """Someone who agreed and finished the intake (stored directly: the intake is tested
    elsewhere)."""
    async with core.sessions() as session:
        programme = await session.scalar(select(Programme).where(Programme.code == code))
        participant = Participant(
            channel="test",
            channel_user_id=user_id,
            programme_id=programme.id,
            role=role,
            language=language,
            consent_version="test",
            consent_given_at=T0 - timedelta(days=30),
            status=ParticipantStatus.WAITING,
        )
        session.add(participant)
        await session.flush()
        session.add(
            SurveyRun(
                participant_id=participant.id,
                programme_id=programme.id,
                language=language,
                questionnaire_id=f"{role}_intake",
                questionnaire_version=1,
                occasion="intake",
                status=RunStatus.COMPLETED,
                draft=[],
                completed_at=T0 - timedelta(days=30),
            )
        )
        await session.commit()
        return participant


async def course_at(core: Core, seconds: float) -> tuple[RecordingOutbox, FakeClock]:
    """Amina (mentee 100) and Lars (mentor 200), matched at T0; contacts sent up to T0+seconds."""
    mentee = await enrolled(core, "100", "mentee")
    mentor = await enrolled(core, "200", "mentor")
    async with core.sessions() as session:
        intake = await session.scalar(
            select(SurveyRun).where(SurveyRun.participant_id == mentee.id)
        )
        await repo.record_answer(session, intake.id, "motivation", "medium")
        await repo.record_answer(session, intake.id, "name", "Amina")
        await create_match(session, core.programmes, mentee.id, mentor.id, T0)
        await session.commit()
    outbox, clock = RecordingOutbox(), clock_at(core, T0 + timedelta(seconds=seconds))
    await dispatcher(core, outbox).tick()
    return outbox, clock


def chat(core: Core, user_id: str) -> EngineChat:
    return EngineChat(core, user_id, channel="test")


async def matched(core: Core) -> Match:
    """Mentee "100" and mentor "200", enrolled in bridge and matched at T0."""
    mentee = await enrolled(core, "100", "mentee")
    mentor = await enrolled(core, "200", "mentor")
    async with core.sessions() as session:
        match = await create_match(session, core.programmes, mentee.id, mentor.id, T0)
        await session.commit()
    return match


async def contact(core: Core, user_id: str, rule: str) -> Contact:
    async with core.sessions() as session:
        return await session.scalar(
            select(Contact)
            .join(Participant, Contact.participant_id == Participant.id)
            .where(Participant.channel_user_id == user_id, Contact.rule == rule)
        )


async def finish_by_first_choices(person: EngineChat, motivation: str | None = None) -> None:
    """Answer every question with its first choice (or skip free text)."""
    for _ in range(60):
        if str(texts.CONTACT_DONE) in person.texts:
            return
        labels = [
            b.label
            for row in person.prompt.keyboard
            for b in row
            if b.press.action not in {Action.TALK, Action.WHY}
        ]
        if motivation and "How motivated" in person.question_text:
            await person.tap(motivation)
        elif str(texts.DONE) in labels:
            await person.tap(labels[0])
            await person.tap(str(texts.DONE))
        elif str(texts.SKIP) in labels:
            await person.tap(str(texts.SKIP))
        else:
            await person.tap(labels[0])
    raise AssertionError("the questionnaire did not end")


async def programme_elsewhere(session: AsyncSession, name: str = "Elsewhere") -> Programme:
    """A programme row of another organisation's programme, which this bot does not run."""
    programme = Programme(code="elsewhere", name=name)
    session.add(programme)
    await session.flush()
    return programme
