from datetime import UTC, datetime, timedelta
from typing import Any

import marshmallow as ma

from app.core.schemas import UTCDateTimeField
from app.usage.minutes import MINUTES_KEPT
from app.usage.services import GRANULARITY_SECONDS, UsageQuery, bucket_start

DEFAULT_SPANS = {
    "minute": timedelta(hours=1),
    "hour": timedelta(hours=24),
    "day": timedelta(days=30),
}
LONGEST_SPANS = {
    "minute": timedelta(minutes=MINUTES_KEPT),
    "hour": timedelta(days=31),
    "day": timedelta(days=366),
}
STATUS_DESCRIPTIONS = {
    "2xx": "Requests answered without an error (1xx, 2xx and 3xx).",
    "4xx": "Requests answered with a 4xx other than 429.",
    "429": "Requests refused by the caller's rate limit.",
    "5xx": "Requests answered with a 5xx.",
}


class UsageQuerySchema(ma.Schema):
    start = UTCDateTimeField(
        metadata={
            "description": "ISO 8601 with offset; rounded down to the granularity. Default: "
            "`end` minus 1 hour (minute), 24 hours (hour) or 30 days (day)."
        }
    )
    end = UTCDateTimeField(
        metadata={"description": "ISO 8601 with offset, exclusive; rounded up. Default: now."}
    )
    granularity = ma.fields.String(
        load_default="hour",
        validate=ma.validate.OneOf(list(GRANULARITY_SECONDS)),
        metadata={
            "description": "`minute` (from the last 2 hours only, at most 2 hours), `hour` "
            "(at most 31 days) or `day` (at most 366 days). Default: `hour`."
        },
    )

    @ma.post_load
    def _to_query(self, fields: dict[str, Any], **kwargs: Any) -> UsageQuery:
        try:
            return self._aligned(fields)
        except (OverflowError, ValueError) as error:
            # A range at the edge of the calendar (year 1, 9999): its buckets cannot be
            # named as datetimes.
            raise ma.ValidationError("Out of the range usage is counted in.", "end") from error

    @staticmethod
    def _aligned(fields: dict[str, Any]) -> UsageQuery:
        granularity = fields["granularity"]
        size = GRANULARITY_SECONDS[granularity]
        end = fields.get("end") or datetime.now(UTC)
        start = fields.get("start") or end - DEFAULT_SPANS[granularity]
        if end <= start:
            raise ma.ValidationError("Must be later than start.", "end")
        if end - start > LONGEST_SPANS[granularity]:
            raise ma.ValidationError(
                f"At most {LONGEST_SPANS[granularity]} of {granularity} buckets.", "end"
            )
        if granularity == "minute" and start < datetime.now(UTC) - LONGEST_SPANS["minute"]:
            raise ma.ValidationError(
                "Minute buckets are kept 2 hours; use hour or day granularity.", "start"
            )
        aligned_end = bucket_start(-(-end.timestamp() // size) * size, granularity)
        return UsageQuery(bucket_start(start.timestamp(), granularity), aligned_end, granularity)


def _status_count(status_class: str) -> ma.fields.Integer:
    return ma.fields.Integer(
        data_key=status_class,
        attribute=status_class,
        required=True,
        metadata={"description": STATUS_DESCRIPTIONS[status_class]},
    )


class StatusCountsSchema(ma.Schema):
    requests_2xx = _status_count("2xx")
    requests_4xx = _status_count("4xx")
    requests_429 = _status_count("429")
    requests_5xx = _status_count("5xx")


class UsagePointSchema(StatusCountsSchema):
    start = UTCDateTimeField(required=True, metadata={"description": "The bucket's start."})


class KeyUsagePointSchema(UsagePointSchema):
    distinct_ips = ma.fields.Integer(
        required=True,
        metadata={"description": "Distinct client IPs the key was used from in the bucket."},
    )


class RouteUsageSchema(StatusCountsSchema):
    route = ma.fields.String(
        required=True,
        metadata={
            "description": "The route template, e.g. `/api/v1/users/<uuid:user_id>`; "
            "`unmatched` for paths no route serves.",
            "example": "/api/v1/users/<uuid:user_id>",
        },
    )


class UsageSeriesSchema(ma.Schema):
    start = UTCDateTimeField(required=True, metadata={"description": "The first bucket's start."})
    end = UTCDateTimeField(required=True, metadata={"description": "The last bucket's end."})
    granularity = ma.fields.String(
        required=True, validate=ma.validate.OneOf(list(GRANULARITY_SECONDS))
    )
    totals = ma.fields.Nested(
        StatusCountsSchema, required=True, metadata={"description": "The whole range."}
    )
    routes = ma.fields.List(
        ma.fields.Nested(RouteUsageSchema),
        required=True,
        metadata={"description": "The range's requests per route template, busiest first."},
    )


class KeyUsageSchema(UsageSeriesSchema):
    id = ma.fields.String(required=True, metadata={"description": "The API key's id."})
    data = ma.fields.List(
        ma.fields.Nested(KeyUsagePointSchema),
        required=True,
        metadata={"description": "Every bucket of the range, oldest first, zeros included."},
    )


class KeyTotalsSchema(StatusCountsSchema):
    id = ma.fields.String(required=True, metadata={"description": "The API key's id."})
    name = ma.fields.String(
        allow_none=True,
        required=True,
        metadata={"description": "The key's name; null once the key is deleted."},
    )


class UserTotalsSchema(StatusCountsSchema):
    user_id = ma.fields.String(
        required=True, metadata={"description": "The end user whose SDK tokens called."}
    )


class UsageSchema(UsageSeriesSchema):
    data = ma.fields.List(
        ma.fields.Nested(UsagePointSchema),
        required=True,
        metadata={"description": "Every bucket of the range, oldest first, zeros included."},
    )
    api_keys = ma.fields.List(
        ma.fields.Nested(KeyTotalsSchema),
        required=True,
        metadata={"description": "Each API key's requests in the range, busiest first."},
    )
    users = ma.fields.List(
        ma.fields.Nested(UserTotalsSchema),
        required=True,
        metadata={"description": "Each end user's SDK-token requests in the range."},
    )
