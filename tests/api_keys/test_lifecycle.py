import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.support.apps import all_rows_text
from tests.support.auth import bearer

KEYS = "/api/v1/api-keys"
BASE62 = "[0-9A-Za-z]"


def test_create_returns_the_seed_fields_and_the_key_once(client, admin, admin_headers):
    response = client.post(KEYS, json={"name": "Production Server"}, headers=admin_headers)

    assert response.status_code == 201
    body = response.get_json()
    assert {"id", "key", "name", "created_at", "last_used_at"} <= set(body)
    assert {"prefix", "environment", "expires_at", "created_by", "rotated_at"} <= set(body)
    assert re.fullmatch(f"key_{BASE62}{{16}}", body["id"])
    assert re.fullmatch(f"ow_live_{BASE62}{{38}}", body["key"])
    assert body["name"] == "Production Server"
    assert body["last_used_at"] is None
    assert body["environment"] == "live"
    assert body["created_by"] == admin["id"]
    assert body["key"].startswith(body["prefix"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", body["created_at"])


def test_test_environment_keys(client, admin_headers):
    body = client.post(
        KEYS, json={"name": "CI", "environment": "test"}, headers=admin_headers
    ).get_json()

    assert body["key"].startswith("ow_test_")
    assert body["environment"] == "test"


def test_list_is_newest_first_and_never_shows_the_secret(client, admin_headers):
    first = client.post(KEYS, json={"name": "one"}, headers=admin_headers).get_json()
    second = client.post(KEYS, json={"name": "two"}, headers=admin_headers).get_json()

    response = client.get(KEYS, headers=admin_headers)

    assert response.status_code == 200
    listed = response.get_json()
    assert [k["id"] for k in listed] == [second["id"], first["id"]]
    assert all("key" not in k for k in listed)
    assert first["key"] not in response.get_data(as_text=True)
    single = client.get(f"{KEYS}/{first['id']}", headers=admin_headers).get_json()
    assert "key" not in single
    assert single["prefix"] == first["prefix"]


def test_rename(client, admin_headers, api_key):
    response = client.patch(
        f"{KEYS}/{api_key['id']}",
        json={"name": "Production Server - Updated"},
        headers=admin_headers,
    )

    assert response.status_code == 200
    assert response.get_json()["name"] == "Production Server - Updated"
    assert "key" not in response.get_json()


@pytest.mark.parametrize(
    "body",
    [{"name": ""}, {"name": "x" * 101}, {}, {"name": None}],
    ids=["empty", "long", "missing", "null"],
)
def test_bad_names_are_422(client, admin_headers, api_key, body):
    create = client.post(KEYS, json=body, headers=admin_headers)
    rename = client.patch(f"{KEYS}/{api_key['id']}", json=body, headers=admin_headers)

    assert create.status_code == 422
    assert rename.status_code == 422
    assert "name" in create.get_json()["errors"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "environment": "prod"},
        {"name": "x", "expires_at": "2020-01-01T00:00:00Z"},
        {"name": "x", "expires_at": "2099-01-01T00:00:00"},
        {"name": "x", "expires_at": "soon"},
    ],
    ids=["environment", "past-expiry", "naive-expiry", "garbage-expiry"],
)
def test_bad_options_are_422(client, admin_headers, body):
    assert client.post(KEYS, json=body, headers=admin_headers).status_code == 422


@pytest.mark.parametrize("method", ["get", "patch", "delete", "post"])
@pytest.mark.parametrize(
    "key_id",
    ["key_doesnotexist", "key_%00", "key_%ED%A0%80"],
    ids=["unknown", "nul", "invalid-utf8"],
)
def test_unknown_id_is_404(client, admin_headers, method, key_id):
    path = f"{KEYS}/{key_id}" + ("/rotate" if method == "post" else "")

    body = {"grace_seconds": 0} if method == "post" else {"name": "n"}
    response = getattr(client, method)(path, headers=admin_headers, json=body)

    assert response.status_code == 404
    assert response.get_json() == {"detail": "API key not found."}


