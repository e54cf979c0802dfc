from tests.support.auth import bearer, login
from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD

EVENTS = "/api/v1/audit-events"


def test_logins_and_failures_are_audited_newest_first(client, admin, admin_headers):
    login(client, ADMIN_EMAIL, "wrong password")

    body = client.get(
        EVENTS, headers={**admin_headers}, environ_base={"REMOTE_ADDR": "198.51.100.7"}
    ).get_json()

    actions = [event["action"] for event in body["data"]]
    assert actions == ["developer.login_failed", "developer.login"]
    failed, succeeded = body["data"]
    assert failed["actor_type"] == "anonymous"
    assert failed["details"] == {"email": ADMIN_EMAIL}
    assert succeeded["actor_id"] == admin["id"]
    assert succeeded["target_id"] == admin["id"]
    assert succeeded["ip"] == "127.0.0.1"
    assert body["pagination"] == {"next_cursor": None, "has_more": False}


def test_audit_user_agent_is_recorded_and_passwords_never(client, admin):
    client.post(
        "/api/v1/auth/login",
        data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        headers={"User-Agent": "dashboard/1.0"},
    )
    token = login(client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()["access_token"]

    body = client.get(EVENTS, headers=bearer(token)).get_json()

    assert body["data"][-1]["user_agent"] == "dashboard/1.0"
    assert ADMIN_PASSWORD not in str(body)


def test_audit_cursor_walks_every_event_once(client, admin, admin_headers):
    for _ in range(4):
        login(client, ADMIN_EMAIL, "wrong")

    seen, cursor = [], None
    while True:
        query = f"?limit=2&cursor={cursor}" if cursor else "?limit=2"
        body = client.get(EVENTS + query, headers=admin_headers).get_json()
        seen += [event["id"] for event in body["data"]]
        cursor = body["pagination"]["next_cursor"]
        if not body["pagination"]["has_more"]:
            break

    assert len(seen) == len(set(seen)) == 5


def test_audit_filters_by_action_and_target(client, admin, admin_headers):
    login(client, ADMIN_EMAIL, "wrong")

    by_action = client.get(f"{EVENTS}?action=developer.login", headers=admin_headers).get_json()
    by_target = client.get(f"{EVENTS}?target_id={admin['id']}", headers=admin_headers).get_json()

    assert [e["action"] for e in by_action["data"]] == ["developer.login"]
    assert [e["action"] for e in by_target["data"]] == ["developer.login"]


def test_bad_cursor_is_422(client, admin_headers):
    response = client.get(f"{EVENTS}?cursor=%%%", headers=admin_headers)

    assert response.status_code == 422
    assert response.get_json() == {"detail": "Invalid cursor."}


def test_logout_is_audited(client, admin, admin_headers):
    client.post("/api/v1/auth/logout", headers=admin_headers)
    token = login(client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()["access_token"]

    body = client.get(EVENTS, headers=bearer(token)).get_json()

    assert "developer.logout" in [event["action"] for event in body["data"]]
