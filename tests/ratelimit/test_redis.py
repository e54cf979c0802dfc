"""Cost and failure of the Redis behind the limits, on a redis-server of the test's own."""

import logging
import random
import re
import time

import pytest
import redis

from app.api_keys import services as api_keys
from app.core.admission import rate_limits_on_fallback
from app.core.auth import Kind, Principal
from app.core.client import ClientInfo
from app.core.ratelimit import ACQUIRE_AND_READ_WINDOW
from tests.support.auth import bearer, forge_token
from tests.support.servers import PrivateRedis, windows_written

ME = "/api/v1/auth/me"
CONSEQUENCE = (
    "requests limited per process and authenticated against PostgreSQL, "
    "API keys without last-use marks"
)


def _api_key(app, admin) -> str:
    creator = Principal(kind=Kind.DEVELOPER, subject_id=admin["id"])
    with app.app_context():
        _, secret = api_keys.create_key("bench", "live", None, creator, ClientInfo(None, None))
    return secret


@pytest.fixture
def private_redis():
    server = PrivateRedis()
    server.start()
    yield server
    server.stop()


@pytest.mark.slow
def test_one_redis_round_trip_per_limited_request(make_app, admin, private_redis):
    app = make_app(REDIS_URL=private_redis.url)
    client = app.test_client()
    headers = bearer(forge_token("developer", admin["id"]))
    key_headers = bearer(_api_key(app, admin))
    client.get(ME, headers=headers)
    client.get(ME)
    client.get("/api/v1/users", headers=key_headers)

    developer, scripted = private_redis.commands_sent_during(
        lambda: client.get(ME, headers=headers)
    )
    anonymous, _ = private_redis.commands_sent_during(lambda: client.get(ME))
    api_key, key_scripted = private_redis.commands_sent_during(
        lambda: client.get("/api/v1/users", headers=key_headers)
    )
    response = client.get(ME, headers=headers)

    # One script checks the developer's revocations (HMGET) and admits the request; the
    # window is one string read and written, whatever the limit.
    assert developer == ["evalsha"]
    assert set(scripted) - {"set", "setrange"} == {"get", "hmget"}
    assert windows_written(scripted) == 1
    assert anonymous == ["evalsha"]
    # The same script reads the key's record and marks its last use (once a second).
    assert api_key == ["evalsha"]
    assert set(key_scripted) - {"set", "setrange", "hset"} == {"get", "hmget"}
    assert windows_written(key_scripted) == 1
    assert response.headers["X-RateLimit-Remaining"] == "997"


@pytest.mark.slow
def test_redis_down_falls_back_to_per_process_limits_and_recovers(
    make_app, admin, private_redis, caplog
):
    app = make_app(REDIS_URL=private_redis.url, RATELIMIT_PER_IP="3 per minute")
    client = app.test_client()
    assert client.get(ME).headers["X-RateLimit-Remaining"] == "2"

    private_redis.stop()
    with caplog.at_level(logging.WARNING):
        during = [client.get(ME) for _ in range(4)]
    developer = client.get(
        ME,
        headers=bearer(forge_token("developer", admin["id"])),
        environ_base={"REMOTE_ADDR": "192.0.2.2"},
    )
    with_key = client.get(
        "/api/v1/users",
        headers=bearer(_api_key(app, admin)),
        environ_base={"REMOTE_ADDR": "192.0.2.3"},
    )
    ready = client.get("/readyz")

    assert [r.status_code for r in during] == [401, 401, 401, 429]
    assert [r.headers["X-RateLimit-Remaining"] for r in during] == ["2", "1", "0", "0"]
    assert during[-1].get_json() == {"detail": "Rate limit exceeded: 3 per 1 minute"}
    assert int(during[-1].headers["Retry-After"]) >= 1
    assert "requests limited per process" in caplog.text
    # A valid token is checked against PostgreSQL and counted as its developer.
    assert developer.status_code == 200
    assert developer.headers["X-RateLimit-Limit"] == "1000"
    assert with_key.status_code == 200
    assert with_key.headers["X-RateLimit-Remaining"] == "999"
    assert ready.status_code == 200
    assert ready.get_json()["status"] == "degraded"
    assert ready.get_json()["checks"]["rate_limits"] == "in-memory fallback"

    private_redis.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        response = client.get(ME, environ_base={"REMOTE_ADDR": "192.0.2.1"})
        if client.get("/readyz").get_json()["status"] == "ready":
            break
        time.sleep(0.5)
    recovered = client.get(ME, environ_base={"REMOTE_ADDR": "192.0.2.44"})
    server = redis.Redis.from_url(private_redis.url)
    try:
        stored_keys = [key.decode() for key in server.scan_iter("owa:*:window:*")]
    finally:
        server.close()

    assert response.status_code in (401, 429)
    assert recovered.status_code == 401
    assert recovered.headers["X-RateLimit-Remaining"] == "2"
    assert any("192.0.2.44" in key for key in stored_keys)


