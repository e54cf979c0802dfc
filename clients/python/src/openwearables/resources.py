"""One class per API resource; `list` methods are lazy iterators over every page."""

import enum
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote
from uuid import UUID

from openwearables._transport import Credentials, Transport
from openwearables.inputs import (
    Instant,
    Moment,
    NewSample,
    NewWorkout,
    format_instant,
    format_moment,
    item_json,
)
from openwearables.models import (
    ApiKey,
    Application,
    NewApiKey,
    NewApplication,
    TimeSeriesPoint,
    TokenPair,
    Usage,
    User,
    Workout,
    WorkoutBatchResult,
)

Id = str | UUID


class Unset(enum.Enum):
    """Marks an argument that was not given (distinct from None, which clears a field)."""

    UNSET = enum.auto()


UNSET = Unset.UNSET


def _usage_query(start: Instant | None, end: Instant | None, granularity: str) -> dict[str, str]:
    query = {"granularity": granularity}
    if start is not None:
        query["start"] = format_instant(start, "start")
    if end is not None:
        query["end"] = format_instant(end, "end")
    return query


def segment(value: Id) -> str:
    """A path segment, so an id can never change which endpoint is called."""
    text = str(value)
    # Percent-encoding cannot protect these: "" drops the segment, and httpx resolves
    # "." and ".." (as would the server, "%2E" decoded) into another endpoint's path.
    if text in ("", ".", ".."):
        raise ValueError(f"{text!r} is not an id.")
    return quote(text, safe="")


class _Resource:
    def __init__(self, transport: Transport, credentials: Credentials) -> None:
        self._transport = transport
        self._credentials = credentials

    def _json(self, method: str, path: str, **options: Any) -> Any:
        return self._transport.json(method, path, self._credentials, **options)

    def _delete(self, path: str) -> None:
        self._transport.request("DELETE", path, self._credentials)


class Users(_Resource):
    PATH = "/api/v1/users"

    def create(
        self,
        *,
        email: str | None = None,
        first_name: str | None = None,
        last_name: str | None = None,
        external_user_id: str | None = None,
    ) -> User:
        fields = {
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "external_user_id": external_user_id,
        }
        given = {name: value for name, value in fields.items() if value is not None}
        return User.from_json(self._json("POST", self.PATH, json=given))

    def get(self, user_id: Id) -> User:
        return User.from_json(self._json("GET", f"{self.PATH}/{segment(user_id)}"))

    def update(
        self,
        user_id: Id,
        *,
        email: str | Unset | None = UNSET,
        first_name: str | Unset | None = UNSET,
        last_name: str | Unset | None = UNSET,
        external_user_id: str | Unset | None = UNSET,
    ) -> User:
        """Change the fields given; None clears a field."""
        fields = {
            "email": email,
            "first_name": first_name,
            "last_name": last_name,
            "external_user_id": external_user_id,
        }
        given = {name: value for name, value in fields.items() if value is not UNSET}
        path = f"{self.PATH}/{segment(user_id)}"
        return User.from_json(self._json("PATCH", path, json=given))

    def delete(self, user_id: Id) -> None:
        """Delete the user, its data and its SDK sessions."""
        self._delete(f"{self.PATH}/{segment(user_id)}")

    def list(
        self,
        *,
        search: str | None = None,
        email: str | None = None,
        external_user_id: str | None = None,
        page_size: int = 100,
    ) -> Iterator[User]:
        """Every matching user, newest first, fetching `page_size` per request."""
        filters = {"search": search, "email": email, "external_user_id": external_user_id}
        params = {name: value for name, value in filters.items() if value is not None}
        for item in self._transport.pages(self.PATH, self._credentials, params, page_size):
            yield User.from_json(item)


def _batch(items: Iterable[NewWorkout | NewSample | Mapping[str, Any]]) -> dict[str, Any]:
    return {"data": [item_json(item) for item in items]}


