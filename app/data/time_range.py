"""The time window of a data query, from ISO 8601 dates or date-times.

`2026-03-07` as an end means the whole day (up to, not including, 2026-03-08T00:00Z);
a date-time end is inclusive. Dates are UTC days; date-times must carry an offset
(`Z`, `+02:00`), as Swift's `ISO8601DateFormatter` and JavaScript's `toISOString()` send.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import marshmallow as ma
from sqlalchemy import ColumnElement
from sqlalchemy.orm import InstrumentedAttribute

DATE_ONLY = re.compile(r"\d{4}-\d{2}-\d{2}")
# An unencoded `+` in a query string arrives as a space: "…T00:00:00 02:00".
SPACE_FOR_PLUS = re.compile(r"(T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")
FORMAT_HINT = (
    "Use an ISO 8601 date (2026-03-01) or date-time with an offset (2026-03-01T00:00:00Z)."
)


@dataclass(frozen=True)
class Moment:
    at: datetime
    """Aware, UTC."""
    is_date: bool


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime
    end_inclusive: bool

    def where(self, column: InstrumentedAttribute[datetime]) -> ColumnElement[bool]:
        upper = column <= self.end if self.end_inclusive else column < self.end
        return (column >= self.start) & upper


class DateOrDateTime(ma.fields.String):
    """`2026-03-01`, `2026-03-01T00:00:00Z`, `2026-03-01T02:00:00.000+02:00`, …"""

    # Documented as a string in the API schema; loads to a Moment.
    def _deserialize(  # type: ignore[override]
        self, value: Any, attr: str | None, data: Mapping[str, Any] | None, **kwargs: Any
    ) -> Moment:
        value = super()._deserialize(value, attr, data, **kwargs)
        text = SPACE_FOR_PLUS.sub(r"\1+\2", value.strip())
        try:
            if DATE_ONLY.fullmatch(text):
                day = date.fromisoformat(text)
                return Moment(datetime(day.year, day.month, day.day, tzinfo=UTC), is_date=True)
            parsed = datetime.fromisoformat(text)
            if parsed.tzinfo is None:
                raise ma.ValidationError(
                    "Include a UTC offset, e.g. 2026-03-01T00:00:00Z, or send a date."
                )
            return Moment(parsed.astimezone(UTC), is_date=False)
        except (ValueError, OverflowError) as error:
            raise ma.ValidationError(FORMAT_HINT) from error


def time_range(
    start: Moment, end: Moment, max_days: int, start_name: str, end_name: str
) -> TimeRange:
    """The window between two moments; 422 when reversed or longer than `max_days`."""
    if end.is_date:
        try:
            end_at, inclusive = end.at + timedelta(days=1), False
        except OverflowError as error:
            raise ma.ValidationError(FORMAT_HINT, end_name) from error
    else:
        end_at, inclusive = end.at, True
    if end_at < start.at or (not inclusive and end_at == start.at):
        raise ma.ValidationError(f"{end_name} must not be before {start_name}.", end_name)
    if end_at - start.at > timedelta(days=max_days):
        raise ma.ValidationError(
            f"The range from {start_name} to {end_name} must not exceed {max_days} days.", end_name
        )
    return TimeRange(start.at, end_at, inclusive)
