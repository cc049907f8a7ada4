"""Engine, sessions and schema migrations. A session carries the clock it was made with: the
time of everything written through it comes from there, never from the wall clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, inspect, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from storage.workers import START, one_at_a_time

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def create_engine(url: str) -> AsyncEngine:
    # An error's text never quotes the statement's parameters (answers, names): errors are
    # logged, and logs must hold no personal data (docs/PRIVACY.md).
    engine = create_async_engine(
        url, pool_pre_ping=not url.startswith("sqlite"), hide_parameters=True
    )
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            # A crowd answering at once: readers and the one writer do not block each other,
            # and a writer waits for the one before it rather than fail (docs/ARCHITECTURE.md).
            cursor.execute("PRAGMA busy_timeout=60000")
            cursor.execute("PRAGMA journal_mode=WAL")
            # What /delete and retention erase is overwritten in the file, not only unlinked.
            cursor.execute("PRAGMA secure_delete=ON")
            cursor.close()

    return engine


class DatabaseUnavailable(Exception):
    """The database cannot be reached or refuses the connection; the message is one line that
    names it (without its password) and says what to do. `transient`: starting again later may
    work by itself (the server was away), rather than only after DATABASE_URL is corrected."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


def shown_url(url: str) -> str:
    """The database URL as it may be printed: its password hidden."""
    return make_url(url).render_as_string(hide_password=True)


@asynccontextmanager
async def connected(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection, or `DatabaseUnavailable` saying why there is none. Only the connecting is
    explained: an error of a statement run on it is the statement's own."""
    where = engine.url.render_as_string(hide_password=True)
    file = engine.url.database if engine.dialect.name == "sqlite" else None
    # Told before connecting: aiosqlite's thread, failing to open the file, could answer after
    # the event loop closed and print a traceback beside the one line.
    if file not in {None, "", ":memory:"} and not Path(str(file)).parent.is_dir():
        raise DatabaseUnavailable(
            f"cannot open the database at {where} (its folder does not exist): check "
            "DATABASE_URL, its folder must exist and be writable",
            transient=False,
        )
    connection = engine.connect()
    try:
        await connection.start()
    except (OSError, TimeoutError) as error:
        raise DatabaseUnavailable(
            f"cannot reach the database at {where} ({_network_reason(error)}): check that "
            "its server is running and that DATABASE_URL names it; then start again",
            transient=True,
        ) from None
    except DBAPIError as error:
        hint = (
            "its folder must exist and be writable"
            if engine.dialect.name == "sqlite"
            else "the user, password and database name"
        )
        reason = _one_line(error.orig or error)
        raise DatabaseUnavailable(
            f"cannot open the database at {where} ({reason}): check DATABASE_URL, {hint}",
            transient=False,
        ) from None
    try:
        yield connection
    finally:
        await connection.close()


def _network_reason(error: OSError | TimeoutError) -> str:
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"  # asyncio words it "Connect call failed"
    if isinstance(error, TimeoutError):
        return "no answer in time"
    return error.strerror or _one_line(error)


def _one_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


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
    async with connected(engine) as connection, connection.begin():
        # Several processes starting at once on PostgreSQL migrate one after another: the
        # others then find the schema up to date.
        await one_at_a_time(connection, START)
        await connection.run_sync(_upgrade)
