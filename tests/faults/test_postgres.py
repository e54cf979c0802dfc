"""PostgreSQL restarted, then stopped for 10 s, under mixed load through gunicorn."""

import time

import psycopg
import pytest
import requests

from tests.faults.outage_load import MixedLoad
from tests.workers.servers import wait_for

pytestmark = pytest.mark.slow

OUTAGE_SECONDS = 10


def readiness(base: str) -> requests.Response:
    return requests.get(base + "/readyz", timeout=10)


def stored_external_ids(database_url: str) -> set[str]:
    with psycopg.connect(database_url) as connection:
        rows = connection.execute("SELECT external_id FROM workouts").fetchall()
    return {external_id for (external_id,) in rows}


def test_postgresql_restarted_and_stopped_under_load_answers_503_then_recovers(
    postgres_cluster, seeded, served
):
    with MixedLoad(served.base, seeded.api_key, seeded.user_id) as load:
        time.sleep(2)
        load.phase = "restart"
        postgres_cluster.restart()
        time.sleep(2)

        load.phase = "down"
        postgres_cluster.stop()
        stopped = time.monotonic()
        not_ready = readiness(served.base)
        time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - stopped)))
        postgres_cluster.start()

        load.phase = "after"
        started = time.monotonic()
        wait_for(
            lambda: readiness(served.base).json().get("status") == "ready",
            seconds=30,
            interval=0.2,
            what="/readyz ready again",
        )
        ready_after = time.monotonic() - started
        time.sleep(2)

    tally = load.tally
    print(f"PostgreSQL faults: {dict(tally.statuses)}, no answer: {dict(tally.connection_errors)}")
    print(f"/readyz ready {ready_after:.1f} s after PostgreSQL started again")
    assert tally.problems == []
    assert tally.total() > 200
    assert tally.count("down", 503) > 0
    assert tally.count("after", 200) > 0
    assert not tally.connection_errors
    assert not_ready.status_code == 503
    assert not_ready.headers["Retry-After"] == "5"
    assert not_ready.json()["checks"] == {
        "database": "unavailable",
        "redis": "ok",
        "rate_limits": "redis",
    }
    assert readiness(served.base).json()["checks"]["rate_limits"] == "redis"
    missing = tally.written - stored_external_ids(seeded.database_url)
    assert tally.written
    assert missing == set()

    log = served.app_log.read_text()
    print(*(line for line in log.splitlines() if "Database unavailable" in line), sep="\n")
    started_lines = log.count("Database unavailable (")
    summaries = log.count("Database unavailable for ")
    # At most one line per worker per outage (two workers, two outages), one summary each.
    assert 1 <= started_lines <= 4, log[-3000:]
    assert summaries == started_lines, log[-3000:]
    assert "Traceback" not in log, log[-3000:]
