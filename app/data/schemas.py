import marshmallow as ma
from flask import current_app
from webargs.fields import DelimitedList

from app.core.pagination import MAX_LIMIT, CursorPaginationSchema
from app.core.schemas import UTCDateTimeField
from app.data.time_range import DateOrDateTime, time_range

# Canonical unit of each time-series type; values are stored in this unit, never converted.
TIMESERIES_UNITS = {
    "heart_rate": "bpm",
    "resting_heart_rate": "bpm",
    "heart_rate_variability": "ms",
    "steps": "count",
    "active_energy": "kcal",
    "distance": "m",
    "weight": "kg",
    "oxygen_saturation": "%",
}
TIMESERIES_TYPES = ma.validate.OneOf(sorted(TIMESERIES_UNITS))
# Documented as an enum; `canonical_unit` checks that a unit fits its type.
UNIT_DOC = {"type": "string", "enum": sorted(set(TIMESERIES_UNITS.values()))}
TIMESERIES_MAX_LIMIT = 1000
MAX_WORKOUT_SECONDS = 30 * 24 * 3600
MOMENT_DOC = "ISO 8601 date (`2026-03-01`) or date-time with offset (`2026-03-01T00:00:00Z`)."
END_DOC = MOMENT_DOC + " A date includes that whole UTC day; a date-time is inclusive."


class _WindowQuerySchema(ma.Schema):
    """A keyset-paged query over a required time window, loaded into `range`."""

    window_fields: tuple[str, str]

    cursor = ma.fields.String(validate=ma.validate.Length(max=200))

    @ma.post_load
    def to_range(self, data, **kwargs):
        start_name, end_name = self.window_fields
        data["range"] = time_range(
            data.pop(start_name),
            data.pop(end_name),
            current_app.config["DATA_MAX_QUERY_DAYS"],
            start_name,
            end_name,
        )
        return data


class WorkoutQuerySchema(_WindowQuerySchema):
    window_fields = ("start_date", "end_date")

    start_date = DateOrDateTime(required=True, metadata={"description": MOMENT_DOC})
    end_date = DateOrDateTime(required=True, metadata={"description": END_DOC})
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(min=1, max=MAX_LIMIT))


class TimeSeriesQuerySchema(_WindowQuerySchema):
    window_fields = ("start_time", "end_time")

    types = DelimitedList(
        ma.fields.String(validate=TIMESERIES_TYPES),
        validate=ma.validate.Length(min=1),
        load_default=lambda: sorted(TIMESERIES_UNITS),
        metadata={"description": "Comma-separated, e.g. `heart_rate,steps`; default: all."},
    )
    start_time = DateOrDateTime(required=True, metadata={"description": MOMENT_DOC})
    end_time = DateOrDateTime(required=True, metadata={"description": END_DOC})
    limit = ma.fields.Integer(
        load_default=100, validate=ma.validate.Range(min=1, max=TIMESERIES_MAX_LIMIT)
    )


def _batch(item_schema, setting: str, description: str):
    def within_limit(items):
        most = current_app.config[setting]
        if len(items) > most:
            raise ma.ValidationError(f"At most {most} items per request.")

    return ma.fields.List(
        ma.fields.Nested(item_schema),
        required=True,
        validate=[ma.validate.Length(min=1), within_limit],
        metadata={"description": description},
    )


class WorkoutSourceSchema(ma.Schema):
    provider = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=50),
        metadata={"example": "apple_health"},
    )
    device = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(max=100),
        metadata={"example": "Apple Watch Series 9"},
    )


def _bounded(low, high, description) -> dict:
    return {
        "allow_none": True,
        "validate": ma.validate.Range(min=low, max=high),
        "metadata": {"description": description},
    }


