"""Store and query one user's workouts and time series.

Writes are idempotent: a workout is identified by its `external_id` per user, a
time-series sample by (type, time) per user; sending it again replaces it. Reads are
keyset-paged in time order over one index range (see models).
"""

import uuid
from typing import Any

from sqlalchemy import Executable, select
from sqlalchemy.exc import IntegrityError

from app.core.db import insert_on_conflict
from app.core.errors import ApiError
from app.core.pagination import cursor_page
from app.core.transactions import retry_conflicts
from app.data.models import TimeSeriesPoint, Workout, point_id
from app.data.time_range import TimeRange
from app.extensions import db
from app.users import services as users

WORKOUT_COLUMNS = (
    "type",
    "name",
    "start_time",
    "end_time",
    "duration_seconds",
    "calories_kcal",
    "distance_meters",
    "avg_heart_rate_bpm",
    "max_heart_rate_bpm",
)


def _workout_values(fields: dict[str, Any]) -> dict[str, Any]:
    values = {name: fields.get(name) for name in WORKOUT_COLUMNS}
    if values["duration_seconds"] is None:
        values["duration_seconds"] = int(
            (fields["end_time"] - fields["start_time"]).total_seconds()
        )
    source = fields.get("source") or {}
    values["source_provider"] = source.get("provider")
    values["source_device"] = source.get("device")
    return values


def _write_workouts(user_id: uuid.UUID, items: list[dict[str, Any]]) -> tuple[list[Workout], int]:
    """New rows are inserted in `external_id` order, whatever the request's order, so two
    batches sharing external_ids take their locks in the same order instead of each
    waiting for the other (a deadlock). Updates go in primary-key order (SQLAlchemy's)."""
    external_ids = {item["external_id"] for item in items if item.get("external_id")}
    known = {}
    if external_ids:
        known = {
            workout.external_id: workout
            for workout in db.session.scalars(
                select(Workout).where(
                    Workout.user_id == user_id, Workout.external_id.in_(external_ids)
                )
            )
        }
    stored: dict[int, Workout] = {}
    created = 0
    in_lock_order = sorted(enumerate(items), key=lambda pair: pair[1].get("external_id") or "")
    for position, item in in_lock_order:
        values = _workout_values(item)
        workout = known.get(item.get("external_id"))
        if workout is None:
            workout = Workout(
                id=uuid.uuid4(), user_id=user_id, external_id=item.get("external_id"), **values
            )
            db.session.add(workout)
            created += 1
            if workout.external_id:
                known[workout.external_id] = workout
        else:
            for name, value in values.items():
                setattr(workout, name, value)
        stored[position] = workout
    db.session.commit()
    return [stored[position] for position in range(len(items))], created


def store_workouts(user_id: uuid.UUID, items: list[dict[str, Any]]) -> dict[str, Any]:
    """Insert new workouts and replace those whose external_id is already stored.

    A later item with the same external_id in one request wins. When a concurrent
    request inserts the same external_id first, or PostgreSQL aborts the batch in a
    deadlock, the batch is written again (`retry_conflicts`).
    """
    users.get_user(user_id)
    try:
        stored, created = retry_conflicts(
            lambda: _write_workouts(user_id, items), also_retry=(IntegrityError,)
        )
    except IntegrityError as error:
        raise ApiError(409, "Workouts were written concurrently; retry.") from error
    distinct = len({workout.id for workout in stored})
    return {"created": created, "updated": distinct - created, "data": stored}


def list_workouts(
    user_id: uuid.UUID, window: TimeRange, cursor: str | None, limit: int
) -> dict[str, Any]:
    """Workouts starting within the window, oldest first."""
    users.get_user(user_id)
    statement = select(Workout).where(Workout.user_id == user_id, window.where(Workout.start_time))
    return cursor_page(statement, Workout.start_time, Workout.id, cursor, limit, descending=False)


def delete_workout(user_id: uuid.UUID, workout_id: uuid.UUID) -> None:
    workout = db.session.scalar(
        select(Workout).where(Workout.id == workout_id, Workout.user_id == user_id)
    )
    if workout is None:
        raise ApiError(404, "Workout not found.")
    db.session.delete(workout)
    db.session.commit()


def _upsert_statement() -> Executable:
    statement = insert_on_conflict(TimeSeriesPoint, db.session.get_bind().dialect)
    return statement.on_conflict_do_update(
        index_elements=["id"], set_={"value": statement.excluded.value}
    )


def store_timeseries(user_id: uuid.UUID, points: list[dict[str, Any]]) -> dict[str, Any]:
    """Upsert samples; within one request a later sample of the same type and time wins."""
    users.get_user(user_id)
    latest = {(point["type"], point["time"]): point["value"] for point in points}
    rows = [
        {
            "id": point_id(user_id, kind, moment),
            "user_id": user_id,
            "type": kind,
            "time": moment,
            "value": value,
        }
        for (kind, moment), value in latest.items()
    ]
    # Rows in primary-key order: concurrent batches lock shared samples in the same order.
    rows.sort(key=lambda row: row["id"])

    def write() -> None:
        db.session.execute(_upsert_statement(), rows)
        db.session.commit()

    retry_conflicts(write)
    return {"stored": len(rows)}


def list_timeseries(
    user_id: uuid.UUID, types: list[str], window: TimeRange, cursor: str | None, limit: int
) -> dict[str, Any]:
    """Samples of `types` within the window, oldest first.

    One type is one ordered index range; several are one index scan (a descent per
    type) and a sort of the rows in the window."""
    users.get_user(user_id)
    statement = select(TimeSeriesPoint).where(
        TimeSeriesPoint.user_id == user_id,
        TimeSeriesPoint.type.in_(sorted(set(types))),
        window.where(TimeSeriesPoint.time),
    )
    return cursor_page(
        statement, TimeSeriesPoint.time, TimeSeriesPoint.id, cursor, limit, descending=False
    )
