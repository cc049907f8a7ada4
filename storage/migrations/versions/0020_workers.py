"""workers: the bot processes on one PostgreSQL database and the share of Telegram's message
limit each reserves; the worker that began an update's latest attempt

Revision ID: 0020
Revises: 0015
Create Date: 2026-12-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("per_second", sa.Integer(), server_default="0", nullable=False),
        sa.Column("stopped", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("host", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workers")),
    )
    # Not in a batch: SQLite (3.35 and later) adds and drops a plain column in place.
    op.add_column("inbox", sa.Column("worker", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("inbox", "worker")
    op.drop_table("workers")
