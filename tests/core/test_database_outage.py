"""An unreachable database: 503 with Retry-After, never a 500, and rate limits stay in
Redis (an exception in flask-limiter's key function used to switch it to in-memory
counters). The fault suite (tests/faults) stops and restarts a real cluster."""

import redis

from app.core.admission import rate_limits_on_fallback
from app.core.ratelimit import limiter
from app.core.secrets import generate_secret
from tests.support.auth import bearer
from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD

UNREACHABLE = "postgresql://postgres@127.0.0.1:1/none"
UNAVAILABLE = {"detail": "The database is unavailable; try again shortly."}


def assert_retryable_503(response) -> None:
    assert response.status_code == 503, response.get_json()
    assert response.get_json() == UNAVAILABLE
    assert response.headers["Retry-After"] == "5"


def test_requests_needing_the_database_get_503_with_retry_after(make_app, admin_headers, api_key):
    client = make_app(DATABASE_URL=UNREACHABLE).test_client()

    login = client.post(
        "/api/v1/auth/login", data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
    )
    with_jwt = client.get("/api/v1/users", headers=admin_headers)
    with_key = client.get("/api/v1/users", headers=bearer(api_key["key"]))
    refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": generate_secret("rt_")})

    for response in (login, with_jwt, with_key, refresh):
        assert_retryable_503(response)


def test_a_database_error_resolving_an_api_key_keeps_the_limits_in_redis(
    make_app, api_key, redis_url
):
    client = make_app(DATABASE_URL=UNREACHABLE).test_client()

    ip = {"REMOTE_ADDR": "192.0.2.9"}
    headers = bearer(api_key["key"])
    with_key = [client.get("/api/v1/users", headers=headers, environ_base=ip) for _ in range(3)]
    anonymous = client.get("/api/v1/auth/me", environ_base=ip)
    ready = client.get("/readyz")

    for response in with_key:
        assert_retryable_503(response)
    assert not limiter.using_fallback
    assert not rate_limits_on_fallback(client.application)
    # Counted per credential in Redis, not against the IP that other callers share.
    assert [r.headers["X-RateLimit-Remaining"] for r in with_key] == ["119", "118", "117"]
    assert anonymous.status_code == 401
    assert anonymous.headers["X-RateLimit-Remaining"] == "119"
    server = redis.Redis.from_url(redis_url)
    try:
        stored = [key.decode() for key in server.scan_iter("owa:*:window:*")]
    finally:
        server.close()
    assert any("unchecked:" in key for key in stored)
    assert any("ip:192.0.2.9" in key for key in stored)
    assert ready.status_code == 503
    assert ready.get_json()["checks"] == {
        "database": "unavailable",
        "redis": "ok",
        "rate_limits": "redis",
    }
