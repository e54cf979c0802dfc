"""What usage analytics cost Redis, side by side with the analytics off, in one run.

    .venv/bin/python -m bench.usage [requests-per-case]

Needs PostgreSQL on 127.0.0.1 (`bash .ci/services`); creates and drops its own
database and starts its own redis-server. One API key calls `GET /api/v1/users` and
`GET /api/v1/users/{id}` from 3 client IPs through the Flask test client, each response
closed as a WSGI server closes it (which is when a due flush runs). Per case: Redis
round trips per request (`EVALSHA` calls and flush pipelines, from `INFO
commandstats` and the counter), and the flush commands' Redis time (`HINCRBY`, `SADD`,
`EXPIRE`, their `usec` in `INFO commandstats`) ÷ the admission script's (`EVALSHA`).
"""

import sys
import time

import redis
from flask import Flask

from app import create_app
from app.usage.counter import UsageCounter, count_request, usage_counter
from bench.hot_path import config, seed
from tests.support.databases import temporary_database
from tests.support.servers import PrivateRedis

FLUSH_COMMANDS = ("hincrby", "sadd", "expire")
IPS = ("192.0.2.1", "192.0.2.2", "192.0.2.3")


def counting_flushes(counter: UsageCounter) -> list[int]:
    """Wrap the counter's flush: one entry per pipeline sent."""
    sent: list[int] = []
    flush = counter.flush

    def counted() -> int:
        requests = flush()
        if requests:
            sent.append(requests)
        return requests

    counter.flush = counted  # type: ignore[method-assign]
    return sent


def measure(app: Flask, redis_url: str, paths: list[str], headers: dict, count: int) -> dict:
    client = app.test_client()
    server = redis.Redis.from_url(redis_url)
    pipelines = counting_flushes(usage_counter(app))
    for path in paths:  # fill the key's record before counting
        client.get(path, headers=headers).close()
    usage_counter(app).flush()
    pipelines.clear()
    server.config_resetstat()
    started = time.perf_counter()
    for number in range(count):
        response = client.get(
            paths[number % len(paths)],
            headers=headers,
            environ_base={"REMOTE_ADDR": IPS[number % len(IPS)]},
        )
        response.close()
    elapsed = time.perf_counter() - started
    stats = server.info("commandstats")
    server.close()

    def row(name: str) -> dict:
        return stats.get(f"cmdstat_{name}", {"calls": 0, "usec": 0})

    evalsha = row("evalsha")
    flush_usec = sum(row(name)["usec"] for name in FLUSH_COMMANDS)
    return {
        "seconds": elapsed,
        "round_trips": (evalsha["calls"] + len(pipelines)) / count,
        "pipelines": len(pipelines),
        "flush_commands": sum(row(name)["calls"] for name in FLUSH_COMMANDS),
        "script_usec": evalsha["usec"],
        "flush_usec": flush_usec,
    }


def main(count: int) -> None:
    redis_server = PrivateRedis()
    redis_server.start()
    try:
        with temporary_database("owa_bench_usage") as database_url:
            url = redis_server.url
            base = create_app(config(database_url, url))
            user_path, _, credentials = seed(base)
            paths = ["/api/v1/users", user_path]
            headers = credentials["API key"]
            rows = []
            for label, flush_seconds, analytics in (
                ("analytics off", 5.0, False),
                ("analytics on, USAGE_FLUSH_SECONDS=5 (default)", 5.0, True),
                ("analytics on, USAGE_FLUSH_SECONDS=1", 1.0, True),
            ):
                app = create_app(config(database_url, url, USAGE_FLUSH_SECONDS=flush_seconds))
                if not analytics:
                    app.after_request_funcs[None].remove(count_request)
                rows.append((label, measure(app, url, paths, headers, count)))
    finally:
        redis_server.stop()

    print(f"\n{count} requests per case, one API key, 2 routes, 3 client IPs\n")
    print(
        "| case | seconds | Redis round trips / request | flush pipelines "
        "| flush commands | EVALSHA usec | flush usec | flush ÷ EVALSHA |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for label, m in rows:
        ratio = m["flush_usec"] / m["script_usec"] if m["script_usec"] else 0.0
        print(
            f"| {label} | {m['seconds']:.1f} | {m['round_trips']:.4f} | {m['pipelines']} "
            f"| {m['flush_commands']} | {m['script_usec']} | {m['flush_usec']} "
            f"| {ratio:.2%} |"
        )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3000)
