"""refresh token reuse grace: parent, access token id, reissue time

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 20:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_id", sa.Uuid(), nullable=True))
        batch_op.add_column(sa.Column("access_token_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("reissued_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f("ix_refresh_tokens_parent_id"), ["parent_id"])


def downgrade():
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_tokens_parent_id"))
        batch_op.drop_column("reissued_at")
        batch_op.drop_column("access_token_id")
        batch_op.drop_column("parent_id")
