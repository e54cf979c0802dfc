import time
import uuid

import jwt
import pytest

from app.core.secrets import is_well_formed
from tests.support.apps import all_rows_text
from tests.support.auth import bearer
from tests.support.environment import TEST_SECRET_KEY
from tests.support.factories import create_application, create_user, mint_with_app


def token_url(user_id) -> str:
    return f"/api/v1/users/{user_id}/token"


def claims_of(access_token: str) -> dict:
    return jwt.decode(access_token, TEST_SECRET_KEY, algorithms=["HS256"])


@pytest.fixture
def application(client, admin_headers):
    return create_application(client, admin_headers)


@pytest.fixture
def user(client, admin_headers):
    return create_user(client, admin_headers, email="runner@example.com")


def test_method_1_app_credentials_return_a_token_pair(app, client, application, user):
    response = mint_with_app(client, user["id"], application)

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "refresh_token", "expires_in"}
    assert (body["token_type"], body["expires_in"]) == ("bearer", 3600)
    assert is_well_formed(body["refresh_token"], "rt_")
    claims = claims_of(body["access_token"])
    assert claims["type"] == "sdk"
    assert claims["sub"] == user["id"]
    assert claims["app_id"] == application["app_id"]
    assert claims["exp"] - claims["iat"] == 3600
    assert abs(claims["iat"] - time.time()) < 60
    assert claims["jti"]
    assert body["refresh_token"] not in all_rows_text(app)


def test_method_2_admin_token_puts_admin_and_developer_id_in_the_token(
    client, admin, admin_headers, user
):
    response = client.post(token_url(user["id"]), headers=admin_headers)

    assert response.status_code == 200
    claims = claims_of(response.get_json()["access_token"])
    assert claims["app_id"] == f"admin:{admin['id']}"
    assert (claims["type"], claims["sub"]) == ("sdk", user["id"])


@pytest.mark.parametrize("config_overrides", [{"SDK_TOKEN_EXPIRES_SECONDS": 600}])
def test_sdk_token_lifetime_is_configurable(client, application, user):
    body = mint_with_app(client, user["id"], application).get_json()

    claims = claims_of(body["access_token"])
    assert body["expires_in"] == 600
    assert claims["exp"] - claims["iat"] == 600


@pytest.mark.parametrize(
    "credentials",
    [
        {"app_secret": "wrong"},
        {"app_secret": "secret_" + "A" * 38},
        {"app_id": "app_unknown"},
        {"app_id": "app_" + "B" * 20},
    ],
)
def test_bad_app_credentials_are_401(client, application, user, credentials):
    body = {"app_id": application["app_id"], "app_secret": application["app_secret"]}
    body.update(credentials)

    response = client.post(token_url(user["id"]), json=body)

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Invalid app credentials"}


def test_another_applications_id_with_this_secret_is_401(client, admin_headers, application, user):
    other = create_application(client, admin_headers, "Other")

    response = client.post(
        token_url(user["id"]),
        json={"app_id": other["app_id"], "app_secret": application["app_secret"]},
    )

    assert response.status_code == 401


def test_credentials_are_checked_before_the_user_exists(client, application):
    unknown = token_url(uuid.uuid4())

    bad = client.post(unknown, json={"app_id": application["app_id"], "app_secret": "x"})
    good = mint_with_app(client, str(uuid.uuid4()), application)

    assert bad.status_code == 401
    assert good.status_code == 404
    assert good.get_json() == {"detail": "User not found."}


def test_unknown_user_is_404_for_an_admin_too(client, admin_headers):
    response = client.post(token_url(uuid.uuid4()), headers=admin_headers)

    assert response.status_code == 404
    assert response.get_json() == {"detail": "User not found."}


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {},
        {"json": {}},
        {"data": "", "content_type": "application/json"},
    ],
)
def test_no_credentials_at_all_is_401_with_detail(client, user, request_kwargs):
    response = client.post(token_url(user["id"]), **request_kwargs)

    assert response.status_code == 401
    assert response.get_json() == {
        "detail": "Send app credentials (app_id and app_secret) or an admin token."
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [({"app_id": "app_x"}, "app_secret"), ({"app_secret": "secret_x"}, "app_id")],
)
def test_half_the_app_credentials_is_422(client, user, body, field):
    response = client.post(token_url(user["id"]), json=body)

    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_admin_token_and_app_credentials_together_are_422(client, admin_headers, application, user):
    response = client.post(
        token_url(user["id"]),
        json={"app_id": application["app_id"], "app_secret": application["app_secret"]},
        headers=admin_headers,
    )

    assert response.status_code == 422
    assert response.get_json() == {"detail": "Send app credentials or an admin token, not both."}


