"""inbox: every incoming update stored before it is confirmed, done once (replaces
processed_updates)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 17:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "inbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.Column("chat", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("received_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("state", sa.String(length=8), server_default="pending", nullable=False),
        sa.Column("error", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_inbox")),
        sa.UniqueConstraint("channel", "update_id", name=op.f("uq_inbox_channel")),
    )
    op.create_index("ix_inbox_channel_state_chat", "inbox", ["channel", "state", "chat"])
    # The updates processed so far stay recognised as done, with no payload: one that Telegram
    # redelivers after the upgrade changes nothing. They are pruned with the other done ones.
    # PostgreSQL reads an untyped '{}' in a SELECT as text, which a json column refuses.
    empty = "CAST('{}' AS JSON)" if op.get_bind().dialect.name == "postgresql" else "'{}'"
    op.execute(
        "INSERT INTO inbox (channel, update_id, chat, payload, received_at, attempts, state) "
        f"SELECT channel, update_id, '', {empty}, processed_at, 1, 'done' "
        "FROM processed_updates ORDER BY processed_at"
    )
    op.drop_table("processed_updates")


def downgrade() -> None:
    op.create_table(
        "processed_updates",
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("update_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("processed_at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", "update_id", name=op.f("pk_processed_updates")),
    )
    op.execute(
        "INSERT INTO processed_updates (channel, update_id, processed_at) "
        "SELECT channel, update_id, received_at FROM inbox WHERE state = 'done'"
    )
    op.drop_index("ix_inbox_channel_state_chat", table_name="inbox")
    op.drop_table("inbox")
