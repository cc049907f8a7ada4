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
