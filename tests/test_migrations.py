"""Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.database import alembic_config, create_engine, upgrade_database
from storage.models import Base


def _differences(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


@asynccontextmanager
async def upgraded_from(
    url: str,
    revision: str,
    statements: Iterable[str],
    values: Mapping[str, object] | None = None,
) -> AsyncIterator[AsyncConnection]:
    """A new database at `revision`, `statements` run there (each with the `values` its
    `:names` ask for), then upgraded as a start does: a connection to read the result."""
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda c: command.upgrade(alembic_config(c), revision))
            for statement in statements:
                names = set(re.findall(r":(\w+)", statement))
                given = {k: v for k, v in (values or {}).items() if k in names}
                await connection.execute(text(statement), given)
        await upgrade_database(engine)
        async with engine.connect() as connection:
            yield connection
    finally:
        await engine.dispose()


async def _rows(connection: AsyncConnection, query: str) -> list[tuple[object, ...]]:
    return [tuple(row) for row in await connection.execute(text(query))]


async def test_upgrade_creates_the_models_schema_and_is_repeatable(
    empty_database_url: str,
) -> None:
    engine = create_engine(empty_database_url)
    try:
        await upgrade_database(engine)
        await upgrade_database(engine)  # every start runs it: a second time changes nothing
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            differences = await connection.run_sync(_differences)
    finally:
        await engine.dispose()
    assert {"participants", "survey_runs", "answers", "inbox"} <= tables
    assert differences == []


async def test_updates_processed_before_the_inbox_stay_recognised(empty_database_url: str) -> None:
    old = [
        "INSERT INTO processed_updates (channel, update_id, processed_at) "
        "VALUES ('telegram', 41, '2026-12-01 10:00:00')"
    ]
    async with upgraded_from(empty_database_url, "0011", old) as connection:
        stored = await _rows(
            connection, "SELECT channel, update_id, state, payload, chat FROM inbox"
        )
    assert [row[:3] for row in stored] == [("telegram", 41, "done")]
    assert stored[0][3] in ("{}", {}) and stored[0][4] == ""


async def test_dropping_the_lock_out_columns_keeps_coordinators_roles_and_sessions(
    empty_database_url: str,
) -> None:
    """0014 drops two columns of `coordinators`. On SQLite a batch would copy the table and drop
    the old one, which, with foreign keys on, deletes every role and session in cascade."""
    old = [
        "INSERT INTO programmes (id, code, name, created_at, updated_at) "
        "VALUES (1, 'bridge', 'Bridge', '2026-12-01 10:00:00', '2026-12-01 10:00:00')",
        "INSERT INTO coordinators (id, name, language, email, password_hash, "
        "failed_logins, locked_until, created_at) VALUES (1, 'Sara', 'en', "
        "'sara@example.org', 'x', 3, '2026-12-01 10:00:00', '2026-12-01 10:00:00')",
        "INSERT INTO coordinator_roles (coordinator_id, programme_id, role) VALUES (1, 1, 'admin')",
        "INSERT INTO web_sessions (token_hash, coordinator_id, csrf_token, created_at, "
        "expires_at) VALUES ('t', 1, 'c', '2026-12-01 10:00:00', '2026-12-01 10:30:00')",
    ]
    async with upgraded_from(empty_database_url, "0012", old) as connection:
        kept = [
            await connection.scalar(text(f"SELECT count(*) FROM {table}"))
            for table in ("coordinators", "coordinator_roles", "web_sessions")
        ]
        columns = await connection.run_sync(
            lambda c: {column["name"] for column in inspect(c).get_columns("coordinators")}
        )
    assert kept == [1, 1, 1]
    assert {"email", "password_hash"} <= columns
    assert not {"failed_logins", "locked_until"} & columns


async def test_old_audit_entries_get_the_programme_of_their_flag_or_participant(
    empty_database_url: str,
) -> None:
    """Revision 0013: an old entry's programme is its flag's, or else its participant's; an
    account's own log-in becomes that account's event; an entry with neither (an invitation)
    stays unplaced, for site owners only."""
    at = "'2026-12-01 10:00:00'"
    old = [
        "INSERT INTO programmes (id, code, name, created_at, updated_at) "
        f"VALUES (1, 'a', 'A', {at}, {at}), (2, 'b', 'B', {at}, {at})",
        "INSERT INTO participants (id, channel, channel_user_id, programme_id, role, "
        f"status, created_at, last_active_at) VALUES (7, 't', '7', 2, 'mentee', 'intake', "
        f"{at}, {at})",
        "INSERT INTO flags (id, programme_id, participant_id, category, severity, "
        f"status, created_at) VALUES (3, 1, NULL, 'x', 'urgent', 'open', {at})",
        "INSERT INTO coordinators (id, name, language, failed_logins, created_at) "
        f"VALUES (5, 'Sam', 'en', 0, {at})",
        "INSERT INTO audit_log (id, coordinator_id, action, flag_id, participant_id, at) "
        f"VALUES (1, 5, 'resolve', 3, NULL, {at}), (2, 5, 'view', NULL, 7, {at}), "
        f"(3, 5, 'login', NULL, NULL, {at}), (4, NULL, 'invite', NULL, NULL, {at}), "
        f"(5, 5, 'view', NULL, NULL, {at})",
    ]
    async with upgraded_from(empty_database_url, "0012", old) as connection:
        placed = await _rows(
            connection, "SELECT id, programme_id, account_id FROM audit_log ORDER BY id"
        )
    assert placed == [(1, 1, None), (2, 2, None), (3, None, 5), (4, None, None), (5, None, None)]


async def test_anonymous_times_are_coarsened_to_the_day_and_handled_payloads_emptied(
    empty_database_url: str,
) -> None:
    """Rows written before revision 0015: the flags, notes and audit entries of anonymous
    answers kept their exact times (the runs and answers their UTC day already), and the inbox
    kept what people sent for a week."""
    exact, named_time, midnight = (
        "2026-12-01 23:30:17",
        "2026-12-01 10:00:05",
        "2026-12-02 00:00:00",
    )
    statements = [
        "INSERT INTO programmes (id, code, name, created_at, updated_at, definition) "
        "VALUES (1, 'p', 'P', :named, :named, :definition)",
        "INSERT INTO participants (id, channel, channel_user_id, programme_id, role, "
        "status, created_at) VALUES (1, 'telegram', '42', 1, 'mentee', 'matched', :named)",
        # An anonymous run written before its times were kept to the day, a named one.
        "INSERT INTO survey_runs (id, participant_id, respondent_key, programme_id, "
        "questionnaire_id, questionnaire_version, occasion, status, draft, started_at, "
        "completed_at) VALUES (1, NULL, 'k', 1, 'end', 1, 'a:1', 'completed', '[]', "
        ":exact, :midnight)",
        "INSERT INTO survey_runs (id, participant_id, programme_id, questionnaire_id, "
        "questionnaire_version, occasion, status, draft, started_at) VALUES (2, 1, 1, "
        "'checkin', 1, 'contact:1', 'in_progress', '[]', :named)",
        "INSERT INTO answers (id, run_id, question_id, value, status, answered_at) "
        "VALUES (1, 1, 'q', '1', 'answered', :exact)",
        "INSERT INTO answers (id, run_id, question_id, value, status, answered_at) "
        "VALUES (2, 2, 'q', '1', 'answered', :named)",
        # Its flag, one a person asked to be contacted about (its run unlinked), a named.
        "INSERT INTO flags (id, programme_id, participant_id, run_id, question_id, "
        "category, severity, status, created_at, pushed_at) VALUES (1, 1, NULL, 1, 'q', "
        "'danger', 'urgent', 'open', :exact, :exact)",
        "INSERT INTO flags (id, programme_id, participant_id, run_id, question_id, "
        "category, severity, status, created_at) VALUES (2, 1, 1, NULL, 'q', "
        "'asks_for_coordinator', 'soon', 'open', :exact)",
        "INSERT INTO flags (id, programme_id, participant_id, run_id, question_id, "
        "category, severity, status, created_at) VALUES (3, 1, 1, 2, 'q', "
        "'not_met', 'soon', 'open', :named)",
        "INSERT INTO audit_log (id, action, flag_id, at) VALUES (1, 'view', 1, :exact)",
        "INSERT INTO audit_log (id, action, flag_id, at) VALUES (2, 'view', 3, :named)",
        "INSERT INTO flag_messages (id, flag_id, internal, text, sent_at, pushed_at) "
        "VALUES (1, 1, :yes, 'noted', :exact, :exact)",
        "INSERT INTO inbox (channel, update_id, chat, payload, received_at, attempts, "
        "state) VALUES ('telegram', 1, '42', :payload, :named, 1, 'done')",
        "INSERT INTO inbox (channel, update_id, chat, payload, received_at, attempts, "
        "state) VALUES ('telegram', 2, '42', :payload, :named, 0, 'pending')",
    ]
    if empty_database_url.startswith("postgresql"):  # it takes times, not their text
        exact, named_time, midnight = (  # type: ignore[assignment]
            datetime.fromisoformat(moment).replace(tzinfo=UTC)
            for moment in (exact, named_time, midnight)
        )
    values = {
        "exact": exact, "named": named_time, "midnight": midnight, "yes": True,
        "definition": '{"timezone": "Europe/Copenhagen"}',
        "payload": '{"update_id": 1, "callback_query": {"data": "s:o:1:0:0"}}',
    }  # fmt: skip
    async with upgraded_from(empty_database_url, "0012", statements, values) as connection:
        runs = await _rows(
            connection, "SELECT id, started_at, completed_at FROM survey_runs ORDER BY id"
        )
        answers = await _rows(connection, "SELECT id, answered_at FROM answers ORDER BY id")
        flags = await _rows(
            connection, "SELECT id, anonymous, created_at, pushed_at FROM flags ORDER BY id"
        )
        audit = await _rows(connection, "SELECT id, at, flag_id FROM audit_log ORDER BY id")
        notes = await _rows(connection, "SELECT sent_at, pushed_at FROM flag_messages")
        inbox = await _rows(connection, "SELECT update_id, payload FROM inbox ORDER BY update_id")
    day, named = "2026-12-02 00:00:00", "2026-12-01 10:00:05"  # 00:30 in Copenhagen: the 2nd
    assert [[_text(v) for v in row[1:]] for row in runs] == [[day, day], [named, None]]
    assert [_text(row[1]) for row in answers] == [day, named]
    assert [(bool(row[1]), _text(row[2]), _text(row[3])) for row in flags] == [
        (True, day, day), (True, day, None), (False, named, None)
    ]  # fmt: skip
    assert [(_text(row[1]), row[2]) for row in audit] == [(day, 1), (named, 3)]  # still theirs
    assert [[_text(v) for v in row] for row in notes] == [[day, day]]
    assert [row[1] in ("{}", {}) for row in inbox] == [True, False]  # the pending one waits


def _text(value: object) -> str | None:
    """A time read back as text, "YYYY-MM-DD HH:MM:SS" in UTC, from SQLite or PostgreSQL."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    return str(value)[:19]
