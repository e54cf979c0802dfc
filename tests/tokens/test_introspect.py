"""POST /api/v1/auth/introspect (RFC 7662)."""

from datetime import timedelta

import pytest
from sqlalchemy import update

from app.core.db import utcnow
from app.extensions import db
from app.refresh_tokens.models import RefreshToken
from tests.conftest import login
from tests.factories import bearer, create_user, sdk_tokens_for

INTROSPECT = "/api/v1/auth/introspect"


def introspect(client, headers, token):
    return client.post(INTROSPECT, data={"token": token}, headers=headers)


@pytest.fixture
def sdk_session(client, admin_headers) -> dict:
    user = create_user(client, admin_headers)
    return {"user_id": user["id"], **sdk_tokens_for(client, admin_headers, user["id"])}


def test_an_active_sdk_token_answers_its_claims(client, api_key_headers, sdk_session):
    response = introspect(client, api_key_headers, sdk_session["access_token"])

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {
        "active", "token_type", "type", "sub", "app_id", "iat", "exp", "jti", "sid"
    }  # fmt: skip
    assert body["active"] is True
    assert body["token_type"] == "access_token"
    assert body["type"] == "sdk"
    assert body["sub"] == sdk_session["user_id"]
    assert body["app_id"].startswith("app_")
    assert body["exp"] - body["iat"] == 3600


def test_an_active_developer_token_has_no_app_id(client, api_key_headers, admin, admin_tokens):
    body = introspect(client, api_key_headers, admin_tokens["access_token"]).get_json()

    assert body["active"] is True
    assert body["type"] == "developer"
    assert body["sub"] == admin["id"]
    assert "app_id" not in body


def test_a_refresh_token_is_active_until_used(client, api_key_headers, sdk_session):
    before = introspect(client, api_key_headers, sdk_session["refresh_token"]).get_json()
    client.post("/api/v1/auth/refresh", json={"refresh_token": sdk_session["refresh_token"]})
    after = introspect(client, api_key_headers, sdk_session["refresh_token"]).get_json()

    assert before["active"] is True
    assert before["token_type"] == "refresh_token"
    assert before["sub"] == sdk_session["user_id"]
    assert "jti" not in before
    assert after == {"active": False}


@pytest.mark.parametrize(
    "token", ["garbage", "rt_" + "A" * 38, "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl", "ow_live_x"]
)
def test_malformed_or_unknown_tokens_are_inactive(client, api_key_headers, token):
    response = introspect(client, api_key_headers, token)

    assert response.status_code == 200
    assert response.get_json() == {"active": False}


def test_an_expired_token_is_inactive(make_app, admin, api_key):
    app = make_app(ACCESS_TOKEN_EXPIRES_SECONDS=-10)
    client = app.test_client()
    response = login(client, admin["email"], admin["password"])
    assert response.status_code == 200, response.get_json()
    tokens = response.get_json()
    with app.app_context():
        db.session.execute(update(RefreshToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()

    for token in (tokens["access_token"], tokens["refresh_token"]):
        assert introspect(client, bearer(api_key["key"]), token).get_json() == {"active": False}


def test_a_token_logged_out_on_another_worker_is_inactive(
    client, make_app, api_key_headers, admin_tokens, admin_headers
):
    other_worker = make_app().test_client()
    assert introspect(client, api_key_headers, admin_tokens["access_token"]).get_json()["active"]

    logout = other_worker.post("/api/v1/auth/logout", headers=admin_headers)

    assert logout.status_code == 204
    for token in (admin_tokens["access_token"], admin_tokens["refresh_token"]):
        assert introspect(client, api_key_headers, token).get_json() == {"active": False}


def test_a_token_revoked_on_another_worker_is_inactive(
    client, make_app, api_key_headers, sdk_session
):
    make_app().test_client().post(
        "/api/v1/auth/revoke", data={"token": sdk_session["refresh_token"]}
    )

    for token in (sdk_session["access_token"], sdk_session["refresh_token"]):
        assert introspect(client, api_key_headers, token).get_json() == {"active": False}


def test_only_api_keys_may_introspect(client, admin_headers, sdk_session):
    anonymous = introspect(client, {}, sdk_session["access_token"])
    developer = introspect(client, admin_headers, sdk_session["access_token"])
    sdk = introspect(client, bearer(sdk_session["access_token"]), sdk_session["access_token"])

    assert anonymous.status_code == 401
    assert developer.status_code == 403
    assert developer.get_json() == {"detail": "Developer tokens cannot access this endpoint."}
    assert sdk.status_code == 403


def test_a_json_body_is_not_accepted(client, api_key_headers, sdk_session):
    response = client.post(
        INTROSPECT, json={"token": sdk_session["access_token"]}, headers=api_key_headers
    )

    assert response.status_code == 422
