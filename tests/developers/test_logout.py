import pytest
import redis

from app.extensions import db
from tests.support.auth import bearer, login
from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.support.factories import session_is_dead


def test_logout_kills_the_access_and_refresh_token_at_once(client, admin_tokens):
    response = client.post("/api/v1/auth/logout", headers=bearer(admin_tokens["access_token"]))

    assert response.status_code == 204
    assert response.data == b""
    me = client.get("/api/v1/auth/me", headers=bearer(admin_tokens["access_token"]))
    assert me.status_code == 401
    assert me.get_json() == {"detail": "Token has been revoked."}
    again = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": admin_tokens["refresh_token"]}
    )
    assert again.status_code == 401
    assert again.get_json() == {"detail": "Refresh token has been revoked."}


def test_logout_is_seen_by_another_app_instance_through_redis(make_app, client, admin_tokens):
    other_worker = make_app().test_client()
    assert (
        other_worker.get(
            "/api/v1/auth/me", headers=bearer(admin_tokens["access_token"])
        ).status_code
        == 200
    )

    client.post("/api/v1/auth/logout", headers=bearer(admin_tokens["access_token"]))

    assert (
        other_worker.get(
            "/api/v1/auth/me", headers=bearer(admin_tokens["access_token"])
        ).status_code
        == 401
    )


def test_logout_with_a_refresh_token_also_revokes_that_family(client, admin, admin_tokens):
    other = login(client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()

    response = client.post(
        "/api/v1/auth/logout",
        headers=bearer(admin_tokens["access_token"]),
        json={"refresh_token": other["refresh_token"]},
    )

    assert response.status_code == 204
    assert session_is_dead(client, other)


def test_logout_leaves_other_sessions_working(client, admin, admin_tokens):
    other = login(client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()

    client.post("/api/v1/auth/logout", headers=bearer(admin_tokens["access_token"]))

    assert client.get("/api/v1/auth/me", headers=bearer(other["access_token"])).status_code == 200


def test_logout_with_someone_elses_refresh_token_is_refused_but_logs_the_caller_out(
    app, client, admin_tokens
):
    from app.developers import services

    with app.app_context():
        services.create_developer("other@example.com", "another password")
    other = login(client, "other@example.com", "another password").get_json()

    response = client.post(
        "/api/v1/auth/logout",
        headers=bearer(admin_tokens["access_token"]),
        json={"refresh_token": other["refresh_token"]},
    )

    assert response.status_code == 422
    assert response.get_json() == {"detail": "Refresh token does not belong to this session."}
    assert client.get("/api/v1/auth/me", headers=bearer(other["access_token"])).status_code == 200
    assert session_is_dead(client, admin_tokens)


def test_logout_without_token_is_401(client):
    response = client.post("/api/v1/auth/logout")

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Not authenticated."}


@pytest.fixture
def read_only_redis_url(redis_url):
    """The test Redis database through a real ACL user that may read but never write."""
    server = redis.Redis.from_url(redis_url)
    server.acl_setuser(
        "owa-test-read-only",
        enabled=True,
        nopass=True,
        keys=["*"],
        channels=["*"],
        categories=["+@read", "+@connection", "+@scripting", "-@write"],
    )
    server.close()
    return redis_url.replace("redis://", "redis://owa-test-read-only@")


def test_logout_that_cannot_write_to_redis_is_durable_and_pushed_later(
    app, make_app, client, admin_tokens, read_only_redis_url
):
    from app.refresh_tokens.models import RevocationRecord
    from app.refresh_tokens.tasks import push_revocations

    headers = bearer(admin_tokens["access_token"])
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    read_only = make_app(REDIS_URL=read_only_redis_url).test_client()

    response = read_only.post("/api/v1/auth/logout", headers=headers)

    assert response.status_code == 204
    assert read_only.get("/api/v1/auth/me", headers=headers).status_code == 401
    with app.app_context():
        assert db.session.query(RevocationRecord).count() == 2  # the token and its session
    beat = make_app()  # the periodic task runs on the newest app's Celery
    assert push_revocations.apply().get() == 2
    with app.app_context():
        # Kept, pushed, until they expire: a Redis restored from an older snapshot gets them again.
        assert db.session.query(RevocationRecord).filter_by(pushed=False).count() == 0
        assert db.session.query(RevocationRecord).count() == 2
    refused = client.get("/api/v1/auth/me", headers=headers)
    assert refused.status_code == 401
    assert refused.get_json() == {"detail": "Token has been revoked."}
    assert beat.test_client().get("/api/v1/auth/me", headers=headers).status_code == 401
