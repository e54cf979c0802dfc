"""developer accounts: last login, removal, and each session's client and start

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 20:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("developers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("removed_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("removed_by_id", sa.Uuid(), nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_developers_removed_by_id_developers"),
            "developers",
            ["removed_by_id"],
            ["id"],
            ondelete="SET NULL",
        )
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ip", sa.String(length=45), nullable=True))
        batch_op.add_column(sa.Column("user_agent", sa.String(length=255), nullable=True))
        batch_op.add_column(
            sa.Column("session_started_at", sa.DateTime(timezone=True), nullable=True)
        )
    # Existing families: the earliest token of each is when its session began.
    op.execute(
        "UPDATE refresh_tokens SET session_started_at = (SELECT MIN(first.created_at) "
        "FROM refresh_tokens AS first WHERE first.family_id = refresh_tokens.family_id)"
    )


def downgrade():
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_column("session_started_at")
        batch_op.drop_column("user_agent")
        batch_op.drop_column("ip")
    with op.batch_alter_table("developers", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("fk_developers_removed_by_id_developers"), type_="foreignkey")
        batch_op.drop_column("removed_by_id")
        batch_op.drop_column("removed_at")
        batch_op.drop_column("last_login_at")
