"""Coordinators: linking their accounts, seeing flags of their own programmes only, taking and
resolving them. Every action goes to the audit log. Channel-neutral."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.answer_text import question_of, value_text
from bot.conversation import Action, Button, OutgoingMessage, Press, VoiceNote
from bot.i18n import _, __
from bot.questionnaire import Questionnaire
from bot.voice import voice_of
from storage import repositories as repo
from storage.models import (
    AuditEntry,
    Coordinator,
    CoordinatorRole,
    Flag,
    FlagMessage,
    FlagStatus,
    Programme,
    utcnow,
)

INVITE_DAYS = 7
SEVERITY_ORDER = {"urgent": 0, "soon": 1, "info": 2}

CATEGORY_LABELS = {
    "danger": __("Danger signs in an answer"),
    "wants_to_stop": __("Wants to stop"),
    "may_stop": __("Not sure about going on"),
    "not_going_well": __("It is not going well"),
    "unhappy_with_match": __("Unhappy with the match"),
    "not_met": __("Has not met"),
    "asks_for_coordinator": __("Asks for the coordinator"),
    "talk_to_person": __("Wants to talk to a person"),
    "life_event": __("News: job or education"),
    "unreachable": __("Cannot be reached"),
    "withdrew": __("Withdrew and deleted their data"),
    "voice_answer": __("Voice answer to review"),
}
SEVERITY_LABELS = {"urgent": __("URGENT"), "soon": __("Soon"), "info": __("Info")}
TAKE = __("Take it")
RESOLVE = __("Resolved")
OPEN = __("Open")
REPLY = __("Reply")
TAKEN_BY = __("Taken by {name}.")
ASK_OUTCOME = __("Write a short note on the outcome, then send it.")
ASK_REPLY = __(
    "Write your message to {who}, then send it. The bot sends it in your name, as it is."
)
MESSAGE_SENT = __("Sent to {who}. Their answer will come to you here.")
MESSAGE_UNDELIVERABLE = __(
    "The message could not be delivered: the person has blocked the bot or left Telegram. "
    "It is kept on the flag."
)
PARTICIPANT_USAGE = __("Send /participant and a number, for example: /participant 12")
CANNOT_REPLY = __("This flag is anonymous: nobody can be messaged about it.")
PARTICIPANT_WROTE = __("Participant wrote")
COORDINATOR_WROTE = __("Coordinator wrote")
RESOLVED_BY = __("Resolved by {name}: {note}")
ANONYMOUS = __("(anonymous)")
PARTICIPANT = __("participant {number}")
DIGEST_SOON = __("Good morning. These flags need an answer soon:")
NO_OPEN_FLAGS = __("No open flags.")
LINKED = __("Welcome, {name}. You will get urgent flags of your programme here. Send /flags.")
BAD_INVITE = __("This code is not valid or has expired. Ask an admin for a new one.")
NOT_YOURS = __("This flag is not in your programmes.")


class CoordinationError(Exception):
    """A coordinator action that is not allowed; the message says why."""


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().encode()).hexdigest()


async def invite_coordinator(
    session: AsyncSession, programme_code: str, name: str, role: str = "coordinator",
    language: str = "en",
) -> tuple[Coordinator, str]:  # fmt: skip
    """A new coordinator and their one-time invite code (only its hash is stored)."""
    programme = await repo.programme_by_code(session, programme_code)
    if programme is None:
        raise CoordinationError(f"there is no programme '{programme_code}'")
    code = secrets.token_urlsafe(9)
    coordinator = Coordinator(
        name=name,
        language=language,
        invite_hash=_hash(code),
        invite_expires_at=utcnow() + timedelta(days=INVITE_DAYS),
    )
    session.add(coordinator)
    await session.flush()
    session.add(
        CoordinatorRole(coordinator_id=coordinator.id, programme_id=programme.id, role=role)
    )
    await audit(session, None, "invite", detail=f"{name} ({role}, {programme.code})")
    return coordinator, code


async def link_coordinator(
    session: AsyncSession, code: str, telegram_user_id: int
) -> Coordinator | None:
    coordinator = await session.scalar(
        select(Coordinator).where(Coordinator.invite_hash == _hash(code))
    )
    expires = coordinator.invite_expires_at if coordinator else None
    if coordinator is None or expires is None or expires < utcnow():
        return None
    coordinator.telegram_user_id = telegram_user_id
    coordinator.invite_hash = None
    coordinator.invite_expires_at = None
    await audit(session, coordinator, "link")
    return coordinator


async def coordinator_by_telegram(
    session: AsyncSession, telegram_user_id: int
) -> Coordinator | None:
    return await session.scalar(
        select(Coordinator).where(Coordinator.telegram_user_id == telegram_user_id)
    )


async def programme_ids(session: AsyncSession, coordinator: Coordinator) -> set[int]:
    rows = await session.scalars(
        select(CoordinatorRole.programme_id).where(CoordinatorRole.coordinator_id == coordinator.id)
    )
    return set(rows)


async def programmes_of(session: AsyncSession, coordinator: Coordinator) -> list[Programme]:
    """The coordinator's programmes, by name."""
    mine = await programme_ids(session, coordinator)
    return [p for p in await repo.programmes(session) if p.id in mine]


