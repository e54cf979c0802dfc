"""durable revocations: logged-out access tokens and revocations Redis may lack

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23 20:50:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "revoked_access_tokens",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("jti", name=op.f("pk_revoked_access_tokens")),
    )
    with op.batch_alter_table("revoked_access_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_revoked_access_tokens_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_revoked_access_tokens_subject"), ["subject"], unique=False
        )
    op.create_table(
        "unpushed_revocations",
        sa.Column("subject", sa.String(length=80), nullable=False),
        sa.Column("field", sa.String(length=80), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unpushed_revocations")),
    )
    with op.batch_alter_table("unpushed_revocations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_unpushed_revocations_expires_at"), ["expires_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("unpushed_revocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_unpushed_revocations_expires_at"))
    op.drop_table("unpushed_revocations")
    with op.batch_alter_table("revoked_access_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_revoked_access_tokens_subject"))
        batch_op.drop_index(batch_op.f("ix_revoked_access_tokens_expires_at"))
    op.drop_table("revoked_access_tokens")
