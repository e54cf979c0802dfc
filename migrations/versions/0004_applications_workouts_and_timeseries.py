"""applications, workouts and time series

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 19:16:14.279996

"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "applications",
        sa.Column("app_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("secret_digest", sa.String(length=64), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
        sa.UniqueConstraint("app_id", name=op.f("uq_applications_app_id")),
        sa.UniqueConstraint("secret_digest", name=op.f("uq_applications_secret_digest")),
    )
    op.create_table(
        "timeseries_points",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_timeseries_points_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_timeseries_points")),
    )
    with op.batch_alter_table("timeseries_points", schema=None) as batch_op:
        batch_op.create_index(
            "ix_timeseries_points_user_id_type_time_id",
            ["user_id", "type", "time", "id"],
            unique=False,
        )

    op.create_table(
        "workouts",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("external_id", sa.String(length=255), nullable=True),
        sa.Column("type", sa.String(length=50), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("start_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("end_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duration_seconds", sa.Integer(), nullable=False),
        sa.Column("calories_kcal", sa.Float(), nullable=True),
        sa.Column("distance_meters", sa.Float(), nullable=True),
        sa.Column("avg_heart_rate_bpm", sa.Integer(), nullable=True),
        sa.Column("max_heart_rate_bpm", sa.Integer(), nullable=True),
        sa.Column("source_provider", sa.String(length=50), nullable=True),
        sa.Column("source_device", sa.String(length=100), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_workouts_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_workouts")),
        sa.UniqueConstraint("user_id", "external_id", name="uq_workouts_user_id_external_id"),
    )
    with op.batch_alter_table("workouts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_workouts_user_id_start_time_id", ["user_id", "start_time", "id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("workouts", schema=None) as batch_op:
        batch_op.drop_index("ix_workouts_user_id_start_time_id")

    op.drop_table("workouts")
    with op.batch_alter_table("timeseries_points", schema=None) as batch_op:
        batch_op.drop_index("ix_timeseries_points_user_id_type_time_id")

    op.drop_table("timeseries_points")
    op.drop_table("applications")
