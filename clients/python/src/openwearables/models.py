"""What the API returns, as frozen dataclasses with datetimes parsed (always aware, UTC)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Self

Json = Mapping[str, Any]


def parse_datetime(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _optional_datetime(value: str | None) -> datetime | None:
    return None if value is None else parse_datetime(value)


@dataclass(frozen=True, slots=True)
class TokenPair:
    """An access token, its single-use refresh token and the access token's lifetime.
    The tokens are left out of `repr`, so logging a pair does not leak them."""

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int
    token_type: str = "bearer"

    @classmethod
    def from_json(cls, body: Json) -> Self:
        return cls(
            access_token=body["access_token"],
            refresh_token=body["refresh_token"],
            expires_in=int(body["expires_in"]),
            token_type=body.get("token_type", "bearer"),
        )


@dataclass(frozen=True, slots=True)
class User:
    id: str
    email: str | None
    first_name: str | None
    last_name: str | None
    external_user_id: str | None
    created_at: datetime

    @classmethod
    def from_json(cls, body: Json) -> Self:
        return cls(
            id=body["id"],
            email=body.get("email"),
            first_name=body.get("first_name"),
            last_name=body.get("last_name"),
            external_user_id=body.get("external_user_id"),
            created_at=parse_datetime(body["created_at"]),
        )


@dataclass(frozen=True, slots=True)
class WorkoutSource:
    provider: str | None = None
    device: str | None = None

    @classmethod
    def from_json(cls, body: Json | None) -> Self:
        body = body or {}
        return cls(provider=body.get("provider"), device=body.get("device"))


@dataclass(frozen=True, slots=True)
class Workout:
    id: str
    external_id: str | None
    type: str
    name: str | None
    start_time: datetime
    end_time: datetime
    duration_seconds: int
    calories_kcal: float | None
    distance_meters: float | None
    avg_heart_rate_bpm: int | None
    max_heart_rate_bpm: int | None
    source: WorkoutSource

    @classmethod
    def from_json(cls, body: Json) -> Self:
        return cls(
            id=body["id"],
            external_id=body.get("external_id"),
            type=body["type"],
            name=body.get("name"),
            start_time=parse_datetime(body["start_time"]),
            end_time=parse_datetime(body["end_time"]),
            duration_seconds=int(body["duration_seconds"]),
            calories_kcal=body.get("calories_kcal"),
            distance_meters=body.get("distance_meters"),
            avg_heart_rate_bpm=body.get("avg_heart_rate_bpm"),
            max_heart_rate_bpm=body.get("max_heart_rate_bpm"),
            source=WorkoutSource.from_json(body.get("source")),
        )


@dataclass(frozen=True, slots=True)
class WorkoutBatchResult:
    """`created` new workouts, `updated` replaced ones (known `external_id`), `data` in order."""

    created: int
    updated: int
    data: list[Workout]

    @classmethod
    def from_json(cls, body: Json) -> Self:
        return cls(
            created=int(body["created"]),
            updated=int(body["updated"]),
            data=[Workout.from_json(item) for item in body["data"]],
        )


@dataclass(frozen=True, slots=True)
class TimeSeriesPoint:
    type: str
    time: datetime
    value: float
    unit: str

    @classmethod
    def from_json(cls, body: Json) -> Self:
        return cls(
            type=body["type"],
            time=parse_datetime(body["time"]),
            value=float(body["value"]),
            unit=body["unit"],
        )


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    name: str
    prefix: str
    environment: str
    created_at: datetime
    last_used_at: datetime | None
    expires_at: datetime | None
    rotated_at: datetime | None
    created_by: str | None

    @classmethod
    def from_json(cls, body: Json) -> Self:
        return cls(**_api_key_fields(body))


def _api_key_fields(body: Json) -> dict[str, Any]:
    return {
        "id": body["id"],
        "name": body["name"],
        "prefix": body["prefix"],
        "environment": body["environment"],
        "created_at": parse_datetime(body["created_at"]),
        "last_used_at": _optional_datetime(body.get("last_used_at")),
        "expires_at": _optional_datetime(body.get("expires_at")),
        "rotated_at": _optional_datetime(body.get("rotated_at")),
        "created_by": body.get("created_by"),
    }


@dataclass(frozen=True, slots=True)
class NewApiKey(ApiKey):
    """A created or rotated API key; `key` is the secret, shown this once."""

    key: str = field(repr=False)

    @classmethod
    def from_json(cls, body: Json) -> Self:
        return cls(**_api_key_fields(body), key=body["key"])


@dataclass(frozen=True, slots=True)
class Application:
    """`id` addresses the application in the API; `app_id` goes with `app_secret`."""

    id: str
    app_id: str
    name: str
    created_at: datetime

    @classmethod
    def from_json(cls, body: Json) -> Self:
        return cls(**_application_fields(body))


def _application_fields(body: Json) -> dict[str, Any]:
    return {
        "id": body["id"],
        "app_id": body["app_id"],
        "name": body["name"],
        "created_at": parse_datetime(body["created_at"]),
    }


@dataclass(frozen=True, slots=True)
class NewApplication(Application):
    """A created application or a rotated secret; `app_secret` is shown this once."""

    app_secret: str = field(repr=False)

    @classmethod
    def from_json(cls, body: Json) -> Self:
        return cls(**_application_fields(body), app_secret=body["app_secret"])
