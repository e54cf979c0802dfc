"""Requests per second through gunicorn: authenticated ÷ the same handler with auth off.

    .venv/bin/python -m bench.throughput [seconds-per-case]

Needs `wrk` (Debian package `wrk`) and PostgreSQL on 127.0.0.1; starts its own
redis-server, database and gunicorn (2 workers) per worker class, with the limits raised
so nothing is refused. For each worker class it serves the app twice at once: as is,
and as `bench/auth_off_app.py` (the caller injected: no credential check, no Redis
call, no rate-limit headers), and measures the cases in ROUNDS interleaved rounds, so
that the machine's drift falls on all of them alike. wrk runs 8 connections; the access
log's worker pids show how they spread over the two workers. gthread keeps a keep-alive
connection on the worker that accepted it, so its keep-alive row depends on where 8
connections happened to land; its other row sends `Connection: close`, a new connection
per request, as `deploy/nginx.conf` reaches gunicorn. sync closes every connection
after its response, so every request is balanced anew.
"""

import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections import Counter, defaultdict
from contextlib import contextmanager
from pathlib import Path

import redis

from app import create_app
from app.extensions import db
from bench.hot_path import CALLER_LIMITS, UNLIMITED, seed
from tests.support.databases import temporary_database
from tests.support.environment import process_environment
from tests.support.ports import free_port
from tests.support.servers import PrivateRedis, serving

VENV_BIN = Path(sys.executable).parent
CONNECTIONS = 8
ROUNDS = 5
WORKER_CLASSES = {
    "sync": ([], {}),
    "gthread, 4 threads, new connections": (["--threads", "4"], {"Connection": "close"}),
    "gthread, 4 threads, keep-alive": (["--threads", "4"], {}),
}
"""Worker class → gunicorn options, and the headers wrk adds to every request."""


@contextmanager
def served(module: str, worker_options: list[str], settings: dict[str, str], log_dir: Path):
    port = free_port()
    access_log = log_dir / f"access-{port}.log"
    command = [
        str(VENV_BIN / "gunicorn"),
        "--workers", "2",
        *worker_options,
        "--bind", f"127.0.0.1:{port}",
        "--access-logfile", str(access_log),
        "--access-logformat", "%(p)s",
        "--error-logfile", str(log_dir / "error.log"),
        module,
    ]  # fmt: skip
    env = process_environment(settings)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    with serving(command, env, port) as base:
        yield base, access_log


def wrk(base: str, path: str, headers: dict[str, str], seconds: int) -> float:
    command = ["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(
        [*command, base + path], check=True, capture_output=True, text=True
    ).stdout
    if "Non-2xx" in output:
        raise SystemExit(f"{path}: wrk saw non-2xx answers\n{output}")
    line = next(line for line in output.splitlines() if line.startswith("Requests/sec:"))
    return float(line.split()[1])


def spread(access_log: Path) -> str:
    """Share of requests per worker since the log was last read, e.g. `51/49`."""
    counts = Counter(access_log.read_text().split())
    access_log.write_text("")
    total = sum(counts.values()) or 1
    return "/".join(f"{100 * n // total}" for n in sorted(counts.values(), reverse=True))


def main(seconds: int) -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("bench.throughput needs wrk: apt-get install wrk")
    redis_server = PrivateRedis()
    redis_server.start()
    log_dir = Path(tempfile.mkdtemp(prefix="owa-throughput-"))
    try:
        with temporary_database("owa_throughput") as database_url:
            settings = {
                "APP_ENV": "testing",
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_server.url,
                "SECRET_KEY": secrets.token_urlsafe(48),
                "TOKEN_PEPPER": "bench-pepper-" + "x" * 40,
                "LOG_LEVEL": "WARNING",
                **dict.fromkeys(CALLER_LIMITS, UNLIMITED),
            }
            app = create_app(dict(settings))
            try:
                seeded = seed(app)
            finally:
                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()
            server = redis.Redis.from_url(redis_server.url)
            try:
                measure(settings, seeded, log_dir, seconds, server)
            finally:
                server.close()
    finally:
        redis_server.stop()
        shutil.rmtree(log_dir, ignore_errors=True)


class ScriptTime:
    """The admission script's Redis time per call (`INFO commandstats`) over the runs
    measured with it, per case: under load, Redis sharing the cores with the rest."""

    def __init__(self, server: redis.Redis) -> None:
        self.server = server
        self.usec: defaultdict[str, float] = defaultdict(float)
        self.calls: defaultdict[str, int] = defaultdict(int)

    @contextmanager
    def counting(self, case: str):
        self.server.config_resetstat()
        yield
        row = self.server.info("commandstats").get("cmdstat_evalsha", {})
        self.usec[case] += row.get("usec", 0)
        self.calls[case] += row.get("calls", 0)

    def per_call(self, case: str) -> float:
        return self.usec[case] / max(self.calls[case], 1)


def measure(
    settings: dict[str, str], seeded, log_dir: Path, seconds: int, server: redis.Redis
) -> None:
    key_header = seeded.credentials["API key"]
    auth_off = {
        **settings,
        "BENCH_AUTHORIZATION": key_header["Authorization"],
        "BENCH_KEY_ID": seeded.key_id,
    }
    print(
        f"gunicorn, 2 workers; wrk, {CONNECTIONS} connections, {seconds} s per case in "
        f"{ROUNDS} interleaved rounds; {os.cpu_count()} cores shared by wrk, gunicorn, "
        "Redis and PostgreSQL\n"
    )
    print(
        f"{'worker class':36} {'/healthz':>9} {'auth off':>9} {'API key':>9} "
        f"{'dev JWT':>9} {'SDK':>9}   {'÷ auth off (key, JWT, SDK)':>27}  "
        f"{'Redis µs/call':>13}  worker split"
    )
    share = max(seconds // ROUNDS, 1)
    for worker_class, (options, extra) in WORKER_CLASSES.items():
        with (
            served("bench.auth_off_app:app", options, auth_off, log_dir) as (off_base, off_log),
            served("wsgi:app", options, settings, log_dir) as (base, log),
        ):
            healthz = wrk(base, "/healthz", extra, seconds)
            cases = {"auth off": (off_base, key_header)} | {
                label: (base, headers) for label, headers in seeded.credentials.items()
            }
            for case_base, headers in cases.values():
                wrk(case_base, seeded.user_path, {**headers, **extra}, 1)
            spread(off_log)
            spread(log)
            rates = dict.fromkeys(cases, 0.0)
            script = ScriptTime(server)
            for _ in range(ROUNDS):
                for label, (case_base, headers) in cases.items():
                    with script.counting(label):
                        rates[label] += wrk(
                            case_base, seeded.user_path, {**headers, **extra}, share
                        )
            split = spread(off_log) + " | " + spread(log)
        off = rates.pop("auth off")
        ratios = ", ".join(f"{rate / off:.2f}" for rate in rates.values())
        script_usec = max(script.per_call(label) for label in rates)
        print(
            f"{worker_class:36} {healthz:9.0f} {off / ROUNDS:9.0f} "
            f"{rates['API key'] / ROUNDS:9.0f} {rates['developer JWT'] / ROUNDS:9.0f} "
            f"{rates['SDK token'] / ROUNDS:9.0f}   {ratios:>27}  {script_usec:13.1f}  {split}"
        )
    print(
        "\nrequests per second; Redis µs/call: the admission script's time per call under "
        "this load (`INFO commandstats`, the slowest credential kind); worker split: % of "
        "requests per worker (auth off | auth on)"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