class Workouts(_Resource):
    def _path(self, user_id: Id) -> str:
        return f"/api/v1/users/{segment(user_id)}/events/workouts"

    def create(
        self, user_id: Id, items: Iterable[NewWorkout | Mapping[str, Any]]
    ) -> WorkoutBatchResult:
        """Store workouts; one whose `external_id` is known replaces the stored one."""
        return WorkoutBatchResult.from_json(
            self._json("POST", self._path(user_id), json=_batch(items))
        )

    def list(
        self, user_id: Id, start_date: Moment, end_date: Moment, *, page_size: int = 100
    ) -> Iterator[Workout]:
        """Every workout starting in the window, oldest first (a `date` end includes its day)."""
        params = {
            "start_date": format_moment(start_date, "start_date"),
            "end_date": format_moment(end_date, "end_date"),
        }
        for item in self._transport.cursor_pages(
            self._path(user_id), self._credentials, params, page_size
        ):
            yield Workout.from_json(item)

    def delete(self, user_id: Id, workout_id: Id) -> None:
        self._delete(f"{self._path(user_id)}/{segment(workout_id)}")


class TimeSeries(_Resource):
    def _path(self, user_id: Id) -> str:
        return f"/api/v1/users/{segment(user_id)}/timeseries"

    def create(self, user_id: Id, items: Iterable[NewSample | Mapping[str, Any]]) -> int:
        """Store samples; returns how many distinct samples were written."""
        return int(self._json("POST", self._path(user_id), json=_batch(items))["stored"])

    def list(
        self,
        user_id: Id,
        start_time: Moment,
        end_time: Moment,
        *,
        types: Iterable[str] | None = None,
        page_size: int = 1000,
    ) -> Iterator[TimeSeriesPoint]:
        """Every sample in the window (of `types`, default all), oldest first."""
        params = {
            "start_time": format_moment(start_time, "start_time"),
            "end_time": format_moment(end_time, "end_time"),
        }
        if types is not None:
            params["types"] = ",".join(types)
        for item in self._transport.cursor_pages(
            self._path(user_id), self._credentials, params, page_size
        ):
            yield TimeSeriesPoint.from_json(item)


class UserWorkouts:
    """The workouts of the one user an SDK session belongs to."""

    def __init__(self, workouts: Workouts, user_id: str) -> None:
        self._workouts = workouts
        self._user_id = user_id

    def create(self, items: Iterable[NewWorkout | Mapping[str, Any]]) -> WorkoutBatchResult:
        return self._workouts.create(self._user_id, items)

    def list(
        self, start_date: Moment, end_date: Moment, *, page_size: int = 100
    ) -> Iterator[Workout]:
        return self._workouts.list(self._user_id, start_date, end_date, page_size=page_size)

    def delete(self, workout_id: Id) -> None:
        self._workouts.delete(self._user_id, workout_id)


class UserTimeSeries:
    """The time series of the one user an SDK session belongs to."""

    def __init__(self, timeseries: TimeSeries, user_id: str) -> None:
        self._timeseries = timeseries
        self._user_id = user_id

    def create(self, items: Iterable[NewSample | Mapping[str, Any]]) -> int:
        return self._timeseries.create(self._user_id, items)

    def list(
        self,
        start_time: Moment,
        end_time: Moment,
        *,
        types: Iterable[str] | None = None,
        page_size: int = 1000,
    ) -> Iterator[TimeSeriesPoint]:
        return self._timeseries.list(
            self._user_id, start_time, end_time, types=types, page_size=page_size
        )


