"""The team: list developers, remove (deactivate) one."""

import time

import pytest
from sqlalchemy import select

from app.alerts.models import Alert
from app.developers import services
from app.extensions import db
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, login
from tests.factories import bearer, session_is_dead

GRACE = ("grace@example.com", "grace's own passphrase")
ENVELOPE = {"items", "total", "page", "limit", "pages", "has_next", "has_prev"}


@pytest.fixture
def grace(app):
    with app.app_context():
        return str(services.create_developer(*GRACE, "Grace", "Hopper").id)


def test_lists_active_developers_with_last_login(client, admin, admin_headers, grace):
    page = client.get("/api/v1/developers", headers=admin_headers).get_json()

    assert set(page) == ENVELOPE
    assert page["total"] == 2
    first, second = page["items"]
    assert set(first) == {"id", "email", "first_name", "last_name", "created_at", "last_login_at"}
    assert (first["email"], first["last_login_at"] is not None) == (ADMIN_EMAIL, True)
    assert (second["email"], second["last_login_at"]) == (GRACE[0], None)


def test_removing_a_developer_ends_their_sessions_keeps_their_keys_and_alerts_the_team(
    app, client, admin, admin_headers, grace
):
    grace_tokens = login(client, *GRACE).get_json()
    grace_headers = bearer(grace_tokens["access_token"])
    key = client.post("/api/v1/api-keys", json={"name": "grace's"}, headers=grace_headers)
    key = key.get_json()

    response = client.delete(f"/api/v1/developers/{grace}", headers=admin_headers)

    assert response.status_code == 204
    assert session_is_dead(client, grace_tokens)
    assert login(client, *GRACE).status_code == 401
    assert client.get("/api/v1/users", headers=bearer(key["key"])).status_code == 200
    listed = client.get("/api/v1/developers", headers=admin_headers).get_json()
    assert [d["email"] for d in listed["items"]] == [ADMIN_EMAIL]
    events = client.get(
        "/api/v1/audit-events?action=developer.removed", headers=admin_headers
    ).get_json()
    assert [e["target_id"] for e in events["data"]] == [grace]

    # Alerts about grace's key now reach whoever removed her.
    client.post(f"/api/v1/api-keys/{key['id']}/rotate", headers=admin_headers)
    with app.app_context():
        alerts = {a.event: a for a in db.session.scalars(select(Alert))}
    assert alerts["developer.removed"].recipients == [ADMIN_EMAIL]
    assert alerts["api_key.rotated"].recipients == [ADMIN_EMAIL]


def test_removing_yourself_is_409(client, admin, admin_headers, grace):
    response = client.delete(f"/api/v1/developers/{admin['id']}", headers=admin_headers)
    assert response.status_code == 409
    assert response.get_json() == {"detail": "You cannot remove yourself; ask another developer."}


def test_unknown_or_already_removed_developer_is_404(client, admin, admin_headers, grace):
    assert client.delete(f"/api/v1/developers/{grace}", headers=admin_headers).status_code == 204
    for developer_id in (grace, "00000000-0000-0000-0000-000000000000"):
        response = client.delete(f"/api/v1/developers/{developer_id}", headers=admin_headers)
        assert response.status_code == 404


def test_removal_needs_a_fresh_session(make_app, admin, grace):
    client = make_app(REAUTH_MAX_AGE_SECONDS=1).test_client()
    headers = bearer(login(client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()["access_token"])
    time.sleep(1.5)

    stale = client.delete(f"/api/v1/developers/{grace}", headers=headers)

    assert stale.status_code == 403
    assert stale.get_json() == {"detail": "Please confirm your password."}
    assert login(client, *GRACE).status_code == 200
    client.post("/api/v1/auth/confirm-password", json={"password": ADMIN_PASSWORD}, headers=headers)
    assert client.delete(f"/api/v1/developers/{grace}", headers=headers).status_code == 204
