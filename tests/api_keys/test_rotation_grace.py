"""Rotation with a grace period: the previous secret keeps working until then, on every
worker and after Redis loses its data; a second rotation or a deletion ends it at once.
Without a body a rotation still invalidates the old secret at once (the public docs)."""

import time
from datetime import UTC, datetime, timedelta

import pytest

from app.alerts.models import Alert
from app.api_keys.tasks import flush_last_used
from app.audit.models import AuditEvent
from app.extensions import db
from tests.support.auth import bearer

KEYS = "/api/v1/api-keys"
USERS = "/api/v1/users"


def rotate(client, admin_headers, key_id: str, **body):
    return client.post(f"{KEYS}/{key_id}/rotate", json=body or None, headers=admin_headers)


def status(client, secret: str) -> int:
    return client.get(USERS, headers=bearer(secret)).status_code


def test_without_a_grace_period_the_old_secret_stops_at_once(client, admin_headers, api_key):
    assert status(client, api_key["key"]) == 200

    rotated = rotate(client, admin_headers, api_key["id"]).get_json()

    assert status(client, api_key["key"]) == 401
    assert status(client, rotated["key"]) == 200
    assert rotated["previous_key_expires_at"] is None


def test_during_the_grace_period_both_secrets_work_everywhere(
    app, client, make_app, admin_headers, api_key
):
    other_worker = make_app().test_client()
    assert status(client, api_key["key"]) == 200
    assert status(other_worker, api_key["key"]) == 200

    response = rotate(client, admin_headers, api_key["id"], grace_seconds=3600)
    rotated = response.get_json()

    assert response.status_code == 200
    assert rotated["previous_key_expires_at"] is not None
    for worker in (client, other_worker):
        assert status(worker, api_key["key"]) == 200
        assert status(worker, rotated["key"]) == 200
    # Redis loses everything: the grace is in PostgreSQL, so nothing changes.
    with app.app_context():
        app.extensions["owa_store"].client.flushdb()
    assert status(other_worker, api_key["key"]) == 200
    with app.app_context():
        audit = db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.action == "api_key.rotated")
        ).one()
        alert = db.session.scalars(db.select(Alert).where(Alert.event == "api_key.rotated")).one()
    assert audit.details["previous_key_expires_at"].startswith(
        rotated["previous_key_expires_at"][:19]
    )
    assert "keeps working until" in alert.payload["summary"]


@pytest.mark.parametrize("redis_loses_its_data", [False, True], ids=["kept", "flushed"])
def test_the_old_secret_stops_when_the_grace_period_ends(
    app, client, admin_headers, api_key, redis_loses_its_data
):
    assert status(client, api_key["key"]) == 200  # cached without an expiry

    rotated = rotate(client, admin_headers, api_key["id"], grace_seconds=1).get_json()
    assert status(client, api_key["key"]) == 200
    time.sleep(2.2)
    if redis_loses_its_data:
        with app.app_context():
            app.extensions["owa_store"].client.flushdb()

    assert status(client, api_key["key"]) == 401
    assert status(client, rotated["key"]) == 200


@pytest.mark.parametrize("end", ["rotate again", "delete"])
def test_a_second_rotation_or_a_deletion_ends_the_grace_at_once(
    client, admin_headers, api_key, end
):
    first = rotate(client, admin_headers, api_key["id"], grace_seconds=3600).get_json()
    assert status(client, api_key["key"]) == 200

    if end == "rotate again":
        second = rotate(client, admin_headers, api_key["id"], grace_seconds=3600).get_json()
        assert status(client, api_key["key"]) == 401
        assert status(client, first["key"]) == 200  # the second rotation's own grace
        assert status(client, second["key"]) == 200
    else:
        assert client.delete(f"{KEYS}/{api_key['id']}", headers=admin_headers).status_code == 204
        assert status(client, api_key["key"]) == 401
        assert status(client, first["key"]) == 401


@pytest.mark.parametrize("grace", [-1, 86_401, "60", 1.5, None])
def test_a_grace_period_out_of_range_or_not_an_integer_is_422(
    client, admin_headers, api_key, grace
):
    response = rotate(client, admin_headers, api_key["id"], grace_seconds=grace)

    assert response.status_code == 422
    assert "grace_seconds" in response.get_json()["detail"]
    assert status(client, api_key["key"]) == 200


@pytest.mark.parametrize("redis_loses_its_data", [False, True], ids=["kept", "flushed"])
def test_a_grace_period_never_outlives_the_keys_own_expiry(
    app, client, admin_headers, redis_loses_its_data
):
    # On a whole second: an old secret's end rounded up in Redis would show.
    expires_at = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=3)
    created = client.post(
        KEYS, json={"name": "Expiring", "expires_at": expires_at.isoformat()}, headers=admin_headers
    ).get_json()
    assert status(client, created["key"]) == 200  # cached with the key's expiry

    rotated = rotate(client, admin_headers, created["id"], grace_seconds=3600).get_json()

    assert rotated["previous_key_expires_at"] == rotated["expires_at"]
    with app.app_context():
        alert = db.session.scalars(db.select(Alert).where(Alert.event == "api_key.rotated")).one()
    assert f"keeps working until {expires_at.isoformat()}" in alert.payload["summary"]
    assert status(client, created["key"]) == 200
    time.sleep(max(0.0, expires_at.timestamp() - time.time()) + 0.2)
    if redis_loses_its_data:
        with app.app_context():
            app.extensions["owa_store"].client.flushdb()

    assert status(client, created["key"]) == 401


def test_uses_of_the_previous_secret_during_the_grace_show_as_the_keys_last_use(
    app, client, admin_headers, api_key
):
    """Whoever rotated wants to know whether the old secret is still sent."""
    rotate(client, admin_headers, api_key["id"], grace_seconds=3600)
    old_secret_use = client.get(
        USERS, headers=bearer(api_key["key"]), environ_base={"REMOTE_ADDR": "192.0.2.44"}
    )
    assert old_secret_use.status_code == 200

    with app.app_context():
        assert flush_last_used.delay().get() == 1

    [listed] = [
        k for k in client.get(KEYS, headers=admin_headers).get_json() if k["id"] == api_key["id"]
    ]
    assert listed["last_used_ip"] == "192.0.2.44"
    assert listed["last_used_at"] is not None
