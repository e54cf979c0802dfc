"""Every failure the API reports becomes an `ApiError`, one subclass per status a caller
handles differently."""

import math
from collections.abc import Mapping

import httpx


class OpenWearablesError(Exception):
    """Base class of every error this client raises."""


class ApiError(OpenWearablesError):
    """The API answered with an error status; `detail` is its sentence, `errors` the
    validation messages by field (422 only, else empty)."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.errors: dict[str, list[str]] = dict(errors or {})
        self.headers: dict[str, str] = dict(headers or {})


class Unauthorized(ApiError):
    """401: missing, invalid, expired or revoked credentials."""


class SessionExpired(Unauthorized):
    """A token session could not be refreshed (its refresh token was refused): log in or
    mint a new SDK token."""


class Forbidden(ApiError):
    """403: valid credentials that may not do this (e.g. another user's data)."""


class NotFound(ApiError):
    """404."""


class Conflict(ApiError):
    """409: e.g. a user with this e-mail already exists."""


class ValidationError(ApiError):
    """422: the request was understood but its values are invalid; see `errors`."""


class RateLimited(ApiError):
    """429 after the configured retries; `retry_after` is the server's wait in seconds."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: Mapping[str, list[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status, detail, errors, headers)
        self.retry_after = retry_after_seconds(self.headers)


ERRORS_BY_STATUS: dict[int, type[ApiError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: ValidationError,
    429: RateLimited,
}


def retry_after_seconds(headers: Mapping[str, str]) -> float:
    """`Retry-After` in seconds (the API sends whole seconds); 1 when absent or unreadable."""
    value = {name.lower(): text for name, text in headers.items()}.get("retry-after", "")
    try:
        seconds = float(value)
    except ValueError:
        return 1.0
    if math.isnan(seconds):
        # float() reads "nan", which no comparison with a limit stops and time.sleep refuses.
        return 1.0
    return max(seconds, 0.0)


def error_from_response(response: httpx.Response) -> ApiError:
    """The `ApiError` subclass for an error response, with the API's `detail` and `errors`."""
    detail = response.reason_phrase or "Request failed."
    errors: dict[str, list[str]] = {}
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        if isinstance(body.get("detail"), str):
            detail = body["detail"]
        if isinstance(body.get("errors"), dict):
            errors = {
                str(field): [str(message) for message in messages]
                for field, messages in body["errors"].items()
                if isinstance(messages, list)
            }
    error_class = ERRORS_BY_STATUS.get(response.status_code, ApiError)
    return error_class(response.status_code, detail, errors, dict(response.headers.items()))
