"""SDK tokens minted by real applications: one limit per end user; failed mints limited."""

import pytest

from tests.support.auth import bearer
from tests.support.factories import create_application, create_user, mint_with_app


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_SDK_USER": "5 per minute"}])
def test_one_limit_per_user_across_two_tokens_from_two_applications(client, admin_headers):
    user = create_user(client, admin_headers, email="runner@example.com")
    other_user = create_user(client, admin_headers, email="walker@example.com")
    first_app = create_application(client, admin_headers, "Phone app")
    second_app = create_application(client, admin_headers, "Watch app")
    tokens = [
        mint_with_app(client, user["id"], application).get_json()["access_token"]
        for application in (first_app, second_app)
    ]
    other_token = mint_with_app(client, other_user["id"], first_app).get_json()["access_token"]
    path = f"/api/v1/users/{user['id']}"

    responses = [client.get(path, headers=bearer(tokens[i % 2])) for i in range(7)]
    other = client.get(f"/api/v1/users/{other_user['id']}", headers=bearer(other_token))

    assert [r.status_code for r in responses] == [200] * 5 + [429] * 2
    assert [r.headers["X-RateLimit-Remaining"] for r in responses] == [
        "4", "3", "2", "1", "0", "0", "0"
    ]  # fmt: skip
    assert responses[-1].get_json() == {"detail": "Rate limit exceeded: 5 per 1 minute"}
    assert other.status_code == 200
    assert other.headers["X-RateLimit-Remaining"] == "4"


@pytest.mark.parametrize(
    "config_overrides",
    [
        {
            "RATELIMIT_FAILED_MINTS_PER_APP": "3 per 15 minutes",
            "RATELIMIT_PER_IP": "100/minute",
            # A threshold above the limit's count is refused at startup.
            "ACTIVITY_MINT_FAILURES_THRESHOLD": 3,
        }
    ],
)
def test_failed_mints_per_application_lock_that_application(client, admin_headers):
    user = create_user(client, admin_headers)
    application = create_application(client, admin_headers)
    other_application = create_application(client, admin_headers, "Other")
    secret = application["app_secret"]
    wrong = {**application, "app_secret": secret[:-1] + ("y" if secret.endswith("x") else "x")}

    failures = [mint_with_app(client, user["id"], wrong).status_code for _ in range(3)]
    locked = mint_with_app(client, user["id"], application)
    other = mint_with_app(client, user["id"], other_application)

    assert failures == [401, 401, 401]
    assert locked.status_code == 429
    assert locked.get_json() == {"detail": "Rate limit exceeded: 3 per 15 minute"}
    assert int(locked.headers["Retry-After"]) >= 1
    assert locked.headers["RateLimit-Policy"] == '"default";q=3;w=900'
    assert other.status_code == 200


@pytest.mark.parametrize(
    "config_overrides",
    [
        {
            "RATELIMIT_FAILED_MINTS_PER_IP": "4 per 15 minutes",
            "RATELIMIT_FAILED_MINTS_PER_APP": "100 per 15 minutes",
            "RATELIMIT_PER_IP": "100/minute",
        }
    ],
)
def test_failed_mints_per_ip_lock_that_ip_and_successes_do_not_count(client, admin_headers):
    user = create_user(client, admin_headers)
    application = create_application(client, admin_headers)
    for _ in range(3):
        assert mint_with_app(client, user["id"], application).status_code == 200
    for index in range(4):
        guess = {"app_id": f"app_guess{index}", "app_secret": "nope"}
        assert mint_with_app(client, user["id"], guess).status_code == 401

    locked = mint_with_app(client, user["id"], application)
    elsewhere = client.post(
        f"/api/v1/users/{user['id']}/token",
        json={"app_id": application["app_id"], "app_secret": application["app_secret"]},
        environ_base={"REMOTE_ADDR": "198.51.100.7"},
    )

    assert locked.status_code == 429
    assert elsewhere.status_code == 200


@pytest.mark.parametrize("config_overrides", [{"RATELIMIT_PER_IP": "3 per minute"}])
def test_minting_with_app_credentials_is_limited_per_client_ip(client, admin_headers):
    # The admin's login (no credentials yet) was the first request from this IP.
    user = create_user(client, admin_headers)
    application = create_application(client, admin_headers)

    statuses = [mint_with_app(client, user["id"], application) for _ in range(3)]

    assert [r.status_code for r in statuses] == [200, 200, 429]
    assert statuses[0].headers["X-RateLimit-Limit"] == "3"
    assert statuses[0].headers["X-RateLimit-Remaining"] == "1"
    assert "Retry-After" not in statuses[0].headers


def test_mint_documents_429(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]

    assert "429" in paths["/api/v1/users/{user_id}/token"]["post"]["responses"]
