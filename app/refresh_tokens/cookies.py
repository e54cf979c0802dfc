"""Cookie mode for browser clients: the refresh token lives in an HttpOnly cookie.

A client opts in with the header `X-Refresh-Cookie: 1` on login. Requests that
authenticate with the cookie (refresh, logout) must carry that header too — a
cross-site form cannot send a custom header — and come from the app's own origin
(`Sec-Fetch-Site: same-origin`, or an `Origin` equal to the app's); else 403.
"""

from dataclasses import asdict
from datetime import datetime
from typing import Any

from flask import Response, after_this_request, request

from app.core.db import utcnow
from app.core.errors import ApiError
from app.refresh_tokens.services import TokenPair

COOKIE_NAME = "ow_refresh_token"
COOKIE_PATH = "/api/v1/auth"
OPT_IN_HEADER = "X-Refresh-Cookie"
CROSS_SITE_DETAIL = "Cookie sessions need the X-Refresh-Cookie: 1 header on a same-origin request."


def wants_cookie() -> bool:
    return request.headers.get(OPT_IN_HEADER) == "1"


def _own_origin() -> str:
    return f"{request.scheme}://{request.host}"


def is_same_origin_opt_in() -> bool:
    """The CSRF rule of every cookie-authenticated request."""
    same_site = request.headers.get("Sec-Fetch-Site") == "same-origin"
    same_origin = request.headers.get("Origin") == _own_origin()
    return wants_cookie() and (same_site or same_origin)


def presented_cookie() -> str | None:
    """The refresh cookie, once the request passed the CSRF rule (403 otherwise)."""
    token = request.cookies.get(COOKIE_NAME)
    if token and not is_same_origin_opt_in():
        raise ApiError(403, CROSS_SITE_DETAIL)
    return token or None


def same_origin_cookie() -> str | None:
    """The refresh cookie when the request passes the CSRF rule, else None."""
    return request.cookies.get(COOKIE_NAME) if is_same_origin_opt_in() else None


def body_without_refresh_token(pair: TokenPair) -> dict[str, Any]:
    """What the JSON body carries in cookie mode: everything but the refresh token."""
    body = asdict(pair)
    del body["refresh_token"]
    return body


def _remaining_seconds(expires_at: datetime | None) -> int:
    if expires_at is None:
        return 0
    return max(int((expires_at - utcnow()).total_seconds()), 0)


def set_refresh_cookie(pair: TokenPair) -> None:
    """Put the pair's refresh token into the cookie, for as long as its family lives."""
    max_age = _remaining_seconds(pair.session_expires_at)

    @after_this_request
    def set_cookie(response: Response) -> Response:
        response.set_cookie(
            COOKIE_NAME,
            pair.refresh_token,
            max_age=max_age,
            path=COOKIE_PATH,
            secure=request.is_secure,
            httponly=True,
            samesite="Strict",
        )
        return response


def clear_refresh_cookie() -> None:
    @after_this_request
    def clear_cookie(response: Response) -> Response:
        response.delete_cookie(
            COOKIE_NAME,
            path=COOKIE_PATH,
            secure=request.is_secure,
            httponly=True,
            samesite="Strict",
        )
        return response