class ApiKeys(_Resource):
    """Server credentials; managing them needs a developer login."""

    PATH = "/api/v1/api-keys"

    def create(
        self,
        name: str,
        *,
        environment: str = "live",
        expires_at: Instant | None = None,
        scopes: Iterable[str] | None = None,
        allowed_ips: Iterable[str] | None = None,
    ) -> NewApiKey:
        """A new key; its secret is `.key`, shown this once. `scopes` and `allowed_ips`
        (CIDRs) restrict it; None: full access, from anywhere."""
        body: dict[str, Any] = {"name": name, "environment": environment}
        if expires_at is not None:
            body["expires_at"] = format_instant(expires_at, "expires_at")
        if scopes is not None:
            body["scopes"] = list(scopes)
        if allowed_ips is not None:
            body["allowed_ips"] = list(allowed_ips)
        return NewApiKey.from_json(self._json("POST", self.PATH, json=body))

    def list(self) -> Iterator[ApiKey]:
        """Every API key, newest first, without secrets."""
        for item in self._json("GET", self.PATH):
            yield ApiKey.from_json(item)

    def get(self, key_id: str) -> ApiKey:
        return ApiKey.from_json(self._json("GET", f"{self.PATH}/{segment(key_id)}"))

    def rename(self, key_id: str, name: str) -> ApiKey:
        return self.update(key_id, name=name)

    def update(
        self,
        key_id: str,
        *,
        name: str | Unset = UNSET,
        scopes: Iterable[str] | Unset | None = UNSET,
        allowed_ips: Iterable[str] | Unset | None = UNSET,
    ) -> ApiKey:
        """Change only what is given; None lifts a restriction (full access, anywhere).
        A narrowing holds on every server at once."""
        body: dict[str, Any] = {}
        if not isinstance(name, Unset):
            body["name"] = name
        for field_name, value in (("scopes", scopes), ("allowed_ips", allowed_ips)):
            if not isinstance(value, Unset):
                body[field_name] = None if value is None else list(value)
        path = f"{self.PATH}/{segment(key_id)}"
        return ApiKey.from_json(self._json("PATCH", path, json=body))

    def rotate(self, key_id: str, *, grace_seconds: int = 0) -> NewApiKey:
        """A new secret (`.key`) for the same key; the old one stops working at once, or
        `grace_seconds` later (at most 86400; see `.previous_key_expires_at`)."""
        path = f"{self.PATH}/{segment(key_id)}/rotate"
        body = {"grace_seconds": grace_seconds} if grace_seconds else None
        return NewApiKey.from_json(self._json("POST", path, json=body))

    def usage(
        self,
        key_id: str,
        *,
        start: Instant | None = None,
        end: Instant | None = None,
        granularity: str = "hour",
    ) -> Usage:
        """The key's requests per bucket by status class (default: the last 24 hours)."""
        path = f"{self.PATH}/{segment(key_id)}/usage"
        return Usage.from_json(
            self._json("GET", path, params=_usage_query(start, end, granularity))
        )

    def delete(self, key_id: str) -> None:
        self._delete(f"{self.PATH}/{segment(key_id)}")


class Applications(_Resource):
    """Application credentials for minting SDK tokens; managing them needs a developer login."""

    PATH = "/api/v1/applications"

    def create(self, name: str) -> NewApplication:
        """A new application; `.app_id` and `.app_secret` (shown this once)."""
        return NewApplication.from_json(self._json("POST", self.PATH, json={"name": name}))

    def list(self, *, page_size: int = 100) -> Iterator[Application]:
        for item in self._transport.pages(self.PATH, self._credentials, {}, page_size):
            yield Application.from_json(item)

    def get(self, application_id: Id) -> Application:
        path = f"{self.PATH}/{segment(application_id)}"
        return Application.from_json(self._json("GET", path))

    def rotate_secret(self, application_id: Id, *, revoke_sessions: bool = False) -> NewApplication:
        """A new `app_secret`; `revoke_sessions` also ends every SDK session it minted."""
        path = f"{self.PATH}/{segment(application_id)}/rotate-secret"
        body = {"revoke_sessions": revoke_sessions}
        return NewApplication.from_json(self._json("POST", path, json=body))

    def delete(self, application_id: Id) -> None:
        """Delete the application; its SDK sessions stop working at once."""
        self._delete(f"{self.PATH}/{segment(application_id)}")


class SdkTokens(_Resource):
    def mint(self, user_id: Id) -> TokenPair:
        """An SDK token pair for one user (admin method: needs a developer login)."""
        path = f"/api/v1/users/{segment(user_id)}/token"
        return TokenPair.from_json(self._json("POST", path))
