"""CORS for web apps on other origins (`CORS_ALLOWED_ORIGINS`), done by flask-cors.

Only what an SDK token may call is shared with those origins, plus the token refresh
with a JSON body; never the developer endpoints, API keys or cookies (no
`Access-Control-Allow-Credentials`, and the cookie opt-in header is not an allowed
request header). The routes are read from the URL map: every method whose view accepts
SDK tokens (`requires(Kind.SDK, ...)`) or is marked `cross_origin_allowed`, so a new SDK
endpoint needs no list kept in sync here. flask-cors answers preflights with Flask's
automatic OPTIONS response (200); this module turns an allowed preflight into a 204.
Preflights are never counted against a rate limit (`app.core.ratelimit.is_unlimited`).
"""

import re
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, request
from flask_cors import CORS

from app.core.auth import Kind

ALLOWED_REQUEST_HEADERS = ("Authorization", "Content-Type")
EXPOSED_RESPONSE_HEADERS = (
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "RateLimit",
    "RateLimit-Policy",
    "Retry-After",
)
PREFLIGHT_MAX_AGE_SECONDS = 600
ROUTE_VARIABLE = re.compile(r"<[^>]+>")
View = TypeVar("View", bound=Callable[..., Any])


def allow_cross_origin(view: View) -> View:
    """Let allowed origins call a view that SDK-token apps need but that takes no SDK
    token itself (the refresh of an SDK token pair)."""
    view.cross_origin_allowed = True  # type: ignore[attr-defined]
    return view


def _browser_callable(handler: Callable[..., Any]) -> bool:
    kinds: frozenset[Kind] = getattr(handler, "allowed_kinds", frozenset())
    return Kind.SDK in kinds or bool(getattr(handler, "cross_origin_allowed", False))


def _path_pattern(rule: str) -> str:
    """`/users/<uuid:user_id>` → `^/users/[^/]+\\Z` (flask-cors matches from the start)."""
    literal_parts = ROUTE_VARIABLE.split(rule)
    return "^" + "[^/]+".join(re.escape(part) for part in literal_parts) + r"\Z"


def cross_origin_routes(app: Flask) -> dict[str, list[str]]:
    """Path pattern → the methods web apps on allowed origins may call."""
    routes: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}:
            if _browser_callable(getattr(view_class, method.lower(), view)):
                routes.setdefault(_path_pattern(rule.rule), set()).add(method)
    return {pattern: sorted(methods) for pattern, methods in routes.items()}


def _answer_preflight_with_no_content(response: Response) -> Response:
    if request.method == "OPTIONS" and "Access-Control-Allow-Methods" in response.headers:
        response.status_code = 204
        response.set_data(b"")
        response.headers.pop("Content-Type", None)
    return response


def init_cors(app: Flask) -> None:
    """Call after every blueprint is registered (the routes are read from the URL map)."""
    origins = list(app.config["CORS_ALLOWED_ORIGINS"])
    if not origins:
        return
    # Registered before flask-cors's own hook, so it runs after it (Flask runs
    # after_request hooks in reverse order) and sees the preflight headers.
    app.after_request(_answer_preflight_with_no_content)
    CORS(
        app,
        resources={
            pattern: {"methods": methods} for pattern, methods in cross_origin_routes(app).items()
        },
        origins=origins,
        allow_headers=list(ALLOWED_REQUEST_HEADERS),
        expose_headers=list(EXPOSED_RESPONSE_HEADERS),
        supports_credentials=False,
        max_age=PREFLIGHT_MAX_AGE_SECONDS,
        always_send=False,
        send_wildcard=False,
    )
