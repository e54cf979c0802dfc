import psycopg
import pytest
from argon2 import PasswordHasher
from sqlalchemy import select

from app.extensions import db
from app.refresh_tokens import services as refresh_tokens
from app.refresh_tokens.models import RefreshToken
from tests.support.auth import login
from tests.support.environment import ADMIN_EMAIL, ADMIN_PASSWORD


def test_login_returns_the_four_token_fields(client, admin):
    response = login(client, ADMIN_EMAIL, ADMIN_PASSWORD)

    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"access_token", "token_type", "refresh_token", "expires_in"}
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    assert body["refresh_token"].startswith("rt_")


def test_login_email_is_case_insensitive(client, admin):
    assert login(client, "  ADMIN@Example.COM ", ADMIN_PASSWORD).status_code == 200


@pytest.mark.parametrize(
    ("email", "password"),
    [(ADMIN_EMAIL, "wrong password"), ("nobody@example.com", ADMIN_PASSWORD)],
    ids=["wrong-password", "unknown-email"],
)
def test_bad_credentials_get_the_same_401(client, admin, email, password):
    response = login(client, email, password)

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Incorrect email or password"}


def test_unknown_email_and_wrong_password_cost_one_hash_verification_each(app, client, admin):
    verifications = []

    class CountingHasher(PasswordHasher):
        def verify(self, hash, password):
            verifications.append(hash[:10])
            return super().verify(hash, password)

    app.extensions["owa_password_hasher"] = CountingHasher()
    login(client, ADMIN_EMAIL, "wrong password")
    login(client, "nobody@example.com", "wrong password")

    assert len(verifications) == 2
    assert all(prefix.startswith("$argon2id$") for prefix in verifications)


def test_inactive_developer_cannot_log_in(app, client, admin):
    from app.developers.models import Developer
    from app.extensions import db

    with app.app_context():
        db.session.get(Developer, __import__("uuid").UUID(admin["id"])).is_active = False
        db.session.commit()

    assert login(client, ADMIN_EMAIL, ADMIN_PASSWORD).status_code == 401


def test_a_developer_removed_during_their_login_gets_no_session(
    app, client, admin, database_url, monkeypatch
):
    """The removal commits after the password check, and looks for sessions before the
    login's own is committed: the login must not hand that session out."""
    start_session = refresh_tokens.start_session

    def removed_meanwhile(*args, **kwargs):
        with psycopg.connect(database_url) as connection:
            connection.execute("UPDATE developers SET is_active = false")
        return start_session(*args, **kwargs)

    monkeypatch.setattr(refresh_tokens, "start_session", removed_meanwhile)

    response = login(client, ADMIN_EMAIL, ADMIN_PASSWORD)

    assert response.status_code == 401
    assert response.get_json() == {"detail": "Incorrect email or password"}
    with app.app_context():
        assert db.session.scalars(select(RefreshToken.revoked_at)).one() is not None
        db.session.remove()


@pytest.mark.parametrize(
    ("form", "missing"),
    [({"password": "x"}, "username"), ({"username": "a@b.c"}, "password"), ({}, "username")],
)
def test_missing_fields_are_422_with_field_errors(client, form, missing):
    response = client.post("/api/v1/auth/login", data=form)

    assert response.status_code == 422
    body = response.get_json()
    assert body["detail"].startswith("Validation error.")
    assert missing in body["errors"]


def test_expires_in_follows_configuration(make_app, admin):
    app = make_app(ACCESS_TOKEN_EXPIRES_SECONDS=900)
    body = login(app.test_client(), ADMIN_EMAIL, ADMIN_PASSWORD).get_json()

    assert body["expires_in"] == 900


def test_passwords_are_argon2id_with_the_default_cost(make_app):
    from app.developers import services

    app = make_app(PASSWORD_HASH_TIME_COST=3, PASSWORD_HASH_MEMORY_KIB=65536)
    with app.app_context():
        developer = services.create_developer("cost@example.com", "a password")
        assert developer.password_hash.startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_a_weaker_stored_hash_is_upgraded_at_login(app, make_app, client):
    from app.developers import services

    with app.app_context():
        services.create_developer("old@example.com", "a password")
    stronger = make_app(PASSWORD_HASH_TIME_COST=2)

    assert login(stronger.test_client(), "old@example.com", "a password").status_code == 200
    with stronger.app_context():
        assert ",t=2," in services.find_by_email("old@example.com").password_hash
