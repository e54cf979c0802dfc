"""Wearable data: workouts and health time series, each row owned by one end user.

Every read is "one user, a time range, in time order", so each table has an index
that starts with `user_id` and continues with the time column and the row id: a
month of one user's data is one contiguous index range, read in keyset-page order.
"""

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import CreatedAt, UTCDateTime, UUIDPrimaryKey, utcnow
from app.extensions import Model


def _owner() -> Mapped[uuid.UUID]:
    return mapped_column(Uuid, ForeignKey("users.id", ondelete="CASCADE"), nullable=False)


class Workout(UUIDPrimaryKey, CreatedAt, Model):
    __tablename__ = "workouts"

    user_id: Mapped[uuid.UUID] = _owner()
    external_id: Mapped[str | None] = mapped_column(String(255))
    type: Mapped[str] = mapped_column(String(50), nullable=False)
    name: Mapped[str | None] = mapped_column(String(200))
    start_time: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    end_time: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    duration_seconds: Mapped[int] = mapped_column(Integer, nullable=False)
    calories_kcal: Mapped[float | None] = mapped_column(Float)
    distance_meters: Mapped[float | None] = mapped_column(Float)
    avg_heart_rate_bpm: Mapped[int | None] = mapped_column(Integer)
    max_heart_rate_bpm: Mapped[int | None] = mapped_column(Integer)
    source_provider: Mapped[str | None] = mapped_column(String(50))
    source_device: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False
    )

    __table_args__ = (
        # Re-sending a workout with the same external_id updates it instead of duplicating it.
        UniqueConstraint("user_id", "external_id", name="uq_workouts_user_id_external_id"),
        Index("ix_workouts_user_id_start_time_id", "user_id", "start_time", "id"),
    )

    @property
    def source(self) -> dict[str, Any]:
        return {"provider": self.source_provider, "device": self.source_device}


class TimeSeriesPoint(Model):
    __tablename__ = "timeseries_points"

    # Derived from (user_id, type, time) by `point_id`, so the primary key is also the
    # idempotency key: re-uploading a sample replaces it, and no extra unique index is needed.
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    user_id: Mapped[uuid.UUID] = _owner()
    type: Mapped[str] = mapped_column(String(32), nullable=False)
    time: Mapped[datetime] = mapped_column(UTCDateTime, nullable=False)
    value: Mapped[float] = mapped_column(Float, nullable=False)

    __table_args__ = (
        # Reads are per type (charts): equality on user_id and type, a range on time, and
        # (time, id) order come straight from this index without a sort.
        Index("ix_timeseries_points_user_id_type_time_id", "user_id", "type", "time", "id"),
    )


TIMESERIES_ID_NAMESPACE = uuid.UUID("7d0f8a52-3c1e-4b8e-9a61-5f2d0c9e4b17")


def point_id(user_id: uuid.UUID, kind: str, moment: datetime) -> uuid.UUID:
    """The same user, type and instant always give the same id (`moment` is UTC)."""
    return uuid.uuid5(TIMESERIES_ID_NAMESPACE, f"{user_id}/{kind}/{moment.isoformat()}")
