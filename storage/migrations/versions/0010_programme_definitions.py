"""programme definitions: programmes are kept in the database, seeded from their files

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows get their definition from their file at the next start (bot/core.py).
    with op.batch_alter_table("programmes", schema=None) as batch_op:
        batch_op.add_column(sa.Column("definition", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "updated_at",
                storage.models.UTCDateTime(timezone=True),
                server_default=sa.func.current_timestamp(),
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column("edited_at", storage.models.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("programmes", schema=None) as batch_op:
        batch_op.drop_column("edited_at")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("definition")
