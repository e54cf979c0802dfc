"""Who is limited, by how much, and what clients see: headers on 200, 4xx and 429."""

import math
import time

import pytest

from app.users import services as users
from tests.ratelimit.helpers import RATE_LIMIT_HEADERS
from tests.support.apps import random_uuid
from tests.support.auth import bearer, forge_token, login

ME = "/api/v1/auth/me"


def _user_id(app) -> str:
    with app.app_context():
        return str(users.create_user({"first_name": "Grace"}).id)


def test_developer_token_headers_on_200(client, admin, admin_headers):
    before = time.time()
    first = client.get(ME, headers=admin_headers)
    second = client.get(ME, headers=admin_headers)

    assert first.status_code == second.status_code == 200
    assert first.headers["X-RateLimit-Limit"] == "1000"
    assert first.headers["X-RateLimit-Remaining"] == "999"
    assert second.headers["X-RateLimit-Remaining"] == "998"
    assert abs(int(first.headers["X-RateLimit-Reset"]) - (before + 60)) <= 1
    assert first.headers["RateLimit-Policy"] == '"default";q=1000;w=60'
    assert first.headers["RateLimit"] in ('"default";r=999;t=60', '"default";r=999;t=59')
    assert "Retry-After" not in first.headers


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_DEVELOPER": "3 per minute"}])
def test_developer_limit_429_body_and_headers(client, admin, admin_headers):
    admitted = [client.get(ME, headers=admin_headers) for _ in range(3)]
    first_admitted_at = time.time()
    refused = client.get(ME, headers=admin_headers)

    assert [r.status_code for r in admitted] == [200, 200, 200]
    assert [r.headers["X-RateLimit-Remaining"] for r in admitted] == ["2", "1", "0"]
    assert refused.status_code == 429
    assert refused.get_json() == {"detail": "Rate limit exceeded: 3 per 1 minute"}
    assert refused.headers["X-RateLimit-Limit"] == "3"
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    reset = int(refused.headers["X-RateLimit-Reset"])
    assert abs(reset - (first_admitted_at + 60)) <= 1
    retry_after = int(refused.headers["Retry-After"])
    assert 58 <= retry_after <= 60
    assert refused.headers["RateLimit"] == f'"default";r=0;t={retry_after}'
    assert refused.headers["RateLimit-Policy"] == '"default";q=3;w=60'


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_DEVELOPER": "2 per minute"}])
def test_developer_limit_is_per_developer_across_tokens_and_endpoints(client, admin):
    first, second, other = (
        forge_token("developer", admin["id"]),
        forge_token("developer", admin["id"]),
        forge_token("developer", random_uuid()),
    )

    assert client.get(ME, headers=bearer(first)).status_code == 200
    assert client.get("/api/v1/users", headers=bearer(second)).status_code == 200
    assert client.get(ME, headers=bearer(first)).status_code == 429
    assert client.get("/api/v1/users", headers=bearer(second)).status_code == 429
    unknown_developer = client.get(ME, headers=bearer(other))
    assert unknown_developer.status_code == 401
    assert unknown_developer.headers["X-RateLimit-Remaining"] == "1"


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_SDK_USER": "4 per minute"}])
def test_sdk_limit_is_shared_by_all_tokens_and_applications_of_one_user(app, client):
    user_id, other_user_id = _user_id(app), _user_id(app)
    tokens = [
        forge_token("sdk", user_id, app_id="app_one"),
        forge_token("sdk", user_id, app_id="app_two"),
        forge_token("sdk", user_id, app_id="app_one"),
    ]

    statuses = [
        client.get(f"/api/v1/users/{user_id}", headers=bearer(tokens[i % 3])).status_code
        for i in range(6)
    ]
    other = client.get(
        f"/api/v1/users/{other_user_id}",
        headers=bearer(forge_token("sdk", other_user_id, app_id="app_one")),
    )

    assert statuses == [200, 200, 200, 200, 429, 429]
    assert other.status_code == 200
    assert other.headers["X-RateLimit-Limit"] == "4"
    assert other.headers["X-RateLimit-Remaining"] == "3"


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_SDK_USER": "2 per minute"}])
def test_sdk_requests_refused_with_403_still_count_and_carry_headers(app, client):
    user_id = _user_id(app)
    token = bearer(forge_token("sdk", user_id, app_id="app_one"))

    forbidden = client.get(ME, headers=token)
    admitted = client.get(f"/api/v1/users/{user_id}", headers=token)
    refused = client.get(f"/api/v1/users/{user_id}", headers=token)

    assert forbidden.status_code == 403
    assert forbidden.headers["X-RateLimit-Remaining"] == "1"
    assert "Retry-After" not in forbidden.headers
    assert admitted.status_code == 200
    assert refused.status_code == 429
    assert refused.get_json() == {"detail": "Rate limit exceeded: 2 per 1 minute"}


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_PER_IP": "3 per minute"}])
def test_requests_without_valid_credentials_are_limited_per_client_ip(client):
    elsewhere = {"REMOTE_ADDR": "203.0.113.9"}
    responses = [
        client.post("/api/v1/auth/login", data={"username": "a@example.com", "password": "x"}),
        client.post("/api/v1/auth/refresh", json={"refresh_token": "rt_nope"}),
        client.get(ME, headers=bearer("not.a.jwt")),
        client.get(ME),
    ]
    from_elsewhere = client.get(ME, environ_base=elsewhere)

    assert [r.status_code for r in responses] == [401, 401, 401, 429]
    assert responses[0].headers["X-RateLimit-Limit"] == "3"
    assert responses[-1].get_json() == {"detail": "Rate limit exceeded: 3 per 1 minute"}
    assert from_elsewhere.status_code == 401
    assert from_elsewhere.headers["X-RateLimit-Remaining"] == "2"


