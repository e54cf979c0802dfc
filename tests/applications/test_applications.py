import uuid

import pytest
from sqlalchemy import event as sqlalchemy_events
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.core.secrets import is_well_formed
from app.extensions import db
from tests.support.apps import all_rows_text
from tests.support.auth import bearer
from tests.support.factories import create_application, create_user, mint_with_app

APPLICATIONS = "/api/v1/applications"


def test_create_returns_the_seed_fields_and_shows_the_secret_once(app, client, admin_headers):
    response = client.post(APPLICATIONS, json={"name": "My Mobile App"}, headers=admin_headers)

    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"id", "app_id", "name", "app_secret", "created_at"}
    assert uuid.UUID(body["id"])
    assert body["app_id"].startswith("app_")
    assert body["name"] == "My Mobile App"
    assert is_well_formed(body["app_secret"], "secret_")
    assert body["created_at"].endswith("Z")

    shown_again = client.get(f"{APPLICATIONS}/{body['id']}", headers=admin_headers).get_json()
    assert shown_again == {k: v for k, v in body.items() if k != "app_secret"}
    assert body["app_secret"] not in all_rows_text(app)
    assert body["app_secret"] not in str(client.get(APPLICATIONS, headers=admin_headers).json)


def test_list_is_paged_newest_first(client, admin_headers):
    ids = [create_application(client, admin_headers, f"app {i}")["id"] for i in range(3)]

    page = client.get(f"{APPLICATIONS}?limit=2", headers=admin_headers).get_json()

    assert [item["id"] for item in page["items"]] == ids[::-1][:2]
    assert (page["total"], page["has_next"]) == (3, True)
    assert all("app_secret" not in item for item in page["items"])


def test_a_page_past_the_bound_is_422_not_a_500(client, admin_headers):
    response = client.get(f"{APPLICATIONS}?page={10**22}", headers=admin_headers)

    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "page": ["Must be greater than or equal to 1 and less than or equal to 1000000."]
    }


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "x" * 101}, {"name": 3}])
def test_bad_names_are_422(client, admin_headers, body):
    response = client.post(APPLICATIONS, json=body, headers=admin_headers)

    assert response.status_code == 422
    assert response.get_json()["detail"].startswith("Validation error.")


def test_unknown_application_is_404(client, admin_headers):
    missing = f"{APPLICATIONS}/{uuid.uuid4()}"

    for response in (
        client.get(missing, headers=admin_headers),
        client.delete(missing, headers=admin_headers),
        client.post(f"{missing}/rotate-secret", headers=admin_headers),
    ):
        assert response.status_code == 404
        assert response.get_json() == {"detail": "Application not found."}


def test_rotation_replaces_the_secret(client, admin_headers):
    application = create_application(client, admin_headers)
    user = create_user(client, admin_headers)

    rotated = client.post(
        f"{APPLICATIONS}/{application['id']}/rotate-secret", headers=admin_headers
    )

    assert rotated.status_code == 200
    body = rotated.get_json()
    assert set(body) == {"id", "app_id", "name", "app_secret", "created_at"}
    assert body["app_id"] == application["app_id"]
    assert body["app_secret"] != application["app_secret"]
    old = mint_with_app(client, user["id"], application)
    assert old.status_code == 401
    assert old.get_json() == {"detail": "Invalid app credentials"}
    assert mint_with_app(client, user["id"], body).status_code == 200


def test_rotation_keeps_sessions_unless_asked_to_revoke_them(client, admin_headers):
    application = create_application(client, admin_headers)
    user = create_user(client, admin_headers)
    kept = mint_with_app(client, user["id"], application).get_json()
    url = f"{APPLICATIONS}/{application['id']}/rotate-secret"

    assert client.post(url, headers=admin_headers).status_code == 200
    own_user = client.get(f"/api/v1/users/{user['id']}", headers=bearer(kept["access_token"]))
    assert own_user.status_code == 200

    client.post(url, json={"revoke_sessions": True}, headers=admin_headers)
    revoked = client.get(f"/api/v1/users/{user['id']}", headers=bearer(kept["access_token"]))
    assert revoked.status_code == 401
    assert revoked.get_json() == {"detail": "Token has been revoked."}
    refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": kept["refresh_token"]})
    assert refresh.status_code == 401


