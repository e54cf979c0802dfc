"""What the API returns, as frozen dataclasses with datetimes parsed (always aware, UTC)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
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


def _optional_epoch(value: int | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(value, UTC)


@dataclass(frozen=True, slots=True)
class Introspection:
    """What `POST /api/v1/auth/introspect` (RFC 7662) says about a token. An inactive
    token (expired, revoked, malformed, unknown) has `active=False` and nothing else."""

    active: bool
    token_type: str | None = None
    """`access_token` or `refresh_token`."""
    kind: str | None = None
    """The token's `type`: `developer` or `sdk`."""
    subject: str | None = None
    """`sub`: the developer id or the end user's id."""
    app_id: str | None = None
    issued_at: datetime | None = None
    expires_at: datetime | None = None
    token_id: str | None = None
    """`jti` (access tokens)."""
    session_id: str | None = None
    """`sid`: the refresh-token family."""

    @classmethod
    def from_json(cls, body: Json) -> Self:
        return cls(
            active=bool(body["active"]),
            token_type=body.get("token_type"),
            kind=body.get("type"),
            subject=body.get("sub"),
            app_id=body.get("app_id"),
            issued_at=_optional_epoch(body.get("iat")),
            expires_at=_optional_epoch(body.get("exp")),
            token_id=body.get("jti"),
            session_id=body.get("sid"),
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
    scopes: tuple[str, ...] | None
    """None: full access."""
    allowed_ips: tuple[str, ...] | None
    """CIDRs the key works from; None: anywhere."""
    previous_key_expires_at: datetime | None
    """When the secret a rotation with a grace period replaced stops working."""

    @classmethod
    def from_json(cls, body: Json) -> Self:
        return cls(**_api_key_fields(body))


def _optional_tuple(value: list[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(value)


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
        "scopes": _optional_tuple(body.get("scopes")),
        "allowed_ips": _optional_tuple(body.get("allowed_ips")),
        "previous_key_expires_at": _optional_datetime(body.get("previous_key_expires_at")),
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


STATUS_CLASSES = ("2xx", "4xx", "429", "5xx")


@dataclass(frozen=True, slots=True)
class UsageBucket:
    """Requests in one bucket by status class (`4xx` without `429`)."""

    start: datetime
    counts: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class Usage:
    """`GET /api/v1/api-keys/{id}/usage` or `GET /api/v1/usage`: every bucket of the
    range (zeros included), the totals, and the requests per route template."""

    start: datetime
    end: datetime
    granularity: str
    buckets: tuple[UsageBucket, ...]
    totals: Mapping[str, int]
    routes: Mapping[str, Mapping[str, int]]

    @classmethod
    def from_json(cls, body: Json) -> Self:
        return cls(
            start=parse_datetime(body["start"]),
            end=parse_datetime(body["end"]),
            granularity=body["granularity"],
            buckets=tuple(
                UsageBucket(parse_datetime(item["start"]), _status_counts(item))
                for item in body["data"]
            ),
            totals=_status_counts(body["totals"]),
            routes={item["route"]: _status_counts(item) for item in body["routes"]},
        )


def _status_counts(body: Json) -> dict[str, int]:
    return {status: int(body[status]) for status in STATUS_CLASSES}
