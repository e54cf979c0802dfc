"""What callers send: dates and moments, and new workouts and samples."""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

Moment = date | datetime | str
"""A query bound: a `date` (a whole UTC day: as an end it includes that day), an aware
`datetime`, or an ISO 8601 string the API accepts (`2026-03-01`, `2026-03-01T00:00:00Z`)."""

Instant = datetime | str
"""A point in time: an aware `datetime` or an ISO 8601 string with an offset."""


def format_instant(value: Instant, name: str) -> str:
    if isinstance(value, str):
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(
            f"{name}: a naive datetime is ambiguous; give it a tzinfo (e.g. datetime.UTC)."
        )
    return value.isoformat()


def format_moment(value: Moment, name: str) -> str:
    """`date` as YYYY-MM-DD, aware `datetime` as ISO 8601 with its offset, strings as given."""
    if isinstance(value, datetime | str):
        return format_instant(value, name)
    return value.isoformat()


_OPTIONAL_WORKOUT_FIELDS = (
    "external_id",
    "name",
    "duration_seconds",
    "calories_kcal",
    "distance_meters",
    "avg_heart_rate_bpm",
    "max_heart_rate_bpm",
)


@dataclass(frozen=True, slots=True)
class NewWorkout:
    """A workout to store; re-sending a known `external_id` replaces the stored workout."""

    type: str
    start_time: Instant
    end_time: Instant
    external_id: str | None = None
    name: str | None = None
    duration_seconds: int | None = None
    calories_kcal: float | None = None
    distance_meters: float | None = None
    avg_heart_rate_bpm: int | None = None
    max_heart_rate_bpm: int | None = None
    provider: str | None = None
    device: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "start_time": format_instant(self.start_time, "start_time"),
            "end_time": format_instant(self.end_time, "end_time"),
        }
        for name in _OPTIONAL_WORKOUT_FIELDS:
            if getattr(self, name) is not None:
                body[name] = getattr(self, name)
        if self.provider is not None or self.device is not None:
            body["source"] = {"provider": self.provider, "device": self.device}
        return body


@dataclass(frozen=True, slots=True)
class NewSample:
    """A time-series sample; one of the same type and time replaces the stored one.
    `unit`, when given, must be the type's canonical unit (e.g. `bpm` for `heart_rate`)."""

    type: str
    time: Instant
    value: float
    unit: str | None = None

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "time": format_instant(self.time, "time"),
            "value": self.value,
        }
        if self.unit is not None:
            body["unit"] = self.unit
        return body


def item_json(item: NewWorkout | NewSample | Mapping[str, Any]) -> dict[str, Any]:
    """Dataclasses are converted; mappings are sent as they are (the API's field names)."""
    if isinstance(item, NewWorkout | NewSample):
        return item.to_json()
    return dict(item)
