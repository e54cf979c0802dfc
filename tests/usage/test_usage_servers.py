"""Usage counts are exact across gunicorn workers: flushed by each worker's timer, and
by a worker that exits before its next flush."""

import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from app.usage import services
from app.usage.schemas import UsageQuerySchema
from tests.support.auth import bearer, developer_token
from tests.support.environment import REPO, server_settings
from tests.support.servers import gunicorn, worker_pids

pytestmark = pytest.mark.slow

BURST = 300


def burst(base: str, key: str, count: int = BURST) -> list[int]:
    def one(_):
        return requests.get(base + "/api/v1/users", headers=bearer(key), timeout=10).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(count)))


def create_key(base: str, headers: dict) -> dict:
    return requests.post(
        base + "/api/v1/api-keys", json={"name": "burst"}, headers=headers, timeout=10
    ).json()


def totals(base: str, headers: dict, key_id: str, granularity: str) -> dict:
    response = requests.get(
        f"{base}/api/v1/api-keys/{key_id}/usage",
        params={"granularity": granularity},
        headers=headers,
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["totals"]


def test_a_burst_across_two_workers_is_counted_exactly(
    app, admin, database_url, redis_url, tmp_path
):
    config = server_settings(database_url, redis_url, USAGE_FLUSH_SECONDS="1")
    with gunicorn(config, tmp_path, workers=2) as (base, access_log):
        headers = bearer(developer_token(base))
        key = create_key(base, headers)
        assert set(burst(base, key["key"])) == {200}
        # Each worker's idle timer flushes within 2 s; wait a little longer.
        time.sleep(4)
        from_redis = totals(base, headers, key["id"], "minute")
        hourly_before_rollup = totals(base, headers, key["id"], "hour")

        with app.app_context():
            # Every minute of the burst counts as finished an hour later.
            assert services.roll_up(time.time() + 3600) == BURST
            assert services.roll_up(time.time() + 3600) == 0
        hourly = totals(base, headers, key["id"], "hour")
        daily = totals(base, headers, key["id"], "day")

    assert len(worker_pids(access_log)) == 2
    exact = {"2xx": BURST, "4xx": 0, "429": 0, "5xx": 0}
    assert from_redis == hourly_before_rollup == hourly == daily == exact


def test_a_worker_flushes_what_it_counted_when_it_exits(
    app, admin, database_url, redis_url, tmp_path
):
    # No flush can come from the interval: only the exit sends the counts.
    config = server_settings(database_url, redis_url, USAGE_FLUSH_SECONDS="3600")
    with gunicorn(config, tmp_path, workers=2) as (base, _):
        headers = bearer(developer_token(base))
        key = create_key(base, headers)
        assert set(burst(base, key["key"], 100)) == {200}
        before_exit = totals(base, headers, key["id"], "minute")

    with app.app_context():
        query = UsageQuerySchema().load({"granularity": "minute"})
        after_exit = services.key_usage(key["id"], query)["totals"]

    assert before_exit == {"2xx": 0, "4xx": 0, "429": 0, "5xx": 0}
    assert after_exit == {"2xx": 100, "4xx": 0, "429": 0, "5xx": 0}


IDLE_PROCESS = """
import time
from app import create_app
from app.usage.counter import start_flushing
start_flushing(create_app({"DATABASE_URL": "sqlite://", "USAGE_FLUSH_SECONDS": 0}))
started = time.process_time()
time.sleep(2)
print(time.process_time() - started)
"""


def test_an_idle_process_flushing_after_every_response_does_not_spin():
    """`USAGE_FLUSH_SECONDS=0` flushes after every response; the idle timer still sleeps."""
    idle = subprocess.run(
        [sys.executable, "-c", IDLE_PROCESS],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    # Two idle seconds cost next to no CPU time; a spinning timer takes a core.
    assert float(idle.stdout) < 0.3
