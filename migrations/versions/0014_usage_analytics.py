"""usage analytics: hourly and daily buckets, distinct IPs, rolled-up minutes

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-25 00:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "usage_buckets",
        sa.Column("granularity", sa.String(length=4), nullable=False),
        sa.Column("subject_kind", sa.String(length=8), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("route", sa.String(length=200), nullable=False),
        sa.Column("requests_2xx", sa.Integer(), nullable=False),
        sa.Column("requests_4xx", sa.Integer(), nullable=False),
        sa.Column("requests_429", sa.Integer(), nullable=False),
        sa.Column("requests_5xx", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "granularity",
            "subject_kind",
            "subject_id",
            "bucket_start",
            "route",
            name=op.f("pk_usage_buckets"),
        ),
    )
    op.create_index(
        "ix_usage_buckets_granularity_start", "usage_buckets", ["granularity", "bucket_start"]
    )
    op.create_table(
        "usage_distinct_ips",
        sa.Column("granularity", sa.String(length=4), nullable=False),
        sa.Column("key_id", sa.String(length=40), nullable=False),
        sa.Column("bucket_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("distinct_ips", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "granularity", "key_id", "bucket_start", name=op.f("pk_usage_distinct_ips")
        ),
    )
    op.create_table(
        "usage_rolled_minutes",
        sa.Column("minute", sa.Integer(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("minute", name=op.f("pk_usage_rolled_minutes")),
    )


def downgrade():
    op.drop_table("usage_rolled_minutes")
    op.drop_table("usage_distinct_ips")
    op.drop_index("ix_usage_buckets_granularity_start", table_name="usage_buckets")
    op.drop_table("usage_buckets")
