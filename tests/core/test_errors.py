"""Every error path answers `{"detail": …}` with the right status."""

import pytest

from app.core.ratelimit import limiter


def test_unknown_route_is_404_with_detail(client):
    response = client.get("/api/v1/nope")

    assert response.status_code == 404
    assert response.get_json() == {"detail": "Not found."}


def test_wrong_method_is_405_with_detail_and_allow(client):
    response = client.delete("/api/v1/auth/login")

    assert response.status_code == 405
    assert response.get_json() == {"detail": "Method not allowed."}
    assert "POST" in response.headers["Allow"]


def test_malformed_json_is_400_with_detail(client):
    response = client.post(
        "/api/v1/auth/refresh", data="{not json", content_type="application/json"
    )

    assert response.status_code == 400
    assert response.get_json() == {"detail": "Request body is not valid JSON."}


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "application/xml", None],
    ids=["text", "form", "xml", "none"],
)
def test_a_json_body_of_another_type_is_415_not_an_empty_body(client, admin_headers, content_type):
    user = client.post("/api/v1/users", json={}, headers=admin_headers).get_json()
    body = '{"email": "ada@example.com"}'
    sent = {"content_type": content_type} if content_type else {}

    created = client.post("/api/v1/users", data=body, headers=admin_headers, **sent)
    patched = client.patch(f"/api/v1/users/{user['id']}", data=body, headers=admin_headers, **sent)

    for response in (created, patched):
        assert response.status_code == 415
        assert response.get_json() == {
            "detail": "Send the body as JSON (Content-Type: application/json)."
        }
    listed = client.get("/api/v1/users", headers=admin_headers).get_json()
    assert [u["email"] for u in listed["items"]] == [None]


def test_json_with_a_charset_or_a_json_suffix_is_read(client, admin_headers):
    for number, content_type in enumerate(
        ["application/json; charset=utf-8", "application/x+json"]
    ):
        response = client.post(
            "/api/v1/users",
            data=f'{{"email": "ada{number}@example.com"}}',
            content_type=content_type,
            headers=admin_headers,
        )

        assert response.status_code == 201
        assert response.get_json()["email"] == f"ada{number}@example.com"


DEEP = "[" * 5000 + "]" * 5000
"""10 KB of brackets, nested past Python's recursion limit."""


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/auth/refresh",  # parsed by the route's schema (webargs)
        "/api/v1/auth/forgot-password",  # also read by the limit's key function
        f"/api/v1/users/{'0' * 8}-0000-0000-0000-{'0' * 12}/token",
    ],
)
def test_json_nested_too_deeply_is_400_and_leaves_the_limits_in_redis(client, path):
    response = client.post(path, data=DEEP, content_type="application/json")

    assert response.status_code == 400
    assert response.get_json() == {"detail": "Request body is not valid JSON."}
    # A RecursionError in a limiter key function once switched flask-limiter to
    # per-process counters.
    assert not limiter.using_fallback


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/auth/login", {"data": {"username": "a@example.com", "password": "x" * 70000}}),
        ("/api/v1/auth/forgot-password", {"json": {"email": "x" * 70000}}),
        (
            f"/api/v1/users/{'0' * 8}-0000-0000-0000-{'0' * 12}/token",
            {"json": {"app_id": "x" * 70000}},
        ),
    ],
    ids=["login-form", "forgot-password", "mint"],
)
def test_a_body_too_large_is_413_and_leaves_the_limits_in_redis(make_app, path, body):
    client = make_app(MAX_CONTENT_LENGTH=65536).test_client()

    response = client.post(path, **body)

    assert response.status_code == 413
    assert response.get_json() == {"detail": "Request body too large."}
    # The limits' key functions read the body too: their error is not a storage outage.
    assert not limiter.using_fallback


MINT = f"/api/v1/users/{'0' * 8}-0000-0000-0000-{'0' * 12}/token"


def test_an_app_id_redis_cannot_name_is_422_and_leaves_the_limits_in_redis(client):
    """A lone surrogate is valid JSON but no UTF-8: the failed-mint limit counts the
    request per client IP, and the schema refuses the text."""
    body = '{"app_id": "\\ud800", "app_secret": "secret_x"}'

    response = client.post(MINT, data=body, content_type="application/json")

    assert response.status_code == 422
    assert not limiter.using_fallback


def test_json_of_the_wrong_shape_is_422(client):
    response = client.post("/api/v1/auth/refresh", json=["rt_x"])

    assert response.status_code == 422
    assert response.get_json()["detail"].startswith("Validation error.")


def test_unknown_fields_are_422(client):
    response = client.post("/api/v1/auth/refresh", json={"refresh_token": "rt_x", "extra": 1})

    assert response.status_code == 422
    assert "extra" in response.get_json()["errors"]


def test_oversized_body_is_413_with_detail(make_app):
    client = make_app(MAX_CONTENT_LENGTH=1024).test_client()

    response = client.post("/api/v1/auth/refresh", json={"refresh_token": "rt_" + "a" * 4096})

    assert response.status_code == 413
    assert response.get_json() == {"detail": "Request body too large."}


def test_unexpected_exception_is_500_without_internals(make_app, caplog):
    app = make_app()

    def explode():
        raise RuntimeError("database password is hunter2")

    app.add_url_rule("/boom", view_func=explode)

    response = app.test_client().get("/boom")

    assert response.status_code == 500
    assert response.get_json() == {"detail": "Internal server error."}
    assert b"hunter2" not in response.data
    assert b"Traceback" not in response.data
    assert "hunter2" in caplog.text


@pytest.mark.parametrize("path", ["/api/v1/auth/me", "/api/v1/auth/logout"])
def test_every_json_error_response_is_json(client, path):
    response = client.open(path, method="GET" if path.endswith("me") else "POST")

    assert response.content_type == "application/json"
    assert set(response.get_json()) == {"detail"}
