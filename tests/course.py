"""A fast test programme, people who finished their intake, and a recording outbox."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.conversation import OutgoingMessage
from bot.core import Core
from bot.dispatch import ContactDispatcher, Undeliverable
from storage.models import Participant, ParticipantStatus, Programme, RunStatus, SurveyRun

COURSE = Path(__file__).parent / "data" / "course"
T0 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 11:00 in Copenhagen: not quiet hours


@dataclass
class FakeClock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


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


def dispatcher(core: Core, outbox: object, clock: FakeClock) -> ContactDispatcher:
    contacts = core.contact_dispatcher({"test": outbox})  # type: ignore[dict-item]
    contacts.clock = clock
    return contacts


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
