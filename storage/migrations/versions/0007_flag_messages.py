"""flag messages: a coordinator and a participant writing to each other on a flag

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27 10:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "flag_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("flag_id", sa.Integer(), nullable=False),
        sa.Column("coordinator_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.String(length=4000), nullable=False),
        sa.Column("sent_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("pushed_at", storage.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["coordinator_id"],
            ["coordinators.id"],
            name=op.f("fk_flag_messages_coordinator_id_coordinators"),
        ),
        sa.ForeignKeyConstraint(
            ["flag_id"],
            ["flags.id"],
            name=op.f("fk_flag_messages_flag_id_flags"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_flag_messages")),
    )
    with op.batch_alter_table("flag_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_flag_messages_flag_id"), ["flag_id"], unique=False)

    with op.batch_alter_table("coordinators", schema=None) as batch_op:
        batch_op.alter_column("resolving_flag_id", new_column_name="awaiting_flag_id")
        batch_op.add_column(sa.Column("awaiting", sa.String(length=8), nullable=True))

    # Anyone who was writing an outcome note keeps doing so.
    op.execute("UPDATE coordinators SET awaiting = 'resolve' WHERE awaiting_flag_id IS NOT NULL")

    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answering_flag_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("participants", schema=None) as batch_op:
        batch_op.drop_column("answering_flag_id")

    op.execute("UPDATE coordinators SET awaiting_flag_id = NULL WHERE awaiting = 'reply'")
    with op.batch_alter_table("coordinators", schema=None) as batch_op:
        batch_op.drop_column("awaiting")
        batch_op.alter_column("awaiting_flag_id", new_column_name="resolving_flag_id")

    with op.batch_alter_table("flag_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_flag_messages_flag_id"))

    op.drop_table("flag_messages")
