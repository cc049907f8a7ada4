"""login throttling: failed log-ins per client address and e-mail (keyed hashes) replace the
lock-out of the account

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-09 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("address_key", sa.String(length=64), nullable=False),
        sa.Column("account_key", sa.String(length=64), nullable=False),
        sa.Column("at", storage.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index("ix_login_attempts_address_key_at", "login_attempts", ["address_key", "at"])
    op.create_index("ix_login_attempts_at", "login_attempts", ["at"])
    # Not in a batch: on SQLite a batch copies the table and drops the old one, and with
    # foreign keys on, dropping `coordinators` would delete their roles and sessions in cascade.
    # SQLite (3.35 and later) drops a plain column in place, as PostgreSQL does.
    op.drop_column("coordinators", "locked_until")
    op.drop_column("coordinators", "failed_logins")


def downgrade() -> None:
    op.add_column(
        "coordinators",
        sa.Column("failed_logins", sa.Integer(), server_default="0", nullable=False),
    )
    op.add_column(
        "coordinators",
        sa.Column("locked_until", storage.models.UTCDateTime(timezone=True), nullable=True),
    )
    op.drop_index("ix_login_attempts_at", table_name="login_attempts")
    op.drop_index("ix_login_attempts_address_key_at", table_name="login_attempts")
    op.drop_table("login_attempts")
