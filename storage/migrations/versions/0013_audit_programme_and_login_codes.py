"""audit entries say which programme (or which account) they concern; one-time log-in codes
instead of passwords chosen by an admin; site owners

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 21:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.models

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Old entries of these actions were about the acting account itself and named no programme.
ACCOUNT_ACTIONS = (
    "login",
    "login_failed",
    "locked",
    "logout",
    "change_password",
    "link",
    "settings",
)


def upgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("programme_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("account_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_log_programme_id_programmes"),
            "programmes",
            ["programme_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_audit_log_account_id_coordinators"),
            "coordinators",
            ["account_id"],
            ["id"],
        )
        batch_op.create_index(batch_op.f("ix_audit_log_programme_id"), ["programme_id"])
        batch_op.create_index(batch_op.f("ix_audit_log_account_id"), ["account_id"])
    # An old entry's programme is its flag's, or else its participant's. Old entries with
    # neither stay without a programme: an account's own log-ins, locks and password changes
    # become that account's events; the rest (an invitation, a list viewed across several
    # programmes) cannot be placed and are shown to site owners only.
    op.execute(
        "UPDATE audit_log SET programme_id = (SELECT flags.programme_id FROM flags "
        "WHERE flags.id = audit_log.flag_id) WHERE flag_id IS NOT NULL"
    )
    op.execute(
        "UPDATE audit_log SET programme_id = (SELECT participants.programme_id FROM participants "
        "WHERE participants.id = audit_log.participant_id) "
        "WHERE programme_id IS NULL AND participant_id IS NOT NULL"
    )
    actions = ", ".join(f"'{action}'" for action in ACCOUNT_ACTIONS)
    op.execute(
        "UPDATE audit_log SET account_id = coordinator_id "
        f"WHERE programme_id IS NULL AND action IN ({actions})"
    )

    # Columns and a unique index only: on SQLite a unique constraint would mean copying the
    # coordinators table, which the audit log's and the sessions' foreign keys forbid.
    op.add_column("coordinators", sa.Column("login_code_hash", sa.String(length=64)))
    op.add_column(
        "coordinators",
        sa.Column("login_code_expires_at", storage.models.UTCDateTime(timezone=True)),
    )
    op.add_column(
        "coordinators",
        sa.Column("site_owner", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_index(
        op.f("ix_coordinators_login_code_hash"), "coordinators", ["login_code_hash"], unique=True
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_coordinators_login_code_hash"), table_name="coordinators")
    for column in ("site_owner", "login_code_expires_at", "login_code_hash"):
        op.drop_column("coordinators", column)
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_account_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_programme_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_audit_log_account_id_coordinators"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_audit_log_programme_id_programmes"), type_="foreignkey"
        )
        batch_op.drop_column("account_id")
        batch_op.drop_column("programme_id")
