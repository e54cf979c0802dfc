"""Rotation and deletion take effect at once on every gunicorn worker."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support.auth import bearer, developer_token
from tests.support.environment import server_settings
from tests.support.servers import gunicorn, worker_pids


def statuses(base: str, key: str, count: int = 40) -> set[int]:
    """Many concurrent requests, so that every worker answers some of them."""

    def one(_):
        return requests.get(base + "/api/v1/users", headers=bearer(key), timeout=10).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        return set(pool.map(one, range(count)))


@pytest.mark.slow
def test_rotation_and_deletion_reach_every_worker_at_once(database_url, redis_url, admin, tmp_path):
    config = server_settings(database_url, redis_url)
    with gunicorn(config, tmp_path, workers=2) as (base, access_log):
        token = developer_token(base)
        admin_headers = bearer(token)
        created = requests.post(
            base + "/api/v1/api-keys", json={"name": "srv"}, headers=admin_headers, timeout=10
        ).json()
        assert statuses(base, created["key"]) == {200}

        rotated = requests.post(
            f"{base}/api/v1/api-keys/{created['id']}/rotate", headers=admin_headers, timeout=10
        ).json()
        assert statuses(base, created["key"]) == {401}
        assert statuses(base, rotated["key"]) == {200}

        requests.delete(
            f"{base}/api/v1/api-keys/{created['id']}", headers=admin_headers, timeout=10
        )
        assert statuses(base, rotated["key"]) == {401}

        logout = requests.post(base + "/api/v1/auth/logout", headers=admin_headers, timeout=10)
        assert logout.status_code == 204
        me = [
            requests.get(base + "/api/v1/auth/me", headers=admin_headers, timeout=10).status_code
            for _ in range(20)
        ]
        assert set(me) == {401}

    assert len(worker_pids(access_log)) == 2


@pytest.mark.slow
def test_a_narrowed_key_is_held_to_it_by_every_worker_at_once(
    database_url, redis_url, admin, tmp_path
):
    config = server_settings(database_url, redis_url)
    with gunicorn(config, tmp_path, workers=2) as (base, access_log):
        admin_headers = bearer(developer_token(base))
        created = requests.post(
            base + "/api/v1/api-keys", json={"name": "srv"}, headers=admin_headers, timeout=10
        ).json()
        key_url = f"{base}/api/v1/api-keys/{created['id']}"
        assert statuses(base, created["key"]) == {200}  # both workers have it cached

        def update(fields: dict) -> None:
            response = requests.patch(key_url, json=fields, headers=admin_headers, timeout=10)
            assert response.status_code == 200, response.text

        update({"scopes": ["data:read"]})
        assert statuses(base, created["key"]) == {403}
        update({"scopes": ["users:read"], "allowed_ips": ["203.0.113.0/24"]})
        assert statuses(base, created["key"]) == {403}
        update({"allowed_ips": ["127.0.0.1"]})
        assert statuses(base, created["key"]) == {200}

    assert len(worker_pids(access_log)) == 2
