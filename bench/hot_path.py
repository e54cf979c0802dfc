"""Cost of authentication + rate limit + headers in-process, side by side in one run.

    .venv/bin/python -m bench.hot_path [requests-per-case]

Needs PostgreSQL on 127.0.0.1 (`bash .ci/services`); creates and drops its own
database and starts its own redis-server, and raises the app's limits so its own
requests are never refused. Prints, in one run:

- the floor: one Redis `PING` round trip through redis-py;
- stock flask-limiter's limit + headers (moving window), over the same minimal app
  without a limiter;
- per credential kind, `GET /api/v1/users/{id}` with everything on, minus the same
  handler with the caller injected and no admission, limiter or headers: the cost of
  auth + limit + headers, and its ratio to the floor (for a JWT, the floor plus the
  signature check timed alone); beside it, the admission's `EVALSHA` alone in the same
  request (arguments built, no credential parsing, principal or headers): the part of
  the ratio the one call takes before any other code of ours runs;
- Redis commands clients sent and SQL statements per request (counted), Redis CPU per
  call (`INFO commandstats`) in requests (Redis idle between calls) and back to back,
  and the bytes Redis keeps per subject at limit 1000 with every bucket of the window
  occupied (`MEMORY USAGE`, the worst case), with the script's CPU at that occupancy.
"""

import secrets
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import redis
from flask import Flask, g, request
from flask_migrate import upgrade
from sqlalchemy import event

from app import create_app
from app.core.admission import Admission, admit_request
from app.core.auth import Claim, Kind, Principal, identify, verify_access_token
from app.core.ratelimit import add_rate_limit_headers
from app.extensions import db
from bench.ratelimit import measure as measure_minimal_app
from bench.ratelimit import round_trips, script_usec_per_call
from tests.support.databases import temporary_database
from tests.support.servers import PrivateRedis

UNLIMITED = "1000000 per minute"
SECRET_KEY = secrets.token_urlsafe(48)
"""One per run: every app the bench builds accepts the same tokens."""
CALLER_LIMITS = (
    "RATELIMIT_API_KEY",
    "RATELIMIT_SDK_USER",
    "RATELIMIT_DEVELOPER",
    "RATELIMIT_PER_IP",
)
LOOPBACK_CLIENT = {"REMOTE_ADDR": "127.0.0.1"}
"""The client address of the test client's requests, for requests the bench builds."""
WORST_CASE_WINDOW_SECONDS = 15
"""The window filled to its 240 buckets for the bytes column: a 15-second window has
the same buckets as a minute's and fills in 15 s."""


def timed(client, path: str, headers: dict, expected: int) -> float:
    start = time.perf_counter()
    response = client.get(path, headers=headers)
    elapsed = time.perf_counter() - start
    if response.status_code != expected:
        raise SystemExit(f"{path}: {response.status_code} {response.get_data(as_text=True)}")
    return elapsed


def mean_of(samples: list[float]) -> float:
    # The trimmed mean: a stray garbage collection or scheduler hiccup moves nothing.
    ordered = sorted(samples)
    cut = len(ordered) // 20
    return statistics.fmean(ordered[cut : len(ordered) - cut])


def config(database_url: str, redis_url: str, **overrides: str) -> dict:
    return {
        "APP_ENV": "testing",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": SECRET_KEY,
        "TOKEN_PEPPER": "bench-pepper-" + "x" * 40,
        **dict.fromkeys(CALLER_LIMITS, UNLIMITED),
        **overrides,
    }


def without_admission(app: Flask, callers: dict[str, Principal]) -> Flask:
    """The same app with the caller injected: no credential check, no caller limit and
    no headers; the handler and everything else unchanged (flask-limiter's hooks do
    nothing for this route either way)."""
    before = app.before_request_funcs[None]
    before.remove(admit_request)
    after = app.after_request_funcs[None]
    after[:] = [f for f in after if getattr(f, "func", None) is not add_rate_limit_headers]

    def inject() -> None:
        g.resolved_caller = callers.get(request.headers.get("Authorization", ""))

    before.insert(0, inject)
    return app


def with_one_ping(app: Flask) -> Flask:
    """The injected app plus one Redis PING per request, on the app's own client."""
    store_client = app.extensions["owa_store"].client

    def ping() -> None:
        store_client.ping()

    app.before_request_funcs[None].insert(1, ping)
    return app


def with_the_call_alone(app: Flask, claims: dict[str, Claim]) -> Flask:
    """The injected app plus the admission's one call for the request's credential,
    its claim identified beforehand: the call without the code around it."""
    admission: Admission = app.extensions["owa_admission"]

    def call() -> None:
        claim = claims[request.headers["Authorization"]]
        admission.call(claim, claim.subject)

    app.before_request_funcs[None].insert(1, call)
    return app


