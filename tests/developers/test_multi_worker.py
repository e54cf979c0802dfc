"""Password changes and ended sessions reach every gunicorn worker at once."""

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.conftest import ADMIN_PASSWORD
from tests.servers import developer_login, gunicorn, server_config, worker_pids


def me_statuses(base: str, access_token: str, count: int = 40) -> set[int]:
    """Many concurrent requests, so that every worker answers some of them."""

    def one(_):
        return requests.get(
            base + "/api/v1/auth/me",
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=10,
        ).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        return set(pool.map(one, range(count)))


@pytest.mark.slow
def test_change_password_kills_other_sessions_on_every_worker_at_once(
    database_url, redis_url, admin, tmp_path
):
    # Rejected tokens count per IP; this test sends many from one address.
    config = server_config(database_url, redis_url, RATELIMIT_PER_IP="10000 per minute")
    with gunicorn(config, tmp_path, workers=2) as (base, log):
        mine, other, third = developer_login(base), developer_login(base), developer_login(base)
        assert me_statuses(base, other["access_token"]) == {200}

        changed = requests.post(
            base + "/api/v1/auth/change-password",
            json={"current_password": ADMIN_PASSWORD, "new_password": "a new passphrase here"},
            headers={"Authorization": f"Bearer {mine['access_token']}"},
            timeout=10,
        )

        assert changed.status_code == 204
        assert me_statuses(base, other["access_token"]) == {401}
        assert me_statuses(base, third["access_token"]) == {401}
        assert me_statuses(base, mine["access_token"]) == {200}

        # Ending one session by id is just as immediate.
        fourth = developer_login(base, "a new passphrase here")
        sessions = requests.get(
            base + "/api/v1/auth/sessions",
            headers={"Authorization": f"Bearer {mine['access_token']}"},
            timeout=10,
        ).json()["items"]
        fourth_session = next(s for s in sessions if not s["current"])
        ended = requests.delete(
            f"{base}/api/v1/auth/sessions/{fourth_session['id']}",
            headers={"Authorization": f"Bearer {mine['access_token']}"},
            timeout=10,
        )
        assert ended.status_code == 204
        assert me_statuses(base, fourth["access_token"]) == {401}

    assert len(worker_pids(log)) == 2
