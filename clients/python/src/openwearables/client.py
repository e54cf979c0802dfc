"""The two entry points: `OpenWearables` for servers and admin scripts, `SdkSession` for
one end user's app."""

from types import TracebackType
from typing import Self

import httpx

from openwearables._transport import (
    Credentials,
    StaticToken,
    TokensCallback,
    TokenSession,
    Transport,
)
from openwearables.models import Introspection, TokenPair, User
from openwearables.resources import (
    ApiKeys,
    Applications,
    Id,
    SdkTokens,
    TimeSeries,
    Users,
    UserTimeSeries,
    UserWorkouts,
    Workouts,
    segment,
)

DEFAULT_TIMEOUT = 10.0
DEFAULT_RATE_LIMIT_RETRIES = 3
DEFAULT_MAX_RETRY_AFTER = 60.0


class _Closeable:
    _transport: Transport

    def close(self) -> None:
        """Close the connection pool; the object is unusable afterwards."""
        self._transport.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


class OpenWearables(_Closeable):
    """Server-side access with an API key, or an admin's developer login (`login`).

    `timeout` is per request (seconds or an `httpx.Timeout`). A 429 is retried after the
    server's `Retry-After`, at most `rate_limit_retries` times and only when the wait is at
    most `max_retry_after` seconds; then `RateLimited` is raised.
    """

    users: Users
    workouts: Workouts
    timeseries: TimeSeries
    api_keys: ApiKeys
    applications: Applications
    sdk_tokens: SdkTokens

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        rate_limit_retries: int = DEFAULT_RATE_LIMIT_RETRIES,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
    ) -> None:
        transport = Transport(
            base_url,
            timeout=timeout,
            rate_limit_retries=rate_limit_retries,
            max_retry_after=max_retry_after,
        )
        self._attach(transport, StaticToken(api_key))

    def _attach(self, transport: Transport, credentials: Credentials) -> None:
        self._transport = transport
        self._credentials = credentials
        self.users = Users(transport, credentials)
        self.workouts = Workouts(transport, credentials)
        self.timeseries = TimeSeries(transport, credentials)
        self.api_keys = ApiKeys(transport, credentials)
        self.applications = Applications(transport, credentials)
        self.sdk_tokens = SdkTokens(transport, credentials)

    @classmethod
    def login(
        cls,
        base_url: str,
        email: str,
        password: str,
        *,
        on_tokens: TokensCallback | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        rate_limit_retries: int = DEFAULT_RATE_LIMIT_RETRIES,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
    ) -> Self:
        """Log a developer in; the developer token is refreshed automatically (before it
        expires and after a 401). `on_tokens` receives every token pair, this first one too."""
        transport = Transport(
            base_url,
            timeout=timeout,
            rate_limit_retries=rate_limit_retries,
            max_retry_after=max_retry_after,
        )
        session = _start_session(
            transport,
            "/api/v1/auth/login",
            on_tokens,
            data={"username": email, "password": password},
        )
        client = cls.__new__(cls)
        client._attach(transport, session)
        return client

    def introspect(self, token: str) -> Introspection:
        """Ask whether an access or refresh token is live right now (RFC 7662), revocations
        included, which a signature check alone cannot tell. Needs an API key."""
        body = self._transport.json(
            "POST", "/api/v1/auth/introspect", self._credentials, data={"token": token}
        )
        return Introspection.from_json(body)

    def logout(self) -> None:
        """End a `login` session on the server (its access and refresh tokens stop
        working) and close the client."""
        if not isinstance(self._credentials, TokenSession):
            raise TypeError("Only a client made with OpenWearables.login has a session to end.")
        self._transport.request(
            "POST",
            "/api/v1/auth/logout",
            self._credentials,
            json={"refresh_token": self._credentials.refresh_token},
        )
        self.close()


class SdkSession(_Closeable):
    """One end user's session with an SDK token, e.g. resumed from a keychain.

    The access token is refreshed shortly before it expires and once after a 401; threads
    sharing the session share each refresh. `on_tokens` receives every new pair: store
    it, because refresh tokens are single-use. A refused refresh raises `SessionExpired`.
    `expires_in` (seconds the access token has left) is read from the token when omitted.
    """

    def __init__(
        self,
        base_url: str,
        user_id: Id,
        *,
        access_token: str | None = None,
        refresh_token: str,
        expires_in: float | None = None,
        on_tokens: TokensCallback | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        rate_limit_retries: int = DEFAULT_RATE_LIMIT_RETRIES,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
    ) -> None:
        transport = Transport(
            base_url,
            timeout=timeout,
            rate_limit_retries=rate_limit_retries,
            max_retry_after=max_retry_after,
        )
        session = TokenSession(
            transport,
            access_token=access_token,
            refresh_token=refresh_token,
            expires_in=expires_in,
            on_tokens=on_tokens,
        )
        self._attach(user_id, transport, session)

    def _attach(self, user_id: Id, transport: Transport, session: TokenSession) -> None:
        self.user_id = str(user_id)
        self._transport = transport
        self._session = session
        self._users = Users(transport, session)
        self.workouts = UserWorkouts(Workouts(transport, session), self.user_id)
        self.timeseries = UserTimeSeries(TimeSeries(transport, session), self.user_id)

    @classmethod
    def from_app_credentials(
        cls,
        base_url: str,
        app_id: str,
        app_secret: str,
        user_id: Id,
        *,
        on_tokens: TokensCallback | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        rate_limit_retries: int = DEFAULT_RATE_LIMIT_RETRIES,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
    ) -> Self:
        """Mint an SDK token for `user_id` with application credentials (server side only:
        an app secret never belongs in an app bundle). `on_tokens` also gets this first pair."""
        transport = Transport(
            base_url,
            timeout=timeout,
            rate_limit_retries=rate_limit_retries,
            max_retry_after=max_retry_after,
        )
        session = _start_session(
            transport,
            f"/api/v1/users/{segment(user_id)}/token",
            on_tokens,
            json={"app_id": app_id, "app_secret": app_secret},
        )
        instance = cls.__new__(cls)
        instance._attach(user_id, transport, session)
        return instance

    @property
    def access_token(self) -> str | None:
        return self._session.access_token

    @property
    def refresh_token(self) -> str:
        return self._session.refresh_token

    def refresh(self) -> TokenPair:
        """Rotate the tokens now (normally automatic)."""
        return self._session.refresh()

    def logout(self) -> None:
        """Revoke the session on the server (both tokens stop working everywhere) and
        close it; use it when the user signs out."""
        self._session.revoke()
        self.close()

    def get_user(self) -> User:
        """The session's own user."""
        return self._users.get(self.user_id)


def _start_session(
    transport: Transport,
    path: str,
    on_tokens: TokensCallback | None,
    *,
    json: dict[str, str] | None = None,
    data: dict[str, str] | None = None,
) -> TokenSession:
    """Post for the pair that starts a session and hand it to `on_tokens`; the transport
    is closed when there is none."""
    try:
        pair = TokenPair.from_json(transport.json("POST", path, None, json=json, data=data))
    except BaseException:
        transport.close()
        raise
    session = TokenSession(
        transport,
        access_token=pair.access_token,
        refresh_token=pair.refresh_token,
        expires_in=pair.expires_in,
        on_tokens=on_tokens,
    )
    if on_tokens is not None:
        on_tokens(pair)
    return session
