"""developer password_changed_at: reset requests older than the last change are void

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03 14:20:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("developers", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("password_changed_at", sa.DateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("developers", schema=None) as batch_op:
        batch_op.drop_column("password_changed_at")