async def coordinators_of(session: AsyncSession, programme_id: int) -> list[Coordinator]:
    rows = await session.scalars(
        select(Coordinator)
        .join(CoordinatorRole, CoordinatorRole.coordinator_id == Coordinator.id)
        .where(CoordinatorRole.programme_id == programme_id)
    )
    return list(rows)


async def audit(
    session: AsyncSession,
    coordinator: Coordinator | None,
    action: str,
    flag: Flag | None = None,
    detail: str | None = None,
    participant_id: int | None = None,
) -> None:
    """Who did what, when. `coordinator` None: an admin at the command line."""
    session.add(
        AuditEntry(
            coordinator_id=coordinator.id if coordinator else None,
            action=action,
            flag_id=flag.id if flag else None,
            participant_id=flag.participant_id if flag else participant_id,
            detail=detail,
        )
    )
    await session.flush()


async def own_flag(session: AsyncSession, coordinator: Coordinator, flag_id: int) -> Flag:
    flag = await session.get(Flag, flag_id)
    if flag is None or flag.programme_id not in await programme_ids(session, coordinator):
        raise CoordinationError(str(NOT_YOURS))
    return flag


@dataclass(frozen=True)
class FlagFilter:
    """Narrow the queue: one programme, one category, one assignee (0: nobody yet)."""

    programme_id: int | None = None
    category: str | None = None
    assignee: int | None = None


async def open_flags(
    session: AsyncSession, coordinator: Coordinator, only: FlagFilter = FlagFilter()
) -> list[Flag]:
    """Open flags of the coordinator's programmes, most severe first, then oldest first."""
    mine = await programme_ids(session, coordinator)
    query = select(Flag).where(Flag.programme_id.in_(mine), Flag.status != FlagStatus.RESOLVED)
    if only.programme_id is not None:
        query = query.where(Flag.programme_id == only.programme_id)
    if only.category:
        query = query.where(Flag.category == only.category)
    if only.assignee == 0:
        query = query.where(Flag.assigned_to.is_(None))
    elif only.assignee is not None:
        query = query.where(Flag.assigned_to == only.assignee)
    rows = await session.scalars(query)
    return sorted(rows, key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.created_at))


async def take_flag(session: AsyncSession, coordinator: Coordinator, flag_id: int) -> Flag:
    flag = await own_flag(session, coordinator, flag_id)
    flag.assigned_to = coordinator.id
    flag.status = FlagStatus.ASSIGNED
    await audit(session, coordinator, "assign", flag)
    return flag


class Awaiting(StrEnum):
    """What the bot waits for a coordinator to write next."""

    RESOLVE = "resolve"  # a short outcome note
    REPLY = "reply"  # a message to the participant


async def await_text(
    session: AsyncSession, coordinator: Coordinator, flag_id: int, what: Awaiting
) -> Flag:
    flag = await own_flag(session, coordinator, flag_id)
    if what is Awaiting.REPLY and flag.participant_id is None:
        raise CoordinationError(str(CANNOT_REPLY))
    coordinator.awaiting, coordinator.awaiting_flag_id = what.value, flag.id
    return flag


async def awaited_flag(session: AsyncSession, coordinator: Coordinator) -> Flag:
    """The flag the coordinator's text is for; they wait for nothing more afterwards."""
    assert coordinator.awaiting_flag_id is not None
    flag_id = coordinator.awaiting_flag_id
    coordinator.awaiting = coordinator.awaiting_flag_id = None
    return await own_flag(session, coordinator, flag_id)