@pytest.mark.parametrize(
    "config_overrides",
    [{"RATELIMIT_FAILED_LOGINS_PER_EMAIL": "3 per 15 minutes", "RATELIMIT_PER_IP": "50/minute"}],
)
def test_failed_logins_per_email_lock_that_email_even_with_the_right_password(app, client, admin):
    for _ in range(3):
        assert login(client, admin["email"].upper(), "wrong password").status_code == 401

    locked = login(client, admin["email"], admin["password"])
    other = login(client, "someone-else@example.com", "wrong password")

    assert locked.status_code == 429
    assert locked.get_json() == {"detail": "Rate limit exceeded: 3 per 15 minute"}
    assert locked.headers["X-RateLimit-Limit"] == "3"
    assert locked.headers["RateLimit-Policy"] == '"default";q=3;w=900'
    assert 890 <= int(locked.headers["Retry-After"]) <= 900
    assert other.status_code == 401
    keys = b" ".join(app.extensions["owa_store"].client.keys("LIMITS*")).decode()
    assert "failed-login-email" in keys
    assert admin["email"] not in keys


@pytest.mark.parametrize(
    "config_overrides",
    [
        {
            "RATELIMIT_FAILED_LOGINS_PER_IP": "4 per 15 minutes",
            "RATELIMIT_FAILED_LOGINS_PER_EMAIL": "10 per 15 minutes",
            "RATELIMIT_PER_IP": "50/minute",
        }
    ],
)
def test_failed_logins_per_ip_lock_that_ip_and_successes_do_not_count(client, admin):
    for _ in range(3):
        assert login(client, admin["email"], admin["password"]).status_code == 200
    for index in range(4):
        assert login(client, f"guess{index}@example.com", "x").status_code == 401

    locked = login(client, admin["email"], admin["password"])
    elsewhere = client.post(
        "/api/v1/auth/login",
        data={"username": admin["email"], "password": admin["password"]},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )

    assert locked.status_code == 429
    assert locked.get_json() == {"detail": "Rate limit exceeded: 4 per 15 minute"}
    assert elsewhere.status_code == 200


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_DEVELOPER": "3 per 2 seconds"}])
def test_moving_window_admits_no_burst_at_a_window_edge(client, admin, admin_headers):
    # Use up the limit late in a fixed 2-second window: a fixed window would admit 3 more
    # right after the boundary; the moving window waits until the first is 2 s old.
    time.sleep((1.2 - time.time()) % 2)
    started = time.time()
    assert [client.get(ME, headers=admin_headers).status_code for _ in range(3)] == [200] * 3
    time.sleep(math.floor(started / 2) * 2 + 2.1 - time.time())

    just_after_boundary = client.get(ME, headers=admin_headers)
    time.sleep(started + 2.1 - time.time())
    window_later = client.get(ME, headers=admin_headers)

    assert just_after_boundary.status_code == 429
    assert window_later.status_code == 200


def test_probes_and_docs_are_not_limited(client):
    for path in ("/healthz", "/readyz", "/api/v1/openapi.json"):
        response = client.get(path)
        assert response.status_code == 200
        assert not set(RATE_LIMIT_HEADERS) & set(response.headers)


