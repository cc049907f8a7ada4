"""Where a database's schema stands against the migrations shipped with this code: for
`check`, for `backup` and `restore`, which must not migrate what they copy, and for `/readyz`."""

from __future__ import annotations

from typing import NamedTuple

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import alembic_config, connected


def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config())


def code_revision() -> str:
    """The newest revision this code's migrations know."""
    head = _scripts().get_current_head()
    assert head is not None  # the migrations are shipped with the code
    return head


def knows_revision(revision: str) -> bool:
    """Whether this code's migrations include `revision` (a newer mentorbot's is unknown)."""
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def database_revision(engine: AsyncEngine) -> str | None:
    """The revision the database's schema is at; None if it has none yet (never migrated).
    Raises `DatabaseUnavailable` if it cannot be reached."""
    async with connected(engine) as connection:
        return await connection.run_sync(_current)


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
    code = frozenset(_scripts().get_heads())
    async with connected(engine) as connection:
        database = await connection.run_sync(_database_heads)
    return SchemaRevisions(database, code)
