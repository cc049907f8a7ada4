"""A consistent copy of the whole database, and putting one back (`python -m bot backup` and
`restore`; the archive around it is `bot/cli/backup.py`'s).

- **SQLite**: the online backup API of `sqlite3` copies the file page by page under one read
  lock, so the copy is consistent while the bot goes on writing; restoring copies it back the
  same way.
- **PostgreSQL**: `pg_dump` in its custom format (one snapshot, consistent while the bot runs).
  Restoring turns it into SQL with `pg_restore` and runs that with `psql` in one transaction,
  after dropping what the database held: it all goes in, or nothing changes.

The client programs are found on PATH, else in Debian's `/usr/lib/postgresql/*/bin` (the
newest). The password goes to them in the environment (PGPASSWORD), never on a command line,
which other users of the machine can read.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from sqlalchemy import Connection, inspect, make_url, text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.database import connected

POSTGRES_PROGRAMS = "/usr/lib/postgresql/*/bin"
# Rows in these tables do not make a database "not empty": the schema's own revision, and
# the programmes every start seeds from the files (no person can have worked on them without
# leaving rows elsewhere: an account, an audit entry).
SEEDED_TABLES = frozenset({"alembic_version", "programmes"})


class BackupError(Exception):
    """A backup or restore cannot be done; the message is one line that says what to do."""

    transient = False  # like the start-up errors the command line explains (`bot.cli.parser`)


def sqlite_file(url: str) -> Path:
    """The file of an SQLite URL; an in-memory database has none to copy."""
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("DATABASE_URL names an in-memory SQLite database: there is no file")
    return Path(database)


def dump_sqlite(url: str, destination: Path) -> None:
    """The database of `url` copied into the new file `destination`, consistent at one moment."""
    path = sqlite_file(url)
    if not path.is_file():
        raise BackupError(f"there is no SQLite database at {path}: check DATABASE_URL")
    # Read-only: a backup never creates or changes the database it copies.
    try:
        with (
            closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as source,
            closing(sqlite3.connect(destination)) as copy,
        ):
            source.backup(copy)
    except sqlite3.Error as error:
        raise BackupError(f"copying the SQLite database {path} failed: {error}") from None


def restore_sqlite(source: Path, url: str) -> None:
    """Replaces the whole content of the SQLite database of `url` with the copy `source`."""
    path = sqlite_file(url)
    if not path.parent.is_dir():
        raise BackupError(f"the folder {path.parent} of DATABASE_URL's file does not exist")
    try:
        with closing(sqlite3.connect(source)) as copy, closing(sqlite3.connect(path)) as target:
            copy.backup(target)
    except sqlite3.Error as error:
        raise BackupError(f"restoring into {path} failed: {error}") from None


def postgres_program(name: str) -> Path:
    """`pg_dump`, `pg_restore` or `psql`: on PATH, else the newest under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return Path(found)
    installed = sorted(
        glob.glob(f"{POSTGRES_PROGRAMS}/{name}"),
        key=lambda path: [int(part) for part in re.findall(r"\d+", path)],
    )
    if installed:
        return Path(installed[-1])
    raise BackupError(
        f"{name} was not found (on PATH or in {POSTGRES_PROGRAMS}): install PostgreSQL's client "
        "programs, of the server's major version or newer (Debian, Ubuntu: apt install "
        "postgresql-client), or put their folder on PATH"
    )


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL as libpq's programs take it, without its password, and their environment with
    the password (and a connect time-out, so that an unreachable server does not hang)."""
    parsed = make_url(url)
    query = dict(parsed.query)
    if "ssl" in query:  # asyncpg's name of libpq's sslmode
        query["sslmode"] = query.pop("ssl")
    plain = parsed.set(drivername="postgresql", password=None, query=query)
    environment = {**os.environ, "PGCONNECT_TIMEOUT": os.environ.get("PGCONNECT_TIMEOUT", "10")}
    if parsed.password is not None:
        environment["PGPASSWORD"] = str(parsed.password)
    return plain.render_as_string(hide_password=False), environment


def _run(command: list[str], environment: dict[str, str], what: str) -> str:
    """Runs a client program; its first error line, if it fails, in a `BackupError`."""
    result = subprocess.run(command, capture_output=True, text=True, env=environment, check=False)
    if result.returncode != 0:
        lines = [line.strip() for line in result.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if "error" in line.lower() or "fatal" in line.lower()]
        detail = (errors or lines or [f"exit code {result.returncode}"])[0]
        raise BackupError(f"{what} failed: {detail}")
    return result.stdout


def dump_postgres(url: str, destination: Path) -> str:
    """The database of `url` dumped into `destination` (pg_dump's custom format); returns the
    version of pg_dump that made it."""
    pg_dump = postgres_program("pg_dump")
    conninfo, environment = _libpq(url)
    version = _run([str(pg_dump), "--version"], environment, "pg_dump --version").strip()
    _run(
        [
            str(pg_dump),
            "--format=custom",
            "--no-owner",
            "--no-privileges",
            f"--file={destination}",
            f"--dbname={conninfo}",
        ],
        environment,
        f"pg_dump ({version}; it must be of the server's major version or newer)",
    )
    return version


def restore_postgres(source: Path, url: str, drop: list[str], work: Path) -> None:
    """Replaces the content of the PostgreSQL database of `url` with the dump `source`: `drop`
    (what it held) and the dump's SQL in one transaction. `work` is a private folder for the
    SQL (it holds everything the dump does)."""
    conninfo, environment = _libpq(url)
    script = work / "restore.sql"
    _run(
        [
            str(postgres_program("pg_restore")),
            "--no-owner",
            "--no-privileges",
            f"--file={script}",
            str(source),
        ],
        environment,
        "pg_restore (it must be as new as the pg_dump that made the backup)",
    )
    dropping = work / "drop.sql"
    dropping.write_text("".join(f"{statement};\n" for statement in drop), encoding="utf-8")
    _run(
        [
            str(postgres_program("psql")),
            "--no-psqlrc",
            "--quiet",
            "--single-transaction",
            "--set=ON_ERROR_STOP=1",
            f"--dbname={conninfo}",
            f"--file={dropping}",
            f"--file={script}",
        ],
        environment,
        "restoring into the database (nothing was changed)",
    )


def _drop_statements(connection: Connection) -> list[str]:
    found = inspect(connection)
    schema = found.default_schema_name
    prefix = f'"{schema}".' if schema else ""
    statements = [
        f'DROP VIEW IF EXISTS {prefix}"{name}" CASCADE' for name in found.get_view_names()
    ]
    statements += [
        f'DROP TABLE IF EXISTS {prefix}"{name}" CASCADE' for name in found.get_table_names()
    ]
    statements += [
        f'DROP SEQUENCE IF EXISTS {prefix}"{name}" CASCADE' for name in found.get_sequence_names()
    ]
    enums = getattr(found, "get_enums", None)  # PostgreSQL's inspector only
    for enum in enums() if enums is not None else []:
        statements.append(f'DROP TYPE IF EXISTS {prefix}"{enum["name"]}" CASCADE')
    return statements


async def drop_statements(engine: AsyncEngine) -> list[str]:
    """What removes everything the database's schema holds (before a restore replaces it)."""
    async with connected(engine) as connection:
        return await connection.run_sync(_drop_statements)


async def tables_with_rows(engine: AsyncEngine) -> list[str]:
    """The tables that hold rows, but for those a start fills by itself (`SEEDED_TABLES`): a
    database with none of them is empty enough to restore into."""
    async with connected(engine) as connection:
        names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        full = []
        for name in sorted(set(names) - SEEDED_TABLES):
            quoted = connection.dialect.identifier_preparer.quote(name)
            if await connection.scalar(text(f"SELECT 1 FROM {quoted} LIMIT 1")) is not None:
                full.append(name)
        return full
