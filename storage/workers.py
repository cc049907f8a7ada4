"""Several bot processes on one PostgreSQL database: who is alive, who long-polls, and the share
of Telegram's message limit each may use (bot/workers.py decides; here are the statements).

Liveness is a session-level advisory lock, not a time stamp: a process holds the lock named by
its `workers` row for as long as its connection lives, and PostgreSQL releases it the moment
the connection ends, `kill -9` included. So "alive" needs no clock shared between machines.
Long polling is one more such lock, which one process at a time holds.

The functions run on the process's own connection (`bot.workers`), each a short transaction
that is committed at once: the connection sits idle between them, never inside a transaction.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from sqlalchemy import (
    ColumnElement,
    SQLColumnExpression,
    column,
    delete,
    exists,
    func,
    insert,
    literal_column,
    select,
    table,
    update,
)
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage.models import Worker

# Advisory locks are named by two 32-bit numbers. The first says whose they are: these two
# numbers spell "mb" and "mc" and are used by nothing else in the database.
LOCKS = 0x6D62
MEMBERS = 0x6D63  # the second number is the worker's id
POLLING = 1  # held by the process that long-polls
SHARES = 2  # held while a process raises its share, so that two raises never overlap
START = 3  # held while a process migrates the schema and seeds the programmes
ROUND = 4  # held by the dispatcher's round of claims

_LOCKS = table(
    "pg_locks",
    column("locktype"),
    column("granted"),
    column("classid"),
    column("objid"),
    column("objsubid"),
    column("database"),
)
_THIS_DATABASE = (
    select(literal_column("oid"))
    .select_from(table("pg_database"))
    .where(literal_column("datname") == func.current_database())
    .scalar_subquery()
)


def alive(worker_id: SQLColumnExpression[int | None] | int) -> ColumnElement[bool]:
    """Whether the worker with this id holds its lock: its process and connection live."""
    return exists().where(
        _LOCKS.c.locktype == "advisory",
        _LOCKS.c.granted,
        _LOCKS.c.classid == MEMBERS,
        _LOCKS.c.objid == worker_id,
        _LOCKS.c.objsubid == 2,  # the two-number form of the lock's name
        _LOCKS.c.database == _THIS_DATABASE,
    )


def is_postgresql(connection: AsyncConnection | AsyncSession) -> bool:
    bind = connection.get_bind() if isinstance(connection, AsyncSession) else connection
    return bind.dialect.name == "postgresql"


async def join(connection: AsyncConnection, host: str, pid: int) -> int:
    """A row for this process, alive from the start: its lock is taken before the row exists,
    so no other process ever sees the row without it. It reserves nothing yet."""
    sequence = func.pg_get_serial_sequence("workers", "id")
    worker_id = int(await connection.scalar(select(func.nextval(sequence))) or 0)
    await connection.execute(select(func.pg_advisory_lock(MEMBERS, worker_id)))
    await connection.execute(
        insert(Worker).values(id=worker_id, per_second=0, host=host[:255], pid=pid)
    )
    await connection.commit()
    return worker_id


class Member(NamedTuple):
    per_second: int  # messages a second it reserves
    alive: bool  # it holds its lock
    stopped: bool  # it said it stopped sending


async def survey(connection: AsyncConnection) -> dict[int, Member]:
    """Every worker's row, by id."""
    rows = await connection.execute(
        select(Worker.id, Worker.per_second, alive(Worker.id).label("alive"), Worker.stopped)
    )
    found = {row.id: Member(row.per_second, bool(row.alive), row.stopped) for row in rows}
    await connection.commit()
    return found


async def reserve(connection: AsyncConnection, worker_id: int, wanted: int, limit: int) -> int:
    """Raise this worker's reservation towards `wanted` as far as the others' reservations
    leave room under `limit`; the reservation it has now (never lowered here).

    Raises take one lock one after another, so each sees the others' last raise: the sum of
    all reservations stays within `limit`. Lowering needs no lock (`lower`).
    """
    await connection.execute(select(func.pg_advisory_xact_lock(LOCKS, SHARES)))
    others = await connection.scalar(
        select(func.coalesce(func.sum(Worker.per_second), 0)).where(Worker.id != worker_id)
    )
    current = await connection.scalar(select(Worker.per_second).where(Worker.id == worker_id))
    if current is None:
        await connection.commit()
        return 0  # its row was taken for a dead one's: it has nothing to raise
    granted = max(current, min(wanted, limit - int(others or 0)))
    if granted != current:
        await connection.execute(
            update(Worker).where(Worker.id == worker_id).values(per_second=granted)
        )
    await connection.commit()
    return granted


async def lower(connection: AsyncConnection, worker_id: int, per_second: int) -> None:
    """Give back what this worker reserves beyond `per_second`: call it only once its sends
    at the higher rate can no longer count at Telegram."""
    await connection.execute(
        update(Worker)
        .where(Worker.id == worker_id, Worker.per_second > per_second)
        .values(per_second=per_second)
    )
    await connection.commit()


async def forget(connection: AsyncConnection, worker_ids: list[int]) -> int:
    """Delete the rows of these workers that are (still) dead; how many went."""
    if not worker_ids:
        return 0
    result = await connection.execute(
        delete(Worker).where(Worker.id.in_(worker_ids), ~alive(Worker.id))
    )
    await connection.commit()
    return int(getattr(result, "rowcount", 0) or 0)


async def stop(connection: AsyncConnection, worker_id: int) -> None:
    """Say that this worker sends nothing more; its row stays, reserving what it reserved,
    until another frees it (`forget`)."""
    await connection.execute(update(Worker).where(Worker.id == worker_id).values(stopped=True))
    await connection.commit()


async def take_polling(connection: AsyncConnection) -> bool:
    """Take the polling lock if no process holds it; whether it was taken. It stays with this
    process until its connection ends: ask only while not holding it (a second take would
    stack on the first)."""
    taken = await connection.scalar(select(func.pg_try_advisory_lock(LOCKS, POLLING)))
    await connection.commit()
    return bool(taken)


async def listen(connection: AsyncConnection, channel: str, heard: Callable[[], None]) -> None:
    """Call `heard` whenever another process notifies `channel` (PostgreSQL's LISTEN), for as
    long as this connection lives."""
    driver = (await connection.get_raw_connection()).driver_connection
    assert driver is not None  # asyncpg's connection, with its LISTEN
    await driver.add_listener(channel, lambda *_: heard())


async def one_at_a_time(connection: AsyncConnection | AsyncSession, what: int) -> None:
    """Wait until no other process does `what` (`START`), until this transaction ends;
    nothing on SQLite, where a writer has the database to itself anyway."""
    if is_postgresql(connection):
        await connection.execute(select(func.pg_advisory_xact_lock(LOCKS, what)))


async def first_to(session: AsyncSession, what: int) -> bool:
    """Whether no other process does `what` (`ROUND`) now; if so, none will start it until
    this transaction ends. Always True on SQLite."""
    if not is_postgresql(session):
        return True
    return bool(await session.scalar(select(func.pg_try_advisory_xact_lock(LOCKS, what))))