def claims_of(app: Flask, path: str, credentials: dict[str, dict[str, str]]) -> dict[str, Claim]:
    """Authorization header → its claim, as the admission identifies it."""
    claims = {}
    for headers in credentials.values():
        with app.test_request_context(path, headers=headers, environ_base=LOOPBACK_CLIENT):
            claims[headers["Authorization"]] = identify(
                headers["Authorization"].removeprefix("Bearer ")
            )
    return claims


def ping_floor(redis_url: str, count: int) -> float:
    client = redis.Redis.from_url(redis_url)
    try:
        client.ping()
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            client.ping()
            samples.append(time.perf_counter() - start)
        return mean_of(samples)
    finally:
        client.close()


def signature_check(app: Flask, token: str, count: int) -> float:
    with app.app_context():
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            verify_access_token(token)
            samples.append(time.perf_counter() - start)
    return mean_of(samples)


def statements_per_request(app: Flask, request: Callable[[], object], count: int = 50) -> float:
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        for _ in range(count):
            request()
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements) / count


def redis_usec_per_call(redis_url: str, request: Callable[[], object]) -> float:
    server = redis.Redis.from_url(redis_url)
    try:
        server.config_resetstat()
        for _ in range(500):
            request()
        return script_usec_per_call(server)
    finally:
        server.close()


def back_to_back_usec_per_call(
    app: Flask, redis_url: str, path: str, headers: dict[str, str], count: int = 300
) -> float:
    """The admission script's Redis time per call with the calls back to back (one
    request's admission repeated in a loop): Redis never idles between them."""
    admission: Admission = app.extensions["owa_admission"]
    server = redis.Redis.from_url(redis_url)
    try:
        with app.test_request_context(path, headers=headers, environ_base=LOOPBACK_CLIENT):
            server.config_resetstat()
            for _ in range(count):
                admission.admit()
            return script_usec_per_call(server)
    finally:
        server.close()


def worst_case(database_url: str, redis_url: str, credentials: dict, user_path: str) -> dict:
    """label → (MEMORY USAGE of everything one subject keeps, the script's µs per call
    back to back), at limit 1000 with all 240 buckets of its window occupied (one
    request every window/300 for a whole window)."""
    limit = f"1000 per {WORST_CASE_WINDOW_SECONDS} seconds"
    app = create_app(
        config(database_url, redis_url, RATELIMIT_API_KEY=limit, RATELIMIT_DEVELOPER=limit)
    )
    client = app.test_client()
    server = redis.Redis.from_url(redis_url)
    measured = {}
    try:
        for label in ("API key", "developer JWT"):
            headers = credentials[label]
            deadline = time.monotonic() + WORST_CASE_WINDOW_SECONDS + 1
            while time.monotonic() < deadline:
                client.get(user_path, headers=headers)
                time.sleep(WORST_CASE_WINDOW_SECONDS / 300)
            tag = "key:" if label == "API key" else "dev:"
            keys = [
                k
                for k in server.scan_iter(f"owa:{{{tag}*")
                if b":window:1000/" in k or k.endswith(b":revoked")
            ]
            size = sum(server.memory_usage(key) or 0 for key in keys)
            measured[label] = (size, back_to_back_usec_per_call(app, redis_url, user_path, headers))
    finally:
        server.close()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    return measured


def main(per_case: int) -> None:
    redis_server = PrivateRedis()
    redis_server.start()
    try:
        with temporary_database("owa_bench") as database_url:
            minimal = {
                case: measure_minimal_app(case, redis_server.url, per_case)
                for case in ("no limiter", "stock flask-limiter (moving window)")
            }
            run(per_case, database_url, redis_server.url, minimal)
    finally:
        redis_server.stop()


class Seeded(NamedTuple):
    user_path: str
    key_id: str
    credentials: dict[str, dict[str, str]]
    """label → the Authorization header of one credential of that kind."""


def seed(app: Flask) -> Seeded:
    """Migrate, then one developer, API key, end user and SDK token, through the API."""
    from app.developers import services as developers

    with app.app_context():
        upgrade()
        developers.create_developer("bench@example.com", "bench password 1234")
    client = app.test_client()
    token = client.post(
        "/api/v1/auth/login",
        data={"username": "bench@example.com", "password": "bench password 1234"},
    ).get_json()["access_token"]
    developer = {"Authorization": f"Bearer {token}"}
    key = client.post("/api/v1/api-keys", json={"name": "bench"}, headers=developer).get_json()
    user = client.post("/api/v1/users", json={}, headers=developer).get_json()
    sdk = client.post(f"/api/v1/users/{user['id']}/token", headers=developer).get_json()
    return Seeded(
        f"/api/v1/users/{user['id']}",
        key["id"],
        {
            "API key": {"Authorization": f"Bearer {key['key']}"},
            "developer JWT": developer,
            "SDK token": {"Authorization": f"Bearer {sdk['access_token']}"},
        },
    )


