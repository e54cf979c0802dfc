"""keep pushed revocations: a Redis restored from an older snapshot gets them again

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03 13:40:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("unpushed_revocations", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pushed", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("unpushed_revocations", schema=None) as batch_op:
        batch_op.drop_column("pushed")
