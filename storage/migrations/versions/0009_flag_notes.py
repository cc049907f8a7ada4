"""flag notes: coordinators' internal notes on a flag

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27 12:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("flag_messages", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("internal", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("flag_messages", schema=None) as batch_op:
        batch_op.drop_column("internal")
