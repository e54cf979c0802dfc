"""CORS for web apps with SDK tokens, and server credentials refused from other origins."""

import re
import uuid

import pytest

from app.config import load_config
from app.core.cors import cross_origin_routes
from tests.factories import bearer, create_application, create_user, sdk_tokens_for
from tests.ratelimit.helpers import RATE_LIMIT_HEADERS

WEB_APP = "https://app.example.com"
OTHER_SITE = "https://evil.example.net"
WINDOW = "start_date=2026-03-01&end_date=2026-03-31"
EXPOSED = {*RATE_LIMIT_HEADERS, "Retry-After"}


@pytest.fixture
def config_overrides():
    return {"CORS_ALLOWED_ORIGINS": (WEB_APP,), "RATELIMIT_SDK_USER": "3 per minute"}


@pytest.fixture
def sdk_user(client, admin_headers):
    user = create_user(client, admin_headers, email="runner@example.com")
    return user, sdk_tokens_for(client, admin_headers, user["id"])


def preflight(
    client, path: str, origin: str = WEB_APP, method: str = "GET", headers="authorization"
):
    return client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )


def cors_headers(response) -> list[str]:
    return [name for name, _ in response.headers.items() if name.startswith("Access-Control-")]


def exposed(response) -> set[str]:
    return {name.strip() for name in response.headers["Access-Control-Expose-Headers"].split(",")}


def test_preflight_from_an_allowed_origin_is_answered_204(client, sdk_user):
    user, _ = sdk_user
    response = preflight(
        client, f"/api/v1/users/{user['id']}/events/workouts", headers="authorization,content-type"
    )

    assert response.status_code == 204
    assert response.data == b""
    assert "Content-Type" not in response.headers
    assert response.headers["Access-Control-Allow-Origin"] == WEB_APP
    assert set(response.headers["Access-Control-Allow-Methods"].split(", ")) == {"GET", "POST"}
    assert {
        name.strip().lower() for name in response.headers["Access-Control-Allow-Headers"].split(",")
    } == {"authorization", "content-type"}
    assert response.headers["Access-Control-Max-Age"] == "600"
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_preflights_are_not_counted_against_any_limit(client, sdk_user):
    user, tokens = sdk_user
    path = f"/api/v1/users/{user['id']}/events/workouts?{WINDOW}"
    for _ in range(5):
        assert preflight(client, path).status_code == 204

    response = client.get(path, headers={**bearer(tokens["access_token"]), "Origin": WEB_APP})

    assert response.status_code == 200
    assert response.headers["X-RateLimit-Remaining"] == "2"
    assert not any(name in preflight(client, path).headers for name in RATE_LIMIT_HEADERS)


def test_responses_to_an_allowed_origin_share_the_rate_limit_headers(client, sdk_user):
    user, tokens = sdk_user
    path = f"/api/v1/users/{user['id']}/events/workouts?{WINDOW}"
    headers = {**bearer(tokens["access_token"]), "Origin": WEB_APP}

    responses = [client.get(path, headers=headers) for _ in range(4)]
    missing = client.get(path.replace(user["id"], "not-a-uuid"), headers=headers)

    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    for response in [*responses, missing]:
        assert response.headers["Access-Control-Allow-Origin"] == WEB_APP
        assert exposed(response) == EXPOSED
        assert "Access-Control-Allow-Credentials" not in response.headers
    assert responses[-1].headers["Retry-After"]


def test_errors_for_an_allowed_origin_carry_cors_headers(client, sdk_user, admin_headers):
    user, _ = sdk_user
    other = create_user(client, admin_headers, email="walker@example.com")
    tokens = sdk_tokens_for(client, admin_headers, user["id"])

    unauthenticated = client.get(f"/api/v1/users/{user['id']}", headers={"Origin": WEB_APP})
    forbidden = client.get(
        f"/api/v1/users/{other['id']}",
        headers={**bearer(tokens["access_token"]), "Origin": WEB_APP},
    )

    assert (unauthenticated.status_code, forbidden.status_code) == (401, 403)
    for response in (unauthenticated, forbidden):
        assert response.headers["Access-Control-Allow-Origin"] == WEB_APP
        assert exposed(response) == EXPOSED


def test_refresh_with_a_json_body_is_shared_with_allowed_origins(client, sdk_user):
    _, tokens = sdk_user
    allowed = preflight(client, "/api/v1/auth/refresh", method="POST", headers="content-type")

    response = client.post(
        "/api/v1/auth/refresh",
        json={"refresh_token": tokens["refresh_token"]},
        headers={"Origin": WEB_APP},
    )

    assert allowed.status_code == 204
    assert allowed.headers["Access-Control-Allow-Methods"] == "POST"
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == WEB_APP


def test_the_cookie_opt_in_header_is_not_allowed_cross_origin(client):
    response = preflight(
        client, "/api/v1/auth/refresh", method="POST", headers="content-type,x-refresh-cookie"
    )

    assert (
        "x-refresh-cookie" not in response.headers.get("Access-Control-Allow-Headers", "").lower()
    )


