"""api key rotation grace: the previous secret's digest and when it stops working

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24 00:35:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("previous_key_digest", sa.String(length=64), nullable=True))
        batch_op.add_column(
            sa.Column("previous_key_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch_op.create_index(
            batch_op.f("ix_api_keys_previous_key_digest"), ["previous_key_digest"], unique=False
        )


def downgrade():
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_keys_previous_key_digest"))
        batch_op.drop_column("previous_key_expires_at")
        batch_op.drop_column("previous_key_digest")
