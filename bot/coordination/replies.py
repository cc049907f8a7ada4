"""A coordinator and a participant writing to each other on a flag, through the bot.

Every message is recorded on its flag (`flag_messages`), so the flag holds the whole exchange.
The participant sees the coordinator's message as from "your coordinator", with an Answer
button; their answer is pushed to the coordinator who took the flag, or to all the programme's
coordinators if nobody has taken it yet.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordination.audit_trail import audit
from bot.coordination.coordinators import CoordinationError, coordinators_of
from bot.coordination.flag_display import flag_message
from bot.coordination.wording import PARTICIPANT
from bot.language import Catalogs, __, texts
from bot.messages import Action, Button, OutgoingMessage, Press
from bot.programmes import Questionnaire
from storage import repositories as repo
from storage.database import clock_now
from storage.models import (
    Coordinator,
    Flag,
    FlagMessage,
    FlagStatus,
    Participant,
    ParticipantStatus,
)

MAX_LENGTH = 3000

EMPTY = __("The message is empty.")
GONE = __("This person has deleted their data; they cannot be messaged.")
ANSWER_ON_FLAG = __("{who} answered you on flag #{number}.")


@dataclass(frozen=True)
class Delivery:
    """A message for one person on one channel."""

    channel: str
    channel_user_id: str
    message: OutgoingMessage


async def message_participant(
    session: AsyncSession,
    coordinator: Coordinator,
    flag: Flag,
    text: str,
    catalogs: Catalogs,
    *,
    later: bool = False,
) -> Delivery:
    """Record the coordinator's message on the flag and build it for the participant. The
    Telegram handler sends it at once; from the dashboard (`later`) the bot's dispatcher sends
    it on its next round (see `claim_messages_to_participants`)."""
    participant = (
        await session.get(Participant, flag.participant_id) if flag.participant_id else None
    )
    if participant is None or participant.status == ParticipantStatus.WITHDRAWN:
        raise CoordinationError(str(GONE))
    words = text.strip()[:MAX_LENGTH]
    if not words:
        raise CoordinationError(str(EMPTY))
    pushed = None if later else clock_now(session)
    session.add(
        FlagMessage(flag_id=flag.id, coordinator_id=coordinator.id, text=words, pushed_at=pushed)
    )
    await audit(session, coordinator, "message", programme_id=flag.programme_id, flag=flag)
    return _letter(participant, coordinator.name, flag.id, words, catalogs)


def _letter(
    participant: Participant, name: str, flag_id: int, words: str, catalogs: Catalogs
) -> Delivery:
    """The coordinator's message as the participant sees it, in their language."""
    answer = Press(Action.ANSWER_COORDINATOR, option=flag_id)
    with catalogs.use(participant.language or "en"):
        message = OutgoingMessage(
            f"{texts.FROM_COORDINATOR.format(name=name)}\n\n{words}",
            ((Button(str(texts.ANSWER_COORDINATOR), answer),),),
        )
    return Delivery(participant.channel, participant.channel_user_id, message)


async def claim_messages_to_participants(
    session: AsyncSession, catalogs: Catalogs
) -> list[Delivery]:
    """Coordinators' messages written in the dashboard and not sent yet, each claimed once."""
    deliveries = []
    rows = await session.scalars(
        select(FlagMessage).where(
            FlagMessage.coordinator_id.is_not(None),
            FlagMessage.pushed_at.is_(None),
            FlagMessage.internal.is_(False),
        )
    )
    for message in list(rows):
        if not await repo.claim_flag_message_push(session, message.id):
            continue
        flag = await session.get(Flag, message.flag_id)
        author = await session.get(Coordinator, message.coordinator_id)
        participant = (
            await session.get(Participant, flag.participant_id)
            if flag is not None and flag.participant_id
            else None
        )
        if flag is None or author is None or participant is None:
            continue
        if participant.status == ParticipantStatus.WITHDRAWN:
            continue
        deliveries.append(_letter(participant, author.name, flag.id, message.text, catalogs))
    return deliveries


async def flag_to_answer(
    session: AsyncSession, participant: Participant, flag_id: int
) -> Flag | None:
    """The flag, if a coordinator wrote to this participant on it."""
    flag = await session.get(Flag, flag_id)
    if flag is None or flag.participant_id != participant.id:
        return None
    return flag


async def record_answer_to_coordinator(
    session: AsyncSession, participant: Participant, flag: Flag, text: str
) -> None:
    """The participant's answer goes on the flag; a resolved flag opens again, so that the
    answer is not lost in the coordinator's history."""
    session.add(FlagMessage(flag_id=flag.id, text=text.strip()[:MAX_LENGTH]))
    if flag.status == FlagStatus.RESOLVED:
        flag.status = FlagStatus.ASSIGNED if flag.assigned_to else FlagStatus.OPEN
        flag.resolved_at = None
    await session.flush()


async def claim_answers(
    session: AsyncSession, questionnaires: dict[str, Questionnaire], catalogs: Catalogs
) -> list[Delivery]:
    """Participants' answers not yet pushed, each claimed once, for the coordinator who took
    the flag or, if nobody has, every coordinator of the programme."""
    deliveries = []
    rows = await session.scalars(
        select(FlagMessage).where(
            FlagMessage.coordinator_id.is_(None), FlagMessage.pushed_at.is_(None)
        )
    )
    for answer in list(rows):
        if not await repo.claim_flag_message_push(session, answer.id):
            continue
        flag = await session.get(Flag, answer.flag_id)
        if flag is None or flag.programme_id is None:
            continue
        readers = await coordinators_of(session, flag.programme_id)
        if flag.assigned_to is not None:
            readers = [c for c in readers if c.id == flag.assigned_to] or readers
        thread = await repo.flag_thread(session, flag.id)
        for reader in readers:
            if reader.telegram_user_id is None:
                continue
            with catalogs.use(reader.language):
                who = PARTICIPANT.format(number=str(flag.participant_id))
                view = flag_message(flag, questionnaires, thread)
                heading = ANSWER_ON_FLAG.format(who=who, number=str(flag.id))
            message = OutgoingMessage(f"{heading}\n\n{view.text}", view.keyboard)
            # Coordinators are reached through the Telegram account they linked.
            deliveries.append(Delivery("telegram", str(reader.telegram_user_id), message))
    return deliveries
