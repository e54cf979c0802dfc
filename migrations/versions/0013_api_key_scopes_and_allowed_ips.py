"""api key scopes and allowed ips: restricted keys (NULL: full access, anywhere)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-25 00:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scopes", sa.JSON(none_as_null=True), nullable=True))
        batch_op.add_column(sa.Column("allowed_ips", sa.JSON(none_as_null=True), nullable=True))


def downgrade():
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("allowed_ips")
        batch_op.drop_column("scopes")
