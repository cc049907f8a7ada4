"""Engine, sessions and schema migrations. A session carries the clock it was made with: the
time of everything written through it comes from there, never from the wall clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, inspect
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def create_engine(url: str) -> AsyncEngine:
    engine = create_async_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.close()

    return engine


class ClockedSession(Session):
    """A session whose new rows get their stamped columns (`storage.models.STAMPED`: when
    created, answered, …) from the session's clock when first flushed, unless given a time."""


@event.listens_for(ClockedSession, "before_flush")
def _stamp_new_rows(session: Session, _context: object, _instances: object) -> None:
    for row in session.new:
        mapper = inspect(row).mapper
        for column in mapper.columns:
            if column.info.get("stamped"):
                key = mapper.get_property_by_column(column).key
                if getattr(row, key) is None:
                    setattr(row, key, session.info["clock"]())


def create_session_factory(
    engine: AsyncEngine, clock: Callable[[], datetime], timezone: str = "UTC"
) -> async_sessionmaker[AsyncSession]:
    """Sessions that take the time from `clock` (the core's, `bot.clock`); `timezone` (the
    TIMEZONE setting) is the day of a programme that names no zone (`storage.days`)."""
    return async_sessionmaker(
        engine,
        expire_on_commit=False,
        sync_session_class=ClockedSession,
        info={"clock": clock, "timezone": timezone},
    )


def clock_now(session: AsyncSession) -> datetime:
    """The present moment by the clock the session was made with."""
    now: Callable[[], datetime] = session.info["clock"]
    return now()


def alembic_config(connection: Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def _upgrade(connection: Connection) -> None:
    command.upgrade(alembic_config(connection), "head")


async def upgrade_database(engine: AsyncEngine) -> None:
    """Create or migrate the schema to the newest revision (safe to run on every start)."""
    async with engine.begin() as connection:
        await connection.run_sync(_upgrade)


class SchemaRevisions(NamedTuple):
    """The database's Alembic revision(s) and the ones this code's migrations end in."""

    database: frozenset[str]
    code: frozenset[str]

    @property
    def current(self) -> bool:
        return self.database == self.code


def _database_heads(connection: Connection) -> frozenset[str]:
    return frozenset(MigrationContext.configure(connection).get_current_heads())


async def schema_revisions(engine: AsyncEngine) -> SchemaRevisions:
    """Where the database's schema stands against the migrations shipped with the code
    (another process may have migrated it on, or nobody yet)."""
    code = frozenset(ScriptDirectory.from_config(alembic_config()).get_heads())
    async with engine.connect() as connection:
        database = await connection.run_sync(_database_heads)
    return SchemaRevisions(database, code)
