"""The per-key limit is exact across gunicorn workers: one moving window in Redis."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.ratelimit.helpers import RATE_LIMIT_HEADERS
from tests.support.auth import bearer, developer_token
from tests.support.environment import server_settings
from tests.support.servers import gunicorn, worker_pids

LIMIT = 60


def _hammer(base: str, key: str, count: int) -> list[requests.Response]:
    def one(_):
        return requests.get(base + "/api/v1/users", headers=bearer(key), timeout=30)

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, range(count)))


@pytest.mark.slow
def test_api_key_limit_is_exact_across_two_workers(database_url, redis_url, admin, tmp_path):
    config = server_settings(database_url, redis_url, RATELIMIT_API_KEY=f"{LIMIT} per minute")
    with gunicorn(config, tmp_path, workers=2) as (base, access_log):
        token = developer_token(base)
        keys = [
            requests.post(
                base + "/api/v1/api-keys",
                json={"name": name},
                headers=bearer(token),
                timeout=10,
            ).json()["key"]
            for name in ("busy", "quiet")
        ]

        responses = _hammer(base, keys[0], LIMIT * 2 + 30)
        quiet = requests.get(base + "/api/v1/users", headers=bearer(keys[1]), timeout=10)

    admitted = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert len(admitted) == LIMIT
    assert len(refused) == len(responses) - LIMIT
    assert sorted(int(r.headers["X-RateLimit-Remaining"]) for r in admitted) == list(range(LIMIT))
    assert all(set(RATE_LIMIT_HEADERS) <= set(r.headers) for r in responses)
    assert not any("Retry-After" in r.headers for r in admitted)
    assert all(1 <= int(r.headers["Retry-After"]) <= 60 for r in refused)
    assert {r.json()["detail"] for r in refused} == {f"Rate limit exceeded: {LIMIT} per 1 minute"}
    assert quiet.status_code == 200
    assert quiet.headers["X-RateLimit-Remaining"] == str(LIMIT - 1)
    assert len(worker_pids(access_log)) == 2
