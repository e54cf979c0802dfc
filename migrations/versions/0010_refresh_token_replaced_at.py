"""refresh token replaced_at: a grace retry replaces the unused pair without revoking it

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-23 21:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("replaced_at", sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_column("replaced_at")
