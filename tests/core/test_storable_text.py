"""Text PostgreSQL cannot store (NUL, unpaired surrogates) is a 422 on every input
location, never a database error turned into a 500. Each input here was a 500 found by
fuzzing the OpenAPI spec."""

import json

import pytest

from tests.support.environment import ADMIN_EMAIL

NUL = "a\x00b"
LONE_SURROGATE = '"a\\ud800b"'


def _assert_unstorable(response, field: str) -> None:
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["detail"].startswith("Validation error.")
    assert body["errors"] == {
        field: ["Text may not contain NUL characters or unpaired surrogates."]
    }


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/api/v1/users", {"first_name": NUL}),
        ("/api/v1/api-keys", {"name": NUL}),
        ("/api/v1/applications", {"name": NUL}),
    ],
)
def test_nul_in_a_json_body_is_422(client, admin_headers, path, fields):
    response = client.post(path, json=fields, headers=admin_headers)
    _assert_unstorable(response, next(iter(fields)))


def test_an_unpaired_surrogate_in_a_json_body_is_422(client, admin_headers):
    response = client.post(
        "/api/v1/users",
        data='{"last_name": ' + LONE_SURROGATE + "}",
        content_type="application/json",
        headers=admin_headers,
    )
    _assert_unstorable(response, "last_name")


def test_nul_in_a_patch_body_is_422(client, admin_headers):
    user = client.post("/api/v1/users", json={}, headers=admin_headers).get_json()
    response = client.patch(
        f"/api/v1/users/{user['id']}", json={"last_name": NUL}, headers=admin_headers
    )
    _assert_unstorable(response, "last_name")
    key = client.post("/api/v1/api-keys", json={"name": "k"}, headers=admin_headers).get_json()
    response = client.patch(
        f"/api/v1/api-keys/{key['id']}", json={"name": NUL}, headers=admin_headers
    )
    _assert_unstorable(response, "name")


def test_nul_in_a_query_is_422(client, admin_headers):
    response = client.get("/api/v1/users", query_string={"search": NUL}, headers=admin_headers)
    _assert_unstorable(response, "search")


def test_nul_in_a_login_form_is_422_and_not_a_failed_login(client, admin):
    response = client.post("/api/v1/auth/login", data={"username": NUL, "password": "x"})
    _assert_unstorable(response, "username")
    response = client.post(
        "/api/v1/auth/login", data={"username": ADMIN_EMAIL, "password": admin["password"]}
    )
    assert response.status_code == 200


def test_credentials_are_checked_before_the_body(client):
    response = client.post("/api/v1/users", data=json.dumps({"first_name": NUL}))
    assert response.status_code == 401