def test_openapi_documents_429_on_every_limited_operation(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    operations = {
        f"{method.upper()} {path}": operation["responses"]
        for path, methods in paths.items()
        for method, operation in methods.items()
        if method in {"get", "post", "put", "patch", "delete"}
    }

    without_429 = sorted(name for name, responses in operations.items() if "429" not in responses)

    assert without_429 == ["GET /healthz", "GET /readyz"]
    assert "POST /api/v1/auth/login" in operations


@pytest.mark.parametrize(
    "config_overrides", [{"RATELIMIT_PER_IP": "3 per minute", "TRUSTED_PROXY_HOPS": 1}]
)
def test_per_ip_limit_keys_on_the_address_the_proxy_saw_not_a_forged_one(client):
    # Behind one proxy only the last X-Forwarded-For entry (the proxy's) is believed.
    first = client.get(ME, headers={"X-Forwarded-For": "203.0.113.9, 192.0.2.10"})
    forged = client.get(ME, headers={"X-Forwarded-For": "198.51.100.1, 192.0.2.10"})
    other = client.get(ME, headers={"X-Forwarded-For": "203.0.113.9, 192.0.2.11"})

    assert first.headers["X-RateLimit-Remaining"] == "2"
    assert forged.headers["X-RateLimit-Remaining"] == "1"
    assert other.headers["X-RateLimit-Remaining"] == "2"


def login_from(client, address: str, email: str, password: str):
    return client.post(
        "/api/v1/auth/login",
        data={"username": email, "password": password},
        environ_base={"REMOTE_ADDR": address},
    )


@pytest.mark.parametrize(
    "config_overrides",
    [
        {
            "RATELIMIT_FAILED_LOGINS_PER_EMAIL_AND_IP": "3 per 15 minutes",
            "RATELIMIT_FAILED_LOGINS_PER_EMAIL": "7 per 15 minutes",
            "RATELIMIT_PER_IP": "100/minute",
        }
    ],
)
def test_a_stranger_cannot_lock_the_owner_out_from_the_owners_own_ip(client, admin):
    stranger, owner = "203.0.113.7", "198.51.100.20"
    guesses = [login_from(client, stranger, admin["email"], "guess").status_code for _ in range(4)]

    assert guesses == [401, 401, 401, 429]
    assert login_from(client, stranger, admin["email"], admin["password"]).status_code == 429
    assert login_from(client, owner, admin["email"], admin["password"]).status_code == 200


@pytest.mark.parametrize(
    "config_overrides",
    [
        {
            "RATELIMIT_FAILED_LOGINS_PER_EMAIL_AND_IP": "2 per 15 minutes",
            "RATELIMIT_FAILED_LOGINS_PER_EMAIL": "100 per 15 minutes",
            "RATELIMIT_PER_IP": "100/minute",
        }
    ],
)
def test_ipv6_clients_count_per_64(client, admin):
    for host in ("::1", "::2"):
        assert login_from(client, f"2001:db8:1:2{host}", admin["email"], "x").status_code == 401

    same_64 = login_from(client, "2001:db8:1:2:ffff::9", admin["email"], admin["password"])
    other_64 = login_from(client, "2001:db8:1:3::1", admin["email"], admin["password"])

    assert same_64.status_code == 429
    assert other_64.status_code == 200


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_PER_IP": "3 per minute"}])
def test_ipv4_mapped_clients_count_per_ipv4_address(client):
    """A dual-stack listener reports IPv4 clients as `::ffff:a.b.c.d`: each is its own
    IPv4 client, not one /64 shared by every IPv4 client."""

    def remaining(address: str) -> str:
        response = client.get(ME, environ_base={"REMOTE_ADDR": address})
        assert response.status_code == 401
        return response.headers["X-RateLimit-Remaining"]

    assert remaining("::ffff:203.0.113.9") == "2"
    assert remaining("::ffff:198.51.100.7") == "2"
    assert remaining("203.0.113.9") == "1"


@pytest.mark.parametrize(
    "config_overrides",
    [
        {
            "RATELIMIT_FAILED_LOGINS_PER_EMAIL_AND_IP": "2 per 15 minutes",
            "RATELIMIT_FAILED_LOGINS_PER_EMAIL": "4 per 15 minutes",
            "RATELIMIT_PER_IP": "100/minute",
        }
    ],
)
def test_the_per_email_ceiling_bounds_a_distributed_attack(client, admin):
    for network in ("203.0.113.1", "203.0.113.2"):
        for _ in range(2):
            assert login_from(client, network, admin["email"], "guess").status_code == 401

    third_network = login_from(client, "203.0.113.3", admin["email"], "guess")
    other_account = login_from(client, "203.0.113.3", "someone@example.com", "guess")

    assert third_network.status_code == 429
    assert third_network.get_json() == {"detail": "Rate limit exceeded: 4 per 15 minute"}
    assert other_account.status_code == 401