def test_delete_kills_the_applications_sessions_and_credentials(client, admin_headers):
    application = create_application(client, admin_headers)
    other = create_application(client, admin_headers, "Other")
    user = create_user(client, admin_headers)
    doomed = mint_with_app(client, user["id"], application).get_json()
    survivor = mint_with_app(client, user["id"], other).get_json()

    response = client.delete(f"{APPLICATIONS}/{application['id']}", headers=admin_headers)

    assert response.status_code == 204
    assert response.data == b""
    refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": doomed["refresh_token"]})
    assert refresh.status_code == 401
    own_user = f"/api/v1/users/{user['id']}"
    assert client.get(own_user, headers=bearer(doomed["access_token"])).status_code == 401
    assert client.get(own_user, headers=bearer(survivor["access_token"])).status_code == 200
    assert mint_with_app(client, user["id"], application).status_code == 401
    assert client.get(f"{APPLICATIONS}/{application['id']}", headers=admin_headers).status_code == (
        404
    )


def test_every_change_is_audited_without_the_secret(client, admin, admin_headers):
    application = create_application(client, admin_headers)
    client.post(f"{APPLICATIONS}/{application['id']}/rotate-secret", headers=admin_headers)
    client.delete(f"{APPLICATIONS}/{application['id']}", headers=admin_headers)

    events = client.get(
        f"/api/v1/audit-events?target_id={application['id']}", headers=admin_headers
    ).json["data"]

    assert [e["action"] for e in events] == [
        "application.deleted",
        "application.secret_rotated",
        "application.created",
    ]
    for event in events:
        assert (event["actor_type"], event["actor_id"]) == ("developer", admin["id"])
        assert event["target_type"] == "application"
        assert event["details"]["app_id"] == application["app_id"]
        assert event["ip"] == "127.0.0.1"
    assert application["app_secret"] not in str(events)


def test_applications_need_a_developer_token(client, admin_headers):
    user = create_user(client, admin_headers)
    sdk = mint_with_app(client, user["id"], create_application(client, admin_headers)).json

    assert client.get(APPLICATIONS).status_code == 401
    forbidden = client.get(APPLICATIONS, headers=bearer(sdk["access_token"]))
    assert forbidden.status_code == 403
    assert forbidden.get_json() == {"detail": "SDK tokens cannot access this endpoint."}


def test_an_api_key_cannot_manage_applications(client, admin_headers, api_key_headers):
    application = create_application(client, admin_headers)
    one = f"{APPLICATIONS}/{application['id']}"

    for response in (
        client.get(APPLICATIONS, headers=api_key_headers),
        client.post(APPLICATIONS, json={"name": "x"}, headers=api_key_headers),
        client.get(one, headers=api_key_headers),
        client.post(f"{one}/rotate-secret", headers=api_key_headers),
        client.delete(one, headers=api_key_headers),
    ):
        assert response.status_code == 403
        assert response.get_json() == {"detail": "API keys cannot access this endpoint."}
    assert client.get(one, headers=admin_headers).status_code == 200


def test_a_rotation_answers_even_if_the_application_is_deleted_right_after(
    app, client, admin_headers
):
    """Fuzzing with two workers found this race: a delete committed by another worker
    right after the rotation's commit made the rotation reload a missing row (500)."""
    application = create_application(client, admin_headers)

    def delete_from_another_worker(session):
        with db.engine.begin() as other_worker:
            other_worker.execute(
                text("DELETE FROM applications WHERE id = :id"), {"id": application["id"]}
            )

    sqlalchemy_events.listen(Session, "after_commit", delete_from_another_worker, once=True)
    try:
        rotated = client.post(
            f"{APPLICATIONS}/{application['id']}/rotate-secret",
            json={"revoke_sessions": True},
            headers=admin_headers,
        )
    finally:
        if sqlalchemy_events.contains(Session, "after_commit", delete_from_another_worker):
            sqlalchemy_events.remove(Session, "after_commit", delete_from_another_worker)

    assert rotated.status_code == 200
    assert rotated.get_json()["app_id"] == application["app_id"]
    missing = client.get(f"{APPLICATIONS}/{application['id']}", headers=admin_headers)
    assert missing.status_code == 404
