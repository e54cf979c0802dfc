"""The one place that turns every failure into `{"detail": "<sentence>"}`.

flask-smorest (HTTP errors and webargs validation), flask-jwt-extended, flask-limiter
and unexpected exceptions all end up here, so clients see a single error shape.
"""

import logging

import marshmallow as ma
import redis
import sqlalchemy.exc
from flask import Flask
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.core.outages import database_outage, is_database_unavailable

log = logging.getLogger(__name__)

RETRY_AFTER_SECONDS = "5"
DATABASE_UNAVAILABLE = "The database is unavailable; try again shortly."

DEFAULT_DETAILS = {
    400: "Bad request.",
    401: "Not authenticated.",
    403: "Not allowed.",
    404: "Not found.",
    405: "Method not allowed.",
    409: "Conflict.",
    413: "Request body too large.",
    415: "Unsupported media type.",
    422: "Validation error.",
    429: "Too many requests.",
    500: "Internal server error.",
    503: "Service unavailable.",
}


class ErrorSchema(ma.Schema):
    detail = ma.fields.String(
        required=True, metadata={"description": "What went wrong, as a sentence."}
    )
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Validation messages by field (422 only)."},
    )


class ApiError(Exception):
    """Raised by services and routes that know the status and sentence a client should see."""

    def __init__(
        self,
        status: int,
        detail: str,
        headers: dict[str, str] | None = None,
        errors: dict[str, list[str]] | None = None,
    ):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.headers = headers or {}
        self.errors = errors
        """Messages by field, for a 422 that only a service can decide."""


WEBARGS_LOCATIONS = frozenset(
    {"json", "form", "json_or_form", "query", "headers", "files", "view_args"}
)


def _flatten_messages(messages) -> dict[str, list[str]]:
    """webargs nests messages by location ({"json": {"name": [...]}}); clients want fields."""
    flat: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), inner)
        elif isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
            flat.setdefault(prefix or "_schema", []).extend(value)
        elif isinstance(value, list | tuple):
            for index, inner in enumerate(value):
                walk(f"{prefix}.{index}", inner)
        else:
            flat.setdefault(prefix or "_schema", []).append(str(value))

    if isinstance(messages, dict):
        for location_or_field, inner in messages.items():
            if location_or_field in WEBARGS_LOCATIONS:
                walk("", inner)
            else:
                walk(str(location_or_field), inner)
    else:
        walk("", messages)
    return flat


def _validation_detail(errors: dict[str, list[str]]) -> str:
    if not errors:
        return DEFAULT_DETAILS[422]
    parts = [f"{field}: {' '.join(messages)}" for field, messages in sorted(errors.items())]
    return "Validation error. " + "; ".join(parts)


def http_error_response(error: HTTPException):
    """Body, status and headers for an HTTPException raised anywhere."""
    status = error.code or 500
    data = getattr(error, "data", None) or {}
    headers = dict(data.get("headers") or {})
    body: dict = {}
    if isinstance(error, RateLimitExceeded):
        body["detail"] = f"Rate limit exceeded: {error.description}"
    elif "messages" in data or "errors" in data:
        errors = _flatten_messages(data.get("errors") or data.get("messages"))
        if status == 400 and errors.get("_schema") == ["Invalid JSON body."]:
            body["detail"] = "Request body is not valid JSON."
        else:
            body["detail"] = data.get("message") or _validation_detail(errors)
            body["errors"] = errors
    else:
        body["detail"] = data.get("message") or DEFAULT_DETAILS.get(
            status, error.name.capitalize() + "."
        )
    if status == 405 and hasattr(error, "valid_methods") and error.valid_methods:
        headers.setdefault("Allow", ", ".join(error.valid_methods))
    return body, status, headers


def _handle_api_error(error: ApiError):
    body: dict = {"detail": error.detail}
    if error.errors:
        body["errors"] = error.errors
    return body, error.status, error.headers


def _handle_unexpected(error: Exception):
    if isinstance(error, HTTPException):
        return http_error_response(error)
    log.exception("unhandled exception", exc_info=error)
    return http_error_response(InternalServerError())


def _handle_redis_down(error: redis.RedisError):
    # Revocations and other shared state live in Redis: an outage is a retryable 503.
    log.warning("Redis unavailable: %s", error)
    return (
        {"detail": "A shared service is unavailable; try again shortly."},
        503,
        {"Retry-After": RETRY_AFTER_SECONDS},
    )


def database_unavailable_error() -> ApiError:
    return ApiError(503, DATABASE_UNAVAILABLE, {"Retry-After": RETRY_AFTER_SECONDS})


def _handle_database_error(error: sqlalchemy.exc.SQLAlchemyError):
    if not is_database_unavailable(error):
        return _handle_unexpected(error)
    database_outage().failed(error)
    return {"detail": DATABASE_UNAVAILABLE}, 503, {"Retry-After": RETRY_AFTER_SECONDS}


def _handle_concurrent_change(error: StaleDataError):
    # Another request deleted or replaced the row between our read and our write.
    log.info("concurrent change: %s", error)
    return {"detail": "This resource was changed or deleted by another request; try again."}, 409


def register_error_handlers(app: Flask) -> None:
    app.register_error_handler(ApiError, _handle_api_error)
    app.register_error_handler(redis.RedisError, _handle_redis_down)
    app.register_error_handler(StaleDataError, _handle_concurrent_change)
    app.register_error_handler(sqlalchemy.exc.DBAPIError, _handle_database_error)
    app.register_error_handler(sqlalchemy.exc.TimeoutError, _handle_database_error)
    app.register_error_handler(Exception, _handle_unexpected)