async def add_note(
    session: AsyncSession, coordinator: Coordinator, flag: Flag, text: str
) -> FlagMessage:
    """A note for colleagues on the flag; the participant is never sent it (but sees it in
    their own data: /mydata)."""
    words = text.strip()[:4000]
    if not words:
        raise CoordinationError("the note is empty")
    note = FlagMessage(
        flag_id=flag.id,
        coordinator_id=coordinator.id,
        internal=True,
        text=words,
        pushed_at=utcnow(),
    )
    session.add(note)
    await audit(session, coordinator, "note", flag)
    return note


async def resolve_flag(
    session: AsyncSession, coordinator: Coordinator, flag: Flag, note: str
) -> None:
    flag.status = FlagStatus.RESOLVED
    flag.resolved_at = utcnow()
    flag.outcome = note.strip()[:1000]
    flag.assigned_to = flag.assigned_to or coordinator.id
    await audit(session, coordinator, "resolve", flag, detail=flag.outcome)


async def claim_urgent_pushes(session: AsyncSession) -> list[Flag]:
    """Urgent flags not yet pushed, claimed so that each is pushed once."""
    rows = list(
        await session.scalars(
            select(Flag).where(
                Flag.severity == "urgent",
                Flag.pushed_at.is_(None),
                Flag.status != FlagStatus.RESOLVED,
            )
        )
    )
    claimed = []
    for flag in rows:
        if await repo.claim_flag_push(session, flag.id):
            claimed.append(flag)
    return claimed


async def claim_digest(session: AsyncSession, moments: dict[int, datetime]) -> list[Flag]:
    """`soon` flags not yet sent that were raised before their programme's last digest time
    (`moments`: programme id to that moment), claimed so that each is sent once."""
    rows = await session.scalars(
        select(Flag)
        .where(
            Flag.severity == "soon",
            Flag.pushed_at.is_(None),
            Flag.status != FlagStatus.RESOLVED,
            Flag.programme_id.in_(moments),
        )
        .order_by(Flag.created_at)
    )
    due = [flag for flag in rows if flag.created_at <= moments[flag.programme_id or 0]]
    return [flag for flag in due if await repo.claim_flag_push(session, flag.id)]


def flag_message(
    flag: Flag, questionnaires: dict[str, Questionnaire], thread: Sequence[FlagMessage] = ()
) -> OutgoingMessage:
    """A flag as a coordinator reads it, in the active language, with its buttons and the
    messages written on it."""
    who = PARTICIPANT.format(number=str(flag.participant_id)) if flag.participant_id else ANONYMOUS
    lines = [
        f"{SEVERITY_LABELS.get(flag.severity, flag.severity)}: "
        f"{CATEGORY_LABELS.get(flag.category, flag.category)}",
        f"#{flag.id} · {who}",
    ]
    question = question_of(questionnaires.get(flag.questionnaire_id or ""), flag.question_id)
    if question is not None:
        lines.append(_(question.text))
    if flag.answer is not None:
        lines.append(f"» {value_text(question, flag.answer)}")
    for message in thread:
        author = PARTICIPANT_WROTE if message.coordinator_id is None else COORDINATOR_WROTE
        lines.append(f"{author}: {message.text}")
    buttons = [Button(str(OPEN), Press(Action.OPEN_FLAG, option=flag.id))]
    if flag.participant_id is not None:
        buttons.append(Button(str(REPLY), Press(Action.REPLY_FLAG, option=flag.id)))
    keyboard = (
        (
            Button(str(TAKE), Press(Action.TAKE_FLAG, option=flag.id)),
            Button(str(RESOLVE), Press(Action.RESOLVE_FLAG, option=flag.id)),
        ),
        tuple(buttons),
    )
    voice = voice_of(flag.answer)
    played = VoiceNote(file_id=str(voice["file_id"])) if voice else None
    return OutgoingMessage("\n".join(lines), keyboard, voice=played)


async def flag_view(
    session: AsyncSession, flag: Flag, questionnaires: dict[str, Questionnaire]
) -> OutgoingMessage:
    thread = [m for m in await repo.flag_thread(session, flag.id) if not m.internal]
    return flag_message(flag, questionnaires, thread)
