"""Every error status becomes an `ApiError` subclass carrying the API's detail."""

import socket
import time
import uuid

import httpx
import pytest
from openwearables import (
    ApiError,
    Conflict,
    Forbidden,
    NotFound,
    OpenWearables,
    RateLimited,
    SdkSession,
    SessionExpired,
    Unauthorized,
    ValidationError,
)

from app.sdk_tokens.services import INVALID_APP_CREDENTIALS


def test_an_invalid_api_key_is_401_invalid_api_key(live):
    client = OpenWearables(live.url, api_key="ow_live_" + "x" * 40)
    with client, pytest.raises(Unauthorized) as refused:
        client.users.create()

    assert (refused.value.status, refused.value.detail) == (401, "Invalid API key")
    assert refused.value.headers["www-authenticate"] == "Bearer"


@pytest.mark.parametrize("retry_after", ["nan", "NaN", "soon", ""])
def test_an_unreadable_retry_after_waits_one_second(serve, retry_after):
    def always_limited(environ, start_response):
        start_response("429 Too Many Requests", [("Retry-After", retry_after)])
        return [b'{"detail": "Rate limit exceeded."}']

    live = serve(always_limited)
    client = OpenWearables(live.url, api_key="ow_live_" + "x" * 40, rate_limit_retries=1)
    started = time.monotonic()
    with client, pytest.raises(RateLimited) as limited:
        client.users.create()

    assert len(live.paths) == 2
    assert time.monotonic() - started >= 1
    assert limited.value.retry_after == 1.0


def test_an_unknown_user_is_404(server_client):
    with pytest.raises(NotFound) as missing:
        server_client.users.get(uuid.uuid4())

    assert (missing.value.status, missing.value.detail) == (404, "User not found.")


def test_a_taken_email_is_409(server_client):
    server_client.users.create(email="ada@example.com")

    with pytest.raises(Conflict) as conflict:
        server_client.users.create(email="ADA@example.com")

    assert conflict.value.detail == "A user with this email already exists."


def test_invalid_values_are_422_with_errors_by_field(server_client):
    user = server_client.users.create()

    with pytest.raises(ValidationError) as invalid:
        list(server_client.workouts.list(user.id, "2026-03-07", "2026-03-01"))

    assert invalid.value.status == 422
    assert invalid.value.errors == {"end_date": ["end_date must not be before start_date."]}


def test_an_api_key_cannot_manage_api_keys(server_client):
    with pytest.raises(Forbidden) as refused:
        list(server_client.api_keys.list())

    assert isinstance(refused.value, ApiError)
    assert refused.value.detail == "API keys cannot access this endpoint."


def test_the_timeout_is_configurable():
    # A listening socket that never answers: the request must give up after the timeout.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        base_url = f"http://127.0.0.1:{silent.getsockname()[1]}"
        with OpenWearables(base_url, api_key="ow_live_key", timeout=0.3) as client:
            started = time.monotonic()
            with pytest.raises(httpx.TimeoutException):
                client.users.get(uuid.uuid4())

    assert time.monotonic() - started < 2


def test_refused_logins_and_mints_raise_unauthorized_not_session_expired(live, admin, user):
    with pytest.raises(Unauthorized) as login:
        OpenWearables.login(live.url, admin["email"], "not the password")
    with pytest.raises(Unauthorized) as mint:
        SdkSession.from_app_credentials(live.url, "app_unknown", "secret_wrong", user["id"])

    assert not isinstance(login.value, SessionExpired)
    assert login.value.detail == "Incorrect email or password"
    assert (mint.value.status, mint.value.detail) == (401, INVALID_APP_CREDENTIALS)