def run(per_case: int, database_url: str, redis_url: str, minimal: dict) -> None:
    app = create_app(config(database_url, redis_url))
    client = app.test_client()
    user_path, key_id, credentials = seed(app)
    developer = credentials["developer JWT"]
    token = developer["Authorization"].removeprefix("Bearer ")
    sdk_token = credentials["SDK token"]["Authorization"].removeprefix("Bearer ")
    with app.app_context():
        callers = {
            credentials["API key"]["Authorization"]: Principal(Kind.API_KEY, key_id),
            developer["Authorization"]: verify_access_token(token),
            credentials["SDK token"]["Authorization"]: verify_access_token(sdk_token),
        }
    injected_app = without_admission(create_app(config(database_url, redis_url)), callers)
    injected = injected_app.test_client()
    pinging_app = with_one_ping(
        without_admission(create_app(config(database_url, redis_url)), callers)
    )
    pinging = pinging_app.test_client()
    calling_app = with_the_call_alone(
        without_admission(create_app(config(database_url, redis_url)), callers),
        claims_of(app, user_path, credentials),
    )
    calling = calling_app.test_client()

    samples: dict[str, dict[str, list[float]]] = {
        label: {"full": [], "injected": [], "pinging": [], "call alone": []}
        for label in credentials
    }
    apps = {"full": client, "injected": injected, "pinging": pinging, "call alone": calling}
    for _ in range(50):
        for headers in credentials.values():
            for test_client in apps.values():
                timed(test_client, user_path, headers, 200)
    for _ in range(per_case):
        for label, headers in credentials.items():
            for name, test_client in apps.items():
                samples[label][name].append(timed(test_client, user_path, headers, 200))

    # The floor: one PING round trip made inside the same request, so that it pays the
    # same cold caches as the admission's call; a PING in a tight loop is cheaper.
    floor = statistics.fmean(
        mean_of(samples[label]["pinging"]) - mean_of(samples[label]["injected"])
        for label in credentials
    )
    looped_ping = ping_floor(redis_url, per_case)
    signature = signature_check(app, token, per_case)
    stock = minimal["stock flask-limiter (moving window)"]["mean"] - minimal["no limiter"]["mean"]
    print(f"{per_case} requests per case; Flask test client; Redis and PostgreSQL on loopback\n")
    print(f"one Redis PING round trip in a request (the floor): {floor * 1e6:5.0f} µs")
    print(f"one Redis PING round trip in a tight loop:          {looped_ping * 1e6:5.0f} µs")
    print(f"JWT signature check alone (HS256):                 {signature * 1e6:6.0f} µs")
    print(
        f"stock flask-limiter limit + headers (moving window): {stock:4.0f} µs "
        f"({minimal['stock flask-limiter (moving window)']['sent']:.0f} Redis round trips)\n"
    )
    print(
        f"{'GET /users/{id} with':16} {'full µs':>8} {'injected µs':>12} "
        f"{'auth+limit+headers µs':>22} {'÷ floor':>8} {'call alone ÷ floor':>19} "
        f"{'Redis cmds':>10} {'SQL':>5} {'Redis µs/call':>13} {'back to back':>12}"
    )
    for label, headers in credentials.items():
        full = mean_of(samples[label]["full"])
        without = mean_of(samples[label]["injected"])
        cost = full - without
        call_alone = mean_of(samples[label]["call alone"]) - without
        budget = floor + (signature if label != "API key" else 0)
        request = partial(client.get, user_path, headers=headers)
        sent, _ = round_trips(redis_url, request)
        sql = statements_per_request(app, request)
        sql_injected = statements_per_request(
            injected_app, partial(injected.get, user_path, headers=headers)
        )
        usec = redis_usec_per_call(redis_url, request)
        looped = back_to_back_usec_per_call(app, redis_url, user_path, headers)
        print(
            f"{label:16} {full * 1e6:8.0f} {without * 1e6:12.0f} {cost * 1e6:22.0f} "
            f"{cost / budget:8.2f} {call_alone / floor:19.2f} {sent:10.1f} "
            f"{sql - sql_injected:5.1f} {usec:13.1f} {looped:12.1f}"
        )
    print(
        "\n÷ floor: auth+limit+headers over one PING (for JWTs, over one PING plus the "
        "signature check); call alone: the admission's EVALSHA alone in the request, over "
        "one PING. SQL: statements beyond the handler's own. Redis µs/call: in requests "
        "(Redis idle between calls), and back to back."
    )
    worst = worst_case(database_url, redis_url, credentials, user_path)
    print(
        "At limit 1000 with all 240 buckets occupied: "
        + "; ".join(
            f"{label} {size} B in Redis, {usec:.1f} µs/call back to back"
            for label, (size, usec) in worst.items()
        )
    )
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    for built in (injected_app, pinging_app, calling_app):
        with built.app_context():
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
