"""Cost of a rate-limited request: stock flask-limiter against ours, side by side.

    .venv/bin/python -m bench.ratelimit [requests-per-case]

Starts a redis-server of its own on a free loopback port (so the command counts are
this benchmark's alone), builds one minimal Flask app per case with the same limit
and headers on, and prints per request: mean and p95 time, Redis round trips (commands
clients sent, from MONITOR), the commands Redis executed including those inside Lua,
Redis CPU per script call (`INFO commandstats`) and the bytes Redis keeps for the one caller
(`MEMORY USAGE`).
"""

import statistics
import sys
import time
import uuid
from functools import partial

import redis
from flask import Flask
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from app.core.admission import CALLER_LIMIT_SETTINGS, init_admission
from app.core.ratelimit import add_rate_limit_headers, limiter
from app.core.revocation import init_revocations
from tests.support.servers import PrivateRedis

LIMIT = "1000000 per minute"
SAMPLED = 50


def build(case: str, redis_url: str) -> Flask:
    app = Flask(case)

    @app.get("/")
    def index():
        return "ok"

    if case == "no limiter":
        return app
    if case == "ours (moving window)":
        # The admission as the app wires it, for callers without credentials (per IP).
        app.config.update(dict.fromkeys(CALLER_LIMIT_SETTINGS.values(), LIMIT))
        init_revocations(app, redis.Redis.from_url(redis_url))
        init_admission(app)
        app.after_request(partial(add_rate_limit_headers, limiter))
        return app
    strategy = case.split("(")[1].rstrip(")").replace(" ", "-")
    Limiter(
        get_remote_address,
        app=app,
        application_limits=[LIMIT],
        strategy=strategy,
        headers_enabled=True,
        storage_uri=redis_url,
    )
    return app


def script_usec_per_call(server: redis.Redis) -> float:
    """Redis CPU per script call (`EVALSHA`, its inner commands included) since
    CONFIG RESETSTAT."""
    row = server.info("commandstats").get("cmdstat_evalsha")
    return float(row["usec_per_call"]) if row else 0.0


def round_trips(redis_url: str, request) -> tuple[float, float]:
    """(commands sent by clients, commands executed) per request, over SAMPLED requests."""
    sentinel = f"bench-end-{uuid.uuid4()}"
    watcher, marker = redis.Redis.from_url(redis_url), redis.Redis.from_url(redis_url)
    sent = executed = 0
    try:
        with watcher.monitor() as monitor:
            for _ in range(SAMPLED):
                request()
            marker.echo(sentinel)
            while sentinel not in (entry := monitor.next_command())["command"]:
                executed += 1
                sent += entry["client_type"] != "lua"
    finally:
        watcher.close()
        marker.close()
    return sent / SAMPLED, executed / SAMPLED


def measure(case: str, redis_url: str, count: int) -> dict:
    server = redis.Redis.from_url(redis_url)
    server.flushdb()
    server.close()
    client = build(case, redis_url).test_client()
    for _ in range(50):
        client.get("/")
    server = redis.Redis.from_url(redis_url)
    server.config_resetstat()
    timings = []
    for _ in range(count):
        start = time.perf_counter()
        response = client.get("/")
        timings.append(time.perf_counter() - start)
        if response.status_code != 200:
            raise SystemExit(f"{case}: {response.status_code}")
    script_usec = script_usec_per_call(server)
    # One caller: everything the limiter keeps for it, after count + 50 requests.
    state = sum(server.memory_usage(key) or 0 for key in server.scan_iter())
    server.close()
    sent, executed = (0.0, 0.0)
    if case != "no limiter":
        sent, executed = round_trips(redis_url, partial(client.get, "/"))
    return {
        "case": case,
        "mean": statistics.fmean(timings) * 1e6,
        "p95": statistics.quantiles(timings, n=20)[18] * 1e6,
        "sent": sent,
        "executed": executed,
        "script_usec": script_usec,
        "bytes": state,
        "headers": sorted(name for name, _ in response.headers if "ratelimit" in name.lower())
        + (["Retry-After"] if "Retry-After" in response.headers else []),
    }


def main(count: int) -> None:
    private_redis = PrivateRedis()
    private_redis.start()
    try:
        rows = [
            measure(case, private_redis.url, count)
            for case in (
                "no limiter",
                "stock flask-limiter (fixed window)",
                "stock flask-limiter (moving window)",
                "ours (moving window)",
            )
        ]
    finally:
        private_redis.stop()
    print(f"{count} requests per case, Flask test client, Redis on loopback\n")
    print(
        f"{'case':38} {'mean µs':>8} {'p95 µs':>8} {'round trips':>12} {'cmds run':>9} "
        f"{'script µs/call':>14} {'bytes/caller':>12}  headers"
    )
    for row in rows:
        print(
            f"{row['case']:38} {row['mean']:8.0f} {row['p95']:8.0f} {row['sent']:12.1f} "
            f"{row['executed']:9.1f} {row['script_usec']:14.1f} {row['bytes']:12}  "
            f"{', '.join(row['headers']) or '-'}"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
