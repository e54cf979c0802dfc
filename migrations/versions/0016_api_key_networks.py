"""api key networks: where each API key was used from lately, for new-network alerts

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 23:10:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "api_key_networks",
        sa.Column("key_id", sa.String(length=40), nullable=False),
        sa.Column("network", sa.String(length=80), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["key_id"],
            ["api_keys.id"],
            name=op.f("fk_api_key_networks_key_id_api_keys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key_id", "network", name=op.f("pk_api_key_networks")),
    )


def downgrade():
    op.drop_table("api_key_networks")
