"""Cookie mode: the refresh token in an HttpOnly cookie, and its CSRF rule."""

import pytest

from tests.conftest import ADMIN_EMAIL, ADMIN_PASSWORD
from tests.factories import bearer

COOKIE = "ow_refresh_token"
OPT_IN = {"X-Refresh-Cookie": "1"}
SAME_ORIGIN = {**OPT_IN, "Sec-Fetch-Site": "same-origin"}
CREDENTIALS = {"username": ADMIN_EMAIL, "password": ADMIN_PASSWORD}


def cookie_login(client, **options):
    response = client.post("/api/v1/auth/login", data=CREDENTIALS, headers=OPT_IN, **options)
    assert response.status_code == 200, response.get_json()
    return response


def set_cookie_header(response) -> str:
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith(COOKIE + "=")]
    return header


def stored_cookie(client) -> str:
    return client.get_cookie(COOKIE, path="/api/v1/auth").value


def test_without_the_header_login_is_the_seed_response_and_sets_no_cookie(client, admin):
    response = client.post("/api/v1/auth/login", data=CREDENTIALS)

    assert set(response.get_json()) == {"access_token", "token_type", "refresh_token", "expires_in"}
    assert "Set-Cookie" not in response.headers


def test_opt_in_login_puts_the_refresh_token_in_a_strict_httponly_cookie(client, admin):
    response = cookie_login(client)

    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    header = set_cookie_header(response)
    attributes = {part.strip().split("=")[0].lower() for part in header.split(";")}
    assert {"httponly", "path", "max-age", "samesite"} <= attributes
    assert "secure" not in attributes
    assert "Path=/api/v1/auth" in header
    assert "SameSite=Strict" in header
    max_age = int(header.split("Max-Age=")[1].split(";")[0])
    assert 30 * 86400 - 60 < max_age <= 30 * 86400
    assert stored_cookie(client).startswith("rt_")
    assert client.get("/api/v1/auth/me", headers=bearer(body["access_token"])).status_code == 200


def test_cookie_is_secure_over_https(client, admin):
    response = cookie_login(client, base_url="https://localhost")

    assert "Secure" in set_cookie_header(response)


def test_cookie_refresh_rotates_the_cookie_and_omits_the_token_from_the_body(client, admin):
    cookie_login(client)
    first = stored_cookie(client)

    response = client.post("/api/v1/auth/refresh", headers=SAME_ORIGIN)

    assert response.status_code == 200, response.get_json()
    assert set(response.get_json()) == {"access_token", "token_type", "expires_in"}
    second = stored_cookie(client)
    assert second != first
    assert "HttpOnly" in set_cookie_header(response)

    # The used cookie again is a reuse: the whole session ends.
    client.set_cookie(COOKIE, first, path="/api/v1/auth")
    reused = client.post("/api/v1/auth/refresh", headers=SAME_ORIGIN)
    assert reused.status_code == 401
    client.set_cookie(COOKIE, second, path="/api/v1/auth")
    assert client.post("/api/v1/auth/refresh", headers=SAME_ORIGIN).status_code == 401


def test_an_origin_equal_to_the_apps_own_passes_the_csrf_rule(client, admin):
    cookie_login(client)

    response = client.post("/api/v1/auth/refresh", headers={**OPT_IN, "Origin": "http://localhost"})

    assert response.status_code == 200


@pytest.mark.parametrize(
    "headers",
    [
        {"Sec-Fetch-Site": "same-origin"},
        {"Origin": "http://localhost"},
        {**OPT_IN, "Sec-Fetch-Site": "cross-site"},
        {**OPT_IN, "Sec-Fetch-Site": "same-site"},
        {**OPT_IN, "Origin": "https://evil.example"},
        {**OPT_IN, "Origin": "null"},
        OPT_IN,
    ],
    ids=["no-header", "no-header-origin", "cross-site", "same-site", "evil", "null", "no-origin"],
)
def test_cookie_refresh_and_logout_refuse_what_a_cross_site_page_could_send(client, admin, headers):
    cookie_login(client)
    cookie = stored_cookie(client)

    refresh = client.post("/api/v1/auth/refresh", headers=headers)
    logout = client.post("/api/v1/auth/logout", headers=headers)

    for response in (refresh, logout):
        assert response.status_code == 403
        assert response.get_json() == {
            "detail": "Cookie sessions need the X-Refresh-Cookie: 1 header on a same-origin "
            "request."
        }
    assert stored_cookie(client) == cookie
    assert client.post("/api/v1/auth/refresh", headers=SAME_ORIGIN).status_code == 200


def test_refresh_without_body_or_cookie_is_422(client, admin):
    response = client.post("/api/v1/auth/refresh", headers=SAME_ORIGIN)

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"refresh_token": ["Missing data for required field."]}


def test_a_body_token_wins_over_the_cookie(client, admin):
    cookie_login(client)
    pair = client.post("/api/v1/auth/login", data=CREDENTIALS).get_json()

    response = client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})

    assert response.status_code == 200
    assert response.get_json()["refresh_token"].startswith("rt_")


def test_logout_with_the_cookie_alone_ends_the_session_and_clears_the_cookie(client, admin):
    access_token = cookie_login(client).get_json()["access_token"]
    cookie = stored_cookie(client)

    response = client.post("/api/v1/auth/logout", headers=SAME_ORIGIN)

    assert response.status_code == 204
    header = set_cookie_header(response)
    assert "Max-Age=0" in header
    assert "Path=/api/v1/auth" in header
    assert client.get_cookie(COOKIE, path="/api/v1/auth") is None
    assert client.get("/api/v1/auth/me", headers=bearer(access_token)).status_code == 401
    client.set_cookie(COOKIE, cookie, path="/api/v1/auth")
    assert client.post("/api/v1/auth/refresh", headers=SAME_ORIGIN).status_code == 401


def test_bearer_logout_also_ends_and_clears_the_cookie_session(client, admin):
    access_token = cookie_login(client).get_json()["access_token"]
    cookie = stored_cookie(client)

    response = client.post("/api/v1/auth/logout", headers={**SAME_ORIGIN, **bearer(access_token)})

    assert response.status_code == 204
    assert client.get_cookie(COOKIE, path="/api/v1/auth") is None
    client.set_cookie(COOKIE, cookie, path="/api/v1/auth")
    assert client.post("/api/v1/auth/refresh", headers=SAME_ORIGIN).status_code == 401


def test_logout_without_token_or_cookie_is_401(client, admin):
    assert client.post("/api/v1/auth/logout", headers=SAME_ORIGIN).status_code == 401


def test_no_auth_response_allows_credentials_cross_origin(client, admin):
    cookie_login(client)
    responses = [
        client.post("/api/v1/auth/refresh", headers={**SAME_ORIGIN, "Origin": "http://localhost"}),
        client.options("/api/v1/auth/refresh", headers={"Origin": "https://evil.example"}),
        client.post("/api/v1/auth/logout", headers=SAME_ORIGIN),
    ]
    for response in responses:
        assert "Access-Control-Allow-Credentials" not in response.headers
        assert "Access-Control-Allow-Origin" not in response.headers
