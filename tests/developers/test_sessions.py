"""The developer's sessions: list them, end one, end all others."""

from app.developers import services
from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, login
from tests.factories import bearer, session_is_dead

ENVELOPE = {"items", "total", "page", "limit", "pages", "has_next", "has_prev"}


def sessions(client, headers, **query):
    response = client.get("/api/v1/auth/sessions", headers=headers, query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_lists_live_sessions_newest_first_with_client_and_current(client, admin, admin_tokens):
    headers = bearer(admin_tokens["access_token"])
    phone = client.post(
        "/api/v1/auth/login",
        data={"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD},
        headers={"User-Agent": "Phone/1.0"},
        environ_base={"REMOTE_ADDR": "203.0.113.7"},
    ).get_json()

    page = sessions(client, headers)

    assert set(page) == ENVELOPE
    assert page["total"] == 2
    newest, mine = page["items"]
    assert set(newest) == {"id", "created_at", "last_used_at", "ip", "user_agent", "current"}
    assert (newest["ip"], newest["user_agent"], newest["current"]) == (
        "203.0.113.7",
        "Phone/1.0",
        False,
    )
    assert newest["last_used_at"] is None
    assert mine["current"] is True
    assert mine["ip"] == "127.0.0.1"

    refreshed = client.post(
        "/api/v1/auth/refresh",
        json={"refresh_token": phone["refresh_token"]},
        environ_base={"REMOTE_ADDR": "198.51.100.9"},
    )
    assert refreshed.status_code == 200
    after = sessions(client, headers)["items"][0]
    assert after["id"] == newest["id"]
    assert after["created_at"] == newest["created_at"]
    assert after["last_used_at"] >= newest["created_at"]
    assert after["ip"] == "198.51.100.9"


def test_sessions_paginate(client, admin, admin_headers):
    for _ in range(2):
        login(client, ADMIN_EMAIL, ADMIN_PASSWORD)

    page = sessions(client, admin_headers, page=2, limit=2)

    assert (page["total"], page["pages"], page["has_prev"], page["has_next"]) == (3, 2, True, False)
    assert len(page["items"]) == 1


def test_delete_one_session_kills_its_tokens_and_hides_it(client, admin, admin_headers):
    other = login(client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()
    target = next(s for s in sessions(client, admin_headers)["items"] if not s["current"])

    response = client.delete(f"/api/v1/auth/sessions/{target['id']}", headers=admin_headers)

    assert response.status_code == 204
    assert session_is_dead(client, other)
    assert [s["id"] for s in sessions(client, admin_headers)["items"]] != [target["id"]]
    assert sessions(client, admin_headers)["total"] == 1
    again = client.delete(f"/api/v1/auth/sessions/{target['id']}", headers=admin_headers)
    assert again.status_code == 404


def test_another_developers_session_is_404_and_survives(app, client, admin, admin_headers):
    with app.app_context():
        services.create_developer("grace@example.com", "another long passphrase")
    grace = login(client, "grace@example.com", "another long passphrase").get_json()
    grace_headers = bearer(grace["access_token"])
    [grace_session] = sessions(client, grace_headers)["items"]

    for session_id in (grace_session["id"], "not-a-uuid"):
        response = client.delete(f"/api/v1/auth/sessions/{session_id}", headers=admin_headers)
        assert response.status_code == 404
        assert response.get_json() == {"detail": "Session not found."}
    assert client.get("/api/v1/auth/me", headers=grace_headers).status_code == 200


def test_delete_all_sessions_keeps_only_the_callers(client, admin, admin_tokens):
    headers = bearer(admin_tokens["access_token"])
    others = [login(client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json() for _ in range(2)]

    response = client.delete("/api/v1/auth/sessions", headers=headers)

    assert response.status_code == 204
    assert all(session_is_dead(client, other) for other in others)
    page = sessions(client, headers)
    assert [s["current"] for s in page["items"]] == [True]
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200


def test_session_endpoints_refuse_api_keys(client, admin, api_key_headers):
    assert client.get("/api/v1/auth/sessions", headers=api_key_headers).status_code == 403
    assert client.delete("/api/v1/auth/sessions", headers=api_key_headers).status_code == 403