def test_an_sdk_token_cannot_mint(client, admin_headers, application, user):
    sdk = mint_with_app(client, user["id"], application).get_json()

    for target in (user["id"], create_user(client, admin_headers)["id"]):
        response = client.post(token_url(target), headers=bearer(sdk["access_token"]))
        assert response.status_code == 403
        assert response.get_json() == {"detail": "SDK tokens cannot mint SDK tokens."}


def test_a_bad_bearer_is_401_even_with_good_app_credentials(client, application, user):
    response = client.post(
        token_url(user["id"]),
        json={"app_id": application["app_id"], "app_secret": application["app_secret"]},
        headers=bearer("not-a-token"),
    )

    assert response.status_code == 401


def test_minting_is_audited_with_app_or_admin_user_and_ip(
    client, admin, admin_headers, application, user
):
    mint_with_app(client, user["id"], application)
    client.post(
        token_url(user["id"]), headers=admin_headers, environ_base={"REMOTE_ADDR": "10.1.2.3"}
    )
    client.post(token_url(user["id"]), json={"app_id": application["app_id"], "app_secret": "x"})

    events = client.get(f"/api/v1/audit-events?target_id={user['id']}", headers=admin_headers).json[
        "data"
    ]

    summary = [(e["action"], e["actor_type"], e["actor_id"], e["details"], e["ip"]) for e in events]
    assert summary == [
        (
            "sdk_token.mint_failed",
            "anonymous",
            None,
            {"app_id": application["app_id"]},
            "127.0.0.1",
        ),
        (
            "sdk_token.minted",
            "developer",
            admin["id"],
            {"app_id": f"admin:{admin['id']}"},
            "10.1.2.3",
        ),
        (
            "sdk_token.minted",
            "application",
            application["app_id"],
            {"app_id": application["app_id"]},
            "127.0.0.1",
        ),
    ]
    assert all(e["target_type"] == "user" for e in events)
    assert application["app_secret"] not in str(events)


def test_deleting_the_user_kills_its_sdk_sessions(client, admin_headers, application, user):
    sdk = mint_with_app(client, user["id"], application).get_json()

    client.delete(f"/api/v1/users/{user['id']}", headers=admin_headers)

    refresh = client.post("/api/v1/auth/refresh", json={"refresh_token": sdk["refresh_token"]})
    assert refresh.status_code == 401
    assert (
        client.get(f"/api/v1/users/{user['id']}", headers=bearer(sdk["access_token"])).status_code
        == 401
    )


def test_an_sdk_token_never_works_as_a_developer_token(client, application, user):
    sdk = mint_with_app(client, user["id"], application).get_json()

    response = client.get("/api/v1/auth/me", headers=bearer(sdk["access_token"]))

    assert response.status_code == 403
    assert response.get_json() == {"detail": "SDK tokens cannot access this endpoint."}


def test_deactivated_admin_cannot_mint(app, client, admin, admin_headers, user):
    from app.developers.models import Developer
    from app.extensions import db

    with app.app_context():
        db.session.get(Developer, uuid.UUID(admin["id"])).is_active = False
        db.session.commit()

    response = client.post(token_url(user["id"]), headers=admin_headers)

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Account no longer exists."}


def test_an_api_key_cannot_mint_with_or_without_app_credentials(
    client, api_key_headers, application, user
):
    alone = client.post(token_url(user["id"]), headers=api_key_headers)
    with_credentials = client.post(
        token_url(user["id"]),
        json={"app_id": application["app_id"], "app_secret": application["app_secret"]},
        headers=api_key_headers,
    )

    for response in (alone, with_credentials):
        assert response.status_code == 403
        assert response.get_json() == {"detail": "API keys cannot mint SDK tokens."}
