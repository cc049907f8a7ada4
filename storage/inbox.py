"""The inbox: every incoming update stored before the channel is told it arrived, then taken
out chat by chat (bot/inbox.py). Functions add and flush; the caller commits.

An attempt at an update is two transactions. `begin_attempt` counts it and commits on its
own, so that a crash in the middle still counts (an update that kills the process is parked
after `max_attempts`, not tried for ever). `take` then marks the update done in the
transaction that carries its effects: the effects and "done" commit together or not at all.
Both are conditional updates: of several processes only the one whose attempt number is on
the row goes on, and on PostgreSQL a row being worked on is skipped (`SKIP LOCKED`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage import workers
from storage.models import InboxState, InboxUpdate

# The error of an update that was in hand when the process died: there was no exception.
INTERRUPTED = "Interrupted"
# The chat of an erased person's finished updates.
ERASED = "erased"
# The payload of a finished update: what the person sent is not kept once it is handled.
EMPTY: dict[str, Any] = {}


async def store(
    session: AsyncSession,
    channel: str,
    update_id: int,
    chat: str,
    payload: dict[str, Any],
    now: datetime,
) -> bool:
    """Add an update; False if this channel's update id is there already (a repeat changes
    nothing, whatever state the first one is in)."""
    values = {
        "channel": channel,
        "update_id": update_id,
        "chat": chat,
        "payload": payload,
        "received_at": now,
        "attempts": 0,
        "state": InboxState.PENDING,
    }
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(InboxUpdate).values(**values).on_conflict_do_nothing().returning(InboxUpdate.id)
    )
    return (await session.scalar(statement)) is not None


NEW_UPDATES = "mentorbot_inbox"
"""What other processes on PostgreSQL hear (LISTEN) when updates were stored: they look at once
instead of at their next rescan (storage/workers.py listens)."""


async def announce(session: AsyncSession) -> None:
    """Tell other processes that new updates are stored, once this transaction commits
    (PostgreSQL's NOTIFY; nothing on SQLite, where only one process runs the bot)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(select(func.pg_notify(NEW_UPDATES, "")))


async def chats_with_work(session: AsyncSession, channel: str) -> list[str]:
    """Chats with updates not yet done, the chat waiting longest first."""
    rows = await session.execute(
        select(InboxUpdate.chat)
        .where(InboxUpdate.channel == channel, InboxUpdate.state == InboxState.PENDING)
        .group_by(InboxUpdate.chat)
        .order_by(func.min(InboxUpdate.id))
    )
    return [chat for (chat,) in rows]


async def next_of_chat(session: AsyncSession, channel: str, chat: str) -> InboxUpdate | None:
    """The chat's oldest update not yet done: its updates are taken in the order they came."""
    return await session.scalar(
        select(InboxUpdate)
        .where(
            InboxUpdate.channel == channel,
            InboxUpdate.chat == chat,
            InboxUpdate.state == InboxState.PENDING,
        )
        .order_by(InboxUpdate.id)
        .limit(1)
    )


class Attempt(NamedTuple):
    update: InboxUpdate
    number: int  # 1 for the first attempt
    parked: bool  # no attempt left (the earlier ones crashed): parked now, not to be tried


async def begin_attempt(
    session: AsyncSession, row_id: int, max_attempts: int, worker: int | None = None
) -> Attempt | None:
    """Count an attempt at an update, or park it if none is left; None if it is done, parked,
    or being worked on by another process. Commit before working on it.

    One statement that writes, so that SQLite takes its write lock at once (a read that later
    wants to write can be refused without waiting) and PostgreSQL skips a locked row. A
    `worker` (one of several processes on PostgreSQL) begins no attempt at an update whose
    latest attempt another live worker began: without that, two processes could each begin
    one in turn, each costing an attempt, until an update nobody failed was parked.
    """
    free = []
    if worker is not None:
        free.append(
            or_(
                InboxUpdate.worker.is_(None),
                InboxUpdate.worker == worker,
                ~workers.alive(InboxUpdate.worker),
            )
        )
    pending = (
        select(InboxUpdate.id)
        .where(InboxUpdate.id == row_id, InboxUpdate.state == InboxState.PENDING, *free)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    spent = InboxUpdate.attempts >= max_attempts
    row = await session.scalar(
        update(InboxUpdate)
        .where(InboxUpdate.id == pending)
        .values(
            attempts=case((spent, InboxUpdate.attempts), else_=InboxUpdate.attempts + 1),
            state=case((spent, InboxState.PARKED.value), else_=InboxUpdate.state),
            error=case(
                (spent, func.coalesce(InboxUpdate.error, INTERRUPTED)), else_=InboxUpdate.error
            ),
            worker=worker,
        )
        .returning(InboxUpdate)
        .execution_options(synchronize_session=False)
    )
    if row is None:
        return None
    return Attempt(row, row.attempts, parked=row.state == InboxState.PARKED)


async def take(session: AsyncSession, row_id: int, attempt: int) -> bool:
    """Mark the update done in the transaction of its effects; False if this attempt is no
    longer the update's (another process began a later one, or it is finished). Its payload
    goes at once: what the person wrote or tapped (a button of an anonymous survey names the
    run) is kept only until it is handled; the row stays, so that a repeat is recognised."""
    result = await session.execute(
        update(InboxUpdate)
        .where(
            InboxUpdate.id == row_id,
            InboxUpdate.state == InboxState.PENDING,
            InboxUpdate.attempts == attempt,
        )
        .values(state=InboxState.DONE, payload=EMPTY)
        .execution_options(synchronize_session=False)
    )
    return bool(getattr(result, "rowcount", 0) == 1)


async def record_failure(
    session: AsyncSession, row_id: int, attempt: int, error: str, max_attempts: int
) -> str | None:
    """Note the error of a failed attempt whose effects were rolled back: the update's new
    state (parked after the last attempt, its payload gone, else pending), or None if the
    attempt is no longer the update's (it is done: the effects were committed before the
    failure)."""
    parked = attempt >= max_attempts
    state = InboxState.PARKED if parked else InboxState.PENDING
    values: dict[str, Any] = {"error": error[:100], "state": state}
    if parked:
        values["payload"] = EMPTY
    result = await session.execute(
        update(InboxUpdate)
        .where(
            InboxUpdate.id == row_id,
            InboxUpdate.state == InboxState.PENDING,
            InboxUpdate.attempts == attempt,
        )
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return state if getattr(result, "rowcount", 0) == 1 else None


async def forget_payload(session: AsyncSession, row_id: int) -> None:
    """Empty the payload of a finished update (parked when its attempts ran out)."""
    await session.execute(
        update(InboxUpdate)
        .where(InboxUpdate.id == row_id, InboxUpdate.state != InboxState.PENDING)
        .values(payload=EMPTY)
        .execution_options(synchronize_session=False)
    )


async def state_of(session: AsyncSession, row_id: int) -> str | None:
    return await session.scalar(select(InboxUpdate.state).where(InboxUpdate.id == row_id))


async def prune(session: AsyncSession, received_before: datetime) -> int:
    """Delete finished updates (done or parked) received before then; how many went.
    Updates not yet done stay whatever their age."""
    result = await session.execute(
        delete(InboxUpdate).where(
            InboxUpdate.state.in_([InboxState.DONE, InboxState.PARKED]),
            InboxUpdate.received_at < received_before,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def forget_chat(session: AsyncSession, channel: str, chat: str) -> None:
    """Empty the stored payloads of a chat's finished updates and unlink them from the chat (a
    person asked to be erased); their ids stay, so that a repeat is still recognised."""
    await session.execute(
        update(InboxUpdate)
        .where(
            InboxUpdate.channel == channel,
            InboxUpdate.chat == chat,
            InboxUpdate.state != InboxState.PENDING,
        )
        .values(payload=EMPTY, chat=ERASED)
        .execution_options(synchronize_session=False)
    )


class Waiting(NamedTuple):
    """A channel's updates not yet done: how many, and when the oldest came (None: none)."""

    pending: int
    oldest: datetime | None


async def waiting(session: AsyncSession) -> dict[str, Waiting]:
    """Per channel with any update in the inbox (they stay a week): its updates not yet done."""
    pending = InboxUpdate.state == InboxState.PENDING
    rows = await session.execute(
        select(
            InboxUpdate.channel,
            func.count(case((pending, 1))),
            func.min(case((pending, InboxUpdate.received_at))),
        ).group_by(InboxUpdate.channel)
    )
    return {channel: Waiting(pending, oldest) for channel, pending, oldest in rows}
