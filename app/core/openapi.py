"""The response headers of the OpenAPI contract.

Every response of a rate-limited operation carries the rate-limit headers (`ratelimit.py`
adds them after every counted request), a 429 also `Retry-After`, a 401
`WWW-Authenticate`. The shared error responses (`#/components/responses/...`) document
them once; `ResponseHeadersPlugin` adds them to each operation's own (success)
responses, and gives the unlimited operations (probes) error responses without them.
"""

import http
from typing import Any

from apispec import APISpec, BasePlugin
from werkzeug.routing import Rule

from app.core.ratelimit import UNLIMITED_BLUEPRINTS

RATE_LIMIT_HEADERS: dict[str, dict[str, Any]] = {
    "X-RateLimit-Limit": {
        "description": "Requests the governing limit admits per window.",
        "schema": {"type": "integer", "example": 1000},
    },
    "X-RateLimit-Remaining": {
        "description": "Requests left in the current window.",
        "schema": {"type": "integer", "example": 999},
    },
    "X-RateLimit-Reset": {
        "description": "Unix time (seconds) when the oldest counted request leaves the window.",
        "schema": {"type": "integer", "example": 1795374352},
    },
    "RateLimit-Policy": {
        "description": "IETF draft header: the limit `q` per window `w` seconds.",
        "schema": {"type": "string", "example": '"default";q=1000;w=60'},
    },
    "RateLimit": {
        "description": "IETF draft header: `r` requests remaining, `t` seconds to the reset.",
        "schema": {"type": "string", "example": '"default";r=999;t=60'},
    },
}
STATUS_HEADERS: dict[int, dict[str, dict[str, Any]]] = {
    401: {
        "WWW-Authenticate": {
            "description": "The authentication scheme to use: `Bearer`.",
            "schema": {"type": "string", "example": "Bearer"},
        }
    },
    429: {
        "Retry-After": {
            "description": "Seconds until the limit admits a request again (at least 1).",
            "schema": {"type": "integer", "example": 42},
        }
    },
}
# While the database or Redis is down the caller may not be identified, so a 503 promises
# no rate-limit headers.
UNCOUNTED_STATUSES = frozenset({"503"})
ERROR_SCHEMA_REF = {"$ref": "#/components/schemas/Error"}
DEFAULT_ERROR = "DEFAULT_ERROR"


def _refs(headers: dict[str, dict[str, Any]]) -> dict[str, dict[str, str]]:
    return {name: {"$ref": f"#/components/headers/{name}"} for name in headers}


def headers_of(status: int | str, *, limited: bool) -> dict[str, dict[str, str]]:
    """The header references a response with this status documents."""
    counted = limited and str(status) not in UNCOUNTED_STATUSES
    headers = dict(_refs(RATE_LIMIT_HEADERS)) if counted else {}
    if str(status).isdigit():
        headers.update(_refs(STATUS_HEADERS.get(int(status), {})))
    return headers


def register_headers(spec: APISpec) -> None:
    for name, header in (
        *RATE_LIMIT_HEADERS.items(),
        *(item for headers in STATUS_HEADERS.values() for item in headers.items()),
    ):
        spec.components.header(name, {**header, "required": True})


def error_response(
    status: int | str, *, limited: bool, schema: Any = ERROR_SCHEMA_REF
) -> dict[str, Any]:
    """The `{"detail"}` response of one status (or `default`), with its headers."""
    description = (
        http.HTTPStatus(int(status)).phrase if str(status).isdigit() else "Any other error"
    )
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    headers = headers_of(status, limited=limited)
    if headers:
        response["headers"] = headers
    return response


class ResponseHeadersPlugin(BasePlugin):
    """Documents the headers every response of an operation carries."""

    def operation_helper(
        self,
        path: str | None = None,
        operations: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        rule: Rule | None = kwargs.get("rule")
        limited = rule is None or rule.endpoint.partition(".")[0] not in UNLIMITED_BLUEPRINTS
        for operation in (operations or {}).values():
            responses = operation.get("responses", {})
            if limited and not {503, "503"} & responses.keys():
                # Every counted operation needs the database or Redis to say who calls.
                responses["503"] = "SERVICE_UNAVAILABLE"
            for status, response in list(responses.items()):
                if isinstance(response, str):
                    # A shared component: it documents the rate-limit headers itself.
                    if not limited:
                        responses[status] = error_response(status, limited=False)
                    continue
                headers = headers_of(status, limited=limited)
                if headers:
                    response.setdefault("headers", {}).update(headers)
