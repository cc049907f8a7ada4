"""Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from storage.database import create_engine, upgrade_database
from storage.models import Base


def _differences(connection: Connection) -> list[object]:
    return list(compare_metadata(MigrationContext.configure(connection), Base.metadata))


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
    from alembic import command
    from sqlalchemy import text

    from storage.database import alembic_config

    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda c: command.upgrade(alembic_config(c), "0011"))
            await connection.execute(
                text(
                    "INSERT INTO processed_updates (channel, update_id, processed_at) "
                    "VALUES ('telegram', 41, '2026-12-01 10:00:00')"
                )
            )
        await upgrade_database(engine)
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT channel, update_id, state, payload, chat FROM inbox")
            )
            stored = [tuple(row) for row in rows]
    finally:
        await engine.dispose()
    assert [row[:3] for row in stored] == [("telegram", 41, "done")]
    assert stored[0][3] in ("{}", {}) and stored[0][4] == ""


async def test_dropping_the_lock_out_columns_keeps_coordinators_roles_and_sessions(
    empty_database_url: str,
) -> None:
    """0014 drops two columns of `coordinators`. On SQLite a batch would copy the table and drop
    the old one, which, with foreign keys on, deletes every role and session in cascade."""
    from alembic import command
    from sqlalchemy import text

    from storage.database import alembic_config

    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda c: command.upgrade(alembic_config(c), "0012"))
            for statement in (
                "INSERT INTO programmes (id, code, name, created_at, updated_at) "
                "VALUES (1, 'bridge', 'Bridge', '2026-12-01 10:00:00', '2026-12-01 10:00:00')",
                "INSERT INTO coordinators (id, name, language, email, password_hash, "
                "failed_logins, locked_until, created_at) VALUES (1, 'Sara', 'en', "
                "'sara@example.org', 'x', 3, '2026-12-01 10:00:00', '2026-12-01 10:00:00')",
                "INSERT INTO coordinator_roles (coordinator_id, programme_id, role) "
                "VALUES (1, 1, 'admin')",
                "INSERT INTO web_sessions (token_hash, coordinator_id, csrf_token, created_at, "
                "expires_at) VALUES ('t', 1, 'c', '2026-12-01 10:00:00', '2026-12-01 10:30:00')",
            ):
                await connection.execute(text(statement))
        await upgrade_database(engine)
        async with engine.connect() as connection:
            kept = [
                await connection.scalar(text(f"SELECT count(*) FROM {table}"))
                for table in ("coordinators", "coordinator_roles", "web_sessions")
            ]
            columns = await connection.run_sync(
                lambda c: {column["name"] for column in inspect(c).get_columns("coordinators")}
            )
    finally:
        await engine.dispose()
    assert kept == [1, 1, 1]
    assert {"email", "password_hash"} <= columns
    assert not {"failed_logins", "locked_until"} & columns


async def test_old_audit_entries_get_the_programme_of_their_flag_or_participant(
    empty_database_url: str,
) -> None:
    """Revision 0013: an old entry's programme is its flag's, or else its participant's; an
    account's own log-in becomes that account's event; an entry with neither (an invitation)
    stays unplaced, for site owners only."""
    from alembic import command
    from sqlalchemy import text

    from storage.database import alembic_config

    at = "'2026-12-01 10:00:00'"
    engine = create_engine(empty_database_url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(lambda c: command.upgrade(alembic_config(c), "0012"))
            for statement in (
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
            ):
                await connection.execute(text(statement))
        await upgrade_database(engine)
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT id, programme_id, account_id FROM audit_log ORDER BY id")
            )
            placed = [tuple(row) for row in rows]
    finally:
        await engine.dispose()
    assert placed == [(1, 1, None), (2, 2, None), (3, None, 5), (4, None, None), (5, None, None)]
