"""Profile, change-password, confirm-password and the one password policy."""

import pytest

from app.refresh_tokens import services as refresh_tokens
from tests.support.apps import all_rows_text
from tests.support.auth import bearer, login
from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD

NEW_PASSWORD = "a brand new passphrase"


def test_patch_me_changes_names_and_answers_the_profile(client, admin, admin_headers):
    response = client.patch(
        "/api/v1/auth/me", json={"first_name": "Grace", "last_name": None}, headers=admin_headers
    )

    assert response.status_code == 200
    body = response.get_json()
    assert (body["first_name"], body["last_name"], body["email"]) == ("Grace", None, ADMIN_EMAIL)
    assert client.get("/api/v1/auth/me", headers=admin_headers).get_json() == body


def test_patch_me_keeps_fields_left_out_and_refuses_unknown_ones(client, admin, admin_headers):
    assert client.patch("/api/v1/auth/me", json={}, headers=admin_headers).status_code == 200
    assert client.get("/api/v1/auth/me", headers=admin_headers).get_json()["last_name"] == (
        "Lovelace"
    )
    response = client.patch("/api/v1/auth/me", json={"email": "x@y.z"}, headers=admin_headers)
    assert response.status_code == 422
    assert "email" in response.get_json()["errors"]


def change_password(client, headers, current=ADMIN_PASSWORD, new=NEW_PASSWORD):
    return client.post(
        "/api/v1/auth/change-password",
        json={"current_password": current, "new_password": new},
        headers=headers,
    )


def test_change_password_ends_every_other_session_and_keeps_this_one(client, admin, admin_tokens):
    other = login(client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()
    headers = bearer(admin_tokens["access_token"])

    response = change_password(client, headers)

    assert response.status_code == 204
    assert response.data == b""
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    refreshed = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": admin_tokens["refresh_token"]}
    )
    assert refreshed.status_code == 200
    assert client.get("/api/v1/auth/me", headers=bearer(other["access_token"])).status_code == 401
    other_refresh = client.post(
        "/api/v1/auth/refresh", json={"refresh_token": other["refresh_token"]}
    )
    assert other_refresh.status_code == 401
    assert login(client, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 401
    assert login(client, ADMIN_EMAIL, NEW_PASSWORD).status_code == 200


def test_wrong_current_password_is_400_not_401_and_changes_nothing(client, admin, admin_headers):
    response = change_password(client, admin_headers, current="not my password at all")

    assert response.status_code == 400
    assert response.get_json() == {"detail": "Current password is incorrect."}
    assert login(client, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 200


def test_wrong_current_passwords_count_as_failed_logins(client, admin, admin_headers, make_app):
    app = make_app(RATELIMIT_FAILED_PASSWORD_CHECKS_PER_DEVELOPER="2 per minute")
    limited = app.test_client()
    for _ in range(2):
        assert change_password(limited, admin_headers, current="wrong-wrong-wrong").status_code == (
            400
        )

    blocked = change_password(limited, admin_headers)
    assert blocked.status_code == 429
    # The right password still gets through the other endpoint's own limit once it frees.
    assert "Retry-After" in blocked.headers


def test_wrong_current_passwords_and_failed_logins_share_the_client_ips_budget(
    admin, admin_headers, make_app
):
    """One counter per IP for both (the `failed-login-ip` scope): a session cannot buy
    more password guesses from a client than its failed logins left."""
    app = make_app(RATELIMIT_FAILED_LOGINS_PER_IP="2 per minute")
    limited = app.test_client()
    failed_logins = [login(limited, ADMIN_EMAIL, "wrong-wrong-wrong").status_code for _ in "ab"]

    refused = change_password(limited, admin_headers, current="wrong-wrong-wrong")

    assert failed_logins == [401, 401]
    assert refused.status_code == 429
    assert refused.headers["X-RateLimit-Limit"] == "2"


@pytest.mark.parametrize(
    ("new_password", "rule"),
    [
        ("short-pw", "min_length"),
        ("p" * 257, "max_length"),
        (ADMIN_EMAIL.upper(), "email"),
        ("  Admin@Example.com  ", "email"),
        ("Password1234", "common"),
        ("qwertyuiop123", "common"),
    ],
)
def test_new_password_against_the_policy_is_422_naming_field_and_rule(
    client, admin, admin_headers, new_password, rule
):
    response = change_password(client, admin_headers, new=new_password)

    assert response.status_code == 422
    body = response.get_json()
    assert list(body["errors"]) == ["new_password"]
    assert body["errors"]["new_password"][0].startswith(f"{rule}:")
    assert login(client, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 200


def test_policy_counts_characters_not_bytes(client, admin, admin_headers):
    twelve_characters = "éèêëàâäôöûüç"
    assert change_password(client, admin_headers, new=twelve_characters).status_code == 204


def test_confirm_password(client, admin, admin_headers):
    wrong = client.post(
        "/api/v1/auth/confirm-password", json={"password": "nope-nope-nope"}, headers=admin_headers
    )
    right = client.post(
        "/api/v1/auth/confirm-password", json={"password": ADMIN_PASSWORD}, headers=admin_headers
    )

    assert wrong.status_code == 400
    assert wrong.get_json() == {"detail": "Current password is incorrect."}
    assert right.status_code == 204


def test_password_endpoints_need_a_developer_token(client, admin):
    for path, body in [
        ("/api/v1/auth/change-password", {"current_password": "a", "new_password": "b"}),
        ("/api/v1/auth/confirm-password", {"password": "a"}),
    ]:
        assert client.post(path, json=body).status_code == 401
    assert client.patch("/api/v1/auth/me", json={}).status_code == 401


def test_no_password_in_any_table_or_audit_detail(app, client, admin, admin_headers):
    change_password(client, admin_headers, current="a wrong guess here")
    change_password(client, admin_headers)

    rows = all_rows_text(app)
    for secret in (ADMIN_PASSWORD, NEW_PASSWORD, "a wrong guess here"):
        assert secret not in rows
    events = client.get("/api/v1/audit-events", headers=admin_headers).get_json()
    actions = [event["action"] for event in events["data"]]
    assert "developer.password_changed" in actions
    assert "developer.password_check_failed" in actions


def test_a_change_interrupted_before_the_sessions_end_changes_nothing(
    client, admin, admin_tokens, monkeypatch
):
    other = login(client, ADMIN_EMAIL, ADMIN_PASSWORD).get_json()

    def killed_while_revoking(*_):
        raise RuntimeError("the worker died before the other sessions ended")

    monkeypatch.setattr(refresh_tokens, "revoke_families", killed_while_revoking)

    interrupted = change_password(client, bearer(admin_tokens["access_token"]))
    assert interrupted.status_code == 500

    monkeypatch.undo()
    assert login(client, ADMIN_EMAIL, NEW_PASSWORD).status_code == 401
    assert login(client, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 200
    assert client.get("/api/v1/auth/me", headers=bearer(other["access_token"])).status_code == 200