class WorkoutWriteSchema(ma.Schema):
    external_id = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Length(min=1, max=255),
        metadata={"description": "Your id for the workout; re-sending it updates the workout."},
    )
    type = ma.fields.String(
        required=True, validate=ma.validate.Length(min=1, max=50), metadata={"example": "running"}
    )
    name = ma.fields.String(allow_none=True, validate=ma.validate.Length(max=200))
    start_time = UTCDateTimeField(required=True)
    end_time = UTCDateTimeField(required=True)
    duration_seconds = ma.fields.Integer(
        strict=True, **_bounded(0, MAX_WORKOUT_SECONDS, "Default: end_time - start_time.")
    )
    calories_kcal = ma.fields.Float(**_bounded(0, 10**5, "Energy burned."))
    distance_meters = ma.fields.Float(**_bounded(0, 10**7, "Distance covered."))
    avg_heart_rate_bpm = ma.fields.Integer(strict=True, **_bounded(1, 300, "Average heart rate."))
    max_heart_rate_bpm = ma.fields.Integer(strict=True, **_bounded(1, 300, "Highest heart rate."))
    source = ma.fields.Nested(WorkoutSourceSchema, allow_none=True)

    @ma.validates_schema
    def consistent(self, data, **kwargs):
        if "start_time" in data and "end_time" in data:
            elapsed = (data["end_time"] - data["start_time"]).total_seconds()
            if elapsed < 0:
                raise ma.ValidationError("end_time must not be before start_time.", "end_time")
            if elapsed > MAX_WORKOUT_SECONDS:
                raise ma.ValidationError("A workout lasts at most 30 days.", "end_time")
        average, highest = data.get("avg_heart_rate_bpm"), data.get("max_heart_rate_bpm")
        if average is not None and highest is not None and average > highest:
            raise ma.ValidationError(
                "avg_heart_rate_bpm must not exceed max_heart_rate_bpm.", "avg_heart_rate_bpm"
            )


class WorkoutBatchSchema(ma.Schema):
    data = _batch(
        WorkoutWriteSchema,
        "MAX_WORKOUTS_PER_REQUEST",
        "Workouts to store; one with a known external_id replaces the stored one.",
    )


class WorkoutSchema(ma.Schema):
    id = ma.fields.UUID(required=True)
    external_id = ma.fields.String(allow_none=True, required=True)
    type = ma.fields.String(required=True)
    name = ma.fields.String(allow_none=True, required=True)
    start_time = UTCDateTimeField(required=True)
    end_time = UTCDateTimeField(required=True)
    duration_seconds = ma.fields.Integer(required=True)
    calories_kcal = ma.fields.Float(allow_none=True, required=True)
    distance_meters = ma.fields.Float(allow_none=True, required=True)
    avg_heart_rate_bpm = ma.fields.Integer(allow_none=True, required=True)
    max_heart_rate_bpm = ma.fields.Integer(allow_none=True, required=True)
    source = ma.fields.Nested(WorkoutSourceSchema, required=True)


class WorkoutPageSchema(ma.Schema):
    data = ma.fields.List(ma.fields.Nested(WorkoutSchema), required=True)
    pagination = ma.fields.Nested(CursorPaginationSchema, required=True)


class WorkoutBatchResultSchema(ma.Schema):
    created = ma.fields.Integer(metadata={"description": "Workouts that were new."}, required=True)
    updated = ma.fields.Integer(
        metadata={"description": "Known external_ids, replaced."}, required=True
    )
    data = ma.fields.List(
        ma.fields.Nested(WorkoutSchema), metadata={"description": "In order."}, required=True
    )


class TimeSeriesPointWriteSchema(ma.Schema):
    type = ma.fields.String(required=True, validate=TIMESERIES_TYPES)
    time = UTCDateTimeField(required=True)
    value = ma.fields.Float(required=True, validate=ma.validate.Range(min=0, max=10**9))
    unit = ma.fields.String(
        metadata={**UNIT_DOC, "description": "Optional; must be the type's unit."}
    )

    @ma.validates_schema
    def canonical_unit(self, data, **kwargs):
        expected = TIMESERIES_UNITS.get(data.get("type"))
        if "unit" in data and expected and data["unit"] != expected:
            raise ma.ValidationError(f"The unit of {data['type']} is {expected}.", "unit")


class TimeSeriesBatchSchema(ma.Schema):
    data = _batch(
        TimeSeriesPointWriteSchema,
        "MAX_TIMESERIES_POINTS_PER_REQUEST",
        "Samples to store; a sample of the same type at the same time replaces the stored one.",
    )


class TimeSeriesPointSchema(ma.Schema):
    type = ma.fields.String(validate=TIMESERIES_TYPES, required=True)
    time = UTCDateTimeField(required=True)
    value = ma.fields.Float(required=True)
    unit = ma.fields.Function(
        lambda point: TIMESERIES_UNITS[point.type], metadata=UNIT_DOC, required=True
    )


class TimeSeriesPageSchema(ma.Schema):
    data = ma.fields.List(ma.fields.Nested(TimeSeriesPointSchema), required=True)
    pagination = ma.fields.Nested(CursorPaginationSchema, required=True)


class TimeSeriesBatchResultSchema(ma.Schema):
    stored = ma.fields.Integer(
        metadata={"description": "Distinct samples written (later duplicates in a request win)."},
        required=True,
    )
