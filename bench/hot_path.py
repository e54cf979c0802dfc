"""Time the authenticated hot path in-process, side by side in one run.

    .venv/bin/python -m bench.hot_path [requests-per-case]

Needs PostgreSQL and Redis on 127.0.0.1 (`bash .ci/services`); creates and drops its
own database and claims a Redis database index the way the suite does. Prints mean and
p95 per request for each credential kind, and the ratio to an unauthenticated request,
so the figures compare on any machine.
"""

import secrets
import statistics
import sys
import time

from flask_migrate import upgrade

from app import create_app
from app.core.secrets import generate_secret
from app.developers import services as developers
from tests.support.apps import close_app
from tests.support.auth import bearer
from tests.support.databases import claimed_redis_database, temporary_database


def timed(client, path: str, headers: dict, expected: int) -> float:
    start = time.perf_counter()
    response = client.get(path, headers=headers)
    elapsed = time.perf_counter() - start
    if response.status_code != expected:
        raise SystemExit(f"{path}: {response.status_code} {response.get_data(as_text=True)}")
    return elapsed


def main(per_case: int) -> None:
    with (
        temporary_database("owa_bench") as database_url,
        claimed_redis_database("bench") as redis_url,
    ):
        app = create_app(
            {
                "APP_ENV": "testing",
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_url,
                "SECRET_KEY": secrets.token_urlsafe(48),
                "TOKEN_PEPPER": secrets.token_urlsafe(48),
            }
        )
        try:
            with app.app_context():
                upgrade()
            run(app, per_case)
        finally:
            close_app(app)


def run(app, per_case: int) -> None:
    client = app.test_client()
    with app.app_context():
        developers.create_developer("bench@example.com", "bench password")
    token = client.post(
        "/api/v1/auth/login", data={"username": "bench@example.com", "password": "bench password"}
    ).get_json()["access_token"]
    developer = bearer(token)
    key = client.post("/api/v1/api-keys", json={"name": "bench"}, headers=developer).get_json()
    user = client.post("/api/v1/users", json={}, headers=developer).get_json()
    user_path = f"/api/v1/users/{user['id']}"
    cases = {
        "no credentials (GET /healthz)": ("/healthz", {}, 200),
        "developer JWT (GET /users/{id})": (user_path, developer, 200),
        "API key (GET /users/{id})": (user_path, bearer(key["key"]), 200),
        "malformed API key (401, no I/O)": (
            user_path,
            bearer(generate_secret("ow_live_")[:-1] + "!"),
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

    baseline = statistics.mean(samples["no credentials (GET /healthz)"])
    print(f"{'case':40} {'mean ms':>8} {'p95 ms':>8} {'x baseline':>11}")
    for label, values in samples.items():
        mean = statistics.mean(values)
        p95 = statistics.quantiles(values, n=20)[-1]
        print(f"{label:40} {mean * 1000:8.3f} {p95 * 1000:8.3f} {mean / baseline:11.2f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
