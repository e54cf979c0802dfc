"""Time the authenticated hot path in-process, side by side in one run.

    .venv/bin/python -m bench.hot_path [requests-per-case]

Needs PostgreSQL on 127.0.0.1 (`bash .ci/services`); creates and drops its own
database and starts its own redis-server, and raises the app's limits so its own
requests are never refused. Prints per credential kind: mean and p95 per request, the
ratio to an unauthenticated request, the Redis commands clients sent and the SQL
statements per request (counted), and the Redis CPU per script call (`INFO commandstats`),
next to one Redis `PING` round trip, the floor of any request that asks Redis.
"""

import secrets
import statistics
import sys
import time
from functools import partial

import redis
from flask_migrate import upgrade
from sqlalchemy import event

from app import create_app
from app.core.secrets import generate_secret
from app.extensions import db
from bench.ratelimit import round_trips, script_usec_per_call
from tests.support.databases import temporary_database
from tests.support.servers import PrivateRedis

UNLIMITED = "1000000 per minute"


def timed(client, path: str, headers: dict, expected: int) -> float:
    start = time.perf_counter()
    response = client.get(path, headers=headers)
    elapsed = time.perf_counter() - start
    if response.status_code != expected:
        raise SystemExit(f"{path}: {response.status_code} {response.get_data(as_text=True)}")
    return elapsed


def main(per_case: int) -> None:
    redis_server = PrivateRedis()
    redis_server.start()
    try:
        with temporary_database("owa_bench") as database_url:
            on_database(per_case, database_url, redis_server.url)
    finally:
        redis_server.stop()


def on_database(per_case: int, database_url: str, redis_url: str) -> None:
    app = create_app(
        {
            "APP_ENV": "testing",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": secrets.token_urlsafe(48),
            "TOKEN_PEPPER": secrets.token_urlsafe(48),
            **dict.fromkeys(
                (
                    "RATELIMIT_API_KEY",
                    "RATELIMIT_SDK_USER",
                    "RATELIMIT_DEVELOPER",
                    "RATELIMIT_PER_IP",
                ),
                UNLIMITED,
            ),
        }
    )
    try:
        with app.app_context():
            upgrade()
        run(app, per_case, redis_url)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def ping_floor(redis_url: str, count: int) -> float:
    client = redis.Redis.from_url(redis_url)
    try:
        client.ping()
        start = time.perf_counter()
        for _ in range(count):
            client.ping()
        return (time.perf_counter() - start) / count
    finally:
        client.close()


def statements_per_request(app, client, path: str, headers: dict, count: int = 50) -> float:
    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def record(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", record)
    try:
        for _ in range(count):
            client.get(path, headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return len(statements) / count


def redis_script_usec(redis_url: str, client, path: str, headers: dict) -> float:
    server = redis.Redis.from_url(redis_url)
    try:
        server.config_resetstat()
        for _ in range(500):
            client.get(path, headers=headers)
        return script_usec_per_call(server)
    finally:
        server.close()


def run(app, per_case: int, redis_url: str) -> None:
    from app.developers import services as developers

    client = app.test_client()
    with app.app_context():
        developers.create_developer("bench@example.com", "bench password")
    token = client.post(
        "/api/v1/auth/login", data={"username": "bench@example.com", "password": "bench password"}
    ).get_json()["access_token"]
    developer = {"Authorization": f"Bearer {token}"}
    key = client.post("/api/v1/api-keys", json={"name": "bench"}, headers=developer).get_json()
    user = client.post("/api/v1/users", json={}, headers=developer).get_json()
    user_path = f"/api/v1/users/{user['id']}"
    cases = {
        "no credentials (GET /healthz)": ("/healthz", {}, 200),
        "developer JWT (GET /users/{id})": (user_path, developer, 200),
        "API key (GET /users/{id})": (user_path, {"Authorization": f"Bearer {key['key']}"}, 200),
        "malformed API key (401, per-IP limit)": (
            user_path,
            {"Authorization": f"Bearer {generate_secret('ow_live_')[:-1]}!"},
            401,
        ),
    }
    samples: dict[str, list[float]] = {label: [] for label in cases}
    for _ in range(50):
        for path, headers, expected in cases.values():
            timed(client, path, headers, expected)
    for _ in range(per_case):
        for label, (path, headers, expected) in cases.items():
            samples[label].append(timed(client, path, headers, expected))

    floor = ping_floor(redis_url, per_case)
    baseline = statistics.mean(samples["no credentials (GET /healthz)"])
    print(f"one Redis PING round trip (the floor): {floor * 1e6:.0f} µs\n")
    print(
        f"{'case':40} {'mean µs':>8} {'p95 µs':>8} {'x baseline':>11} {'Redis cmds':>10} "
        f"{'SQL':>5} {'script µs/call':>14}"
    )
    for label, values in samples.items():
        path, headers, _ = cases[label]
        mean = statistics.mean(values)
        p95 = statistics.quantiles(values, n=20)[-1]
        sent, _ = round_trips(redis_url, partial(client.get, path, headers=headers))
        sql = statements_per_request(app, client, path, headers)
        usec = redis_script_usec(redis_url, client, path, headers)
        usec_column = f"{usec:14.1f}" if sent else f"{'-':>14}"
        print(
            f"{label:40} {mean * 1e6:8.0f} {p95 * 1e6:8.0f} {mean / baseline:11.2f} "
            f"{sent:10.1f} {sql:5.1f} {usec_column}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
