"""The flag queue of a coordinator: flags of their own programmes only, taken, noted and
resolved; urgent pushes and the morning digest claimed once. Every action goes to the audit log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.coordination.audit_trail import audit
from bot.coordination.coordinators import CoordinationError, programme_ids
from bot.coordination.flags import moment_on
from bot.coordination.wording import CANNOT_REPLY, NOT_YOURS
from bot.programmes import Severity
from storage import repositories as repo
from storage.days import day_of
from storage.models import Coordinator, Flag, FlagMessage, FlagStatus

SEVERITY_ORDER = {"urgent": 0, "soon": 1, "info": 2}


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
    info: bool = False  # `info` flags too: they wait for nobody, so they are hidden by default


@dataclass(frozen=True)
class FlagQueue:
    """The open flags shown, and how many there are of each severity (hidden ones too)."""

    flags: list[Flag]
    counts: dict[str, int]


async def flag_queue(
    session: AsyncSession, coordinator: Coordinator, only: FlagFilter = FlagFilter()
) -> FlagQueue:
    """The open flags under the filter, most severe first, then oldest first; `info` flags
    only when asked for, but always counted."""
    found = await open_flags(session, coordinator, only)
    counts = {severity: 0 for severity in SEVERITY_ORDER}
    for flag in found:
        counts[flag.severity] = counts.get(flag.severity, 0) + 1
    shown = [f for f in found if only.info or f.severity != Severity.INFO]
    return FlagQueue(flags=shown, counts=counts)


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
    # Anonymous flags of one day share a time (their day); the number breaks the tie, which
    # tells no more than the number shown with each flag does (docs/PRIVACY.md).
    return sorted(rows, key=lambda f: (SEVERITY_ORDER.get(f.severity, 9), f.created_at, f.id))


async def take_flag(session: AsyncSession, coordinator: Coordinator, flag_id: int) -> Flag:
    flag = await own_flag(session, coordinator, flag_id)
    flag.assigned_to = coordinator.id
    flag.status = FlagStatus.ASSIGNED
    await audit(session, coordinator, "assign", programme_id=flag.programme_id, flag=flag)
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
    written = await moment_on(session, flag)
    note = FlagMessage(
        flag_id=flag.id,
        coordinator_id=coordinator.id,
        internal=True,
        text=words,
        sent_at=written,
        pushed_at=written,
    )
    session.add(note)
    await audit(session, coordinator, "note", programme_id=flag.programme_id, flag=flag)
    return note


async def resolve_flag(
    session: AsyncSession, coordinator: Coordinator, flag: Flag, note: str
) -> None:
    flag.status = FlagStatus.RESOLVED
    flag.resolved_at = await moment_on(session, flag)
    flag.outcome = note.strip()[:1000]
    flag.assigned_to = flag.assigned_to or coordinator.id
    await audit(
        session, coordinator, "resolve", programme_id=flag.programme_id, flag=flag,
        detail=flag.outcome,
    )  # fmt: skip


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
    (`moments`: programme id to that moment, in the programme's zone), claimed so that each
    is sent once. An anonymous flag keeps only its day, so it waits for the first digest after
    that day: sent earlier, it would tell whether it came before or after the digest time."""
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
    due = [flag for flag in rows if _raised_before(flag, moments[flag.programme_id or 0])]
    return [flag for flag in due if await repo.claim_flag_push(session, flag.id)]


def _raised_before(flag: Flag, moment: datetime) -> bool:
    if flag.anonymous:
        return day_of(flag.created_at) < moment.date()
    return flag.created_at <= moment
