"""api key revocation, and the GitHub secret-scanning reports already processed

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-23 23:20:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.add_column(sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("revoked_reason", sa.String(length=200), nullable=True))
    op.create_table(
        "secret_scanning_reports",
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("token_type", sa.String(length=100), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=True),
        sa.Column("source", sa.String(length=100), nullable=True),
        sa.Column("api_key_id", sa.String(length=40), nullable=True),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_digest", name=op.f("pk_secret_scanning_reports")),
    )


def downgrade():
    op.drop_table("secret_scanning_reports")
    with op.batch_alter_table("api_keys", schema=None) as batch_op:
        batch_op.drop_column("revoked_reason")
        batch_op.drop_column("revoked_at")