def test_other_origins_get_no_cors_headers(client, sdk_user):
    user, tokens = sdk_user
    path = f"/api/v1/users/{user['id']}/events/workouts?{WINDOW}"

    blocked_preflight = preflight(client, path, origin=OTHER_SITE)
    blocked = client.get(path, headers={**bearer(tokens["access_token"]), "Origin": OTHER_SITE})

    assert blocked_preflight.status_code == 200
    assert blocked.status_code == 200
    for response in (blocked_preflight, blocked):
        assert not cors_headers(response)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/api/v1/users"),
        ("POST", "/api/v1/users"),
        ("PATCH", "/api/v1/users/{user_id}"),
        ("DELETE", "/api/v1/users/{user_id}"),
        ("POST", "/api/v1/users/{user_id}/token"),
        ("GET", "/api/v1/api-keys"),
        ("POST", "/api/v1/applications"),
        ("GET", "/api/v1/auth/me"),
        ("POST", "/api/v1/auth/login"),
        ("POST", "/api/v1/auth/logout"),
        ("GET", "/api/v1/audit-events"),
    ],
)
def test_developer_endpoints_are_never_shared(client, sdk_user, method, path):
    user, _ = sdk_user
    response = preflight(client, path.format(user_id=user["id"]), method=method)

    # Without the method in Access-Control-Allow-Methods the browser never sends the call.
    assert method not in response.headers.get("Access-Control-Allow-Methods", "")
    assert response.status_code == 200


def test_exactly_the_sdk_token_operations_and_refresh_are_shared(app):
    routes = cross_origin_routes(app)

    def shared(rule: str, method: str) -> bool:
        path = re.sub(r"<[^>]+>", str(uuid.uuid4()), rule)
        return any(
            re.match(pattern, path) and method in methods for pattern, methods in routes.items()
        )

    found = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        for method in rule.methods - {"HEAD", "OPTIONS"}
        if shared(rule.rule, method)
    }

    assert found == {
        ("GET", "/api/v1/users/<uuid:user_id>"),
        ("GET", "/api/v1/users/<uuid:user_id>/events/workouts"),
        ("POST", "/api/v1/users/<uuid:user_id>/events/workouts"),
        ("DELETE", "/api/v1/users/<uuid:user_id>/events/workouts/<uuid:workout_id>"),
        ("GET", "/api/v1/users/<uuid:user_id>/timeseries"),
        ("POST", "/api/v1/users/<uuid:user_id>/timeseries"),
        ("POST", "/api/v1/auth/refresh"),
    }


def test_without_allowed_origins_nothing_is_shared(make_app):
    plain = make_app(CORS_ALLOWED_ORIGINS=()).test_client()

    response = preflight(plain, "/api/v1/auth/refresh", method="POST")

    assert not cors_headers(response)


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [
        ("", ()),
        (
            "https://a.example.com, http://127.0.0.1:8080",
            ("https://a.example.com", "http://127.0.0.1:8080"),
        ),
    ],
)
def test_allowed_origins_setting_is_a_list_of_exact_origins(raw, parsed):
    assert load_config(environ={"CORS_ALLOWED_ORIGINS": raw})["CORS_ALLOWED_ORIGINS"] == parsed


@pytest.mark.parametrize(
    "raw", ["*", "https://a.example.com/", "a.example.com", "https://*.example.com"]
)
def test_anything_but_exact_origins_is_refused_at_startup(raw):
    with pytest.raises(ValueError, match="not an origin"):
        load_config(environ={"CORS_ALLOWED_ORIGINS": raw})


def test_a_web_app_cannot_mint_with_an_application_secret(client, sdk_user, admin_headers):
    user, _ = sdk_user
    application = create_application(client, admin_headers)
    body = {"app_id": application["app_id"], "app_secret": application["app_secret"]}

    from_page = client.post(
        f"/api/v1/users/{user['id']}/token", json=body, headers={"Origin": WEB_APP}
    )
    sandboxed = client.post(
        f"/api/v1/users/{user['id']}/token", json=body, headers={"Origin": "null"}
    )
    from_server = client.post(f"/api/v1/users/{user['id']}/token", json=body)

    for response in (from_page, sandboxed):
        assert response.status_code == 403
        assert "use SDK tokens in browsers" in response.get_json()["detail"]
    assert from_server.status_code == 200


@pytest.mark.parametrize("origin", [WEB_APP, OTHER_SITE, "null"])
def test_an_api_key_from_a_web_page_is_refused(client, api_key_headers, origin):
    response = client.get("/api/v1/users", headers={**api_key_headers, "Origin": origin})

    assert response.status_code == 403
    assert "use SDK tokens in browsers" in response.get_json()["detail"]


@pytest.mark.parametrize("origin", [None, "http://localhost"])
def test_an_api_key_from_a_server_or_the_apis_own_pages_works(client, api_key_headers, origin):
    headers = api_key_headers if origin is None else {**api_key_headers, "Origin": origin}

    assert client.get("/api/v1/users", headers=headers).status_code == 200


def test_behind_nginx_the_apis_own_origin_is_the_one_the_browser_used(make_app, api_key_headers):
    proxied = make_app(TRUSTED_PROXY_HOPS=1).test_client()
    forwarded = {
        "X-Forwarded-For": "203.0.113.7",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "api.example.com",
        "X-Forwarded-Port": "443",
    }

    def status_from(origin: str) -> int:
        headers = {**api_key_headers, **forwarded, "Origin": origin}
        return proxied.get("/api/v1/users", headers=headers).status_code

    assert status_from("https://api.example.com") == 200
    assert status_from("http://api.example.com") == 403
    assert status_from("https://api.example.com.evil.example") == 403
