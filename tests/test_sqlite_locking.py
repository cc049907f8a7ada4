"""SQLite under a crowd (the information meeting, issue 12): with the default rollback journal
a transaction that had read held off every writer's commit, and a writer that waited longer
than five seconds for another failed with "database is locked", so at 100 people answering at
once a few updates were parked and their people told "something went wrong". The database now
runs in write-ahead-log mode (readers and the writer do not block each other) and a writer
waits up to a minute for the one before it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import text

from storage.database import create_engine


async def test_a_reading_transaction_does_not_hold_off_a_writer(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'crowd.db'}")
    try:
        async with engine.begin() as setup:
            await setup.execute(text("CREATE TABLE answers (value TEXT)"))
        async with engine.connect() as reader:
            await reader.exec_driver_sql("BEGIN")
            await reader.execute(text("SELECT count(*) FROM answers"))  # a read lock held

            async def write() -> None:
                async with engine.begin() as writer:
                    await writer.execute(text("INSERT INTO answers VALUES ('tea')"))

            # Generous: it takes milliseconds; before, it waited for the reader to finish.
            await asyncio.wait_for(write(), timeout=20)
            await reader.rollback()
    finally:
        await engine.dispose()


async def test_a_writer_waits_a_minute_and_erased_data_is_overwritten(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'crowd.db'}")
    try:
        async with engine.connect() as connection:
            mode = await connection.scalar(text("PRAGMA journal_mode"))
            timeout = await connection.scalar(text("PRAGMA busy_timeout"))
            overwritten = await connection.scalar(text("PRAGMA secure_delete"))
        assert (mode, timeout, overwritten) == ("wal", 60_000, 1)
    finally:
        await engine.dispose()