def test_rotate_keeps_id_and_name_and_kills_the_old_secret(client, admin_headers, api_key):
    old = bearer(api_key["key"])
    assert client.get("/api/v1/users", headers=old).status_code == 200

    response = client.post(f"{KEYS}/{api_key['id']}/rotate", headers=admin_headers)

    assert response.status_code == 200
    rotated = response.get_json()
    assert (rotated["id"], rotated["name"]) == (api_key["id"], api_key["name"])
    assert rotated["key"] != api_key["key"]
    assert rotated["rotated_at"] is not None
    assert client.get("/api/v1/users", headers=old).get_json() == {"detail": "Invalid API key"}
    new = bearer(rotated["key"])
    assert client.get("/api/v1/users", headers=new).status_code == 200


def test_delete_kills_the_key(client, admin_headers, api_key, api_key_headers):
    assert client.delete(f"{KEYS}/{api_key['id']}", headers=admin_headers).status_code == 204

    assert client.get("/api/v1/users", headers=api_key_headers).status_code == 401
    assert client.get(f"{KEYS}/{api_key['id']}", headers=admin_headers).status_code == 404


def test_expired_key_is_401_api_key_expired(app, client, admin_headers):
    body = client.post(
        KEYS,
        json={
            "name": "short",
            "expires_at": (datetime.now(UTC) + timedelta(seconds=1)).isoformat(),
        },
        headers=admin_headers,
    ).get_json()
    from app.api_keys.models import ApiKey
    from app.extensions import db

    with app.app_context():
        db.session.get(ApiKey, body["id"]).expires_at = datetime.now(UTC) - timedelta(seconds=1)
        db.session.commit()

    response = client.get("/api/v1/users", headers=bearer(body["key"]))

    assert response.status_code == 401
    assert response.get_json() == {"detail": "API key expired"}


def test_no_plaintext_key_in_any_row(app, client, admin_headers, api_key):
    rotated = client.post(f"{KEYS}/{api_key['id']}/rotate", headers=admin_headers).get_json()

    rows = all_rows_text(app)

    for secret in (api_key["key"], rotated["key"]):
        assert secret not in rows
        assert secret[len("ow_live_") : -6] not in rows
        assert secret[12:] not in rows


def test_key_lifecycle_is_audited_without_secrets(client, admin_headers, api_key):
    client.patch(f"{KEYS}/{api_key['id']}", json={"name": "renamed"}, headers=admin_headers)
    rotated = client.post(f"{KEYS}/{api_key['id']}/rotate", headers=admin_headers).get_json()
    client.delete(f"{KEYS}/{api_key['id']}", headers=admin_headers)

    response = client.get(f"/api/v1/audit-events?target_id={api_key['id']}", headers=admin_headers)

    actions = [event["action"] for event in response.get_json()["data"]]
    assert actions == ["api_key.deleted", "api_key.rotated", "api_key.updated", "api_key.created"]
    text = response.get_data(as_text=True)
    assert api_key["key"] not in text
    assert rotated["key"] not in text


def test_rename_racing_a_delete_is_409_not_500(app, client, admin_headers, api_key):
    from sqlalchemy import event, text

    from app.extensions import db

    def delete_from_another_connection(session, flush_context, instances):
        with db.engine.begin() as other:
            other.execute(text("DELETE FROM api_keys WHERE id = :id"), {"id": api_key["id"]})

    with app.app_context():
        event.listen(db.session, "before_flush", delete_from_another_connection, once=True)
        try:
            response = client.patch(
                f"{KEYS}/{api_key['id']}", json={"name": "renamed"}, headers=admin_headers
            )
        finally:
            if event.contains(db.session, "before_flush", delete_from_another_connection):
                event.remove(db.session, "before_flush", delete_from_another_connection)

    assert response.status_code == 409
    assert "deleted by another request" in response.get_json()["detail"]
