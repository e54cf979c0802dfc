"""Revocations decided while Redis is down reach Redis when it comes back, even when it
comes back WITH its old data (which says the subject is loaded and not revoked)."""

import pytest

from tests.support.auth import login
from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD

ME = "/api/v1/auth/me"


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.slow
@pytest.mark.parametrize("revoke", ["logout", "reuse"])
def test_revoked_during_an_outage_stays_refused_when_redis_returns_with_its_data(
    make_app, admin, own_redis, revoke
):
    worker_a = make_app(REDIS_URL=own_redis.url).test_client()
    worker_b = make_app(REDIS_URL=own_redis.url).test_client()
    first = login(worker_a, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()
    # Both workers have loaded the developer's (empty) revocations into Redis.
    for worker in (worker_a, worker_b):
        assert worker.get(ME, headers=bearer(first["access_token"])).status_code == 200
    own_redis.save()
    own_redis.kill()

    if revoke == "logout":
        answer = worker_a.post("/api/v1/auth/logout", headers=bearer(first["access_token"]))
        assert answer.status_code == 204
    else:
        second = worker_a.post(
            "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
        )
        assert second.status_code == 200
        answer = worker_a.post(
            "/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]}
        )
        assert answer.status_code == 401
    assert worker_a.get(ME, headers=bearer(first["access_token"])).status_code == 401

    own_redis.start()  # with the snapshot: loaded, and without the new revocation

    for worker in (worker_b, worker_a, worker_b):
        refused = worker.get(ME, headers=bearer(first["access_token"]))
        assert refused.status_code == 401
        assert refused.get_json() == {"detail": "Token has been revoked."}
    fresh = login(worker_b, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()
    assert worker_b.get(ME, headers=bearer(fresh["access_token"])).status_code == 200


@pytest.mark.slow
def test_revoked_after_a_snapshot_stays_refused_when_redis_returns_with_that_snapshot(
    make_app, admin, own_redis
):
    worker_a = make_app(REDIS_URL=own_redis.url).test_client()
    worker_b = make_app(REDIS_URL=own_redis.url).test_client()
    tokens = login(worker_a, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()
    headers = bearer(tokens["access_token"])
    for worker in (worker_a, worker_b):
        assert worker.get(ME, headers=headers).status_code == 200
    own_redis.save()  # loaded, not revoked
    assert worker_a.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert worker_b.get(ME, headers=headers).status_code == 401  # pushed to Redis
    own_redis.kill()

    own_redis.start()  # with the snapshot taken before the push

    for worker in (worker_b, worker_a, make_app(REDIS_URL=own_redis.url).test_client()):
        refused = worker.get(ME, headers=headers)
        assert refused.status_code == 401
        assert refused.get_json() == {"detail": "Token has been revoked."}