@pytest.mark.slow
def test_a_redis_outage_logs_one_warning_then_one_summary_not_one_per_request(
    make_app, admin, private_redis, caplog
):
    app = make_app(REDIS_URL=private_redis.url)
    client = app.test_client()
    headers = bearer(_api_key(app, admin))
    assert client.get("/api/v1/users", headers=headers).status_code == 200

    private_redis.stop()
    with caplog.at_level(logging.WARNING, logger="app.core.admission"):
        during = [client.get("/api/v1/users", headers=headers) for _ in range(30)]
        private_redis.start()
        # Redis is tried again after a backoff (1 s after the first failure).
        deadline = time.monotonic() + 10
        while rate_limits_on_fallback(app) and time.monotonic() < deadline:
            after = client.get("/api/v1/users", headers=headers)
            time.sleep(0.2)
        again = client.get("/api/v1/users", headers=headers)

    assert [response.status_code for response in during] == [200] * 30
    assert (after.status_code, again.status_code) == (200, 200)
    assert not rate_limits_on_fallback(app)
    lines = [r.getMessage() for r in caplog.records if r.name == "app.core.admission"]
    assert len(lines) == 2, lines
    assert lines[0].startswith("Redis unavailable (ConnectionError")
    assert lines[0].endswith(f"{CONSEQUENCE} until it answers again")
    served = re.fullmatch(rf"Redis unavailable for \d+ s, (\d+) {CONSEQUENCE}", lines[1])
    assert served is not None
    assert int(served.group(1)) >= 30


def _reference_window(buckets: dict[int, int], limit: int, cost: int, slots: int, current: int):
    """The window as documented (`app.core.ratelimit`): counts per bucket, a bucket
    counting while fewer than `slots` buckets older than the current one, a clock behind
    the newest bucket admitted into counting as that bucket; only an admission writes
    (it keeps the live buckets). Returns (admitted, oldest bucket end, total)."""
    current = max(current, max(buckets, default=current))
    live = {bucket: count for bucket, count in buckets.items() if current - bucket < slots}
    total = sum(live.values())
    if not 0 < cost <= limit - total:
        return 0, (min(live) + 1 if total else 0), total
    live[current] = live.get(current, 0) + cost
    buckets.clear()
    buckets.update(live)
    return 1, min(live) + 1, total + cost


def test_the_window_script_matches_its_documented_semantics(private_redis):
    """Thousands of calls with random limits, costs and clock steps (a lagging host, a
    whole window idle, the 2^16 wrap of the stored bucket numbers) against the model;
    the state never loses its TTL, admitted in place in the newest bucket or rewritten."""
    client = redis.Redis.from_url(private_redis.url)
    window = client.register_script(ACQUIRE_AND_READ_WINDOW)
    rng = random.Random(15)
    try:
        for run in range(120):
            limit, slots = rng.choice([1, 3, 10, 1000]), rng.choice([5, 17, 241])
            current, buckets = rng.choice([10, 65_530, 1_000_000]), {}
            for _ in range(rng.randint(1, 300)):
                current += rng.choice([0, 0, 0, 1, 2, slots - 1, slots, slots + 3, -1, 70_000])
                cost = rng.choice([1, 1, 1, 0, 2, limit, limit + 1])
                expected = _reference_window(buckets, limit, cost, slots, current)
                reply = window([f"w{{{run}}}"], [limit, cost, slots, 60_000, current])
                assert tuple(reply) == expected, (run, limit, slots, current, cost)
                # -2: nothing admitted yet; never -1 (a key left without expiry).
                assert client.pttl(f"w{{{run}}}") in (-2, *range(50_000, 60_001))
    finally:
        client.close()
