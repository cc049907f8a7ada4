"""anonymous days: flags know they came from an anonymous answer; the times of anonymous runs,
answers, flags, their notes and audit entries are coarsened to the day; finished inbox updates
lose their payload

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 10:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime, time
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.days import day_only, zone_of_definition
from storage.models import UTCDateTime

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Rows as the data needs them (the models may change later; these columns will not).
programmes = sa.table("programmes", sa.column("id"), sa.column("definition", sa.JSON()))
runs = sa.table(
    "survey_runs",
    sa.column("id"),
    sa.column("participant_id"),
    sa.column("programme_id"),
    sa.column("started_at", UTCDateTime()),
    sa.column("completed_at", UTCDateTime()),
)
answers = sa.table(
    "answers", sa.column("id"), sa.column("run_id"), sa.column("answered_at", UTCDateTime())
)
flags = sa.table(
    "flags",
    sa.column("id"),
    sa.column("programme_id"),
    sa.column("run_id"),
    sa.column("question_id"),
    sa.column("anonymous", sa.Boolean()),
    sa.column("created_at", UTCDateTime()),
    sa.column("pushed_at", UTCDateTime()),
    sa.column("resolved_at", UTCDateTime()),
)
notes = sa.table(
    "flag_messages",
    sa.column("id"),
    sa.column("flag_id"),
    sa.column("internal", sa.Boolean()),
    sa.column("sent_at", UTCDateTime()),
    sa.column("pushed_at", UTCDateTime()),
)
audit_log = sa.table(
    "audit_log", sa.column("id"), sa.column("flag_id"), sa.column("at", UTCDateTime())
)
inbox = sa.table("inbox", sa.column("state"), sa.column("payload", sa.JSON()))


def upgrade() -> None:
    # Not in a batch: on SQLite a batch copies the table and drops the old one, and with
    # foreign keys on, dropping `flags` would empty the audit entries' flag ids (SET NULL) and
    # delete the flags' messages (CASCADE). SQLite adds a column with a constant default as is.
    op.add_column(
        "flags", sa.Column("anonymous", sa.Boolean(), server_default=sa.false(), nullable=False)
    )
    connection = op.get_bind()
    # A programme that names no zone: UTC (the TIMEZONE setting is not known here). Either way
    # the new value is a function of the old day, never finer.
    zones = {
        row.id: zone_of_definition(row.definition, "UTC")
        for row in connection.execute(sa.select(programmes.c.id, programmes.c.definition))
    }
    anonymous_runs = {
        row.id: row.programme_id
        for row in connection.execute(
            sa.select(runs.c.id, runs.c.programme_id).where(runs.c.participant_id.is_(None))
        )
    }
    # Flags of anonymous runs, and those linked to a person who asked to be contacted (their
    # run was unlinked then; a named answer's flag always keeps its run).
    connection.execute(
        flags.update()
        .where(
            sa.or_(
                flags.c.run_id.in_(sa.select(runs.c.id).where(runs.c.participant_id.is_(None))),
                sa.and_(flags.c.run_id.is_(None), flags.c.question_id.is_not(None)),
            )
        )
        .values(anonymous=True)
    )
    flag_zones = {
        row.id: row.programme_id
        for row in connection.execute(
            sa.select(flags.c.id, flags.c.programme_id).where(flags.c.anonymous.is_(True))
        )
    }

    def zone_of(programme_id: Any) -> Any:
        return zones.get(programme_id) or zone_of_definition(None, "UTC")

    _coarsen(connection, runs, ("started_at", "completed_at"), {
        run_id: zone_of(programme_id) for run_id, programme_id in anonymous_runs.items()
    }, runs.c.id)  # fmt: skip
    _coarsen(connection, answers, ("answered_at",), {
        run_id: zone_of(programme_id) for run_id, programme_id in anonymous_runs.items()
    }, answers.c.run_id)  # fmt: skip
    by_flag = {flag_id: zone_of(programme_id) for flag_id, programme_id in flag_zones.items()}
    _coarsen(connection, flags, ("created_at", "pushed_at", "resolved_at"), by_flag, flags.c.id)
    _coarsen(connection, audit_log, ("at",), by_flag, audit_log.c.flag_id)
    _coarsen(
        connection, notes, ("sent_at", "pushed_at"), by_flag, notes.c.flag_id, notes.c.internal
    )
    # What people sent is kept only until it is handled (storage/inbox.py).
    connection.execute(inbox.update().where(inbox.c.state != "pending").values(payload={}))


def _coarsen(
    connection: sa.Connection,
    table: sa.TableClause,
    columns: tuple[str, ...],
    zones: dict[Any, Any],
    owner: sa.ColumnClause[Any],
    only: sa.ColumnClause[Any] | None = None,
) -> None:
    """Each time of the rows whose `owner` is in `zones`, kept to its day in that zone; a time
    already at midnight UTC (an anonymous run's since it was written so) stays as it is."""
    if not zones:
        return
    query = sa.select(table.c.id, owner, *(table.c[name] for name in columns)).where(
        owner.in_(list(zones))
    )
    if only is not None:
        query = query.where(only.is_(True))
    for row in connection.execute(query).all():
        zone = zones[row[1]]
        changed = {
            name: day_only(value, zone)
            for name, value in zip(columns, row[2:], strict=True)
            if value is not None and _finer_than_a_day(value)
        }
        if changed:
            connection.execute(table.update().where(table.c.id == row[0]).values(**changed))


def _finer_than_a_day(value: datetime) -> bool:
    return value.astimezone(UTC).time() != time(0)


def downgrade() -> None:
    # The times coarsened stay coarse, and the payloads emptied stay empty: they are gone.
    # (No batch, as above: SQLite 3.35 and later drop a column in place.)
    op.drop_column("flags", "anonymous")
