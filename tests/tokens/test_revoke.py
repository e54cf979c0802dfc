"""POST /api/v1/auth/revoke (RFC 7009)."""

import jwt
import pytest

from app.audit.models import AuditEvent
from app.extensions import db
from tests.factories import bearer, create_user, sdk_tokens_for

REVOKE = "/api/v1/auth/revoke"


def refresh(client, token):
    return client.post("/api/v1/auth/refresh", json={"refresh_token": token})


def me(client, access_token):
    return client.get("/api/v1/auth/me", headers=bearer(access_token))


@pytest.fixture
def sdk_session(client, admin_headers) -> dict:
    user = create_user(client, admin_headers)
    return {"user_id": user["id"], **sdk_tokens_for(client, admin_headers, user["id"])}


def test_a_form_encoded_refresh_token_revokes_its_whole_session(app, client, sdk_session):
    response = client.post(
        REVOKE, data={"token": sdk_session["refresh_token"], "token_type_hint": "refresh_token"}
    )

    assert response.status_code == 200
    assert response.get_json() == {}
    assert refresh(client, sdk_session["refresh_token"]).get_json() == {
        "detail": "Refresh token has been revoked."
    }
    user = client.get(
        f"/api/v1/users/{sdk_session['user_id']}", headers=bearer(sdk_session["access_token"])
    )
    assert user.status_code == 401
    assert user.get_json() == {"detail": "Token has been revoked."}
    with app.app_context():
        event = db.session.query(AuditEvent).filter_by(action="token.revoked").one()
        assert (event.actor_type, event.actor_id) == ("sdk", sdk_session["user_id"])
        assert event.target_type == "session"
        assert sdk_session["refresh_token"] not in repr(event.details)


def test_a_json_access_token_revokes_only_itself(client, admin_tokens):
    response = client.post(REVOKE, json={"token": admin_tokens["access_token"]})

    assert response.status_code == 200
    assert me(client, admin_tokens["access_token"]).get_json() == {
        "detail": "Token has been revoked."
    }
    renewed = refresh(client, admin_tokens["refresh_token"])
    assert renewed.status_code == 200
    assert me(client, renewed.get_json()["access_token"]).status_code == 200


def test_a_developer_revokes_someone_elses_token_by_presenting_it(
    client, admin_headers, sdk_session
):
    response = client.post(
        REVOKE, data={"token": sdk_session["refresh_token"]}, headers=admin_headers
    )

    assert response.status_code == 200
    assert refresh(client, sdk_session["refresh_token"]).status_code == 401
    assert me(client, admin_headers["Authorization"].removeprefix("Bearer ")).status_code == 200


def test_a_used_refresh_token_still_revokes_its_session(client, admin_tokens):
    renewed = refresh(client, admin_tokens["refresh_token"]).get_json()

    assert client.post(REVOKE, data={"token": admin_tokens["refresh_token"]}).status_code == 200

    assert refresh(client, renewed["refresh_token"]).status_code == 401
    assert me(client, renewed["access_token"]).status_code == 401


@pytest.mark.parametrize(
    "token",
    [
        "garbage",
        "rt_" + "A" * 38,
        "eyJhbGciOiJIUzI1NiJ9.e30.c2lnbmF0dXJl",
        jwt.encode({"sub": "x"}, "another secret " + "z" * 32, "HS256"),
        "ow_live_" + "a" * 38,
    ],
)
def test_unknown_or_malformed_tokens_answer_200(client, token):
    response = client.post(REVOKE, data={"token": token, "token_type_hint": "whatever"})

    assert response.status_code == 200
    assert response.get_json() == {}


def test_revoking_twice_answers_200_both_times(client, admin_tokens):
    for token in (admin_tokens["access_token"], admin_tokens["refresh_token"]):
        assert client.post(REVOKE, data={"token": token}).status_code == 200
        assert client.post(REVOKE, data={"token": token}).status_code == 200


def test_a_missing_token_is_422(client):
    response = client.post(REVOKE, data={"token_type_hint": "access_token"})

    assert response.status_code == 422
    assert response.get_json()["errors"] == {"token": ["Missing data for required field."]}


def test_a_revocation_reaches_every_worker(client, make_app, admin_tokens):
    other_worker = make_app().test_client()

    client.post(REVOKE, data={"token": admin_tokens["refresh_token"]})

    assert me(other_worker, admin_tokens["access_token"]).status_code == 401
    assert refresh(other_worker, admin_tokens["refresh_token"]).status_code == 401
