"""HTTP plumbing shared by every client: credentials, 429 waits, 401 refresh, paging."""

import base64
import binascii
import itertools
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Protocol

import httpx

from openwearables._version import __version__
from openwearables.errors import SessionExpired, error_from_response, retry_after_seconds
from openwearables.models import TokenPair

USER_AGENT = f"openwearables-python/{__version__} (httpx/{httpx.__version__})"
REFRESH_PATH = "/api/v1/auth/refresh"
# Refresh when this share of the access token's lifetime is left (at most 60 s before), so
# a request never leaves with a token that expires on the way.
REFRESH_WHEN_LEFT = 0.1
REFRESH_AT_MOST_SECONDS_EARLY = 60.0

Params = Mapping[str, str | int]
TokensCallback = Callable[[TokenPair], None]


class Credentials(Protocol):
    def bearer(self) -> str | None:
        """The token to send now (refreshed first when it is about to expire)."""

    def recover(self, rejected: str | None) -> bool:
        """After a 401 for `rejected`: True when a retry with `bearer()` may succeed."""


class Transport:
    """One `httpx.Client` plus the retry rules: 429 → wait `Retry-After` and retry (at most
    `rate_limit_retries` times, and only for waits up to `max_retry_after` seconds); 401 →
    let the credentials refresh once, then retry once."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float | httpx.Timeout,
        rate_limit_retries: int,
        max_retry_after: float,
    ) -> None:
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        )
        self.rate_limit_retries = rate_limit_retries
        self.max_retry_after = max_retry_after

    def close(self) -> None:
        self.http.close()

    def send(
        self,
        method: str,
        path: str,
        token: str | None,
        *,
        params: Params | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One request, repeated while rate limited; returns any final response."""
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        retries = 0
        while True:
            response = self.http.request(
                method, path, headers=headers, params=params, json=json, data=data
            )
            wait = retry_after_seconds(response.headers)
            if (
                response.status_code != 429
                or retries >= self.rate_limit_retries
                or wait > self.max_retry_after
            ):
                return response
            retries += 1
            time.sleep(wait)

    def request(
        self,
        method: str,
        path: str,
        credentials: Credentials | None,
        *,
        params: Params | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """A request with `credentials`; raises the `ApiError` of an error response."""
        token = credentials.bearer() if credentials else None
        response = self.send(method, path, token, params=params, json=json, data=data)
        if response.status_code == 401 and credentials and credentials.recover(token):
            token = credentials.bearer()
            response = self.send(method, path, token, params=params, json=json, data=data)
        if response.is_error:
            raise error_from_response(response)
        return response

    def json(
        self,
        method: str,
        path: str,
        credentials: Credentials | None,
        *,
        params: Params | None = None,
        json: Any = None,
        data: Mapping[str, str] | None = None,
    ) -> Any:
        return self.request(method, path, credentials, params=params, json=json, data=data).json()

    def pages(
        self, path: str, credentials: Credentials, params: Params, page_size: int
    ) -> Iterator[Any]:
        """Every item of a page-number listing (`items`, `has_next`), page after page."""
        for page in itertools.count(1):
            body = self.json(
                "GET", path, credentials, params={**params, "page": page, "limit": page_size}
            )
            yield from body["items"]
            if not body["has_next"]:
                return

    def cursor_pages(
        self, path: str, credentials: Credentials, params: Params, page_size: int
    ) -> Iterator[Any]:
        """Every item of a cursor feed (`data`, `pagination.next_cursor`), page after page."""
        cursor: str | None = None
        while True:
            query: dict[str, str | int] = {**params, "limit": page_size}
            if cursor is not None:
                query["cursor"] = cursor
            body = self.json("GET", path, credentials, params=query)
            yield from body["data"]
            if not body["pagination"]["has_more"]:
                return
            cursor = body["pagination"]["next_cursor"]


class StaticToken:
    """A server's API key: sent as is, never refreshed."""

    def __init__(self, key: str) -> None:
        self.key = key

    def bearer(self) -> str:
        return self.key

    def recover(self, rejected: str | None) -> bool:
        return False


def _jwt_lifetime(access_token: str) -> tuple[float, float] | None:
    """(seconds left, total lifetime) from the token's own `exp`/`iat` claims, read without
    verifying (only the server can); None when the token is not a readable JWT."""
    try:
        payload = access_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        expires_at, issued_at = float(claims["exp"]), float(claims.get("iat", time.time()))
    except (IndexError, ValueError, KeyError, TypeError, binascii.Error):
        return None
    return expires_at - time.time(), expires_at - issued_at


class TokenSession:
    """An access token and its single-use refresh token, refreshed before expiry and after
    a 401. One lock serialises refreshes, so threads sharing the session never present the
    same refresh token twice (the API treats that as theft and revokes the session)."""

    def __init__(
        self,
        transport: Transport,
        *,
        access_token: str | None,
        refresh_token: str,
        expires_in: float | None = None,
        on_tokens: TokensCallback | None = None,
    ) -> None:
        self._transport = transport
        self._lock = threading.Lock()
        self._on_tokens = on_tokens
        self._expired: SessionExpired | None = None
        self._access_token = access_token
        self._refresh_token = refresh_token
        self._refresh_due_at = 0.0
        if access_token is not None:
            self._schedule(access_token, expires_in)

    @property
    def access_token(self) -> str | None:
        return self._access_token

    @property
    def refresh_token(self) -> str:
        return self._refresh_token

    def _schedule(self, access_token: str, expires_in: float | None) -> None:
        if expires_in is not None:
            left, lifetime = expires_in, expires_in
        else:
            # Resumed from storage: the JWT says when it expires; unreadable → wait for a 401.
            left, lifetime = _jwt_lifetime(access_token) or (float("inf"), float("inf"))
        early = min(lifetime * REFRESH_WHEN_LEFT, REFRESH_AT_MOST_SECONDS_EARLY)
        self._refresh_due_at = time.monotonic() + left - early

    def bearer(self) -> str:
        with self._lock:
            if self._access_token is None or time.monotonic() >= self._refresh_due_at:
                self._refresh()
            assert self._access_token is not None
            return self._access_token

    def recover(self, rejected: str | None) -> bool:
        with self._lock:
            # Another thread may have refreshed while this request was in flight.
            if rejected == self._access_token:
                self._refresh()
            return True

    def refresh(self) -> TokenPair:
        """Rotate now; returns the new pair (also passed to `on_tokens`)."""
        with self._lock:
            return self._refresh()

    def _refresh(self) -> TokenPair:
        if self._expired is not None:
            raise self._expired
        response = self._transport.send(
            "POST", REFRESH_PATH, None, json={"refresh_token": self._refresh_token}
        )
        if response.status_code == 401:
            error = error_from_response(response)
            self._expired = SessionExpired(401, error.detail, headers=error.headers)
            raise self._expired
        if response.is_error:
            raise error_from_response(response)
        pair = TokenPair.from_json(response.json())
        self.adopt(pair)
        return pair

    def adopt(self, pair: TokenPair) -> None:
        """Use `pair` from now on and hand it to `on_tokens` (for the caller to store)."""
        self._access_token, self._refresh_token = pair.access_token, pair.refresh_token
        self._schedule(pair.access_token, pair.expires_in)
        if self._on_tokens is not None:
            self._on_tokens(pair)
